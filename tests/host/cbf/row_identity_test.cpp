#include "cbf/row_identity.hpp"

#include <gtest/gtest.h>

namespace billdrop::cbf {
namespace {

std::string key_of(const RowIdentity& identity, std::string_view json) {
  RowFieldReader reader;
  std::vector<FieldView> fields;
  const Status status = reader.read(json, fields);
  EXPECT_TRUE(status.ok()) << status.error().message();
  std::string key;
  identity.key(fields, key);
  return key;
}

TEST(RowIdentity, DefaultColumns) {
  EXPECT_EQ(RowIdentity().describe(),
            "time/usage_start, lineitem/type, lineitem/id, resource/id, resource/account, "
            "resource/service, resource/region, resource/usage_family, action/operation, "
            "action/usage_type, k8s/cluster, k8s/namespace, k8s/deployment");
  Result<RowIdentity> empty = RowIdentity::from_columns({});
  ASSERT_TRUE(empty.ok());
  EXPECT_EQ(empty->columns(), RowIdentity().columns());
}

TEST(RowIdentity, ColumnsAreCanonicalTagsSortedDeprecatedOnesMapped) {
  const std::vector<std::string> columns = {"resource/tag:team", "lineitem/id", "action/account",
                                            "resource/tag:env",  "lineitem/id", "time/usage_start"};
  Result<RowIdentity> identity = RowIdentity::from_columns(columns);
  ASSERT_TRUE(identity.ok()) << identity.error().message();
  EXPECT_EQ(identity->columns(),
            (std::vector<std::string>{"time/usage_start", "lineitem/id", "resource/account",
                                      "resource/tag:env", "resource/tag:team"}));
}

TEST(RowIdentity, UnknownColumnsAndBadTagKeysAreConfigErrors) {
  for (const std::string bad : {"cost", "resource/tag:", "resource/tag:a b", "Resource/Id"}) {
    const std::vector<std::string> columns = {bad};
    Result<RowIdentity> identity = RowIdentity::from_columns(columns);
    ASSERT_FALSE(identity.ok()) << bad;
    EXPECT_EQ(identity.error().kind(), ErrorKind::config);
    EXPECT_NE(identity.error().message().find("\"" + bad + "\""), std::string::npos);
  }
}

TEST(RowIdentity, KeysAreEqualExactlyWhenTheIdentityColumnsAre) {
  const RowIdentity identity;
  const std::string a =
      R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1","resource/id":"vm-1"})";
  // Another cost, description and tag: the same record.
  const std::string restated =
      R"({"time/usage_start":"2026-08-01T00:00:00Z","lineitem/type":"Usage",)"
      R"("lineitem/description":"fixed","cost/cost":"2","resource/id":"vm-1",)"
      R"("resource/tag:team":"core"})";
  EXPECT_EQ(key_of(identity, a), key_of(identity, restated)); // absent lineitem/type is Usage
  for (
      const std::string other :
      {R"({"time/usage_start":"2026-08-01T00:30:00Z","cost/cost":"1","resource/id":"vm-1"})",
       R"({"time/usage_start":"2026-08-01T00:00:00Z","lineitem/type":"Tax","cost/cost":"1","resource/id":"vm-1"})",
       R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1","resource/id":"vm-2"})",
       R"({"time/usage_start":"2026-08-01T00:00:00Z","cost/cost":"1","resource/id":"vm-1","resource/region":"eu"})"})
    EXPECT_NE(key_of(identity, a), key_of(identity, other)) << other;
  // Values are length-prefixed: moving text from one column to the next is another key.
  Result<RowIdentity> two =
      RowIdentity::from_columns(std::vector<std::string>{"resource/id", "resource/account"});
  ASSERT_TRUE(two.ok());
  EXPECT_NE(key_of(*two, R"({"resource/id":"ab","resource/account":"c"})"),
            key_of(*two, R"({"resource/id":"a","resource/account":"bc"})"));
  EXPECT_EQ(key_of(*two, R"({"resource/id":"ab","resource/account":"c"})"), "2:ab1:c");
}

TEST(RowFieldReader, ReadsEscapedValuesAndRefusesOtherJson) {
  RowFieldReader reader;
  std::vector<FieldView> fields;
  ASSERT_TRUE(
      reader.read(R"({"lineitem/description":"GPU \"A100\"\n","cost/cost":"1"})", fields).ok());
  ASSERT_EQ(fields.size(), 2u);
  EXPECT_EQ(fields[0].key, "lineitem/description");
  EXPECT_EQ(fields[0].value, "GPU \"A100\"\n");
  EXPECT_EQ(fields[1].value, "1");
  for (const std::string bad : {"[1]", R"({"cost/cost":1})", "{\"a\":\"b\"", "{} x"}) {
    const Status status = reader.read(bad, fields);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.error().kind(), ErrorKind::data);
  }
}

} // namespace
} // namespace billdrop::cbf
