// The S3 store and the mirror against s3rver on loopback, behind a proxy that checks every
// request's SigV4 signature with its own code (s3rver does not): listing with continuation,
// ranged resumes, the ETag cache, a changed object, and each way of finding credentials.
#include "remote/crypto.hpp"
#include "remote/mirror.hpp"
#include "remote/sigv4.hpp"
#include "support/node_server.hpp"
#include "support/s3_signing_proxy.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>

namespace billdrop::remote {
namespace {

namespace fs = std::filesystem;
using test::read_text;
using test::write_text;

constexpr const char* kEmpty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

Environment environment_of(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    const auto found = values.find(name);
    if (found == values.end() || found->second.empty())
      return std::nullopt;
    return found->second;
  };
}

// Uploads straight to s3rver (not through the proxy), signed as S3RVER.
void s3_put(std::uint16_t port, const std::string& bucket, const std::string& key,
            const std::string& body) {
  const std::string date = amz_date(std::chrono::system_clock::now());
  const std::string host = "127.0.0.1:" + std::to_string(port);
  const std::string path = "/" + bucket + "/" + uri_encode(key, true);
  const std::string payload = hex(sha256(body));
  const SigV4Request request{
      "PUT", host, path, {}, {{"x-amz-date", date}, {"x-amz-content-sha256", payload}}, payload};
  httplib::Client client("127.0.0.1", port);
  const httplib::Result result =
      client.Put(path,
                 {{"x-amz-date", date},
                  {"x-amz-content-sha256", payload},
                  {"Authorization", sigv4_authorization(request, {"S3RVER", "S3RVER", ""}, date,
                                                        "us-east-1", "s3")}},
                 body, "application/octet-stream");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
}

std::string numbered_text(std::size_t bytes, char seed) {
  std::string text;
  for (std::size_t i = 0; text.size() < bytes; ++i)
    text += std::string(1, seed) + std::to_string(i) + ",";
  text.resize(bytes);
  return text;
}

class S3StoreTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    BILLDROP_NEED_NODE_SERVER("s3rver");
    s3rver_ = test::start_s3rver(dir_, {"billing"});
    proxy_ = std::make_unique<test::S3SigningProxy>(s3rver_->port(), "S3RVER");
    settings_.s3_endpoint = "http://127.0.0.1:" + std::to_string(proxy_->port());
    settings_.s3_region = "us-east-1";
  }
  void TearDown() override {
    if (proxy_ && !expect_bad_signatures_) {
      EXPECT_TRUE(proxy_->bad_signatures().empty())
          << "a request whose signature does not hold: " << proxy_->bad_signatures().front();
    }
    proxy_.reset();
    s3rver_.reset();
    TempFolderTest::TearDown();
  }

  Result<MirrorLease>
  mirror(const std::string& url,
         const Environment& environment = environment_of({{"AWS_ACCESS_KEY_ID", "S3RVER"},
                                                          {"AWS_SECRET_ACCESS_KEY", "S3RVER"}})) {
    RemoteMirror mirror(dir_ / "cache", settings_, environment);
    return mirror.mirror(*parse_remote_location(url), "conn");
  }

  std::unique_ptr<test::NodeServer> s3rver_;
  std::unique_ptr<test::S3SigningProxy> proxy_;
  RemoteSettings settings_;
  bool expect_bad_signatures_ = false; // a test signing with a wrong secret on purpose
};

TEST_F(S3StoreTest, ListsEveryPageAndMirrorsThePrefixAsAFolder) {
  settings_.list_page_size = 2; // 5 objects: three pages, two continuation tokens
  std::map<std::string, std::string> objects;
  for (int i = 0; i < 5; ++i)
    objects["cur/exports/2026-0" + std::to_string(i + 1) + "/part.csv"] =
        numbered_text(1000 + static_cast<std::size_t>(i), 'a');
  for (const auto& [key, body] : objects)
    s3_put(s3rver_->port(), "billing", key, body);
  s3_put(s3rver_->port(), "billing", "cur/exports-old/x.csv", "not under the prefix");

  const Result<MirrorLease> lease = mirror("s3://billing/cur/exports");
  ASSERT_TRUE(lease) << lease.error().message();
  EXPECT_EQ(lease->stats.objects, 5u);
  EXPECT_EQ(lease->stats.fetched_objects, 5u);
  for (const auto& [key, body] : objects)
    EXPECT_EQ(read_text(lease->local_path / key.substr(12)), body) << key;
  EXPECT_FALSE(fs::exists(lease->local_path / "../exports-old"));
  std::size_t listings = 0, continued = 0;
  for (const auto& seen : proxy_->seen()) {
    listings += seen.listing ? 1 : 0;
    continued += seen.target.find("continuation-token=") != std::string::npos ? 1 : 0;
  }
  EXPECT_EQ(listings, 3u);
  EXPECT_EQ(continued, 2u);
  EXPECT_GT(proxy_->checked(), 7u);
}

TEST_F(S3StoreTest, ASecondRunDownloadsNothingAndAChangedObjectIsFetchedAgain) {
  s3_put(s3rver_->port(), "billing", "exp/a.csv", numbered_text(5000, 'a'));
  s3_put(s3rver_->port(), "billing", "exp/b.csv", numbered_text(7000, 'b'));
  {
    const Result<MirrorLease> first = mirror("s3://billing/exp/");
    ASSERT_TRUE(first) << first.error().message();
    EXPECT_EQ(first->stats.fetched_bytes, 12000u);
  }
  EXPECT_EQ(proxy_->object_gets(), 2u);
  {
    const Result<MirrorLease> second = mirror("s3://billing/exp/");
    ASSERT_TRUE(second) << second.error().message();
    EXPECT_EQ(second->stats.cached_objects, 2u);
    EXPECT_EQ(second->stats.fetched_objects, 0u);
    EXPECT_EQ(second->stats.fetched_bytes, 0u);
  }
  EXPECT_EQ(proxy_->object_gets(), 2u); // nothing downloaded: the ETags were the same

  // b changes (a new ETag), c appears, a goes: only b and c are fetched, a leaves the mirror.
  s3_put(s3rver_->port(), "billing", "exp/b.csv", numbered_text(6000, 'B'));
  s3_put(s3rver_->port(), "billing", "exp/c.csv", "c");
  httplib::Client direct("127.0.0.1", s3rver_->port());
  const std::string date = amz_date(std::chrono::system_clock::now());
  const std::string host = "127.0.0.1:" + std::to_string(s3rver_->port());
  const SigV4Request remove{"DELETE",
                            host,
                            "/billing/exp/a.csv",
                            {},
                            {{"x-amz-date", date}, {"x-amz-content-sha256", kEmpty}},
                            kEmpty};
  ASSERT_TRUE(direct.Delete("/billing/exp/a.csv",
                            {{"x-amz-date", date},
                             {"x-amz-content-sha256", kEmpty},
                             {"Authorization", sigv4_authorization(remove, {"S3RVER", "S3RVER", ""},
                                                                   date, "us-east-1", "s3")}}));
  const Result<MirrorLease> third = mirror("s3://billing/exp/");
  ASSERT_TRUE(third) << third.error().message();
  EXPECT_EQ(third->stats.fetched_objects, 2u);
  EXPECT_EQ(third->stats.removed_objects, 1u);
  EXPECT_EQ(read_text(third->local_path / "b.csv"), numbered_text(6000, 'B'));
  EXPECT_EQ(read_text(third->local_path / "c.csv"), "c");
  EXPECT_FALSE(fs::exists(third->local_path / "a.csv"));
}

TEST_F(S3StoreTest, ACutDownloadResumesWithARangeRequest) {
  const std::string body = numbered_text(300'000, 'r');
  s3_put(s3rver_->port(), "billing", "big/cur.csv", body);
  proxy_->cut_object_gets(1, 100'000);
  const Result<MirrorLease> lease = mirror("s3://billing/big/cur.csv");
  ASSERT_TRUE(lease) << lease.error().message();
  EXPECT_EQ(lease->local_path.filename(), "cur.csv"); // one object: the file itself
  EXPECT_EQ(read_text(lease->local_path), body);
  EXPECT_EQ(lease->stats.resumed_requests, 1u);
  EXPECT_EQ(lease->stats.fetched_bytes, body.size()); // no byte fetched twice
  std::vector<std::string> ranges;
  for (const auto& seen : proxy_->seen())
    if (seen.method == "GET" && !seen.listing)
      ranges.push_back(seen.range);
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "");
  EXPECT_EQ(ranges[1], "bytes=100000-");
}

TEST_F(S3StoreTest, ADownloadBrokenInOneRunResumesInTheNext) {
  const std::string body = numbered_text(400'000, 'n');
  s3_put(s3rver_->port(), "billing", "n/cur.csv", body);
  proxy_->cut_object_gets(5, 50'000); // each of the run's five tries gets 50,000 bytes
  const Result<MirrorLease> broken = mirror("s3://billing/n/");
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message().find("s3://billing/n/cur.csv"), std::string::npos)
      << broken.error().message();
  EXPECT_TRUE(broken.error().retryable());
  const Result<MirrorLease> resumed = mirror("s3://billing/n/");
  ASSERT_TRUE(resumed) << resumed.error().message();
  EXPECT_EQ(read_text(resumed->local_path / "cur.csv"), body);
  EXPECT_EQ(resumed->stats.resumed_requests, 1u);
  EXPECT_EQ(resumed->stats.fetched_bytes, 150'000u); // what the first run had not got
  EXPECT_EQ(proxy_->seen().back().range, "bytes=250000-");
}

TEST_F(S3StoreTest, AnObjectThatChangesWhileBeingReadFailsWithAMessage) {
  s3_put(s3rver_->port(), "billing", "c/one.csv", numbered_text(4000, 'o'));
  proxy_->before_next_object_get(
      [this] { s3_put(s3rver_->port(), "billing", "c/one.csv", numbered_text(4000, 'X')); });
  const Result<MirrorLease> lease = mirror("s3://billing/c/");
  ASSERT_FALSE(lease);
  EXPECT_NE(lease.error().message().find("s3://billing/c/one.csv changed while it was being read"),
            std::string::npos)
      << lease.error().message();
  EXPECT_FALSE(lease.error().retryable());
  // Nothing half-read is left for a plugin: neither the object nor a partial file of it.
  std::size_t files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "cache"))
    files += entry.is_regular_file() && entry.path().filename() == "one.csv" ? 1 : 0;
  EXPECT_EQ(files, 0u);
  // Run again: the new version is read whole.
  const Result<MirrorLease> again = mirror("s3://billing/c/");
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(read_text(again->local_path / "one.csv"), numbered_text(4000, 'X'));
}

TEST_F(S3StoreTest, CredentialsFromASharedFileProfile) {
  s3_put(s3rver_->port(), "billing", "p/a.csv", "a");
  write_text(dir_ / "credentials", "[default]\naws_access_key_id = WRONG\naws_secret_access_key "
                                   "= WRONG\n\n[billing]\naws_access_key_id = S3RVER\n"
                                   "aws_secret_access_key = S3RVER\n");
  const Result<MirrorLease> lease =
      mirror("s3://billing/p/",
             environment_of({{"AWS_PROFILE", "billing"},
                             {"AWS_SHARED_CREDENTIALS_FILE", (dir_ / "credentials").string()}}));
  ASSERT_TRUE(lease) << lease.error().message();
  EXPECT_EQ(read_text(lease->local_path / "a.csv"), "a");

  const Result<MirrorLease> missing =
      mirror("s3://billing/p/",
             environment_of({{"AWS_PROFILE", "nope"},
                             {"AWS_SHARED_CREDENTIALS_FILE", (dir_ / "credentials").string()}}));
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message().find("AWS profile 'nope' is not in " +
                                           (dir_ / "credentials").string()),
            std::string::npos)
      << missing.error().message();
}

TEST_F(S3StoreTest, CredentialsFromAWebIdentityTokenThroughSts) {
  s3_put(s3rver_->port(), "billing", "w/a.csv", "web");
  write_text(dir_ / "token", "eyJ.web-identity-token.sig\n");
  // A loopback STS: answers AssumeRoleWithWebIdentity for the expected token and role only.
  httplib::Server sts;
  std::string seen_body;
  sts.Post("/", [&](const httplib::Request& request, httplib::Response& response) {
    seen_body = request.body;
    const std::string& form = request.body; // application/x-www-form-urlencoded
    if (form.find("Action=AssumeRoleWithWebIdentity") == std::string::npos ||
        form.find("WebIdentityToken=eyJ.web-identity-token.sig") == std::string::npos ||
        form.find("RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fbilling") ==
            std::string::npos) {
      response.status = 403;
      return;
    }
    response.set_content(
        "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
        "<AccessKeyId>S3RVER</AccessKeyId><SecretAccessKey>S3RVER</SecretAccessKey>"
        "<SessionToken>session-token</SessionToken></Credentials>"
        "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>",
        "text/xml");
  });
  const int sts_port = sts.bind_to_any_port("127.0.0.1");
  std::thread sts_thread([&] { sts.listen_after_bind(); });
  while (!sts.is_running())
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  const Result<MirrorLease> lease = mirror(
      "s3://billing/w/",
      environment_of({{"AWS_WEB_IDENTITY_TOKEN_FILE", (dir_ / "token").string()},
                      {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/billing"},
                      {"AWS_ENDPOINT_URL_STS", "http://127.0.0.1:" + std::to_string(sts_port)},
                      {"HOME", dir_.string()}}));
  sts.stop();
  sts_thread.join();
  ASSERT_TRUE(lease) << lease.error().message();
  EXPECT_EQ(read_text(lease->local_path / "a.csv"), "web");
  EXPECT_NE(seen_body.find("Action=AssumeRoleWithWebIdentity"), std::string::npos);
  for (const auto& seen : proxy_->seen())
    EXPECT_TRUE(seen.security_token) << seen.target; // the session token went with each request
}

TEST_F(S3StoreTest, RefusedCredentialsAreAnErrorThatNeverShowsThem) {
  s3_put(s3rver_->port(), "billing", "r/a.csv", "a");
  const Result<MirrorLease> none =
      mirror("s3://billing/r/", environment_of({{"HOME", "/nonexistent"}}));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("no AWS credentials"), std::string::npos)
      << none.error().message();

  expect_bad_signatures_ = true; // the proxy refuses them, as S3 would (403)
  const Result<MirrorLease> wrong =
      mirror("s3://billing/r/", environment_of({{"AWS_ACCESS_KEY_ID", "AKIAWRONGKEYID"},
                                                {"AWS_SECRET_ACCESS_KEY", "very-secret-value"}}));
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message().find("listing s3://billing/r/"), std::string::npos)
      << wrong.error().message();
  EXPECT_NE(wrong.error().message().find("403"), std::string::npos) << wrong.error().message();
  EXPECT_EQ(wrong.error().message().find("very-secret-value"), std::string::npos);
  EXPECT_FALSE(wrong.error().retryable());
}

TEST_F(S3StoreTest, ALocationLargerThanTheCacheIsRefusedBeforeAnyDownload) {
  s3_put(s3rver_->port(), "billing", "l/a.csv", numbered_text(3000, 'a'));
  settings_.cache_max_bytes = 1000;
  const Result<MirrorLease> lease = mirror("s3://billing/l/");
  ASSERT_FALSE(lease);
  EXPECT_NE(lease.error().message().find("more than the remote cache may keep"), std::string::npos)
      << lease.error().message();
  EXPECT_EQ(proxy_->object_gets(), 0u);
}

TEST_F(S3StoreTest, OldMirrorsAreEvictedToStayWithinTheBound) {
  s3_put(s3rver_->port(), "billing", "e1/a.csv", numbered_text(3000, 'a'));
  s3_put(s3rver_->port(), "billing", "e2/b.csv", numbered_text(3000, 'b'));
  settings_.cache_max_bytes = 5000;
  fs::path first_dir;
  {
    const Result<MirrorLease> first = mirror("s3://billing/e1/");
    ASSERT_TRUE(first) << first.error().message();
    first_dir = first->local_path.parent_path();
  }
  const Result<MirrorLease> second = mirror("s3://billing/e2/");
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_FALSE(fs::exists(first_dir)); // 6000 bytes would be over the 5000 bound
  EXPECT_EQ(read_text(second->local_path / "b.csv"), numbered_text(3000, 'b'));
}

TEST_F(S3StoreTest, AMirrorStillDownloadingCountsItsWholeSizeWhenEvicting) {
  s3_put(s3rver_->port(), "billing", "f1/a.csv", numbered_text(3000, 'a'));
  s3_put(s3rver_->port(), "billing", "f2/b.csv", numbered_text(3000, 'b'));
  settings_.cache_max_bytes = 5000;
  fs::path first_dir;
  {
    const Result<MirrorLease> first = mirror("s3://billing/f1/");
    ASSERT_TRUE(first) << first.error().message();
    first_dir = first->local_path.parent_path();
  }
  // Read while it downloads: its 3000 bytes are counted before they are on disk.
  RemoteMirror follow(
      dir_ / "cache", settings_,
      environment_of({{"AWS_ACCESS_KEY_ID", "S3RVER"}, {"AWS_SECRET_ACCESS_KEY", "S3RVER"}}));
  const Result<MirrorLease> second =
      follow.mirror(*parse_remote_location("s3://billing/f2/"), "conn", MirrorMode::follow);
  ASSERT_TRUE(second) << second.error().message();
  EXPECT_FALSE(fs::exists(first_dir));
  EXPECT_TRUE(second->wait().ok());
  EXPECT_EQ(read_text(second->local_path / "b.csv"), numbered_text(3000, 'b'));
}

} // namespace
} // namespace billdrop::remote
