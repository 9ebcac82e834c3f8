#pragma once
// Which rows are "the same record": the identity an incremental merge uses to let a restated
// record replace the row it restates (docs/abi.md, "Incremental sources").
//
// A row's identity is the values of the identity columns, read from the row itself (a snapshot
// row, canonical JSON): a stored month can be merged whoever wrote it, a full convert or an
// older billdrop, because nothing but the row is needed. A blank or absent column is the empty
// value, except lineitem/type, which is "Usage" when absent (as in the month's totals by type).
//
// The default identity is every column that says what was used, where and when, and none that
// says how much or how it is described:
//
//   time/usage_start (the whole normalised timestamp), lineitem/type, lineitem/id, resource/id,
//   resource/account, resource/service, resource/region, resource/usage_family,
//   action/operation, action/usage_type, k8s/cluster, k8s/namespace, k8s/deployment
//
// Left out, because a correction may change them: the cost and usage amounts, usage/units,
// time/usage_end, lineitem/description, bill/invoice_id, k8s/labels and the tags. A source whose
// records carry an id of their own names its columns instead (SourcePlugin::identity_columns).

#include "cbf/columns.hpp"
#include "cbf/row_validator.hpp"

#include <billdrop/result.hpp>

#include <array>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::cbf {

inline constexpr std::array<Column, 13> kDefaultIdentity{
    Column::usage_start,       Column::lineitem_type,         Column::lineitem_id,
    Column::resource_id,       Column::resource_account,      Column::resource_service,
    Column::resource_region,   Column::resource_usage_family, Column::action_operation,
    Column::action_usage_type, Column::k8s_cluster,           Column::k8s_namespace,
    Column::k8s_deployment};

class RowIdentity {
public:
  // The default identity (kDefaultIdentity).
  RowIdentity();

  // The identity made of `columns`: CBF column names or "resource/tag:<key>", in any order,
  // duplicates ignored; empty gives the default. The deprecated action/account and
  // action/region mean resource/account and resource/region (rows hold only those). An unknown
  // column or a bad tag key is a config error naming it.
  static Result<RowIdentity> from_columns(std::span<const std::string> columns);

  // The columns, in canonical order (kColumns order, then tags by key).
  const std::vector<std::string>& columns() const noexcept { return columns_; }
  // "time/usage_start, lineitem/type, ..." for messages.
  std::string describe() const;

  // The identity key of a row given as fields of canonical values (a snapshot row read back):
  // each identity column's value, length-prefixed, in order. Replaces `out`'s contents. Two
  // rows have the same identity exactly when their keys are equal.
  void key(std::span<const FieldView> fields, std::string& out) const;

private:
  explicit RowIdentity(std::vector<std::string> columns) : columns_(std::move(columns)) {}
  std::vector<std::string> columns_;
};

// Reads a snapshot row (a canonical CBF JSON object whose values are all strings) back into
// fields. The fields point into this reader and stay valid until the next read().
class RowFieldReader {
public:
  RowFieldReader();
  ~RowFieldReader();
  RowFieldReader(const RowFieldReader&) = delete;
  RowFieldReader& operator=(const RowFieldReader&) = delete;

  // A data error when the row is not such an object.
  Status read(std::string_view json, std::vector<FieldView>& fields);

private:
  struct State;
  std::unique_ptr<State> state_;
};

} // namespace billdrop::cbf
