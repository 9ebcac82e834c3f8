#include "billing/request_body.hpp"

#include "billing/money.hpp"
#include "billing/utc_time.hpp"

#include <simdjson.h>

#include <algorithm>
#include <set>
#include <string>

namespace billdrop::billing {

namespace {

namespace dom = simdjson::dom;

const char* type_name(dom::element_type type) {
  switch (type) {
  case dom::element_type::ARRAY:
    return "an array";
  case dom::element_type::OBJECT:
    return "an object";
  case dom::element_type::INT64:
  case dom::element_type::UINT64:
  case dom::element_type::DOUBLE:
    return "a number";
  case dom::element_type::STRING:
    return "a string";
  case dom::element_type::BOOL:
    return "a boolean";
  case dom::element_type::NULL_VALUE:
    return "null";
  }
  return "a value";
}

ApiError wrong_type(const std::string& field, const char* wanted, dom::element value) {
  return validation_error(field,
                          std::string("must be ") + wanted + ", not " + type_name(value.type()));
}

// The body as a JSON object, each field once.
struct Body {
  dom::parser parser;
  dom::object object;
};

std::optional<ApiError> parse_object(std::string_view text, Body& body) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return validation_error("body", "a JSON object is required");
  dom::element root;
  if (const auto error = body.parser.parse(text.data(), text.size()).get(root); error)
    return validation_error("body",
                            std::string("not valid JSON: ") + simdjson::error_message(error));
  if (root.get_object().get(body.object) != simdjson::SUCCESS)
    return validation_error("body",
                            std::string("must be a JSON object, not ") + type_name(root.type()));
  std::set<std::string_view> seen;
  for (const dom::key_value_pair field : body.object)
    if (!seen.insert(field.key).second)
      return validation_error(std::string(field.key), "appears twice in the body");
  return std::nullopt;
}

// A string field: trimmed of nothing (the caller's text is kept), at most `max_bytes`.
std::optional<ApiError> read_string(const std::string& field, dom::element value,
                                    std::size_t max_bytes, std::string& out) {
  std::string_view text;
  if (value.get_string().get(text) != simdjson::SUCCESS)
    return wrong_type(field, "a string", value);
  if (text.size() > max_bytes)
    return validation_error(field, "is longer than " + std::to_string(max_bytes) + " bytes");
  out.assign(text);
  return std::nullopt;
}

// An optional string: null clears it; "" is taken as null too (nothing to keep).
std::optional<ApiError> read_optional_string(const std::string& field, dom::element value,
                                             std::size_t max_bytes,
                                             std::optional<std::string>& out) {
  if (value.is_null()) {
    out.reset();
    return std::nullopt;
  }
  std::string text;
  if (auto problem = read_string(field, value, max_bytes, text))
    return problem;
  if (text.empty())
    out.reset();
  else
    out = std::move(text);
  return std::nullopt;
}

bool blank(const std::string& text) {
  return text.find_first_not_of(" \t\r\n") == std::string::npos;
}

bool has_control(const std::string& text) {
  return std::any_of(text.begin(), text.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

ApiError read_only(const std::string& field) {
  return validation_error(field, "is set by billdrop and cannot be written");
}

std::optional<ApiError> read_amount(dom::element value, const std::string& currency,
                                    std::int64_t& amount) {
  const std::string unit = "minor units of the currency (cents for USD)";
  switch (value.type()) {
  case dom::element_type::INT64: {
    const std::int64_t number = value.get_int64().value_unsafe();
    if (number < 0)
      return validation_error("amount",
                              "must not be negative (got " + std::to_string(number) + ")");
    if (number > max_amount)
      return validation_error("amount",
                              "must be at most " + std::to_string(max_amount) + " " + unit);
    amount = number;
    return std::nullopt;
  }
  case dom::element_type::UINT64:
    return validation_error("amount", "must be at most " + std::to_string(max_amount) + " " + unit);
  case dom::element_type::DOUBLE:
    return validation_error("amount", "must be a whole number of " + unit + ", in " + currency +
                                          "; a fraction or exponent is not one");
  default:
    return wrong_type("amount", "an integer", value);
  }
}

} // namespace

std::optional<ApiError> apply_item_body(std::string_view text, bool create,
                                        const std::string& default_currency, Item& item) {
  Body body;
  if (auto problem = parse_object(text, body))
    return problem;
  // The currency first: the amount's message names it.
  dom::element currency_value;
  if (body.object["currency"].get(currency_value) == simdjson::SUCCESS) {
    std::string code;
    if (auto problem = read_string("currency", currency_value, 16, code))
      return problem;
    if (!currency_exponent(code))
      return validation_error("currency", "'" + code +
                                              "' is not an ISO 4217 currency code with a minor "
                                              "unit (upper case, e.g. USD, EUR, JPY)");
    item.currency = code;
  } else if (create) {
    item.currency = default_currency;
  }
  bool has_name = false, has_amount = false, period_named = false;
  for (const dom::key_value_pair field : body.object) {
    const std::string key(field.key);
    const dom::element value = field.value;
    std::optional<ApiError> problem;
    if (key == "currency") {
      continue;
    } else if (key == "name") {
      problem = read_string(key, value, 500, item.name);
      if (!problem && blank(item.name))
        problem = validation_error(key, "must not be empty");
      has_name = true;
    } else if (key == "amount") {
      problem = read_amount(value, item.currency, item.amount);
      has_amount = true;
    } else if (key == "provider") {
      problem = read_optional_string(key, value, 200, item.provider);
    } else if (key == "providerRef") {
      problem = read_optional_string(key, value, 500, item.provider_ref);
    } else if (key == "description") {
      problem = read_optional_string(key, value, 10'000, item.description);
    } else if (key == "service") {
      problem = read_optional_string(key, value, 200, item.service);
    } else if (key == "stageApp") {
      problem = read_optional_string(key, value, 200, item.stage_app);
    } else if (key == "author") {
      problem = read_optional_string(key, value, 200, item.author);
    } else if (key == "category") {
      problem = read_optional_string(key, value, 200, item.category);
    } else if (key == "period") {
      problem = read_optional_string(key, value, 20, item.period);
      period_named = true;
      if (!problem && item.period && *item.period != "monthly" && *item.period != "quarterly" &&
          *item.period != "yearly")
        problem = validation_error(key, "must be monthly, quarterly or yearly, not '" +
                                            *item.period + "'");
    } else if (key == "recurring") {
      if (value.get_bool().get(item.recurring) != simdjson::SUCCESS)
        problem = wrong_type(key, "true or false", value);
    } else if (key == "date") {
      std::string date;
      problem = read_string(key, value, 40, date);
      if (!problem) {
        if (const std::optional<std::int64_t> ms = parse_instant(date))
          item.date_ms = *ms;
        else
          problem = validation_error(key, "'" + date +
                                              "' is not a UTC date (YYYY-MM-DD) or ISO 8601 time "
                                              "(2026-03-05T12:00:00.000Z), from 1970 on");
      }
    } else if (key == "tags") {
      dom::array tags;
      if (value.get_array().get(tags) != simdjson::SUCCESS) {
        problem = wrong_type(key, "an array of strings", value);
      } else {
        item.tags.clear();
        std::size_t index = 0;
        for (const dom::element tag_value : tags) {
          const std::string name = "tags[" + std::to_string(index++) + "]";
          std::string tag;
          if ((problem = read_string(name, tag_value, 100, tag)))
            break;
          if (blank(tag) || has_control(tag)) {
            problem = validation_error(name, "must be a non-empty tag without control characters");
            break;
          }
          if (std::find(item.tags.begin(), item.tags.end(), tag) == item.tags.end())
            item.tags.push_back(std::move(tag));
        }
        if (!problem && item.tags.size() > 100)
          problem = validation_error(key, "holds more than 100 tags");
      }
    } else if (key == "id" || key == "createdAt" || key == "updatedAt" || key == "source" ||
               key == "adapter" || key == "amountExact") {
      problem = read_only(key);
    } else {
      problem = validation_error(key, "is not a field of an item (fields: name, amount, "
                                      "currency, provider, providerRef, tags, description, "
                                      "recurring, period, date, category, service, stageApp, "
                                      "author)");
    }
    if (problem)
      return problem;
  }
  if (create && !has_name)
    return validation_error("name", "is required");
  if (create && !has_amount)
    return validation_error("amount", "is required");
  if (!item.recurring && item.period) {
    if (period_named)
      return validation_error("period", "only a recurring item has a period (set recurring "
                                        "to true)");
    item.period.reset(); // recurring turned off: its period goes with it
  }
  if (item.recurring && !item.period)
    return validation_error("period",
                            "a recurring item needs a period: monthly, quarterly or yearly");
  return std::nullopt;
}

std::optional<ApiError> apply_category_body(std::string_view text, bool create,
                                            Category& category) {
  Body body;
  if (auto problem = parse_object(text, body))
    return problem;
  bool has_name = false;
  for (const dom::key_value_pair field : body.object) {
    const std::string key(field.key);
    const dom::element value = field.value;
    std::optional<ApiError> problem;
    if (key == "name") {
      problem = read_string(key, value, 200, category.name);
      if (!problem && (blank(category.name) || has_control(category.name)))
        problem = validation_error(key, "must be a non-empty name without control characters");
      has_name = true;
    } else if (key == "description") {
      problem = read_optional_string(key, value, 10'000, category.description);
    } else if (key == "color") {
      problem = read_optional_string(key, value, 7, category.color);
      const auto hex = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
      };
      if (!problem && category.color &&
          (category.color->size() != 7 || (*category.color)[0] != '#' ||
           !std::all_of(category.color->begin() + 1, category.color->end(), hex)))
        problem =
            validation_error(key, "must be a colour as #RRGGBB, not '" + *category.color + "'");
    } else if (key == "parentId") {
      problem = read_optional_string(key, value, 200, category.parent_id);
    } else if (key == "id" || key == "createdAt" || key == "updatedAt") {
      problem = read_only(key);
    } else {
      problem = validation_error(
          key, "is not a field of a category (fields: name, description, color, parentId)");
    }
    if (problem)
      return problem;
  }
  if (create && !has_name)
    return validation_error("name", "is required");
  return std::nullopt;
}

Outcome<SyncRequest> read_sync_body(std::string_view text) {
  Body body;
  if (auto problem = parse_object(text, body))
    return *problem;
  SyncRequest request;
  for (const dom::key_value_pair field : body.object) {
    const std::string key(field.key);
    const dom::element value = field.value;
    std::optional<ApiError> problem;
    if (key == "provider") {
      problem = read_string(key, value, 200, request.provider);
    } else if (key == "connection") {
      std::string connection;
      problem = read_string(key, value, 200, connection);
      request.connection = connection;
    } else if (key == "from" || key == "to") {
      std::string& day = key == "from" ? request.from : request.to;
      problem = read_string(key, value, 20, day);
      if (!problem && !parse_day(day))
        problem = validation_error(key, "'" + day + "' is not a date as YYYY-MM-DD");
    } else if (key == "token" || key == "projectId") {
      // The seed's provider-specific fields: credentials come from the connection's config.
      std::string ignored;
      problem = read_string(key, value, 10'000, ignored);
    } else {
      problem = validation_error(key, "is not a field of a sync request (fields: provider, "
                                      "connection, from, to)");
    }
    if (problem)
      return *problem;
  }
  if (request.provider.empty() && !request.connection)
    return validation_error("provider", "is required (or name one connection)");
  if (request.from.empty())
    return validation_error("from", "is required");
  if (request.to.empty())
    return validation_error("to", "is required");
  if (request.from > request.to)
    return validation_error("from", request.from + " is after to (" + request.to + ")");
  return request;
}

} // namespace billdrop::billing
