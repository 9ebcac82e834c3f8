#include <billdrop/json_flatten.hpp>

#include <simdjson.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>

namespace billdrop {
namespace {

namespace ondemand = simdjson::ondemand;

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? — simdjson's on-demand API
// does not check a number it is not asked to convert, and we keep numbers as text.
bool is_json_number(std::string_view text) {
  std::size_t i = 0;
  auto digits = [&] {
    const std::size_t start = i;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9')
      ++i;
    return i > start;
  };
  if (i < text.size() && text[i] == '-')
    ++i;
  if (i < text.size() && text[i] == '0')
    ++i;
  else if (!digits())
    return false;
  if (i < text.size() && text[i] == '.') {
    ++i;
    if (!digits())
      return false;
  }
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    if (i < text.size() && (text[i] == '+' || text[i] == '-'))
      ++i;
    if (!digits())
      return false;
  }
  return i == text.size();
}

// raw_json_token() and an array's raw_json() run to the next structural character, spaces
// before it included: "[1] ," gives "[1] ".
std::string_view trim_right(std::string_view text) {
  while (!text.empty() &&
         (text.back() == ' ' || text.back() == '\t' || text.back() == '\r' || text.back() == '\n'))
    text.remove_suffix(1);
  return text;
}

// The flattening itself, in this file's anonymous namespace so that the compiler may inline its
// steps into the loop over fields (column_of_leaf() runs once per value of every record).
struct Flattening {
  // Fills `leaves` from one record and sets `problem`; the simdjson error, if any (DEPTH_ERROR
  // for the depth limit). A bad number is a problem without an error: see `bad_number`.
  simdjson::error_code parse(std::string_view text);
  // `depth` is the object's nesting level, 1 for the record itself.
  simdjson::error_code flatten(ondemand::object& object, std::size_t prefix_size,
                               std::size_t depth);
  std::size_t column_of_leaf();
  std::string deepest_key() const;

  ondemand::parser parser;
  std::string padded; // the record with simdjson's padding; numbers and arrays point into it
  std::vector<std::string> columns;
  std::unordered_map<std::string, std::size_t> index;
  std::vector<std::size_t> recent;   // column of each leaf position in the previous record
  std::vector<std::string> new_keys; // keys of the record being parsed not yet columns
  std::vector<JsonLeaf> leaves;
  std::size_t leaf_position = 0;
  std::string key; // the dotted key of the value being read
  std::string_view bad_number;
  JsonFlattenProblem problem = JsonFlattenProblem::none;
};

simdjson::error_code Flattening::parse(std::string_view text) {
  padded.resize(text.size() + simdjson::SIMDJSON_PADDING);
  std::memcpy(padded.data(), text.data(), text.size());
  leaves.clear();
  leaf_position = 0;
  bad_number = {};
  new_keys.clear();
  key.clear();
  ondemand::document document;
  ondemand::object object;
  simdjson::error_code error =
      parser.iterate(padded.data(), text.size(), padded.size()).get(document);
  if (!error)
    error = document.get_object().get(object);
  if (error == simdjson::INCORRECT_TYPE) {
    problem = JsonFlattenProblem::not_an_object;
    return error;
  }
  if (!error)
    error = flatten(object, 0, 1);
  // Anything but spaces after the object's closing brace ("{} {}", "{} x"): On Demand stops at
  // the brace, so ask where it stopped. JsonRecordReader never returns such a record.
  const char* after = nullptr;
  if (!error && document.current_location().get(after) != simdjson::OUT_OF_BOUNDS)
    error = simdjson::TRAILING_CONTENT;
  problem = error == simdjson::DEPTH_ERROR ? JsonFlattenProblem::too_deep
            : error || !bad_number.empty() ? JsonFlattenProblem::invalid_json
                                           : JsonFlattenProblem::none;
  return error;
}

simdjson::error_code Flattening::flatten(ondemand::object& object, std::size_t prefix_size,
                                         std::size_t depth) {
  for (auto field_result : object) {
    ondemand::field field;
    if (auto error = std::move(field_result).get(field))
      return error;
    std::string_view name;
    if (auto error = field.unescaped_key().get(name))
      return error;
    key.resize(prefix_size);
    if (prefix_size != 0)
      key += '.';
    key += name;
    ondemand::value value = field.value();
    ondemand::json_type type;
    if (auto error = value.type().get(type))
      return error;
    std::string_view text;
    switch (type) {
    case ondemand::json_type::object: {
      if (depth == JsonFlattener::max_depth)
        return simdjson::DEPTH_ERROR;
      ondemand::object child;
      if (auto error = value.get_object().get(child))
        return error;
      if (auto error = flatten(child, key.size(), depth + 1))
        return error;
      continue;
    }
    case ondemand::json_type::array: {
      ondemand::array array;
      if (auto error = value.get_array().get(array))
        return error;
      if (auto error = array.raw_json().get(text))
        return error;
      text = trim_right(text);
      break;
    }
    case ondemand::json_type::string:
      if (auto error = value.get_string().get(text))
        return error;
      break;
    case ondemand::json_type::number:
      // The text as written: never through a double. A bad number is reported after the rest of
      // the record proved to be valid JSON (a syntax error says more).
      text = trim_right(value.raw_json_token());
      if (!is_json_number(text) && bad_number.empty())
        bad_number = text;
      break;
    case ondemand::json_type::boolean: {
      bool flag = false;
      if (auto error = value.get_bool().get(flag))
        return error;
      text = flag ? "true" : "false";
      break;
    }
    case ondemand::json_type::null: {
      bool null = false;
      if (auto error = value.is_null().get(null))
        return error;
      if (!null)
        return simdjson::N_ATOM_ERROR;
      break;
    }
    }
    leaves.push_back(JsonLeaf{column_of_leaf(), text});
  }
  return simdjson::SUCCESS;
}

// The column index of `key`. Exports repeat the same keys in the same order, so the leaf at the
// same position in the previous record is checked first; the hash map is the fallback. A key not
// seen before gets the index it will have, and becomes a column only once the record proves valid
// (see JsonFlattener::flatten()).
std::size_t Flattening::column_of_leaf() {
  const std::size_t position = leaf_position++;
  if (position < recent.size() && columns[recent[position]] == key)
    return recent[position];
  const auto found = index.find(key);
  if (found == index.end()) {
    const auto fresh = std::find(new_keys.begin(), new_keys.end(), key);
    const std::size_t column = columns.size() + static_cast<std::size_t>(fresh - new_keys.begin());
    if (fresh == new_keys.end())
      new_keys.push_back(key);
    return column;
  }
  if (position < recent.size())
    recent[position] = found->second;
  else if (position == recent.size())
    recent.push_back(found->second);
  return found->second;
}

// `key` for a message: the key at which the record went too deep, its middle left out when long.
std::string Flattening::deepest_key() const {
  constexpr std::size_t kShown = 40;
  if (key.size() <= 2 * kShown)
    return key;
  return key.substr(0, kShown) + " ... " + key.substr(key.size() - kShown);
}

} // namespace

struct JsonFlattener::State : Flattening {};

JsonFlattener::JsonFlattener() : state_(std::make_unique<State>()) {}
JsonFlattener::~JsonFlattener() = default;
JsonFlattener::JsonFlattener(JsonFlattener&&) noexcept = default;
JsonFlattener& JsonFlattener::operator=(JsonFlattener&&) noexcept = default;

Status JsonFlattener::flatten(std::string_view record) {
  State& s = *state_;
  const simdjson::error_code error = s.parse(record);
  if (s.problem != JsonFlattenProblem::none)
    s.leaves.clear();
  switch (s.problem) {
  case JsonFlattenProblem::none:
    break;
  case JsonFlattenProblem::not_an_object:
    return data_error("the record is not a JSON object");
  case JsonFlattenProblem::too_deep:
    return data_error("the record nests objects more than " + std::to_string(max_depth) +
                      " levels deep (at key \"" + s.deepest_key() + "\")");
  case JsonFlattenProblem::invalid_json:
    if (error)
      return data_error(std::string("invalid JSON: ") + simdjson::error_message(error));
    return data_error("invalid JSON: " + std::string(s.bad_number) + " is not a number");
  }
  for (std::string& key : s.new_keys) {
    s.index.emplace(key, s.columns.size());
    s.columns.push_back(std::move(key));
  }
  return {};
}

JsonFlattenProblem JsonFlattener::problem() const noexcept {
  return state_->problem;
}

std::span<const JsonLeaf> JsonFlattener::leaves() const noexcept {
  return state_->leaves;
}

void JsonFlattener::values(std::vector<std::string_view>& out) const {
  out.assign(state_->columns.size(), std::string_view());
  for (const JsonLeaf& leaf : state_->leaves)
    out[leaf.column] = leaf.value;
}

const std::vector<std::string>& JsonFlattener::columns() const noexcept {
  return state_->columns;
}

std::optional<std::size_t> JsonFlattener::column(std::string_view key) const {
  const auto found = state_->index.find(std::string(key));
  if (found == state_->index.end())
    return std::nullopt;
  return found->second;
}

} // namespace billdrop
