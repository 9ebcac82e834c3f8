// The GCS store against a loopback JSON-API server written here: it mints an access token only
// for a JWT whose RS256 signature holds under the test key's public half (and whose claims name
// the key's account, the token endpoint and a storage scope), pages its listings, serves ranged
// media downloads and answers 412 to a generation that is no longer the object's.
#include "remote/crypto.hpp"
#include "remote/mirror.hpp"
#include "support/convert_run.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <simdjson.h>

#include <map>
#include <mutex>

namespace billdrop::remote {
namespace {

using test::read_text;
using test::write_text;

std::string base64url_decode(std::string text) {
  for (char& c : text)
    c = c == '-' ? '+' : c == '_' ? '/' : c;
  while (text.size() % 4 != 0)
    text += '=';
  return base64_decode(text);
}

// A loopback GCS: one bucket, objects with generations, a token endpoint.
class FakeGcs {
public:
  explicit FakeGcs(EVP_PKEY* public_key) : key_(public_key) {
    server_.Post("/token", [this](const httplib::Request& request, httplib::Response& response) {
      ++token_requests_;
      const std::string problem = check_jwt(request.get_param_value("assertion"));
      if (request.get_param_value("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer" ||
          !problem.empty()) {
        jwt_problems_.push_back(problem);
        response.status = 400;
        response.set_content(R"({"error":"invalid_grant"})", "application/json");
        return;
      }
      response.set_content(R"({"access_token":"token-1","expires_in":3600,"token_type":"Bearer"})",
                           "application/json");
    });
    server_.Get(R"(/storage/v1/b/([^/]+)/o)",
                [this](const httplib::Request& request, httplib::Response& response) {
                  if (!authorized(request, response))
                    return;
                  list(request, response);
                });
    server_.Get(R"(/download/storage/v1/b/([^/]+)/o/(.+))",
                [this](const httplib::Request& request, httplib::Response& response) {
                  if (!authorized(request, response))
                    return;
                  download(request, response);
                });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~FakeGcs() {
    server_.stop();
    thread_.join();
  }
  int port() const { return port_; }
  void put(const std::string& name, const std::string& body) {
    const std::lock_guard lock(mutex_);
    objects_[name] = {body, ++generation_};
  }
  std::vector<std::string> jwt_problems() const { return jwt_problems_; }
  int token_requests() const { return token_requests_; }
  int list_pages() const { return list_pages_; }
  std::vector<std::string> ranges() const { return ranges_; }

private:
  struct Object {
    std::string body;
    std::int64_t generation = 0;
  };

  std::string check_jwt(const std::string& jwt) {
    const std::size_t dot1 = jwt.find('.');
    const std::size_t dot2 = jwt.rfind('.');
    if (dot1 == std::string::npos || dot1 == dot2)
      return "not a JWT";
    const std::string input = jwt.substr(0, dot2);
    const std::string signature = base64url_decode(jwt.substr(dot2 + 1));
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    const bool valid =
        EVP_DigestVerifyInit(ctx, nullptr, EVP_sha256(), nullptr, key_) == 1 &&
        EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                         signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                         input.size()) == 1;
    EVP_MD_CTX_free(ctx);
    if (!valid)
      return "the RS256 signature does not verify";
    simdjson::dom::parser parser;
    simdjson::dom::element header, claims;
    const std::string header_text = base64url_decode(jwt.substr(0, dot1));
    const std::string claims_text = base64url_decode(jwt.substr(dot1 + 1, dot2 - dot1 - 1));
    if (parser.parse(header_text).get(header) != simdjson::SUCCESS)
      return "the header is not JSON";
    std::string_view alg;
    if (header["alg"].get(alg) != simdjson::SUCCESS || alg != "RS256")
      return "alg is not RS256";
    simdjson::dom::parser claims_parser;
    if (claims_parser.parse(claims_text).get(claims) != simdjson::SUCCESS)
      return "the claims are not JSON";
    std::string_view iss, aud, scope;
    std::int64_t iat = 0, exp = 0;
    if (claims["iss"].get(iss) != simdjson::SUCCESS || iss != "reader@billing.iam.example" ||
        claims["aud"].get(aud) != simdjson::SUCCESS ||
        aud != "http://127.0.0.1:" + std::to_string(port_) + "/token" ||
        claims["scope"].get(scope) != simdjson::SUCCESS ||
        scope.find("devstorage") == std::string_view::npos ||
        claims["iat"].get(iat) != simdjson::SUCCESS ||
        claims["exp"].get(exp) != simdjson::SUCCESS || exp - iat != 3600)
      return "the claims are not the key's: " + claims_text;
    return "";
  }

  bool authorized(const httplib::Request& request, httplib::Response& response) {
    if (request.get_header_value("Authorization") == "Bearer token-1")
      return true;
    response.status = 401;
    response.set_content(R"({"error":{"code":401,"message":"Anonymous caller"}})",
                         "application/json");
    return false;
  }

  void list(const httplib::Request& request, httplib::Response& response) {
    const std::lock_guard lock(mutex_);
    ++list_pages_;
    const std::string prefix = request.get_param_value("prefix");
    const std::size_t page = std::stoul(request.get_param_value("maxResults"));
    const std::string after = request.get_param_value("pageToken");
    std::string items;
    std::string next;
    std::size_t count = 0;
    for (auto it = objects_.upper_bound(after); it != objects_.end(); ++it) {
      if (!it->first.starts_with(prefix))
        continue;
      if (count == page) {
        next = std::prev(it)->first;
        break;
      }
      items += std::string(items.empty() ? "" : ",") + R"({"name":")" + it->first +
               R"(","size":")" + std::to_string(it->second.body.size()) + R"(","generation":")" +
               std::to_string(it->second.generation) + R"("})";
      ++count;
    }
    response.set_content(R"({"items":[)" + items + "]" +
                             (next.empty() ? "" : R"(,"nextPageToken":")" + next + "\"") + "}",
                         "application/json");
  }

  void download(const httplib::Request& request, httplib::Response& response) {
    const std::lock_guard lock(mutex_);
    const auto found = objects_.find(request.matches[2].str());
    if (found == objects_.end() || request.get_param_value("alt") != "media") {
      response.status = 404;
      return;
    }
    if (request.get_param_value("ifGenerationMatch") != std::to_string(found->second.generation)) {
      response.status = 412;
      response.set_content(R"({"error":{"code":412,"message":"conditionNotMet"}})",
                           "application/json");
      return;
    }
    const std::string range = request.get_header_value("Range");
    ranges_.push_back(range);
    // httplib's server answers the request's range (and Content-Range) of a 206's whole body.
    if (range.starts_with("bytes="))
      response.status = 206;
    response.set_header("x-goog-generation", std::to_string(found->second.generation));
    response.set_content(found->second.body, "application/octet-stream");
  }

  EVP_PKEY* key_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::string, Object> objects_;
  std::int64_t generation_ = 1700000000000000;
  std::vector<std::string> jwt_problems_;
  std::vector<std::string> ranges_;
  std::atomic<int> token_requests_{0};
  std::atomic<int> list_pages_{0};
};

class GcsStoreTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    key_ = EVP_RSA_gen(2048);
    ASSERT_NE(key_, nullptr);
    gcs_ = std::make_unique<FakeGcs>(key_);
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PrivateKey(bio, key_, nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio, &data);
    std::string pem(data, static_cast<std::size_t>(size));
    BIO_free(bio);
    std::string escaped;
    for (const char c : pem)
      escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
    const std::string base = "http://127.0.0.1:" + std::to_string(gcs_->port());
    write_text(dir_ / "key.json",
               R"({"type":"service_account","project_id":"billing","private_key_id":"k1",)"
               R"("private_key":")" +
                   escaped +
                   R"(","client_email":"reader@billing.iam.example",)"
                   R"("token_uri":")" +
                   base + R"(/token"})");
    settings_.gcs_endpoint = base;
  }
  void TearDown() override {
    gcs_.reset();
    EVP_PKEY_free(key_);
    TempFolderTest::TearDown();
  }

  Result<MirrorLease> mirror(const std::string& url, const Environment& environment) {
    RemoteMirror mirror(dir_ / "cache", settings_, environment);
    return mirror.mirror(*parse_remote_location(url), "conn");
  }
  Environment with_key() const {
    const std::string file = (dir_ / "key.json").string();
    return [file](const std::string& name) -> std::optional<std::string> {
      if (name == "GOOGLE_APPLICATION_CREDENTIALS")
        return file;
      return std::nullopt;
    };
  }

  EVP_PKEY* key_ = nullptr;
  std::unique_ptr<FakeGcs> gcs_;
  RemoteSettings settings_;
};

TEST_F(GcsStoreTest, AServiceAccountKeyReadsEveryPage) {
  settings_.list_page_size = 2;
  for (int i = 1; i <= 5; ++i)
    gcs_->put("billing/export-" + std::to_string(i) + ".csv", "rows of file " + std::to_string(i));
  gcs_->put("other/x.csv", "not under the prefix");
  const Result<MirrorLease> lease = mirror("gs://bucket/billing", with_key());
  ASSERT_TRUE(lease) << lease.error().message();
  EXPECT_TRUE(gcs_->jwt_problems().empty()) << gcs_->jwt_problems().front();
  EXPECT_EQ(gcs_->token_requests(), 1);
  EXPECT_EQ(gcs_->list_pages(), 3);
  EXPECT_EQ(lease->stats.objects, 5u);
  for (int i = 1; i <= 5; ++i)
    EXPECT_EQ(read_text(lease->local_path / ("export-" + std::to_string(i) + ".csv")),
              "rows of file " + std::to_string(i));
  const Result<MirrorLease> again = mirror("gs://bucket/billing", with_key());
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->stats.fetched_objects, 0u);
}

TEST_F(GcsStoreTest, RangedReadsAndAChangedGeneration) {
  gcs_->put("r/a.csv", "0123456789");
  const std::unique_ptr<ObjectStore> store =
      open_object_store(*parse_remote_location("gs://bucket/r/"), settings_, with_key());
  const std::vector<ObjectInfo> listed = store->list("r/");
  ASSERT_EQ(listed.size(), 1u);
  std::string tail;
  store->read(listed[0], 7, [&](const char* data, std::size_t size) {
    tail.append(data, size);
    return true;
  });
  EXPECT_EQ(tail, "789");
  EXPECT_EQ(gcs_->ranges().back(), "bytes=7-");
  gcs_->put("r/a.csv", "changed");
  EXPECT_THROW(store->read(listed[0], 0, [](const char*, std::size_t) { return true; }),
               ObjectChanged);
}

TEST_F(GcsStoreTest, AKeyWhoseSignatureDoesNotHoldGetsNoToken) {
  // Another key with the same account: the server's public half does not verify it.
  EVP_PKEY* other = EVP_RSA_gen(2048);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, other, nullptr, nullptr, 0, nullptr, nullptr);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio, &data);
  std::string pem(data, static_cast<std::size_t>(size));
  BIO_free(bio);
  EVP_PKEY_free(other);
  std::string text = read_text(dir_ / "key.json");
  const std::size_t from = text.find("-----BEGIN");
  const std::size_t to = text.find("-----END PRIVATE KEY-----\\n") + 27;
  std::string escaped;
  for (const char c : pem)
    escaped += c == '\n' ? std::string("\\n") : std::string(1, c);
  text.replace(from, to - from, escaped);
  write_text(dir_ / "key.json", text);
  gcs_->put("x/a.csv", "a");
  const Result<MirrorLease> lease = mirror("gs://bucket/x/", with_key());
  ASSERT_FALSE(lease);
  EXPECT_NE(lease.error().message().find("getting a Google access token for "
                                         "reader@billing.iam.example: HTTP 400"),
            std::string::npos)
      << lease.error().message();
  EXPECT_EQ(lease.error().message().find("PRIVATE KEY"), std::string::npos);
  ASSERT_EQ(gcs_->jwt_problems().size(), 1u);
  EXPECT_EQ(gcs_->jwt_problems()[0], "the RS256 signature does not verify");
}

} // namespace
} // namespace billdrop::remote
