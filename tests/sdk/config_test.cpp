#include <billdrop/config.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace billdrop {
namespace {

// The keys of a CSV-reading plugin, in declaration order.
constexpr ConfigKey kKeys[] = {
    {"path", ConfigType::path, nullptr, true, "Export file to read"},
    {"format", ConfigType::string, "\"csv\"", false, "csv or jsonl"},
    {"skip_rows", ConfigType::integer, "0", false, "Header lines to skip"},
    {"gzip", ConfigType::boolean, "false", false, "Whether the file is gzipped"},
    {"services", ConfigType::string_list, R"(["compute","storage"])", false, "Services to keep"},
    {"columns", ConfigType::string_map, R"({"cost/cost":"{amount}"})", false, "CBF columns"},
    {"api_key", ConfigType::string, nullptr, false, "Key for the vendor API", true},
};

ConfigSchema schema() {
  return ConfigSchema::from_keys(kKeys);
}

std::string validation_error(const ConfigValues& values) {
  Result<ConfigValues> result = schema().validate("custom", values);
  if (result)
    return "(valid)";
  EXPECT_EQ(result.error().kind(), ErrorKind::config);
  return result.error().message();
}

TEST(ConfigType, NamesRoundTrip) {
  for (ConfigType type : {ConfigType::string, ConfigType::integer, ConfigType::boolean,
                          ConfigType::string_list, ConfigType::string_map, ConfigType::path})
    EXPECT_EQ(parse_config_type(to_string(type)), type);
  EXPECT_STREQ(to_string(ConfigType::string_map), "string_map");
  EXPECT_EQ(parse_config_type("float"), std::nullopt);
  EXPECT_EQ(parse_config_type("String"), std::nullopt);
}

TEST(ConfigType, TypeOfValues) {
  EXPECT_EQ(type_of(ConfigValue(std::string("x"))), ConfigType::string);
  EXPECT_EQ(type_of(ConfigValue(std::int64_t{1})), ConfigType::integer);
  EXPECT_EQ(type_of(ConfigValue(true)), ConfigType::boolean);
  EXPECT_EQ(type_of(ConfigValue(std::vector<std::string>{})), ConfigType::string_list);
  EXPECT_EQ(type_of(ConfigValue(StringMap{})), ConfigType::string_map);
}

TEST(ConfigSchema, FromKeysParsesDefaults) {
  const ConfigSchema s = schema();
  ASSERT_EQ(s.keys().size(), 7u);
  EXPECT_EQ(s.keys()[0].key, "path");
  EXPECT_EQ(s.keys()[0].type, ConfigType::path);
  EXPECT_TRUE(s.keys()[0].required);
  EXPECT_EQ(s.keys()[0].default_value, std::nullopt);
  EXPECT_EQ(s.keys()[1].default_value, ConfigValue(std::string("csv")));
  EXPECT_EQ(s.keys()[2].default_value, ConfigValue(std::int64_t{0}));
  EXPECT_EQ(s.keys()[3].default_value, ConfigValue(false));
  EXPECT_EQ(s.keys()[4].default_value, ConfigValue(std::vector<std::string>{"compute", "storage"}));
  EXPECT_EQ(s.keys()[5].default_value, ConfigValue(StringMap{{"cost/cost", "{amount}"}}));
  EXPECT_TRUE(s.keys()[6].secret);
  EXPECT_FALSE(s.keys()[5].secret);
  EXPECT_EQ(s.find("skip_rows"), &s.keys()[2]);
  EXPECT_EQ(s.find("skip"), nullptr);
}

TEST(ConfigSchema, FromKeysRejectsMalformedDefaults) {
  auto message = [](ConfigKey key) -> std::string {
    try {
      ConfigSchema::from_keys(std::span<const ConfigKey>(&key, 1));
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(accepted)";
  };
  EXPECT_EQ(message({"n", ConfigType::integer, "\"10\"", false, ""}),
            "config key 'n': default \"10\" is a string, not an integer");
  EXPECT_EQ(message({"n", ConfigType::integer, "1.5", false, ""}),
            "config key 'n': default 1.5 is a number with a fraction or exponent; only integers "
            "are supported");
  EXPECT_EQ(message({"f", ConfigType::string, "csv", false, ""})
                .rfind("config key 'f': default csv is not valid JSON: ", 0),
            0u);
  EXPECT_EQ(message({"l", ConfigType::string_list, "[\"a\",1]", false, ""}),
            "config key 'l': default [\"a\",1] is a list holding something other than strings");
  EXPECT_EQ(message({"m", ConfigType::string_map, "{\"a\":\"1\",\"a\":\"2\"}", false, ""}),
            "config key 'm': default {\"a\":\"1\",\"a\":\"2\"} has entry 'a' twice");
  EXPECT_EQ(message({nullptr, ConfigType::string, nullptr, false, ""}),
            "config key #1 has no name");
  // A path default is a string.
  EXPECT_EQ(message({"p", ConfigType::path, "\"data.csv\"", false, ""}), "(accepted)");

  const ConfigKey twice[] = {{"a", ConfigType::string, nullptr, false, ""},
                             {"a", ConfigType::integer, nullptr, false, ""}};
  EXPECT_THROW(ConfigSchema::from_keys(twice), std::invalid_argument);
}

// Designated initialisers with plain-text defaults mean what the JSON defaults meant.
TEST(ConfigSchema, PlainTextDefaultsFromDesignatedInitialisers) {
  static constexpr ConfigKey keys[] = {
      {.key = "account",
       .type = ConfigType::string,
       .description = "resource/account value",
       .default_value = "example-account"},
      {.key = "path", .type = ConfigType::path, .required = true, .description = "Export file"},
      {.key = "data", .type = ConfigType::path, .default_value = "data/fees.csv"},
      {.key = "rows", .type = ConfigType::integer, .default_value = "-12"},
      {.key = "strict", .type = ConfigType::boolean, .default_value = "true"},
      {.key = "token", .type = ConfigType::string, .secret = true},
      {.key = "kinds", .type = ConfigType::string_list, .default_json = R"(["a","b"])"},
  };
  const ConfigSchema s = ConfigSchema::from_keys(keys);
  ASSERT_EQ(s.keys().size(), 7u);
  EXPECT_EQ(s.keys()[0].default_value, ConfigValue(std::string("example-account")));
  EXPECT_EQ(s.keys()[0].description, "resource/account value");
  EXPECT_FALSE(s.keys()[0].required);
  EXPECT_TRUE(s.keys()[1].required);
  EXPECT_EQ(s.keys()[1].default_value, std::nullopt);
  EXPECT_EQ(s.keys()[2].default_value, ConfigValue(std::string("data/fees.csv")));
  EXPECT_EQ(s.keys()[3].default_value, ConfigValue(std::int64_t{-12}));
  EXPECT_EQ(s.keys()[4].default_value, ConfigValue(true));
  EXPECT_TRUE(s.keys()[5].secret);
  EXPECT_EQ(s.keys()[6].default_value, ConfigValue(std::vector<std::string>{"a", "b"}));
  // Read back through the schema: the host fills the default in, as the plugin will see it.
  Result<ConfigValues> values = s.validate("acme", {{"path", std::string("x.csv")}});
  ASSERT_TRUE(values.ok()) << values.error().message();
  EXPECT_EQ(values->at("account"), ConfigValue(std::string("example-account")));
  EXPECT_EQ(values->at("rows"), ConfigValue(std::int64_t{-12}));
  // The same schema as the JSON-default form gives.
  static constexpr ConfigKey json_keys[] = {
      {"account", ConfigType::string, "\"example-account\"", false, "resource/account value"}};
  EXPECT_EQ(ConfigSchema::from_keys(std::span<const ConfigKey>(keys, 1)).to_json(),
            ConfigSchema::from_keys(json_keys).to_json());
}

TEST(ConfigSchema, PlainTextDefaultsThatDoNotFitTheirType) {
  auto message = [](ConfigKey key) -> std::string {
    try {
      ConfigSchema::from_keys(std::span<const ConfigKey>(&key, 1));
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "(accepted)";
  };
  EXPECT_EQ(message({.key = "n", .type = ConfigType::integer, .default_value = "ten"}),
            "config key 'n': default_value 'ten' is not an integer");
  EXPECT_EQ(message({.key = "n", .type = ConfigType::integer, .default_value = "10 "}),
            "config key 'n': default_value '10 ' is not an integer");
  EXPECT_EQ(message({.key = "b", .type = ConfigType::boolean, .default_value = "yes"}),
            "config key 'b': default_value 'yes' is not a boolean (true or false)");
  EXPECT_EQ(message({.key = "l", .type = ConfigType::string_list, .default_value = "a,b"}),
            "config key 'l': default_value 'a,b' cannot be plain text for a string_list: give "
            "the default as JSON in default_json");
  EXPECT_EQ(
      message(
          {.key = "s", .type = ConfigType::string, .default_json = "\"x\"", .default_value = "x"}),
      "config key 's' has both default_json and default_value: give one");
}

TEST(ConfigSchema, ToJsonIsExact) {
  const ConfigKey keys[] = {{"path", ConfigType::path, nullptr, true, "File"},
                            {"n", ConfigType::integer, "-5", false, "Count", true}};
  EXPECT_EQ(ConfigSchema::from_keys(keys).to_json(),
            R"({"keys":[)"
            R"({"key":"path","type":"path","required":true,"default":null,"secret":false,)"
            R"("description":"File"},)"
            R"({"key":"n","type":"integer","required":false,"default":-5,"secret":true,)"
            R"("description":"Count"}]})");
}

TEST(ConfigSchema, JsonRoundTripKeepsEveryField) {
  const ConfigSchema original = schema();
  Result<ConfigSchema> back = ConfigSchema::from_json(original.to_json());
  ASSERT_TRUE(back.ok()) << back.error().message();
  ASSERT_EQ(back->keys().size(), original.keys().size());
  for (std::size_t i = 0; i < original.keys().size(); ++i) {
    const ConfigKeySpec& a = original.keys()[i];
    const ConfigKeySpec& b = back->keys()[i];
    EXPECT_EQ(a.key, b.key);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.default_value, b.default_value);
    EXPECT_EQ(a.required, b.required);
    EXPECT_EQ(a.description, b.description);
    EXPECT_EQ(a.secret, b.secret);
  }
  EXPECT_EQ(back->to_json(), original.to_json());
}

TEST(ConfigSchema, ToJsonEscapesText) {
  const std::string tricky = "say \"hi\" \\ to\nC:\\tmp\t\x01 caf\xc3\xa9";
  const ConfigSchema original({ConfigKeySpec{
      "k\"ey", ConfigType::string, ConfigValue(std::string(tricky)), false, tricky, false}});
  const std::string json = original.to_json();
  EXPECT_NE(json.find(R"("k\"ey")"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("say \"hi\" \\ to\nC:\\tmp\t\u0001 café")"), std::string::npos) << json;
  Result<ConfigSchema> back = ConfigSchema::from_json(json);
  ASSERT_TRUE(back.ok()) << back.error().message();
  EXPECT_EQ(back->keys()[0].key, "k\"ey");
  EXPECT_EQ(back->keys()[0].description, tricky);
  EXPECT_EQ(back->keys()[0].default_value, ConfigValue(tricky));
}

TEST(ConfigSchema, FromJsonAcceptsMissingOptionalFields) {
  Result<ConfigSchema> s = ConfigSchema::from_json(R"({"keys":[{"key":"a","type":"boolean"}]})");
  ASSERT_TRUE(s.ok()) << s.error().message();
  EXPECT_EQ(s->keys()[0].type, ConfigType::boolean);
  EXPECT_FALSE(s->keys()[0].required);
  EXPECT_FALSE(s->keys()[0].secret);
  EXPECT_EQ(s->keys()[0].description, "");
  EXPECT_EQ(s->keys()[0].default_value, std::nullopt);
  EXPECT_TRUE(ConfigSchema::from_json(R"({"keys":[]})").ok());
}

TEST(ConfigSchema, FromJsonErrorsSayWhatIsWrong) {
  auto error = [](std::string_view json) {
    Result<ConfigSchema> s = ConfigSchema::from_json(json);
    return s ? std::string("(accepted)") : s.error().message();
  };
  EXPECT_EQ(error("{").rfind("the config schema is not valid JSON: ", 0), 0u);
  EXPECT_EQ(error("[]"), "the config schema is not a JSON object");
  EXPECT_EQ(error("{}"), "the config schema has no \"keys\" array");
  EXPECT_EQ(error(R"({"error":"invalid config_keys: boom"})"), "invalid config_keys: boom");
  EXPECT_EQ(error(R"({"keys":[1]})"), "config schema key #1 is not a JSON object");
  EXPECT_EQ(error(R"({"keys":[{"type":"string"}]})"), "config schema key #1 has no \"key\" string");
  EXPECT_EQ(error(R"({"keys":[{"key":"a","type":"float"}]})"),
            "config schema key 'a' has unknown type 'float' (known types: string, integer, "
            "boolean, string_list, string_map, path)");
  EXPECT_EQ(error(R"({"keys":[{"key":"a","type":"integer","default":"7"}]})"),
            "config schema key 'a': the default is a string, not an integer");
  EXPECT_EQ(error(R"({"keys":[{"key":"a","type":"string","required":"yes"}]})"),
            "config schema key 'a': \"required\" must be true or false");
  EXPECT_EQ(error(R"({"keys":[{"key":"a","type":"string"},{"key":"a","type":"string"}]})"),
            "config schema key 'a' is declared twice");
}

TEST(ConfigValidate, DefaultsAreFilledIn) {
  Result<ConfigValues> values = schema().validate("custom", {{"path", std::string("a.csv")}});
  ASSERT_TRUE(values.ok()) << values.error().message();
  const ConfigValues expected = {
      {"path", std::string("a.csv")},
      {"format", std::string("csv")},
      {"skip_rows", std::int64_t{0}},
      {"gzip", false},
      {"services", std::vector<std::string>{"compute", "storage"}},
      {"columns", StringMap{{"cost/cost", "{amount}"}}},
  };
  EXPECT_EQ(*values, expected); // api_key has neither a value nor a default: absent
}

TEST(ConfigValidate, GivenValuesOverrideDefaults) {
  const ConfigValues given = {
      {"path", std::string("b.csv")},
      {"skip_rows", std::int64_t{2}},
      {"gzip", true},
      {"services", std::vector<std::string>{}},
      {"columns", StringMap{{"b", "2"}, {"a", "1"}}},
      {"api_key", std::string("s3cret")},
  };
  Result<ConfigValues> values = schema().validate("custom", given);
  ASSERT_TRUE(values.ok()) << values.error().message();
  ConfigValues expected = given;
  expected["format"] = std::string("csv");
  EXPECT_EQ(*values, expected);
}

TEST(ConfigValidate, UnknownKeyListsTheKnownKeys) {
  EXPECT_EQ(validation_error({{"path", std::string("a.csv")}, {"pth", std::string("b.csv")}}),
            "plugin 'custom': unknown config key 'pth' (known keys: path, format, skip_rows, "
            "gzip, services, columns, api_key)");
  EXPECT_EQ(ConfigSchema().validate("idle", {{"x", true}}).error().message(),
            "plugin 'idle': unknown config key 'x' (it takes no configuration)");
}

TEST(ConfigValidate, WrongTypes) {
  EXPECT_EQ(validation_error({{"path", std::string("a")}, {"skip_rows", std::string("10")}}),
            "plugin 'custom': config key 'skip_rows' must be an integer, got a string");
  EXPECT_EQ(validation_error({{"path", std::int64_t{3}}}),
            "plugin 'custom': config key 'path' must be a path (a string), got an integer");
  EXPECT_EQ(validation_error({{"path", std::string("a")}, {"gzip", std::string("true")}}),
            "plugin 'custom': config key 'gzip' must be a boolean (true or false), got a string");
  EXPECT_EQ(validation_error({{"path", std::string("a")}, {"services", std::string("compute")}}),
            "plugin 'custom': config key 'services' must be a list of strings, got a string");
  EXPECT_EQ(
      validation_error({{"path", std::string("a")}, {"columns", std::vector<std::string>{"a"}}}),
      "plugin 'custom': config key 'columns' must be a table of strings, got a list of strings");
  EXPECT_EQ(validation_error({{"path", std::string("a")}, {"format", StringMap{}}}),
            "plugin 'custom': config key 'format' must be a string, got a table of strings");
}

TEST(ConfigValidate, MissingRequiredKey) {
  EXPECT_EQ(validation_error({}), "plugin 'custom': missing required config key 'path'");
}

TEST(ConfigValidate, EveryProblemAtOnceOnePerLine) {
  EXPECT_EQ(validation_error({{"pth", std::string("a.csv")},
                              {"skip_rows", std::string("1")},
                              {"zip", true},
                              {"gzip", std::int64_t{1}}}),
            "plugin 'custom': unknown config key 'pth' (known keys: path, format, skip_rows, "
            "gzip, services, columns, api_key)\n"
            "plugin 'custom': unknown config key 'zip' (known keys: path, format, skip_rows, "
            "gzip, services, columns, api_key)\n"
            "plugin 'custom': missing required config key 'path'\n"
            "plugin 'custom': config key 'skip_rows' must be an integer, got a string\n"
            "plugin 'custom': config key 'gzip' must be a boolean (true or false), got an "
            "integer");
}

TEST(ConfigValidate, SecretValuesNeverAppearInMessages) {
  const std::string message =
      validation_error({{"api_key", std::int64_t{987654321}}, {"pth", std::string("hunter2")}});
  EXPECT_EQ(message.find("987654321"), std::string::npos) << message;
  EXPECT_EQ(message.find("hunter2"), std::string::npos) << message;
}

TEST(ConfigJson, ValuesAsJson) {
  EXPECT_EQ(config_value_to_json(std::string("a\"b")), R"("a\"b")");
  EXPECT_EQ(config_value_to_json(std::int64_t{-9223372036854775807 - 1}), "-9223372036854775808");
  EXPECT_EQ(config_value_to_json(true), "true");
  EXPECT_EQ(config_value_to_json(std::vector<std::string>{}), "[]");
  EXPECT_EQ(config_value_to_json(std::vector<std::string>{"x", "y"}), R"(["x","y"])");
  EXPECT_EQ(config_value_to_json(StringMap{{"z", "1"}, {"a", "2"}}), R"({"z":"1","a":"2"})");
  EXPECT_EQ(config_to_json({}), "{}");
  EXPECT_EQ(config_to_json({{"b", false}, {"a", std::int64_t{7}}}), R"({"a":7,"b":false})");
}

TEST(Config, ParseReadsWhatConfigToJsonWrites) {
  const ConfigValues values = {
      {"path", std::string("/data/a b.csv")},
      {"skip_rows", std::int64_t{9007199254740993}}, // not exact as a double
      {"gzip", true},
      {"services", std::vector<std::string>{"compute", "ünïcode", "line\nbreak"}},
      {"columns", StringMap{{"z", "last"}, {"a", "first"}}},
  };
  Result<Config> config = Config::parse(config_to_json(values));
  ASSERT_TRUE(config.ok()) << config.error().message();
  EXPECT_EQ(config->values(), values);
  EXPECT_TRUE(config->has("gzip"));
  EXPECT_FALSE(config->has("format"));
  EXPECT_EQ(config->get_string("path"), "/data/a b.csv");
  EXPECT_EQ(config->get_int("skip_rows"), 9007199254740993);
  EXPECT_TRUE(config->get_bool("gzip"));
  EXPECT_EQ(config->get_list("services")[2], "line\nbreak");
  EXPECT_EQ(config->get_map("columns"), (StringMap{{"z", "last"}, {"a", "first"}}));
  EXPECT_EQ(config->get_string_or("format", "csv"), "csv");
  EXPECT_EQ(config->get_string_or("path", "x"), "/data/a b.csv");
}

TEST(Config, AccessorsThrowConfigErrors) {
  const Config config({{"n", std::int64_t{1}}, {"s", std::string("x")}});
  auto message = [](auto&& access) -> std::string {
    try {
      access();
    } catch (const ErrorException& e) {
      EXPECT_EQ(e.error().kind(), ErrorKind::config);
      return e.error().message();
    }
    return "(no exception)";
  };
  EXPECT_EQ(message([&] { (void)config.get_string("n"); }),
            "config key 'n' is an integer, not a string");
  EXPECT_EQ(message([&] { (void)config.get_int("s"); }),
            "config key 's' is a string, not an integer");
  EXPECT_EQ(message([&] { (void)config.get_bool("missing"); }), "config key 'missing' is not set");
  EXPECT_EQ(message([&] { (void)config.get_list("s"); }),
            "config key 's' is a string, not a list of strings");
  EXPECT_EQ(message([&] { (void)config.get_map("n"); }),
            "config key 'n' is an integer, not a table of strings");
  EXPECT_EQ(message([&] { (void)config.get_string_or("n", "x"); }),
            "config key 'n' is an integer, not a string");
}

TEST(Config, ParseErrors) {
  auto error = [](std::string_view json) {
    Result<Config> config = Config::parse(json);
    return config ? std::string("(accepted)") : config.error().message();
  };
  EXPECT_EQ(error("{\"a\":").rfind("the plugin configuration is not valid JSON: ", 0), 0u);
  EXPECT_EQ(error("[1]"), "the plugin configuration is not a JSON object");
  EXPECT_EQ(error(R"({"a":null})"), "config key 'a' is null");
  EXPECT_EQ(error(R"({"a":2.5})"),
            "config key 'a' is a number with a fraction or exponent; only integers are supported");
  EXPECT_EQ(error(R"({"a":18446744073709551615})"),
            "config key 'a' is an integer too large for 64 bits");
  EXPECT_EQ(error(R"({"a":["x",{}]})"),
            "config key 'a' is a list holding something other than strings");
  EXPECT_EQ(error(R"({"a":{"k":1}})"), "config key 'a' has entry 'k' that is not a string");
  EXPECT_EQ(error(R"({"a":1,"a":2})"), "config key 'a' appears twice");
  EXPECT_EQ(error("{}"), "(accepted)");
}

} // namespace
} // namespace billdrop
