// The SigV4 signer against AWS's published example signatures: the Signature Version 4 test
// suite (get-vanilla, get-vanilla-query-order-key-case, post-vanilla; credentials AKIDEXAMPLE,
// 2015-08-30T12:36:00Z, us-east-1, service "service") and the S3 API reference's header-auth
// examples (examplebucket, 2013-05-24, a ranged GET Object and a ListObjects query).
#include "remote/sigv4.hpp"

#include <gtest/gtest.h>

namespace billdrop::remote {
namespace {

const AwsCredentials kSuite{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", ""};
const AwsCredentials kS3Docs{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                             ""};
constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigV4Request suite_request(std::string method,
                           std::vector<std::pair<std::string, std::string>> query = {}) {
  return SigV4Request{std::move(method),
                      "example.amazonaws.com",
                      "/",
                      std::move(query),
                      {{"X-Amz-Date", "20150830T123600Z"}},
                      kEmpty};
}

TEST(SigV4, GetVanilla) {
  const SigV4Request request = suite_request("GET");
  EXPECT_EQ(sigv4_canonical_request(request), "GET\n/\n\nhost:example.amazonaws.com\n"
                                              "x-amz-date:20150830T123600Z\n\nhost;x-amz-date\n" +
                                                  std::string(kEmpty));
  EXPECT_EQ(sigv4_string_to_sign(request, "20150830T123600Z", "us-east-1", "service"),
            "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n"
            "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63");
  EXPECT_EQ(sigv4_authorization(request, kSuite, "20150830T123600Z", "us-east-1", "service"),
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            "SignedHeaders=host;x-amz-date, "
            "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4, GetVanillaQueryOrderKeyCase) {
  // ?Param2=value2&Param1=value1: the canonical query is sorted by name.
  const SigV4Request request = suite_request("GET", {{"Param2", "value2"}, {"Param1", "value1"}});
  EXPECT_EQ(sigv4_signature(request, kSuite, "20150830T123600Z", "us-east-1", "service"),
            "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4, PostVanilla) {
  EXPECT_EQ(
      sigv4_signature(suite_request("POST"), kSuite, "20150830T123600Z", "us-east-1", "service"),
      "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b");
}

TEST(SigV4, S3GetObjectWithRange) {
  const SigV4Request request{"GET",
                             "examplebucket.s3.amazonaws.com",
                             "/test.txt",
                             {},
                             {{"Range", "bytes=0-9"},
                              {"x-amz-content-sha256", kEmpty},
                              {"x-amz-date", "20130524T000000Z"}},
                             kEmpty};
  EXPECT_EQ(sigv4_string_to_sign(request, "20130524T000000Z", "us-east-1", "s3"),
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(sigv4_authorization(request, kS3Docs, "20130524T000000Z", "us-east-1", "s3"),
            "AWS4-HMAC-SHA256 "
            "Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4, S3ListObjectsQuery) {
  const SigV4Request request{"GET",
                             "examplebucket.s3.amazonaws.com",
                             "/",
                             {{"prefix", "J"}, {"max-keys", "2"}},
                             {{"x-amz-content-sha256", kEmpty}, {"x-amz-date", "20130524T000000Z"}},
                             kEmpty};
  EXPECT_EQ(sigv4_signature(request, kS3Docs, "20130524T000000Z", "us-east-1", "s3"),
            "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4, S3SubresourceWithoutValue) {
  // GET /?lifecycle: a query name with an empty value is signed as "lifecycle=".
  const SigV4Request request{"GET",
                             "examplebucket.s3.amazonaws.com",
                             "/",
                             {{"lifecycle", ""}},
                             {{"x-amz-content-sha256", kEmpty}, {"x-amz-date", "20130524T000000Z"}},
                             kEmpty};
  EXPECT_EQ(sigv4_signature(request, kS3Docs, "20130524T000000Z", "us-east-1", "s3"),
            "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SigV4, QueryValuesAreEncodedOnce) {
  EXPECT_EQ(sigv4_query_string({{"prefix", "a b/c+d"}, {"continuation-token", "1/2=="}}),
            "continuation-token=1%2F2%3D%3D&prefix=a%20b%2Fc%2Bd");
}

TEST(SigV4, AmzDateIsUtc) {
  EXPECT_EQ(amz_date(std::chrono::system_clock::time_point(std::chrono::seconds(1440938160))),
            "20150830T123600Z");
}

} // namespace
} // namespace billdrop::remote
