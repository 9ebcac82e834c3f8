#include "billing/billing_api.hpp"

#include "billing/request_body.hpp"
#include "billing/utc_time.hpp"
#include "core/json_writer.hpp"

#include <algorithm>
#include <charconv>
#include <set>
#include <thread>

namespace billdrop::billing {

core::HttpResponse error_response(const ApiError& error) {
  core::JsonWriter json;
  json.begin_object().key("success").value(false).key("error").begin_object();
  json.key("code").value(error.code).key("message").value(error.message);
  if (!error.field.empty())
    json.key("field").value(error.field);
  json.end_object().end_object();
  core::HttpResponse response;
  response.status = error.status;
  response.body = json.take();
  return response;
}

core::HttpResponse data_response(int status, const std::string& data_json) {
  core::HttpResponse response;
  response.status = status;
  response.body = "{\"success\":true,\"data\":" + data_json + "}";
  return response;
}

namespace {

void optional_value(core::JsonWriter& json, const char* key,
                    const std::optional<std::string>& value) {
  json.key(key);
  if (value)
    json.value(*value);
  else
    json.null();
}

void write_item(core::JsonWriter& json, const Item& item) {
  json.begin_object();
  json.key("id").value(item.id).key("name").value(item.name);
  json.key("amount").value(item.amount).key("currency").value(item.currency);
  optional_value(json, "provider", item.provider);
  optional_value(json, "providerRef", item.provider_ref);
  json.key("tags").begin_array();
  for (const std::string& tag : item.tags)
    json.value(tag);
  json.end_array();
  optional_value(json, "description", item.description);
  json.key("recurring").value(item.recurring);
  optional_value(json, "period", item.period);
  json.key("date").value(format_utc_ms(item.date_ms));
  optional_value(json, "category", item.category);
  optional_value(json, "service", item.service);
  optional_value(json, "stageApp", item.stage_app);
  optional_value(json, "author", item.author);
  json.key("source").value(item.source);
  if (item.source == "sync") {
    optional_value(json, "adapter", item.adapter);
    optional_value(json, "amountExact", item.amount_exact);
  }
  json.key("createdAt").value(format_utc_ms(item.created_ms));
  json.key("updatedAt").value(format_utc_ms(item.updated_ms));
  json.end_object();
}

void write_category(core::JsonWriter& json, const Category& c) {
  json.begin_object().key("id").value(c.id).key("name").value(c.name);
  optional_value(json, "description", c.description);
  optional_value(json, "color", c.color);
  optional_value(json, "parentId", c.parent_id);
  json.key("createdAt").value(format_utc_ms(c.created_ms));
  json.key("updatedAt").value(format_utc_ms(c.updated_ms));
  json.end_object();
}

void write_job(core::JsonWriter& json, const SyncJob& job) {
  json.begin_object().key("id").value(job.id).key("provider").value(job.provider);
  optional_value(json, "connection", job.connection);
  json.key("status").value(job.status);
  json.key("from").value(job.from).key("to").value(job.to);
  json.key("itemsCreated").value(job.items_created);
  json.key("itemsUpdated").value(job.items_updated);
  json.key("itemsUnchanged").value(job.items_unchanged);
  optional_value(json, "error", job.error);
  json.key("startedAt").value(format_utc_ms(job.started_ms));
  json.key("completedAt");
  if (job.completed_ms)
    json.value(format_utc_ms(*job.completed_ms));
  else
    json.null();
  json.end_object();
}

// The query's parameters, each checked to be one `allowed` names.
std::optional<ApiError> check_parameters(const core::HttpRequest& request,
                                         std::initializer_list<const char*> allowed) {
  for (const auto& [name, value] : request.query) {
    if (std::none_of(allowed.begin(), allowed.end(),
                     [&](const char* known) { return name == known; })) {
      std::string list;
      for (const char* known : allowed)
        list += (list.empty() ? "" : ", ") + std::string(known);
      return validation_error(name,
                              "is not a parameter of this endpoint (parameters: " + list + ")");
    }
  }
  return std::nullopt;
}

std::optional<std::string> parameter(const core::HttpRequest& request, const char* name) {
  const auto found = request.query.find(name);
  if (found == request.query.end())
    return std::nullopt;
  return found->second;
}

std::optional<ApiError> read_limit(const core::HttpRequest& request, std::size_t fallback,
                                   std::size_t max, std::size_t& limit) {
  limit = fallback;
  const std::optional<std::string> text = parameter(request, "limit");
  if (!text)
    return std::nullopt;
  std::size_t value = 0;
  const auto [end, ec] = std::from_chars(text->data(), text->data() + text->size(), value);
  if (ec != std::errc() || end != text->data() + text->size() || value < 1 || value > max)
    return validation_error("limit", "must be a whole number from 1 to " + std::to_string(max) +
                                         ", not '" + *text + "'");
  limit = value;
  return std::nullopt;
}

// A category and every category below it, by id.
std::vector<std::string> with_descendants(const std::vector<Category>& all,
                                          const std::string& root) {
  std::vector<std::string> ids = {root};
  for (std::size_t i = 0; i < ids.size(); ++i)
    for (const Category& c : all)
      if (c.parent_id == ids[i] && std::find(ids.begin(), ids.end(), c.id) == ids.end())
        ids.push_back(c.id);
  return ids;
}

// The item filters of a list or report request.
Outcome<ItemFilter> read_filter(const core::HttpRequest& request, BillingStore& store) {
  ItemFilter filter;
  if (const auto category = parameter(request, "category")) {
    const std::vector<Category> all = store.categories();
    const auto found = std::find_if(all.begin(), all.end(), [&](const Category& c) {
      if (c.id == *category)
        return true;
      if (c.name.size() != category->size())
        return false;
      return std::equal(c.name.begin(), c.name.end(), category->begin(), [](char a, char b) {
        return std::tolower(static_cast<unsigned char>(a)) ==
               std::tolower(static_cast<unsigned char>(b));
      });
    });
    if (found == all.end())
      return validation_error("category", "no category has the id or name '" + *category + "'");
    filter.categories = with_descendants(all, found->id);
  }
  filter.provider = parameter(request, "provider");
  filter.service = parameter(request, "service");
  filter.stage_app = parameter(request, "stageApp");
  filter.author = parameter(request, "author");
  filter.source = parameter(request, "source");
  if (filter.source && *filter.source != "manual" && *filter.source != "sync")
    return validation_error("source", "must be manual or sync, not '" + *filter.source + "'");
  filter.currency = parameter(request, "currency");
  std::optional<std::string> from = parameter(request, "from");
  std::optional<std::string> to = parameter(request, "to");
  if (from) {
    filter.from_ms = parse_day(*from);
    if (!filter.from_ms)
      return validation_error("from", "'" + *from + "' is not a UTC day as YYYY-MM-DD");
  }
  if (to) {
    const std::optional<std::int64_t> day = parse_day(*to);
    if (!day)
      return validation_error("to", "'" + *to + "' is not a UTC day as YYYY-MM-DD");
    filter.to_ms = *day + ms_per_day;
  }
  if (from && to && *from > *to)
    return validation_error("from", *from + " is after to (" + *to + ")");
  if (const auto recurring = parameter(request, "recurring")) {
    if (*recurring != "true" && *recurring != "false")
      return validation_error("recurring", "must be true or false, not '" + *recurring + "'");
    filter.recurring = *recurring == "true";
  }
  if (const auto tags = parameter(request, "tags")) {
    for (std::size_t start = 0; start <= tags->size();) {
      const std::size_t end = std::min(tags->find(',', start), tags->size());
      std::string tag = tags->substr(start, end - start);
      if (!tag.empty())
        filter.tags.push_back(std::move(tag));
      start = end + 1;
    }
    if (filter.tags.empty())
      return validation_error("tags", "names no tag (tags=a,b matches items with a or b)");
  }
  return filter;
}

constexpr std::initializer_list<const char*> kReportParameters = {
    "category", "provider",  "service",  "from",   "to",    "currency",
    "tags",     "recurring", "stageApp", "author", "source"};

std::string encode_cursor(const ItemCursor& cursor) {
  return std::to_string(cursor.date_ms) + "." + cursor.id;
}

std::optional<ItemCursor> decode_cursor(const std::string& text) {
  const std::size_t dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 >= text.size())
    return std::nullopt;
  ItemCursor cursor;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + dot, cursor.date_ms);
  if (ec != std::errc() || end != text.data() + dot)
    return std::nullopt;
  cursor.id = text.substr(dot + 1);
  return cursor;
}

// Tenths of a percent per group, adding up to exactly 1000 (largest remainder).
std::vector<std::int64_t> tenths_of_percent(const std::vector<std::int64_t>& amounts) {
  std::vector<std::int64_t> tenths(amounts.size(), 0);
  __extension__ using int128 = __int128;
  int128 total = 0;
  for (const std::int64_t a : amounts)
    total += a;
  if (total <= 0)
    return tenths;
  std::vector<std::pair<int128, std::size_t>> remainders;
  std::int64_t given = 0;
  for (std::size_t i = 0; i < amounts.size(); ++i) {
    const int128 scaled = static_cast<int128>(amounts[i]) * 1000;
    tenths[i] = static_cast<std::int64_t>(scaled / total);
    given += tenths[i];
    remainders.emplace_back(scaled % total, i);
  }
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (std::size_t i = 0; given < 1000 && i < remainders.size(); ++i, ++given)
    ++tenths[remainders[i].second];
  return tenths;
}

std::string percent_text(std::int64_t tenths) {
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

std::string cache_key(const core::HttpRequest& request) {
  std::string key = request.path;
  for (const auto& [name, value] : request.query)
    key += "\n" + name + "=" + value; // std::map: in name order
  return key;
}

} // namespace

std::string item_json(const Item& item) {
  core::JsonWriter json;
  write_item(json, item);
  return json.take();
}

std::string category_json(const Category& category) {
  core::JsonWriter json;
  write_category(json, category);
  return json.take();
}

std::string sync_job_json(const SyncJob& job) {
  core::JsonWriter json;
  write_job(json, job);
  return json.take();
}

BillingApi::BillingApi(BillingStore& store, BillingApiOptions options)
    : store_(store), options_(std::move(options)),
      compute_gate_(std::make_unique<core::FifoGate>(
          options_.compute_slots != 0
              ? options_.compute_slots
              : std::max<std::size_t>(1, std::thread::hardware_concurrency()) + 1)) {}

core::HttpResponse BillingApi::cached(const std::string& key, const Handler& compute) {
  const std::uint64_t generation = store_.generation();
  // Requests for the same key at the same generation share one computation: 50 clients
  // asking at once for a report not cached yet run its SQL once, not 50 times in a row.
  const std::string flight_key = key + "\n#" + std::to_string(generation);
  std::shared_ptr<Flight> flight;
  bool leader = false;
  {
    const std::lock_guard lock(cache_mutex_);
    if (cache_generation_ != generation) {
      cache_.clear();
      cache_generation_ = generation;
    }
    if (const auto found = cache_.find(key); found != cache_.end())
      return found->second;
    auto& slot = flights_[flight_key];
    if (!slot) {
      slot = std::make_shared<Flight>();
      leader = true;
    }
    flight = slot;
  }
  if (!leader) {
    std::unique_lock lock(flight->mutex);
    flight->ready.wait(lock, [&] { return flight->done; });
    return flight->response;
  }
  core::HttpResponse response;
  try {
    const core::FifoGate::Pass pass(*compute_gate_);
    response = compute();
  } catch (const std::exception& e) {
    response = error_response(ApiError{500, "INTERNAL", e.what(), ""});
  }
  {
    const std::lock_guard lock(cache_mutex_);
    // Kept only when no write came in while it was computed.
    if (response.status == 200 && cache_generation_ == generation &&
        store_.generation() == generation) {
      if (cache_.size() >= 4096)
        cache_.clear();
      cache_.emplace(key, response);
    }
    flights_.erase(flight_key);
  }
  {
    const std::lock_guard lock(flight->mutex);
    flight->response = response;
    flight->done = true;
  }
  flight->ready.notify_all();
  return response;
}

// --- items

core::HttpResponse BillingApi::list_items(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {"category", "provider", "service", "from", "to",
                                                "recurring", "tags", "limit", "cursor", "stageApp",
                                                "author", "currency", "source"}))
    return error_response(*problem);
  Outcome<ItemFilter> filter = read_filter(request, store_);
  if (!filter)
    return error_response(filter.error());
  std::size_t limit = 0;
  if (auto problem = read_limit(request, 100, 1000, limit))
    return error_response(*problem);
  std::optional<ItemCursor> after;
  if (const auto cursor = parameter(request, "cursor")) {
    after = decode_cursor(*cursor);
    if (!after)
      return error_response(validation_error(
          "cursor", "'" + *cursor + "' is not a cursor this API wrote (meta.nextCursor)"));
  }
  const ItemPage page = store_.list_items(*filter, limit, after);
  core::JsonWriter json;
  json.begin_object().key("success").value(true).key("data").begin_array();
  for (const Item& item : page.items)
    write_item(json, item);
  json.end_array().key("meta").begin_object().key("nextCursor");
  if (page.next)
    json.value(encode_cursor(*page.next));
  else
    json.null();
  json.key("count").value(page.items.size()).key("limit").value(limit);
  json.end_object().end_object();
  core::HttpResponse response;
  response.body = json.take();
  return response;
}

core::HttpResponse BillingApi::create_item(const core::HttpRequest& request) {
  const std::int64_t now = now_ms();
  Item item;
  item.date_ms = now; // a date not given is the time of creation
  if (auto problem = apply_item_body(request.body, true, options_.default_currency, item))
    return error_response(*problem);
  item.id = new_id();
  item.source = "manual";
  item.created_ms = now;
  item.updated_ms = now;
  Outcome<Item> created = store_.insert_item(item);
  if (!created)
    return error_response(created.error());
  return data_response(201, item_json(*created));
}

core::HttpResponse BillingApi::get_item(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {}))
    return error_response(*problem);
  const std::optional<Item> item = store_.item(request.captures.at(0));
  if (!item)
    return error_response(not_found("Item not found: " + request.captures.at(0)));
  return data_response(200, item_json(*item));
}

core::HttpResponse BillingApi::update_item(const core::HttpRequest& request) {
  const std::int64_t now = now_ms();
  Outcome<Item> updated =
      store_.update_item(request.captures.at(0), [&](Item& item) -> std::optional<ApiError> {
        if (auto problem = apply_item_body(request.body, false, options_.default_currency, item))
          return problem;
        item.updated_ms = std::max(now, item.created_ms);
        return std::nullopt;
      });
  if (!updated)
    return error_response(updated.error());
  return data_response(200, item_json(*updated));
}

core::HttpResponse BillingApi::delete_item(const core::HttpRequest& request) {
  Outcome<Done> deleted = store_.delete_item(request.captures.at(0));
  if (!deleted)
    return error_response(deleted.error());
  core::JsonWriter json;
  json.begin_object().key("id").value(request.captures.at(0)).key("deleted").value(true);
  json.end_object();
  return data_response(200, json.take());
}

core::HttpResponse BillingApi::item_by_provider_ref(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {"provider", "providerRef"}))
    return error_response(*problem);
  const std::optional<std::string> provider = parameter(request, "provider");
  const std::optional<std::string> ref = parameter(request, "providerRef");
  if (!provider || provider->empty())
    return error_response(validation_error("provider", "is required"));
  if (!ref || ref->empty())
    return error_response(validation_error("providerRef", "is required"));
  const std::optional<Item> item = store_.item_by_provider_ref(provider, *ref);
  if (!item)
    return error_response(
        not_found("Item not found: provider '" + *provider + "', providerRef '" + *ref + "'"));
  return data_response(200, item_json(*item));
}

// --- categories

core::HttpResponse BillingApi::list_categories(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {}))
    return error_response(*problem);
  core::JsonWriter json;
  json.begin_array();
  for (const Category& c : store_.categories())
    write_category(json, c);
  json.end_array();
  return data_response(200, json.take());
}

core::HttpResponse BillingApi::create_category(const core::HttpRequest& request) {
  Category category;
  if (auto problem = apply_category_body(request.body, true, category))
    return error_response(*problem);
  category.id = new_id();
  category.created_ms = now_ms();
  category.updated_ms = category.created_ms;
  Outcome<Category> created = store_.insert_category(category);
  if (!created)
    return error_response(created.error());
  return data_response(201, category_json(*created));
}

core::HttpResponse BillingApi::get_category(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {}))
    return error_response(*problem);
  const std::optional<Category> category = store_.category(request.captures.at(0));
  if (!category)
    return error_response(not_found("Category not found: " + request.captures.at(0)));
  return data_response(200, category_json(*category));
}

core::HttpResponse BillingApi::update_category(const core::HttpRequest& request) {
  const std::int64_t now = now_ms();
  Outcome<Category> updated = store_.update_category(
      request.captures.at(0), [&](Category& category) -> std::optional<ApiError> {
        if (auto problem = apply_category_body(request.body, false, category))
          return problem;
        category.updated_ms = std::max(now, category.created_ms);
        return std::nullopt;
      });
  if (!updated)
    return error_response(updated.error());
  return data_response(200, category_json(*updated));
}

core::HttpResponse BillingApi::delete_category(const core::HttpRequest& request) {
  Outcome<Done> deleted = store_.delete_category(request.captures.at(0));
  if (!deleted)
    return error_response(deleted.error());
  core::JsonWriter json;
  json.begin_object().key("id").value(request.captures.at(0)).key("deleted").value(true);
  json.end_object();
  return data_response(200, json.take());
}

// --- reports

core::HttpResponse BillingApi::summary(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, kReportParameters))
    return error_response(*problem);
  return cached(cache_key(request), [&] {
    Outcome<ItemFilter> filter = read_filter(request, store_);
    if (!filter)
      return error_response(filter.error());
    const std::vector<GroupTotal> totals = store_.totals(*filter, GroupBy::none);
    std::int64_t count = 0;
    for (const GroupTotal& t : totals)
      count += t.count;
    core::JsonWriter json;
    json.begin_object().key("totalAmount");
    if (totals.size() == 1)
      json.value(totals[0].amount);
    else if (totals.empty())
      json.value(0);
    else
      json.null();
    json.key("itemCount").value(count).key("currency");
    if (totals.size() == 1)
      json.value(totals[0].currency);
    else if (totals.empty())
      json.value(filter->currency.value_or(options_.default_currency));
    else
      json.null();
    optional_value(json, "from", parameter(request, "from"));
    optional_value(json, "to", parameter(request, "to"));
    json.key("byCurrency").begin_array();
    for (const GroupTotal& t : totals)
      json.begin_object()
          .key("currency")
          .value(t.currency)
          .key("totalAmount")
          .value(t.amount)
          .key("itemCount")
          .value(t.count)
          .end_object();
    json.end_array().end_object();
    return data_response(200, json.take());
  });
}

core::HttpResponse BillingApi::breakdown(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {"by", "category", "provider", "service", "from",
                                                "to", "currency", "tags", "recurring", "stageApp",
                                                "author", "source"}))
    return error_response(*problem);
  return cached(cache_key(request), [&] {
    const std::string by_text = parameter(request, "by").value_or("provider");
    static const std::map<std::string, GroupBy> kinds = {{"provider", GroupBy::provider},
                                                         {"category", GroupBy::category},
                                                         {"service", GroupBy::service},
                                                         {"recurring", GroupBy::recurring},
                                                         {"tag", GroupBy::tag}};
    const auto by = kinds.find(by_text);
    if (by == kinds.end())
      return error_response(validation_error(
          "by", "must be provider, category, service, recurring or tag, not '" + by_text + "'"));
    Outcome<ItemFilter> filter = read_filter(request, store_);
    if (!filter)
      return error_response(filter.error());
    const std::vector<GroupTotal> groups = store_.totals(*filter, by->second);
    std::map<std::string, std::string> category_names;
    if (by->second == GroupBy::category)
      for (const Category& c : store_.categories())
        category_names[c.id] = c.name;
    core::JsonWriter json;
    json.begin_array();
    // Groups come ordered by currency: percentages within each currency's run.
    for (std::size_t start = 0; start < groups.size();) {
      std::size_t end = start;
      std::vector<std::int64_t> amounts;
      for (; end < groups.size() && groups[end].currency == groups[start].currency; ++end)
        amounts.push_back(groups[end].amount);
      const std::vector<std::int64_t> tenths = tenths_of_percent(amounts);
      for (std::size_t i = start; i < end; ++i) {
        const GroupTotal& g = groups[i];
        json.begin_object();
        optional_value(json, "key", g.key);
        if (by->second == GroupBy::category) {
          std::optional<std::string> name;
          if (g.key)
            if (const auto found = category_names.find(*g.key); found != category_names.end())
              name = found->second;
          optional_value(json, "name", name);
        }
        json.key("amount").value(g.amount).key("count").value(g.count);
        json.key("percentage").number_text(percent_text(tenths[i - start]));
        json.key("currency").value(g.currency).end_object();
      }
      start = end;
    }
    json.end_array();
    return data_response(200, json.take());
  });
}

core::HttpResponse BillingApi::trend(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {"interval", "category", "provider", "service",
                                                "from", "to", "currency", "tags", "recurring",
                                                "stageApp", "author", "source"}))
    return error_response(*problem);
  return cached(cache_key(request), [&] {
    const std::string interval = parameter(request, "interval").value_or("month");
    GroupBy by = GroupBy::month;
    if (interval == "day")
      by = GroupBy::day;
    else if (interval == "week")
      by = GroupBy::week;
    else if (interval != "month")
      return error_response(
          validation_error("interval", "must be day, week or month, not '" + interval + "'"));
    Outcome<ItemFilter> filter = read_filter(request, store_);
    if (!filter)
      return error_response(filter.error());
    core::JsonWriter json;
    json.begin_array();
    for (const GroupTotal& g : store_.totals(*filter, by))
      json.begin_object()
          .key("date")
          .value(g.key.value_or(""))
          .key("amount")
          .value(g.amount)
          .key("count")
          .value(g.count)
          .key("currency")
          .value(g.currency)
          .end_object();
    json.end_array();
    return data_response(200, json.take());
  });
}

core::HttpResponse BillingApi::search(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {"q", "limit"}))
    return error_response(*problem);
  const std::string q = parameter(request, "q").value_or("");
  if (q.find_first_not_of(" \t") == std::string::npos)
    return error_response(validation_error("q", "is required: the words to search for"));
  if (q.size() > 500)
    return error_response(validation_error("q", "is longer than 500 bytes"));
  std::size_t limit = 0;
  if (auto problem = read_limit(request, 20, 100, limit))
    return error_response(*problem);
  return cached(cache_key(request), [&] {
    if (std::optional<std::vector<std::string>> ids = store_.search_ids(q, limit))
      return data_response(200, "[" + items_json(*ids) + "]");
    core::JsonWriter json;
    json.begin_array();
    for (const Item& item : store_.search(q, limit))
      write_item(json, item);
    json.end_array();
    return data_response(200, json.take());
  });
}

std::string BillingApi::items_json(const std::vector<std::string>& ids) {
  const std::uint64_t generation = store_.generation();
  std::vector<std::string> parts(ids.size());
  std::vector<std::string> missing;
  std::vector<std::size_t> missing_at;
  {
    const std::lock_guard lock(rendered_mutex_);
    if (rendered_generation_ != generation) {
      rendered_.clear();
      rendered_bytes_ = 0;
      rendered_generation_ = generation;
    }
    for (std::size_t i = 0; i < ids.size(); ++i)
      if (const auto found = rendered_.find(ids[i]); found != rendered_.end()) {
        parts[i] = found->second;
      } else {
        missing.push_back(ids[i]);
        missing_at.push_back(i);
      }
  }
  if (!missing.empty()) {
    // items() leaves out an item deleted since the search: match what it returns by id.
    std::unordered_map<std::string, std::string> fresh;
    for (const Item& item : store_.items(missing))
      fresh.emplace(item.id, item_json(item));
    for (std::size_t m = 0; m < missing.size(); ++m)
      if (const auto found = fresh.find(missing[m]); found != fresh.end())
        parts[missing_at[m]] = found->second;
    const bool unchanged = store_.generation() == generation;
    const std::lock_guard lock(rendered_mutex_);
    // Kept only when no write came in meanwhile (what was read may predate it).
    if (unchanged && rendered_generation_ == generation)
      for (auto& [id, json] : fresh) {
        if (rendered_bytes_ + id.size() + json.size() > options_.rendered_item_bytes)
          break;
        rendered_bytes_ += id.size() + json.size();
        rendered_.emplace(id, std::move(json));
      }
  }
  std::string joined;
  for (const std::string& part : parts)
    if (!part.empty()) {
      if (!joined.empty())
        joined += ',';
      joined += part;
    }
  return joined;
}

core::HttpResponse BillingApi::status(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {}))
    return error_response(*problem);
  const StoreStats stats = store_.stats();
  core::JsonWriter json;
  json.begin_object().key("initialized").value(true);
  json.key("config").begin_object().key("version").value(1);
  json.key("currency").value(options_.default_currency).end_object();
  json.key("totalItems").value(stats.items).key("totalCategories").value(stats.categories);
  json.key("totalSyncJobs").value(stats.sync_jobs).key("totalAmount");
  const auto& totals = stats.totals_by_currency;
  if (totals.size() == 1)
    json.value(totals[0].amount);
  else if (totals.empty())
    json.value(0);
  else
    json.null();
  json.key("currency");
  if (totals.size() == 1)
    json.value(totals[0].currency);
  else if (totals.empty())
    json.value(options_.default_currency);
  else
    json.null();
  json.key("byCurrency").begin_array();
  for (const GroupTotal& t : totals)
    json.begin_object()
        .key("currency")
        .value(t.currency)
        .key("totalAmount")
        .value(t.amount)
        .key("itemCount")
        .value(t.count)
        .end_object();
  json.end_array();
  json.key("storageType").value(stats.storage_type);
  json.key("storage").begin_object().key("location").value(stats.location);
  json.key("bytes").value(stats.bytes).key("schemaVersion").value(stats.schema_version);
  json.end_object().end_object();
  return data_response(200, json.take());
}

// --- sync

core::HttpResponse BillingApi::start_sync(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {}))
    return error_response(*problem);
  Outcome<SyncRequest> sync = read_sync_body(request.body);
  if (!sync)
    return error_response(sync.error());
  if (sync_runner_ == nullptr)
    return error_response(ApiError{503, "INTERNAL", "this server runs no syncs", ""});
  SyncJob job;
  job.id = new_id();
  job.provider = sync->provider;
  job.connection = sync->connection;
  job.from = sync->from;
  job.to = sync->to;
  job.started_ms = now_ms();
  if (std::optional<ApiError> problem = sync_runner_->start(*sync, job))
    return error_response(*problem);
  // Wait a bounded time for the job's end; a job still running is answered as such (202).
  const auto deadline = std::chrono::steady_clock::now() + options_.sync_wait;
  std::optional<SyncJob> current;
  {
    std::unique_lock lock(jobs_mutex_);
    job_ended_.wait_until(lock, deadline, [&] {
      current = store_.sync_job(job.id);
      return current && current->status != "running";
    });
  }
  if (!current)
    current = store_.sync_job(job.id);
  if (!current)
    return error_response(ApiError{500, "INTERNAL", "sync job " + job.id + " was not saved", ""});
  return data_response(current->status == "running" ? 202 : 200, sync_job_json(*current));
}

void BillingApi::finish_sync(const SyncJob& job) {
  store_.save_sync_job(job);
  const std::lock_guard lock(jobs_mutex_);
  job_ended_.notify_all();
}

core::HttpResponse BillingApi::sync_jobs(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {"provider", "limit"}))
    return error_response(*problem);
  std::size_t limit = 0;
  if (auto problem = read_limit(request, 100, 1000, limit))
    return error_response(*problem);
  core::JsonWriter json;
  json.begin_array();
  for (const SyncJob& job : store_.sync_jobs(parameter(request, "provider"), limit))
    write_job(json, job);
  json.end_array();
  return data_response(200, json.take());
}

core::HttpResponse BillingApi::sync_job(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {}))
    return error_response(*problem);
  const std::optional<SyncJob> job = store_.sync_job(request.captures.at(0));
  if (!job)
    return error_response(not_found("Sync job not found: " + request.captures.at(0)));
  return data_response(200, sync_job_json(*job));
}

core::HttpResponse BillingApi::sync_adapters(const core::HttpRequest& request) {
  if (auto problem = check_parameters(request, {}))
    return error_response(*problem);
  core::JsonWriter json;
  json.begin_array();
  if (sync_runner_ != nullptr)
    for (const AdapterInfo& a : sync_runner_->adapters()) {
      json.begin_object().key("name").value(a.name).key("version").value(a.version);
      json.key("abi").value(a.abi).key("description").value(a.description);
      json.key("configSchema").raw(a.config_schema_json);
      json.key("connections").begin_array();
      for (const std::string& c : a.connections)
        json.value(c);
      json.end_array().end_object();
    }
  json.end_array();
  return data_response(200, json.take());
}

} // namespace billdrop::billing
