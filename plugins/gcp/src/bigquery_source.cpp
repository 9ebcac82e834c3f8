#include "bigquery_source.hpp"

#include <billdrop/decimal.hpp>
#include <billdrop/text.hpp>

#include <httplib.h>
#include <simdjson.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>

namespace billdrop::gcp {
namespace {

namespace dom = simdjson::dom;

// Sets `out` when `value` holds a T; leaves the default otherwise (an optional member).
template <class T>
void read_optional(simdjson::simdjson_result<dom::element> value, T& out) {
  T got{};
  if (value.get(got) == simdjson::SUCCESS)
    out = got;
}

// One column of a response schema, with its billing field resolved once per response.
struct SchemaNode {
  std::string name;
  bool timestamp = false;
  bool repeated = false;
  bool record = false;
  std::optional<Field> field;    // a scalar the mapping uses
  std::optional<ListField> list; // a repeated record the mapping uses
  std::vector<SchemaNode> fields;
};

Result<std::vector<SchemaNode>> read_schema(dom::array fields, const std::string& prefix) {
  std::vector<SchemaNode> nodes;
  for (dom::element element : fields) {
    SchemaNode node;
    std::string_view name;
    std::string_view type;
    std::string_view mode = "NULLABLE";
    if (element["name"].get(name) || element["type"].get(type))
      return data_error("BigQuery response: a schema field lacks its name or type");
    read_optional(element["mode"], mode);
    node.name = std::string(name);
    node.timestamp = type == "TIMESTAMP";
    node.record = type == "RECORD" || type == "STRUCT";
    node.repeated = mode == "REPEATED";
    const std::string path = prefix.empty() ? node.name : prefix + "." + node.name;
    if (node.record && node.repeated)
      node.list = list_field_by_name(path);
    else if (!node.record && !node.repeated)
      node.field = field_by_name(path);
    dom::array children;
    if (node.record && !element["fields"].get(children)) {
      Result<std::vector<SchemaNode>> sub = read_schema(children, path);
      if (!sub)
        return sub;
      node.fields = std::move(*sub);
    }
    nodes.push_back(std::move(node));
  }
  return nodes;
}

// TIMESTAMP cells arrive as epoch microseconds ("1604962800000000", with useInt64Timestamp) or
// as epoch seconds in floating notation ("1.6049628E9"); both become ISO text.
Status timestamp_text(std::string_view text, std::string& out) {
  Result<Decimal> value = Decimal::parse(text);
  if (!value)
    return data_error("BigQuery TIMESTAMP " + quote_for_message(text) + " is not a number");
  const bool micros = text.find_first_of(".eE") == std::string_view::npos;
  Decimal::int128 whole = value->coefficient();
  for (int i = 0; i < value->scale(); ++i)
    whole /= 10;
  if (micros)
    whole = whole >= 0 ? whole / 1000000 : -((-whole + 999999) / 1000000);
  out.clear();
  append_iso(out, UtcTime{static_cast<std::int64_t>(whole)});
  return {};
}

// {"v": ...} of a cell: a string, null, {"f": [...]} for a record, [{"v": ...}] for repeated.
Status decode_cells(const std::vector<SchemaNode>& nodes, dom::array cells, BillingRecord& record);

Status decode_scalar(const SchemaNode& node, dom::element value, BillingRecord& record,
                     std::string_view& out) {
  out = {};
  if (value.is_null())
    return {};
  std::string_view text;
  if (value.get(text))
    return data_error("BigQuery response: field " + node.name + " is not a string value");
  if (node.timestamp) {
    std::string timestamp;
    if (Status status = timestamp_text(text, timestamp); !status)
      return status;
    out = record.keep(timestamp);
    return {};
  }
  out = record.keep(text);
  return {};
}

Status decode_list(const SchemaNode& node, dom::element value, BillingRecord& record) {
  dom::array items;
  if (value.is_null() || value.get(items))
    return {};
  for (dom::element item : items) {
    dom::array cells;
    if (item["v"]["f"].get(cells))
      continue;
    record.add_element(*node.list);
    std::size_t i = 0;
    for (dom::element cell : cells) {
      if (i >= node.fields.size())
        break;
      const SchemaNode& sub = node.fields[i++];
      dom::element v;
      std::string_view text;
      if (sub.record || sub.repeated || cell["v"].get(v) || v.is_null() || v.get(text))
        continue;
      record.set_element_field(*node.list, sub.name, record.keep(text));
    }
  }
  return {};
}

Status decode_cells(const std::vector<SchemaNode>& nodes, dom::array cells, BillingRecord& record) {
  std::size_t i = 0;
  for (dom::element cell : cells) {
    if (i >= nodes.size())
      return data_error("BigQuery response: a row has more cells than the schema has fields");
    const SchemaNode& node = nodes[i++];
    dom::element value;
    if (cell["v"].get(value))
      return data_error("BigQuery response: a cell of " + node.name + " has no \"v\"");
    if (node.list) {
      if (Status status = decode_list(node, value, record); !status)
        return status;
    } else if (node.record && !node.repeated) {
      dom::array children;
      if (!value.is_null() && !value["f"].get(children))
        if (Status status = decode_cells(node.fields, children, record); !status)
          return status;
    } else if (node.field) {
      if (Status status = decode_scalar(node, value, record, record[*node.field]); !status)
        return status;
    }
  }
  return {};
}

std::string percent_encode(std::string_view text) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

std::string json_string(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + '"';
}

// One page of results: the schema, the rows, and where the next page is.
using PageHandler = std::function<Status(dom::element response)>;

class QueryRunner {
public:
  QueryRunner(const BigQueryOptions& options, std::string token)
      : options_(options), token_(std::move(token)), client_(options.endpoint) {
    client_.set_connection_timeout(30, 0);
    client_.set_read_timeout(300, 0);
    client_.set_bearer_token_auth(token_.c_str());
  }

  Status get(const std::string& path) {
    Result<std::string> body = checked(client_.Get(path.c_str()), "GET " + path);
    if (!body)
      return std::move(body).error();
    return {};
  }

  // Runs `sql`, handing each page of the response to `on_page`.
  Status run(const std::string& sql, const PageHandler& on_page) {
    const std::string base = "/bigquery/v2/projects/" + percent_encode(options_.project);
    const std::string body =
        "{\"query\":" + json_string(sql) +
        ",\"useLegacySql\":false,\"maxResults\":" + std::to_string(options_.page_size) +
        ",\"timeoutMs\":60000,\"formatOptions\":{\"useInt64Timestamp\":true}}";
    auto posted = client_.Post((base + "/queries").c_str(), body, "application/json");
    Result<std::string> text = checked(posted, "POST " + base + "/queries");
    if (!text)
      return std::move(text).error();
    for (std::uint64_t page = 1;; ++page) {
      dom::element response;
      if (auto error = parser_.parse(*text).get(response))
        return source_error("BigQuery response page " + std::to_string(page) +
                            " is not JSON: " + simdjson::error_message(error));
      bool complete = true;
      read_optional(response["jobComplete"], complete);
      std::string_view job_id;
      std::string_view location;
      if (response["jobReference"]["jobId"].get(job_id))
        return source_error("BigQuery response page " + std::to_string(page) +
                            " has no jobReference.jobId");
      read_optional(response["jobReference"]["location"], location);
      std::string next = base + "/queries/" + percent_encode(job_id) +
                         "?maxResults=" + std::to_string(options_.page_size);
      if (!location.empty())
        next += "&location=" + percent_encode(location);
      std::string_view token;
      if (complete) {
        if (Status status = on_page(response); !status)
          return status;
        if (response["pageToken"].get(token) || token.empty())
          return {};
        next += "&pageToken=" + percent_encode(token);
      } else {
        next += "&timeoutMs=60000"; // the job still runs: wait for it
      }
      auto fetched = client_.Get(next.c_str());
      text = checked(fetched, "GET " + next);
      if (!text)
        return std::move(text).error();
    }
  }

private:
  Result<std::string> checked(const httplib::Result& response, const std::string& what) {
    if (!response)
      return source_error("BigQuery " + what + " at " + options_.endpoint +
                              " failed: " + httplib::to_string(response.error()),
                          true);
    const int status = response->status;
    if (status == 200)
      return response->body;
    // The body names the problem ("Not found: Table ..."); the token is never part of it.
    return source_error("BigQuery " + what + " returned HTTP " + std::to_string(status) + ": " +
                            std::string(trim_ascii(response->body.substr(0, 500))),
                        status == 429 || status >= 500);
  }

  const BigQueryOptions& options_;
  std::string token_;
  httplib::Client client_;
  dom::parser parser_;
};

Result<std::string> access_token(const BigQueryOptions& options) {
  const char* token = std::getenv(options.access_token_env.c_str());
  if (token == nullptr || *token == '\0')
    return config_error("environment variable " + options.access_token_env +
                        " (access_token_env) holds no OAuth access token; set it, for example "
                        "with `gcloud auth print-access-token`");
  return std::string(token);
}

std::string backquoted_table(const BigQueryOptions& options) {
  return "`" + options.project + "." + options.dataset + "." + options.table + "`";
}

} // namespace

std::string BigQuerySource::months_query() const {
  if (options_.month_by == MonthBy::invoice)
    return "SELECT DISTINCT invoice.month AS month FROM " + backquoted_table(options_) +
           " ORDER BY month";
  return "SELECT DISTINCT FORMAT_TIMESTAMP('%Y%m', usage_start_time) AS month FROM " +
         backquoted_table(options_) + " ORDER BY month";
}

std::string BigQuerySource::month_query(Month month) const {
  char invoice[8];
  std::snprintf(invoice, sizeof invoice, "%04d%02d", month.year(), month.month());
  if (options_.month_by == MonthBy::invoice)
    return "SELECT * FROM " + backquoted_table(options_) + " WHERE invoice.month = '" + invoice +
           "'";
  return "SELECT * FROM " + backquoted_table(options_) + " WHERE usage_start_time >= '" +
         format_iso(month.first_instant()) + "' AND usage_start_time < '" +
         format_iso(month.next().first_instant()) + "'";
}

Status BigQuerySource::check() const {
  Result<std::string> token = access_token(options_);
  if (!token)
    return std::move(token).error();
  QueryRunner runner(options_, std::move(*token));
  return runner.get("/bigquery/v2/projects/" + percent_encode(options_.project) + "/datasets/" +
                    percent_encode(options_.dataset) + "/tables/" + percent_encode(options_.table));
}

Result<std::vector<Month>> BigQuerySource::months() const {
  Result<std::string> token = access_token(options_);
  if (!token)
    return std::move(token).error();
  QueryRunner runner(options_, std::move(*token));
  std::vector<Month> months;
  Status status = runner.run(months_query(), [&](dom::element response) -> Status {
    dom::array rows;
    if (response["rows"].get(rows))
      return {};
    for (dom::element row : rows) {
      std::string_view text;
      if (row["f"].at(0)["v"].get(text))
        continue; // a NULL month: rows without an invoice month
      Result<Month> month = parse_invoice_month(text);
      if (!month)
        return month.error();
      months.push_back(*month);
    }
    return {};
  });
  if (!status)
    return status.error();
  std::sort(months.begin(), months.end());
  months.erase(std::unique(months.begin(), months.end()), months.end());
  return months;
}

Status BigQuerySource::read(Month month, RowSink& sink) const {
  Result<std::string> token = access_token(options_);
  if (!token)
    return std::move(token).error();
  QueryRunner runner(options_, std::move(*token));
  RowMapper mapper(options_.month_by);
  BillingRecord record;
  std::string origin;
  std::uint64_t page = 0;
  const std::string name = "bigquery:" + options_.table;
  return runner.run(month_query(month), [&](dom::element response) -> Status {
    ++page;
    dom::array fields;
    if (response["schema"]["fields"].get(fields))
      return source_error("BigQuery response page " + std::to_string(page) + " has no schema");
    Result<std::vector<SchemaNode>> schema = read_schema(fields, "");
    if (!schema)
      return std::move(schema).error();
    dom::array rows;
    if (response["rows"].get(rows))
      return {};
    std::uint64_t index = 0;
    for (dom::element row : rows) {
      ++index;
      origin = name + ":page" + std::to_string(page) + ":" + std::to_string(index);
      record.clear();
      dom::array cells;
      if (row["f"].get(cells)) {
        sink.reject(origin, "the row has no \"f\" cells");
        continue;
      }
      if (Status decoded = decode_cells(*schema, cells, record); !decoded) {
        sink.reject(origin, decoded.error().message());
        continue;
      }
      Result<RoutedRecord> routed = mapper.route(record);
      if (!routed) {
        sink.reject(origin, routed.error().message());
        continue;
      }
      if (routed->month != month)
        continue; // the query selects the month; this guards a server that does not
      if (Status status = mapper.write(record, *routed, origin, sink); !status) {
        if (status.error().kind() == ErrorKind::cancelled)
          return status;
        sink.reject(origin, status.error().message());
      }
    }
    return {};
  });
}

} // namespace billdrop::gcp
