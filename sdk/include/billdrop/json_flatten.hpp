#pragma once
// Flattens JSON records (one object each, e.g. as JsonRecordReader returns them) into columns,
// the same way for every plugin:
//
// - a nested object's keys are joined with dots: {"usage":{"amount":3}} gives "usage.amount";
//   keys are unescaped ("caf\u00e9" is "café") and a dot inside a key is kept as it is;
// - an array is one value, its JSON text as written: {"labels":[1, 2]} gives "[1, 2]";
// - a string is unescaped; a number is its text as written ("0.12345678901234567890123",
//   "5e-06"), never converted through a double, so a cost keeps every digit;
// - true and false are "true" and "false"; null is blank;
// - an empty object ({} or {"a":{}}) gives no column;
// - the same key twice in one record (or "a.b" next to {"a":{"b":…}}) is one column, and the
//   later value wins;
// - objects nested more than max_depth levels (the record itself is level 1; arrays do not count)
//   make the record malformed: the flattener recurses once per level and a hostile file must not
//   exhaust the stack.
//
// Columns are numbered in order of first appearance over the flattener's life, so a plugin can
// resolve a column name to an index once (say on the first record) and use that index for every
// later record, whatever keys the later records add or leave out. A record that is not valid
// adds no column.
//
//   billdrop::JsonFlattener flattener;
//   std::vector<std::string_view> values;
//   if (billdrop::Status flat = flattener.flatten(R"({"usage":{"amount":3}})"); flat) {
//     flattener.values(values); // values[i] is the text of flattener.columns()[i]: "3"
//   }

#include <billdrop/result.hpp>

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop {

// Why the last record could not be flattened (the Error's message says it in words).
enum class JsonFlattenProblem {
  none,          // it was flattened
  not_an_object, // valid or not, the record is not a JSON object ("[1, 2]", "3")
  invalid_json,  // a syntax error, a number that is not one ("12abc"), content after the object
  too_deep,      // objects nested more than JsonFlattener::max_depth levels
};

// One value of a flattened record: the index of its column in JsonFlattener::columns(), and its
// text (unescaped; valid until the next flatten()).
struct JsonLeaf {
  std::size_t column = 0;
  std::string_view value;
};

class JsonFlattener {
public:
  // The deepest nesting of objects read; the record itself is level 1.
  static constexpr std::size_t max_depth = 64;

  JsonFlattener();
  ~JsonFlattener();
  // A moved-from flattener may only be destroyed or assigned to.
  JsonFlattener(JsonFlattener&&) noexcept;
  JsonFlattener& operator=(JsonFlattener&&) noexcept;
  JsonFlattener(const JsonFlattener&) = delete;
  JsonFlattener& operator=(const JsonFlattener&) = delete;

  // Flattens one record's JSON text (copied: `record` need not outlive the call). On success the
  // record's keys not seen before are appended to columns() and its values are in leaves() and
  // values(). Otherwise an Error of kind data, problem() says which, columns() is unchanged and
  // leaves() is empty. The messages:
  //   "the record is not a JSON object"
  //   "invalid JSON: <simdjson's description of the error>"
  //   "invalid JSON: 12abc is not a number"
  //   "the record nests objects more than 64 levels deep (at key \"a.a. ... .a\")"
  // (the key with its middle left out when long), for the plugin to prefix with its origin.
  Status flatten(std::string_view record);

  // Of the last flatten(): none when it succeeded (or before the first call).
  JsonFlattenProblem problem() const noexcept;

  // The last record's values in document order, one per scalar or array; an object contributes
  // its members. Empty after a failed flatten().
  std::span<const JsonLeaf> leaves() const noexcept;

  // The last record as a row: `out` becomes columns().size() values, values[i] the text of column
  // i, blank where the record lacks the key. Reusing `out` saves its allocation.
  void values(std::vector<std::string_view>& out) const;

  // Every column seen in a valid record so far, in order of first appearance; indexes never
  // change.
  const std::vector<std::string>& columns() const noexcept;

  // The index of the column named `key` ("usage.amount"), if a valid record had it.
  std::optional<std::size_t> column(std::string_view key) const;

private:
  struct State; // the simdjson parser and the column index, out of this header
  std::unique_ptr<State> state_;
};

} // namespace billdrop
