#include "remote/location.hpp"
#include "remote/xml_text.hpp"

#include <gtest/gtest.h>

namespace billdrop::remote {
namespace {

TEST(RemoteLocation, ParsesEachScheme) {
  const Result<RemoteLocation> s3 = parse_remote_location("s3://billing/cur/exports");
  ASSERT_TRUE(s3) << s3.error().message();
  EXPECT_EQ(s3->scheme, Scheme::s3);
  EXPECT_EQ(s3->bucket, "billing");
  EXPECT_EQ(s3->prefix, "cur/exports");
  EXPECT_EQ(s3->object_url("cur/exports/a.csv"), "s3://billing/cur/exports/a.csv");

  const Result<RemoteLocation> az = parse_remote_location("az://acct/costs/2026/");
  ASSERT_TRUE(az) << az.error().message();
  EXPECT_EQ(az->account, "acct");
  EXPECT_EQ(az->bucket, "costs");
  EXPECT_EQ(az->prefix, "2026/");

  const Result<RemoteLocation> gs = parse_remote_location("gs://bucket");
  ASSERT_TRUE(gs) << gs.error().message();
  EXPECT_EQ(gs->prefix, "");
}

TEST(RemoteLocation, RefusesWhatIsNotOne) {
  for (const char* text : {"s3://", "az://acct", "az://", "gs:///x", "http://x/y"}) {
    const Result<RemoteLocation> parsed = parse_remote_location(text);
    ASSERT_FALSE(parsed) << text;
    EXPECT_NE(parsed.error().message().find(text), std::string::npos) << parsed.error().message();
  }
  EXPECT_TRUE(looks_like_url("s3://b/k"));
  EXPECT_TRUE(looks_like_url("https://x"));
  EXPECT_FALSE(looks_like_url("data/s3:/x"));
  EXPECT_FALSE(looks_like_url("C://x"));
}

TEST(XmlText, ElementsAndEntities) {
  const std::string xml = "<R><Blobs><Blob><Name>a&amp;b &#233;</Name></Blob>"
                          "<Blob><Name>c</Name></Blob></Blobs><NextMarker /></R>";
  ASSERT_EQ(xml_elements(xml, "Blob").size(), 2u);
  EXPECT_EQ(xml_value(xml_elements(xml, "Blob")[0], "Name"), "a&b \xC3\xA9");
  EXPECT_EQ(xml_value(xml, "NextMarker"), "");
  EXPECT_EQ(xml_value("<ETag>&quot;9b2c&quot;</ETag>", "ETag"), "\"9b2c\"");
  EXPECT_EQ(parse_size("1234"), 1234u);
}

} // namespace
} // namespace billdrop::remote
