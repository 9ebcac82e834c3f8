// The Azure Blob store against azurite on loopback (which checks Shared Key signatures and SAS
// tokens itself): listing with markers, ranged reads, a changed blob, the connection string
// (azurite's development form included), an account key and a SAS token.
#include "remote/azure_shared_key.hpp"
#include "remote/crypto.hpp"
#include "remote/mirror.hpp"
#include "remote/sigv4.hpp"
#include "support/node_server.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <ctime>
#include <map>

namespace billdrop::remote {
namespace {

using test::read_text;

// Azurite's documented development account.
constexpr const char* kAccount = "devstoreaccount1";
constexpr const char* kKey =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

Environment environment_of(std::map<std::string, std::string> values) {
  return [values = std::move(values)](const std::string& name) -> std::optional<std::string> {
    const auto found = values.find(name);
    if (found == values.end() || found->second.empty())
      return std::nullopt;
    return found->second;
  };
}

std::string now_rfc1123() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[40];
  std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return text;
}

class AzureStoreTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    BILLDROP_NEED_NODE_SERVER("azurite");
    azurite_ = test::start_azurite(dir_);
    endpoint_ = "http://127.0.0.1:" + std::to_string(azurite_->port()) + "/" + kAccount;
    put("/costs", {{"restype", "container"}}, "", {});
  }

  // A Shared Key request to azurite (test setup: containers and blobs).
  void put(const std::string& path, std::vector<std::pair<std::string, std::string>> query,
           const std::string& body, std::vector<std::pair<std::string, std::string>> extra) {
    const std::string full = std::string("/") + kAccount + path;
    AzureRequest request{"PUT",
                         full,
                         query,
                         {{"x-ms-date", now_rfc1123()},
                          {"x-ms-version", "2021-08-06"},
                          {"Content-Length", std::to_string(body.size())}}};
    request.headers.emplace_back("Content-Type", "application/octet-stream");
    if (query.empty())
      request.headers.emplace_back("x-ms-blob-type", "BlockBlob");
    request.headers.insert(request.headers.end(), extra.begin(), extra.end());
    httplib::Headers headers;
    for (const auto& [name, value] : request.headers)
      if (name != "Content-Length" && name != "Content-Type")
        headers.emplace(name, value);
    headers.emplace("Authorization", azure_authorization(request, kAccount, kKey));
    httplib::Client client("127.0.0.1", azurite_->port());
    const std::string target =
        full + (query.empty() ? std::string() : "?" + sigv4_query_string(query));
    const httplib::Result result = client.Put(target, headers, body, "application/octet-stream");
    ASSERT_TRUE(result);
    ASSERT_EQ(result->status, 201) << target << ": " << result->body;
  }
  void put_blob(const std::string& name, const std::string& body) {
    put("/costs/" + uri_encode(name, true), {}, body, {});
  }

  std::string connection_string() const {
    return std::string("DefaultEndpointsProtocol=http;AccountName=") + kAccount +
           ";AccountKey=" + kKey + ";BlobEndpoint=" + endpoint_ + ";";
  }

  Result<MirrorLease> mirror(const std::string& url, const Environment& environment) {
    RemoteMirror mirror(dir_ / "cache", settings_, environment);
    return mirror.mirror(*parse_remote_location(url), "conn");
  }

  std::unique_ptr<test::NodeServer> azurite_;
  std::string endpoint_;
  RemoteSettings settings_;
};

TEST_F(AzureStoreTest, ListsWithMarkersAndMirrorsWithTheConnectionString) {
  settings_.list_page_size = 2;
  std::map<std::string, std::string> blobs;
  for (int i = 1; i <= 5; ++i)
    blobs["exports/actual/2026-0" + std::to_string(i) + ".csv"] =
        "date,cost\n2026-0" + std::to_string(i) + "-01," + std::to_string(i) + ".25\n";
  for (const auto& [name, body] : blobs)
    put_blob(name, body);
  const Environment environment =
      environment_of({{"AZURE_STORAGE_CONNECTION_STRING", connection_string()}});
  const std::unique_ptr<ObjectStore> store = open_object_store(
      *parse_remote_location("az://devstoreaccount1/costs/exports"), settings_, environment);
  const std::vector<ObjectInfo> listed = store->list("exports/");
  ASSERT_EQ(listed.size(), 5u);
  EXPECT_EQ(listed[0].key, "exports/actual/2026-01.csv");
  EXPECT_EQ(listed[0].size, blobs.begin()->second.size());

  const Result<MirrorLease> lease = mirror("az://devstoreaccount1/costs/exports", environment);
  ASSERT_TRUE(lease) << lease.error().message();
  for (const auto& [name, body] : blobs)
    EXPECT_EQ(read_text(lease->local_path / name.substr(8)), body);
  const Result<MirrorLease> again = mirror("az://devstoreaccount1/costs/exports", environment);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->stats.cached_objects, 5u);
  EXPECT_EQ(again->stats.fetched_bytes, 0u);
}

TEST_F(AzureStoreTest, RangedReadsAndAChangedBlob) {
  put_blob("r/one.csv", "0123456789abcdef");
  const Environment environment = environment_of({{"AZURE_STORAGE_KEY", kKey}});
  settings_.azure_endpoint = endpoint_;
  const std::unique_ptr<ObjectStore> store = open_object_store(
      *parse_remote_location("az://devstoreaccount1/costs/r/"), settings_, environment);
  const std::vector<ObjectInfo> listed = store->list("r/");
  ASSERT_EQ(listed.size(), 1u);
  std::string tail;
  store->read(listed[0], 10, [&](const char* data, std::size_t size) {
    tail.append(data, size);
    return true;
  });
  EXPECT_EQ(tail, "abcdef");

  put_blob("r/one.csv", "a new version of the blob");
  try {
    store->read(listed[0], 0, [](const char*, std::size_t) { return true; });
    FAIL() << "a blob read at a version it no longer has";
  } catch (const ObjectChanged& e) {
    EXPECT_NE(std::string(e.what()).find(
                  "az://devstoreaccount1/costs/r/one.csv changed while it was being read"),
              std::string::npos)
        << e.what();
  }
}

TEST_F(AzureStoreTest, ASasTokenReadsWithoutTheKey) {
  put_blob("s/a.csv", "sas");
  // An account SAS (version 2019-12-12): read and list on blob containers and objects.
  const std::string string_to_sign = std::string(kAccount) +
                                     "\nrl\nb\nco\n\n2099-01-01T00:00:00Z\n\nhttps,http\n"
                                     "2019-12-12\n";
  const std::string signature = base64(hmac_sha256(base64_decode(kKey), string_to_sign));
  const std::string sas = sigv4_query_string({{"sv", "2019-12-12"},
                                              {"ss", "b"},
                                              {"srt", "co"},
                                              {"sp", "rl"},
                                              {"se", "2099-01-01T00:00:00Z"},
                                              {"spr", "https,http"},
                                              {"sig", signature}});
  settings_.azure_endpoint = endpoint_;
  const Result<MirrorLease> lease = mirror(
      "az://devstoreaccount1/costs/s/", environment_of({{"AZURE_STORAGE_SAS_TOKEN", "?" + sas}}));
  ASSERT_TRUE(lease) << lease.error().message();
  EXPECT_EQ(read_text(lease->local_path / "a.csv"), "sas");
}

TEST_F(AzureStoreTest, AWrongKeyIsRefusedWithoutShowingIt) {
  put_blob("w/a.csv", "a");
  settings_.azure_endpoint = endpoint_;
  const std::string wrong = base64("a key that is not the account's key");
  const Result<MirrorLease> lease =
      mirror("az://devstoreaccount1/costs/w/", environment_of({{"AZURE_STORAGE_KEY", wrong}}));
  ASSERT_FALSE(lease);
  EXPECT_NE(lease.error().message().find("403"), std::string::npos) << lease.error().message();
  EXPECT_EQ(lease.error().message().find(wrong), std::string::npos);

  const Result<MirrorLease> none = mirror("az://devstoreaccount1/costs/w/", environment_of({}));
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message().find("no Azure storage credentials: set "
                                        "AZURE_STORAGE_CONNECTION_STRING"),
            std::string::npos)
      << none.error().message();
}

TEST(AzureConnectionString, DevelopmentStorageIsAzuritesAccount) {
  const AzureConnectionString dev = parse_azure_connection_string("UseDevelopmentStorage=true");
  EXPECT_EQ(dev.account, kAccount);
  EXPECT_EQ(dev.key, kKey);
  EXPECT_EQ(dev.blob_endpoint, "http://127.0.0.1:10000/devstoreaccount1");
  const AzureConnectionString cloud =
      parse_azure_connection_string("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey="
                                    "a2V5;EndpointSuffix=core.windows.net");
  EXPECT_EQ(cloud.blob_endpoint, "https://acct.blob.core.windows.net");
  try {
    (void)parse_azure_connection_string("AccountName=acct;AccountKey");
    FAIL();
  } catch (const ErrorException& e) {
    EXPECT_EQ(std::string(e.what()).find("acct"), std::string::npos); // the text is not echoed
  }
}

TEST(AzureSharedKey, StringToSignFollowsTheDocumentedLayout) {
  const AzureRequest request{"GET",
                             "/devstoreaccount1/costs",
                             {{"restype", "container"}, {"comp", "list"}, {"prefix", "a b"}},
                             {{"x-ms-version", "2021-08-06"},
                              {"x-ms-date", "Mon, 07 Dec 2026 03:00:00 GMT"},
                              {"If-Match", "\"0x1\""}}};
  EXPECT_EQ(azure_string_to_sign(request, kAccount),
            "GET\n\n\n\n\n\n\n\n\"0x1\"\n\n\n\n"
            "x-ms-date:Mon, 07 Dec 2026 03:00:00 GMT\nx-ms-version:2021-08-06\n"
            "/devstoreaccount1/devstoreaccount1/costs\ncomp:list\nprefix:a b\nrestype:container");
}

} // namespace
} // namespace billdrop::remote
