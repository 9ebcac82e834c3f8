// The manual plugin: the Billing API's manual items (a SaaS invoice, a support contract) as CBF
// rows, so that every cost reaches the drops. A connection carries them with
//   [connections.manual]  plugin = "manual"  config.database = "<state_dir>/billing.db"
// or, when `billdrop serve` keeps its store in PostgreSQL ([store] kind = "postgres"), with
// config.postgres_url_file (or postgres_url_env) naming where its connection string is, as
// [store] does.
// Each item becomes one row per month it costs in (manual_items.hpp); its category reaches CBF
// as the tag resource/tag:category. CBF costs are USD: an item in another currency is rejected
// (with its id), never dropped silently nor converted at a made-up rate.
#include "manual_items.hpp"

#include <billdrop/sdk.hpp>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <set>

namespace manual {

class ManualPlugin final : public billdrop::SourcePlugin {
public:
  static constexpr billdrop::ConfigKey config_keys[] = {
      {"database", billdrop::ConfigType::path, nullptr, false,
       "the Billing API store: billing.db in the state directory of `billdrop serve` (or "
       "postgres_url_file / postgres_url_env for a PostgreSQL store)"},
      {"postgres_url_file", billdrop::ConfigType::path, nullptr, false,
       "a file holding the libpq connection string of a PostgreSQL store (as [store] url_file)"},
      {"postgres_url_env", billdrop::ConfigType::string, nullptr, false,
       "an environment variable holding the libpq connection string of a PostgreSQL store"},
      {"account", billdrop::ConfigType::string, "\"manual\"", false, "value for resource/account"},
  };

  explicit ManualPlugin(const billdrop::Config& config)
      : database_(config.get_string_or("database", "")),
        url_file_(config.get_string_or("postgres_url_file", "")),
        url_env_(config.get_string_or("postgres_url_env", "")),
        account_(config.get_string("account")) {
    const int given = !database_.empty() + !url_file_.empty() + !url_env_.empty();
    if (given != 1)
      throw billdrop::PluginError(
          given == 0 ? "database: is required (the billing.db of `billdrop serve`), unless "
                       "postgres_url_file or postgres_url_env names a PostgreSQL store"
                     : "database, postgres_url_file, postgres_url_env: give exactly one of them",
          billdrop::ErrorKind::config);
  }

  billdrop::Status check() override {
    auto items = items_now();
    if (!items)
      return items.error();
    return {};
  }

  billdrop::Result<std::vector<billdrop::Month>> months() override {
    auto items = items_now();
    if (!items)
      return items.error();
    std::set<billdrop::Month> months;
    for (const ManualItem& item : *items)
      for (const billdrop::UtcTime time : occurrences(item, current_month()))
        months.insert(billdrop::Month::of(time));
    return std::vector<billdrop::Month>(months.begin(), months.end());
  }

  billdrop::Status read(billdrop::Month month, billdrop::RowSink& sink) override {
    auto items = items_now();
    if (!items)
      return items.error();
    for (const ManualItem& item : *items) {
      for (const billdrop::UtcTime time : occurrences(item, current_month())) {
        if (!month.contains(time))
          continue;
        const std::string origin = "billing item " + item.id + " (" + month.to_string() + ")";
        if (item.currency != "USD") {
          sink.reject(origin, "the item is in " + item.currency +
                                  "; CBF costs are USD: record it in USD to send it");
          continue;
        }
        sink.begin_row(origin);
        sink.field("time/usage_start", billdrop::format_iso(time));
        sink.field("cost/cost", minor_units_text(item.amount, 2));
        sink.field("lineitem/description", item.name);
        sink.field("resource/service", !item.service.empty()
                                           ? item.service
                                           : (!item.provider.empty() ? item.provider : "manual"));
        sink.field("resource/account", account_);
        // CBF wants a resource/id beside any tag: the item, as type/id.
        sink.field("resource/id", "billing-item/" + item.id);
        if (!item.provider_ref.empty())
          sink.field("bill/invoice_id", item.provider_ref);
        if (!item.category.empty())
          sink.field("resource/tag:category", item.category);
        if (auto status = sink.end_row(); !status)
          return status;
      }
    }
    return {};
  }

private:
  // The manual items, from whichever store the configuration names.
  billdrop::Result<std::vector<ManualItem>> items_now() const {
    if (!database_.empty())
      return read_manual_items(database_);
    if (!url_file_.empty()) {
      std::ifstream in(url_file_);
      std::string url;
      if (!in || !std::getline(in, url) || url.empty())
        return billdrop::config_error("postgres_url_file: cannot read a connection string from " +
                                      url_file_);
      return read_manual_items_postgres(url, "the connection string in " + url_file_);
    }
    const char* url = std::getenv(url_env_.c_str());
    if (url == nullptr || *url == '\0')
      return billdrop::config_error("postgres_url_env: the environment variable " + url_env_ +
                                    " is not set");
    return read_manual_items_postgres(url, "the connection string in $" + url_env_);
  }

  static billdrop::Month current_month() {
    const auto now = std::chrono::system_clock::now();
    return billdrop::Month::of(billdrop::UtcTime{
        std::chrono::duration_cast<std::chrono::seconds>(now.time_since_epoch()).count()});
  }

  std::string database_;
  std::string url_file_;
  std::string url_env_;
  std::string account_;
};

} // namespace manual

BILLDROP_PLUGIN(
    manual::ManualPlugin, "manual", "0.1.0",
    "The Billing API's manual items (billing.db or PostgreSQL) as CBF, recurring ones every month "
    "of their period")
