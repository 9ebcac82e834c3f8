// An incremental plugin (ABI 1.3) for the loader tests, its rows derived from its configuration
// so that tests compute them by hand:
//
//   the source holds `increments` increments, numbered 1..N; the cursor is the number of the last
//   one read ("" = 0). read_since(c) writes increments c+1..N, each one row and then a cursor:
//   increment k is origin "inc:<k>", time/usage_start 2024-08-0<k>T00:00:00Z, cost/cost "<k>.50",
//   resource/id "r-<k>".
//
// `mode` breaks the protocol on purpose: "no_cursor" returns success without any cursor,
// "rows_after_cursor" writes a row after its last cursor. `incremental = false` makes the
// instance say it reads whole months only; `identity` is handed to the host as identity columns.
#include <billdrop/sdk.hpp>

#include <string>
#include <vector>

namespace {

using billdrop::ConfigKey;
using billdrop::ConfigType;

class IncrementalPlugin final : public billdrop::SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"increments", ConfigType::integer, "3", false, "Increments the source holds"},
      {"incremental", ConfigType::boolean, "true", false, "Whether the instance is incremental"},
      {"identity", ConfigType::string_list, "[]", false, "Identity columns"},
      {"mode", ConfigType::string, "\"normal\"", false, "normal, no_cursor or rows_after_cursor"},
  };

  explicit IncrementalPlugin(const billdrop::Config& config)
      : increments_(config.get_int("increments")), incremental_(config.get_bool("incremental")),
        identity_(config.get_list("identity")), mode_(config.get_string("mode")) {}

  billdrop::Status check() override { return {}; }
  billdrop::Result<std::vector<billdrop::Month>> months() override {
    return std::vector<billdrop::Month>{billdrop::Month(2024, 8)};
  }
  billdrop::Status read(billdrop::Month, billdrop::RowSink&) override { return {}; }

  bool incremental() const override { return incremental_; }
  std::vector<std::string> identity_columns() const override { return identity_; }
  billdrop::Status read_since(std::string_view cursor, billdrop::RowSink& sink,
                              std::string& next_cursor) override {
    const std::int64_t from = cursor.empty() ? 0 : std::stoll(std::string(cursor));
    for (std::int64_t k = from + 1; k <= increments_; ++k) {
      sink.begin_row("inc:" + std::to_string(k));
      sink.field("time/usage_start", "2024-08-0" + std::to_string(k) + "T00:00:00Z");
      sink.field("cost/cost", std::to_string(k) + ".50");
      sink.field("resource/id", "r-" + std::to_string(k));
      if (billdrop::Status status = sink.end_row(); !status)
        return status;
      next_cursor = std::to_string(k);
      if (billdrop::Status status = sink.checkpoint(next_cursor); !status)
        return status;
    }
    return {};
  }

  const std::string& mode() const { return mode_; }

private:
  std::int64_t increments_;
  bool incremental_;
  std::vector<std::string> identity_;
  std::string mode_;
};

using Adapter = billdrop::detail::Adapter<IncrementalPlugin>;

bd_str text(std::string_view s) {
  return bd_str{s.data(), s.size()};
}

// The SDK's read_since, or a broken protocol when `mode` asks for one.
int32_t read_since(void* instance, bd_str cursor, const bd_sink* sink, bd_error* error) {
  const auto* plugin =
      static_cast<const IncrementalPlugin*>(static_cast<billdrop::SourcePlugin*>(instance));
  const bd_field fields[] = {{text("time/usage_start"), text("2024-08-09T00:00:00Z")},
                             {text("cost/cost"), text("9")}};
  const bd_row row{fields, 2, text("broken:1")};
  if (plugin->mode() == "no_cursor") {
    sink->write(sink->context, &row, 1);
    return BD_OK;
  }
  if (plugin->mode() == "rows_after_cursor") {
    sink->cursor(sink->context, text("1"));
    sink->write(sink->context, &row, 1);
    return BD_OK;
  }
  return Adapter::read_since(instance, cursor, sink, error);
}

} // namespace

extern "C" BILLDROP_EXPORT const bd_plugin_descriptor* billdrop_plugin_entry(void) {
  static const bd_plugin_descriptor descriptor = {
      BILLDROP_PLUGIN_MAGIC,
      BILLDROP_ABI_MAJOR,
      BILLDROP_ABI_MINOR,
      static_cast<uint32_t>(sizeof(bd_plugin_descriptor)),
      "incremental",
      "1.3.0",
      "An incremental source whose increments are derived from its configuration",
      Adapter::schema_json(),
      &Adapter::create,
      &Adapter::destroy,
      &Adapter::check,
      &Adapter::months,
      &Adapter::read,
      &Adapter::incremental,
      &read_since};
  return &descriptor;
}
