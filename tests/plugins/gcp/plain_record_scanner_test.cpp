// The plain NDJSON record scanner (plain_record_scanner.cpp) against the two readers it must agree
// with: simdjson On Demand as the reader decodes every other record (decode_ndjson_record), whose
// fields it must give byte for byte, and simdjson's DOM parser, which checks the whole document:
// every record the scanner takes must be valid JSON, and every valid record without an escape must
// be taken. Thousands of mutations of real-shaped records (a byte replaced, dropped or doubled,
// the record cut short) hold all three; the named cases below show what each rule means.
#include "plain_record_scanner.hpp"

#include "export_file.hpp"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <string>
#include <vector>

namespace billdrop::gcp {
namespace {

// The scanner reads up to 16 bytes past the record, and the record's values are views into the
// text: `buffer` keeps both for as long as the record is read.
struct Scanner {
  std::string buffer;
  std::size_t scan(const std::string& text, BillingRecord& record, Decode decode = Decode::full) {
    buffer = text + std::string(64, 'x');
    PlainRecordScanner scanner(key_table(decode));
    return scanner.scan(buffer.data(), text.size(), record);
  }
};

// A JSON number's text as simdjson reads its value back ("2.50" and "2.5e0" both "2.5"); other
// text as it is. Applied to both sides, so that the DOM's numbers compare with the text as written.
std::string normal(std::string_view view) {
  const std::string text(view);
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(text);
  simdjson::dom::element element;
  if (text.empty() || parser.parse(padded).get(element) || !element.is_number())
    return text;
  return simdjson::minify(element);
}

std::string dom_scalar(simdjson::dom::element value) {
  if (value.is_string())
    return std::string(std::string_view(value.get_string().value()));
  if (value.is_null())
    return "";
  return simdjson::minify(value); // numbers, true, false
}

bool is_scalar(simdjson::dom::element value) {
  return !value.is_object() && !value.is_array();
}

// What the gcp reader takes from a record, read from simdjson's DOM: top-level scalars, nested
// records' scalars by their dotted names, and the scalars of the elements of repeated fields.
// False when the text is not a JSON object, or a repeated field holds an element that is not one.
// (The DOM also refuses valid numbers beyond a double, such as 1e400, which the gcp reader keeps
// as written: the records below hold no number a mutation can take there.)
bool reference(const std::string& text, BillingRecord& record, Decode decode = Decode::full) {
  record.clear();
  simdjson::dom::parser parser;
  const simdjson::padded_string padded(text);
  simdjson::dom::element document;
  simdjson::dom::object top;
  if (parser.parse(padded).get(document) || document.get_object().get(top))
    return false;
  auto wanted = [&](std::string_view name) -> std::optional<Field> {
    std::optional<Field> field = field_by_name(name);
    if (field && decode == Decode::routing && !is_routing_field(*field))
      return std::nullopt;
    return field;
  };
  auto read_list = [&](ListField list, simdjson::dom::element value) {
    simdjson::dom::array elements;
    if (value.get_array().get(elements))
      return false;
    for (simdjson::dom::element element : elements) {
      simdjson::dom::object fields;
      if (element.get_object().get(fields))
        return false;
      record.add_element(list);
      for (simdjson::dom::key_value_pair field : fields)
        if (is_scalar(field.value))
          record.set_element_field(list, field.key, record.keep(dom_scalar(field.value)));
    }
    return true;
  };
  for (simdjson::dom::key_value_pair member : top) {
    const std::string name(member.key);
    const simdjson::dom::element value = member.value;
    if (name.find('.') != std::string::npos)
      continue; // a key is one step of a path, never a dotted path itself
    simdjson::dom::object nested;
    if (!value.get_object().get(nested)) {
      for (simdjson::dom::key_value_pair member_of_nested : nested) {
        const std::string_view child_key = member_of_nested.key;
        const simdjson::dom::element child = member_of_nested.value;
        if (child_key.find('.') != std::string_view::npos)
          continue;
        const std::string dotted = name + "." + std::string(child_key);
        if (is_scalar(child)) {
          if (std::optional<Field> field = wanted(dotted))
            record[*field] = record.keep(dom_scalar(child));
        } else if (child.is_array() && decode == Decode::full) {
          if (std::optional<ListField> list = list_field_by_name(dotted))
            if (!read_list(*list, child))
              return false;
        }
      }
    } else if (value.is_array()) {
      if (decode == Decode::full)
        if (std::optional<ListField> list = list_field_by_name(name))
          if (!read_list(*list, value))
            return false;
    } else if (std::optional<Field> field = wanted(name)) {
      record[*field] = record.keep(dom_scalar(value));
    }
  }
  return true;
}

std::string as_written(std::string_view text) {
  return std::string(text);
}

// Every field of a record, a line each ("cost=0.5", "labels: env=prod"), each value as `value`
// renders it.
std::vector<std::string> fields_of(const BillingRecord& record,
                                   std::string (*value)(std::string_view)) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < field_count; ++i)
    out.push_back(std::string(field_name(static_cast<Field>(i))) + "=" + value(record.values[i]));
  const std::pair<const char*, const ReusedList<Label>*> lists[] = {
      {"labels", &record.labels},
      {"system_labels", &record.system_labels},
      {"project.labels", &record.project_labels}};
  for (const auto& [name, list] : lists)
    for (const Label& label : *list)
      out.push_back(std::string(name) + ": " + std::string(label.key) + "=" + value(label.value));
  for (const Credit& credit : record.credits)
    out.push_back("credit: " + value(credit.name) + "|" + value(credit.amount) + "|" +
                  value(credit.full_name) + "|" + value(credit.id) + "|" + value(credit.type));
  return out;
}

// Every field of two records, numbers compared by value.
void expect_same(const BillingRecord& scanned, const BillingRecord& expected,
                 const std::string& text) {
  EXPECT_EQ(fields_of(scanned, normal), fields_of(expected, normal)) << text;
}

// Every field of two records, as text.
void expect_identical(const BillingRecord& scanned, const BillingRecord& expected,
                      const std::string& text) {
  EXPECT_EQ(fields_of(scanned, as_written), fields_of(expected, as_written)) << text;
}

// Real-shaped records: an export's record, one with unknown nested values, a pretty-printed one
// and one with UTF-8 text.
const std::vector<std::string>& records() {
  static const std::vector<std::string> all = {
      R"({"billing_account_id":"01ABCD-234567-89EF01","service":{"id":"6F81-5844-456A",)"
      R"("description":"Compute Engine"},"sku":{"id":"2E27-4F75-95CD","description":"N1 Predefined )"
      R"(Instance Core"},"usage_start_time":"2024-07-01 00:00:00 UTC","usage_end_time":"2024-07-01 )"
      R"(01:00:00 UTC","project":{"id":"shop-prod","number":"123456789","name":"Shop","labels":[{)"
      R"("key":"team","value":"web"}]},"labels":[{"key":"env","value":"prod"},{"key":"app",)"
      R"("value":"shop"}],"system_labels":[],"location":{"location":"us-central1","country":"US",)"
      R"("region":"us-central1","zone":null},"cost":0.0125,"currency":"USD","usage":{"amount":)"
      R"(3600,"unit":"seconds"},"credits":[{"name":"SUD","amount":-1.5e-3,"full_name":null,"id":)"
      R"("sud","type":"SUSTAINED_USAGE_DISCOUNT"}],"invoice":{"month":"202407"},"cost_type":)"
      R"("regular","resource":{"name":"vm-0","global_name":"//compute.googleapis.com/p/vm-0"}})",
      R"({"cost":12,"usage_start_time":"2024-08-31 23:00:00 UTC","tags":[[1,[2,{"a":[]}]],{}],)"
      R"("export_time":{"deep":{"deeper":[true,false,null,-0,0.5E+2]}},"service":{"id":"S",)"
      R"("extra":{"x":[1]},"description":"BigQuery"},"credits":[{"name":"promo","amount":-2,)"
      R"("extra":{"y":1},"more":[1,2]},{}],"labels":[],"adjustment_info":{"description":"fix"}})",
      "{\n  \"usage_start_time\" : \"2024-07-02 00:00:00 UTC\",\r\n\t\"cost\" : 1.0 ,\n"
      "  \"labels\" : [ { \"key\" : \"k\" , \"value\" : \"v\" } ] ,\n  \"invoice\" : { \"month\" :"
      " \"202407\" }\n}",
      "{\"usage_start_time\":\"2024-07-03 00:00:00 UTC\",\"cost\":\"0.50\",\"project\":{\"name\":"
      "\"Caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC "
      "\xF0\x9F\x9A\x80\"},\"labels\":[{\"key\":\"\xC3\xBC\","
      "\"value\":\"\xE2\x82\xAC\"}],\"sku\":{\"description\":\"a,b:c{d}[e]\"}}",
  };
  return all;
}

TEST(PlainRecordScanner, ReadsAnExportRecordsFields) {
  Scanner scanner;
  BillingRecord record;
  const std::string& text = records()[0];
  ASSERT_EQ(scanner.scan(text, record), text.size());
  EXPECT_EQ(record[Field::service_description], "Compute Engine");
  EXPECT_EQ(record[Field::cost], "0.0125");
  EXPECT_EQ(record[Field::usage_amount], "3600");
  EXPECT_EQ(record[Field::location_zone], "");
  EXPECT_EQ(record[Field::project_number], "123456789");
  EXPECT_EQ(record[Field::resource_global_name], "//compute.googleapis.com/p/vm-0");
  ASSERT_EQ(record.labels.size(), 2u);
  EXPECT_EQ(record.labels.begin()[1].value, "shop");
  ASSERT_EQ(record.project_labels.size(), 1u);
  EXPECT_EQ(record.project_labels.begin()->key, "team");
  EXPECT_TRUE(record.system_labels.empty());
  ASSERT_EQ(record.credits.size(), 1u);
  EXPECT_EQ(record.credits.begin()->amount, "-1.5e-3"); // as written
  EXPECT_EQ(record.credits.begin()->full_name, "");
}

TEST(PlainRecordScanner, ReadsEveryRealShapedRecordAsSimdjsonDoes) {
  for (const std::string& text : records())
    for (const Decode decode : {Decode::full, Decode::routing}) {
      Scanner scanner;
      BillingRecord scanned;
      BillingRecord expected;
      ASSERT_EQ(scanner.scan(text, scanned, decode), text.size()) << text;
      ASSERT_TRUE(reference(text, expected, decode)) << text;
      expect_same(scanned, expected, text);
      std::string buffer;
      std::string malformed;
      BillingRecord decoded;
      decode_ndjson_record(text, decode, buffer, decoded, malformed);
      EXPECT_EQ(malformed, "");
      expect_identical(scanned, decoded, text);
    }
}

TEST(PlainRecordScanner, TakesTheLastOfARepeatedKeyAndEveryElementOfARepeatedList) {
  Scanner scanner;
  BillingRecord record;
  const std::string text = R"({"cost":1,"labels":[{"key":"a"}],"cost":2,"labels":[{"key":"b"}],)"
                           R"("service":{"id":"x"},"service":{"description":"y"}})";
  ASSERT_EQ(scanner.scan(text, record), text.size());
  EXPECT_EQ(record[Field::cost], "2");
  EXPECT_EQ(record.labels.size(), 2u);
  EXPECT_EQ(record[Field::service_id], "x");
  EXPECT_EQ(record[Field::service_description], "y");
}

// Records simdjson reads (or rejects) instead: escapes, control characters, invalid UTF-8, JSON
// that is not valid, and nesting deeper than 64.
TEST(PlainRecordScanner, LeavesEveryOtherRecordToSimdjson) {
  const std::vector<std::string> others = {
      R"({"cost":"1\"2"})",
      R"({"c\u006fst":1})",
      "{\"cost\":\"a\tb\"}",
      "{\"cost\":\"\xC3\"}",
      "{\"cost\":\"\xED\xA0\x80\"}", // a UTF-16 surrogate written as UTF-8
      R"({"cost":01})",
      R"({"cost":1.})",
      R"({"cost":-})",
      R"({"cost":1e})",
      R"({"cost":.5})",
      R"({"cost":+1})",
      R"({"cost":NaN})",
      R"({"cost":tru})",
      R"({"cost":nul})",
      R"({"cost":1,})",
      R"({"cost" 1})",
      R"({cost:1})",
      R"({'cost':1})",
      R"({"cost":1)",
      R"({"credits":[1]})",
      R"({"credits":[{"amount":1},]})",
      R"({"x":[1,2})",
      R"({"x":{"a":1]})",
      R"([{"cost":1}])",
      R"("cost")",
      std::string(R"({"x":)") + std::string(64, '[') + std::string(64, ']') + "}",
  };
  for (const std::string& text : others) {
    Scanner scanner;
    BillingRecord record;
    EXPECT_EQ(scanner.scan(text, record), 0u) << text;
  }
  // 63 levels below the record are plain.
  const std::string deep =
      std::string(R"({"x":)") + std::string(63, '[') + std::string(63, ']') + R"(,"cost":5})";
  Scanner scanner;
  BillingRecord record;
  EXPECT_EQ(scanner.scan(deep, record), deep.size());
  EXPECT_EQ(record[Field::cost], "5");
}

TEST(PlainRecordScanner, NeverReadsPastTheRecordsEnd) {
  // The bytes past `size` would close the string: the scanner must not use them.
  const std::string text = R"({"cost":"12345678901234567890)";
  std::string padded = text + R"("})" + std::string(64, ' ');
  BillingRecord record;
  PlainRecordScanner scanner(key_table(Decode::full));
  EXPECT_EQ(scanner.scan(padded.data(), text.size(), record), 0u);
  EXPECT_EQ(scanner.scan(padded.data(), text.size() + 2, record), text.size() + 2);
}

// Every mutation of every record: a byte replaced by one of the characters that matter to JSON,
// dropped or doubled, and every prefix. What the scanner takes, On Demand decodes to the same
// texts and the DOM parses to the same values; what the DOM parses as an object and holds no
// backslash, the scanner takes whole.
TEST(PlainRecordScanner, AgreesWithSimdjsonOnEveryMutationOfARecord) {
  const std::string replacements =
      std::string("\"\\{}[],:0-.eE+ \n\ttfnu1\x01\x7F\x80\xC3") + std::string(1, '\0');
  std::size_t taken = 0;
  std::size_t left = 0;
  auto check = [&](const std::string& text) {
    Scanner scanner;
    BillingRecord scanned;
    BillingRecord expected;
    const std::size_t length = scanner.scan(text, scanned);
    const bool valid = reference(text, expected);
    if (length != 0) {
      ++taken;
      BillingRecord prefix;
      ASSERT_TRUE(reference(text.substr(0, length), prefix)) << text;
      expect_same(scanned, prefix, text);
      std::string buffer;
      std::string malformed;
      BillingRecord decoded;
      decode_ndjson_record(text.substr(0, length), Decode::full, buffer, decoded, malformed);
      EXPECT_EQ(malformed, "") << text;
      expect_identical(scanned, decoded, text);
    } else {
      ++left;
    }
    if (valid && text.find('\\') == std::string::npos) {
      EXPECT_EQ(length, text.find_last_of('}') + 1) << text;
    }
  };
  for (const std::string& base : records()) {
    for (std::size_t at = 0; at < base.size(); ++at) {
      for (const char c : replacements) {
        std::string text = base;
        text[at] = c;
        check(text);
      }
      check(base.substr(0, at) + base.substr(at + 1));
      check(base.substr(0, at + 1) + base.substr(at));
      check(base.substr(0, at));
    }
  }
  // Both outcomes occur often: the mutations test the scanner, not only its refusals.
  EXPECT_GT(taken, 10000u);
  EXPECT_GT(left, 10000u);
}

} // namespace
} // namespace billdrop::gcp
