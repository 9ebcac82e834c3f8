// The custom plugin: a vendor's CSV, JSON array or NDJSON export (optionally gzip) becomes CBF
// through configuration alone. This file holds only the plugin class and its entry point; the
// reading lives in export_reader.cpp, record_source.cpp and column_mapping.cpp.
#include "export_reader.hpp"

#include <billdrop/sdk.hpp>

namespace billdrop::custom {

class CustomPlugin final : public SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"path", ConfigType::path, nullptr, true,
       "Export file, or a directory whose files matching file_pattern are read in name order; "
       ".gz files are decompressed"},
      {"file_pattern", ConfigType::string, "\"*\"", false,
       "In directory mode, the file names to read: a glob with * and ?"},
      {"format", ConfigType::string, "\"auto\"", false,
       "auto (by extension, ignoring .gz: .csv/.tsv, .json, .ndjson/.jsonl), csv, json or ndjson"},
      {"delimiter", ConfigType::string, "\",\"", false,
       "CSV field delimiter, one character (\"\\t\" for tab; .tsv files use tab)"},
      {"columns", ConfigType::string_map, nullptr, true,
       "CBF column -> template: literal text with {Source Column} references ({{ and }} are "
       "literal braces)"},
      {"cost_column", ConfigType::string, nullptr, false,
       "Shorthand for columns.\"cost/cost\" = \"{<cost_column>}\""},
      {"timestamp_format", ConfigType::string, "\"auto\"", false,
       "auto, or a format such as \"%m/%d/%Y %H:%M\" for time/usage_start and time/usage_end"},
      {"tag_prefix", ConfigType::string, nullptr, false,
       "Source columns named <prefix><key> become resource/tag:<key>"},
      {"tag_columns", ConfigType::string_list, nullptr, false,
       "Source columns that become tags under their own names"},
      {"lineitem_type_map", ConfigType::string_map, nullptr, false,
       "Source value of lineitem/type -> CBF line-item type (case-insensitive match)"},
      {"lineitem_type_default", ConfigType::string, "\"Usage\"", false,
       "lineitem/type when its template gives nothing"},
      {"null_values", ConfigType::string_list, "[\"NULL\",\"null\"]", false,
       "Cell values read as blank"},
      {"incremental", ConfigType::boolean, "false", false,
       "path is a folder to which each new file brings only new or changed records; billdrop "
       "reads the files after the last one it read and merges them into its month snapshots"},
      {"identity_columns", ConfigType::string_list, nullptr, false,
       "With incremental: the CBF columns that identify a record (a record in a later file "
       "replaces the rows with the same values); default: billdrop's row identity"},
  };

  // Growing files (ABI 1.5): every file is read through open_file(), so a remote path's objects
  // are read as they download.
  static constexpr bool reads_growing_files = true;

  explicit CustomPlugin(const Config& config)
      : reader_(ExportReader::from_config(config).value_or_throw()) {}

  Status check() override { return reader_.check(); }
  Result<std::vector<Month>> months() override { return reader_.months(); }
  Status read(Month month, RowSink& sink) override { return reader_.read(month, sink); }
  // One pass (ABI 1.4): every file is read once for all its months rather than once to list
  // them and again per month. An incremental instance is read by read_since() instead.
  bool one_pass() const { return !reader_.incremental(); }
  Status read_all(RowSink& sink) { return reader_.read_all(sink); }

  bool incremental() const override { return reader_.incremental(); }
  std::vector<std::string> identity_columns() const override { return reader_.identity_columns(); }
  Status read_since(std::string_view cursor, RowSink& sink, std::string& next_cursor) override {
    return reader_.read_since(cursor, sink, next_cursor);
  }

private:
  ExportReader reader_;
};

} // namespace billdrop::custom

BILLDROP_PLUGIN(billdrop::custom::CustomPlugin, "custom", "1.0.0",
                "Any vendor's CSV, JSON or NDJSON export (optionally gzip), mapped to CBF by "
                "configuration")
