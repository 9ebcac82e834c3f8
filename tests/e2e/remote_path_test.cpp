// A connection whose path is s3://… against s3rver on loopback (behind the test's SigV4-checking
// proxy), through the real billdrop binary: `billdrop run` lands exactly the month totals of the
// same export read from the local path (and of the example's expected_totals.json, computed by
// its generator); a second run downloads nothing; a download cut mid-way resumes; an object that
// changes while being read fails with a message and lands nothing.
#include "support/cli_run.hpp"
#include "support/node_server.hpp"
#include "support/s3_signing_proxy.hpp"
#include "support/temp_folder.hpp"

#include "remote/crypto.hpp"
#include "remote/sigv4.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <map>
#include <regex>

namespace billdrop::test {
namespace {

namespace fs = std::filesystem;

const fs::path kExample =
    fs::path(BILLDROP_TEST_SOURCE_DIR) / "plugins" / "custom" / "examples" / "acme-gpu";

struct Landed {
  std::string rows;
  std::string cost;
  std::string landed_cost;
  bool operator==(const Landed&) const = default;
};

// {month: rows, cost, landed cost} from `billdrop run --format json`.
std::map<std::string, Landed> landed_months(const std::string& json) {
  std::map<std::string, Landed> months;
  const std::regex month(
      R"re(\{"month":"([0-9]{4}-[0-9]{2})","rows":([0-9]+),"cost":"([^"]+)"[^}]*"landed_cost":"([^"]+)")re");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), month);
       it != std::sregex_iterator(); ++it)
    months[(*it)[1]] = {(*it)[2], (*it)[3], (*it)[4]};
  return months;
}

void s3_put(std::uint16_t port, const std::string& bucket, const std::string& key,
            const std::string& body) {
  const std::string date = remote::amz_date(std::chrono::system_clock::now());
  const std::string host = "127.0.0.1:" + std::to_string(port);
  const std::string path = "/" + bucket + "/" + key;
  const std::string payload = remote::hex(remote::sha256(body));
  const remote::SigV4Request request{
      "PUT", host, path, {}, {{"x-amz-date", date}, {"x-amz-content-sha256", payload}}, payload};
  httplib::Client client("127.0.0.1", port);
  const httplib::Result result =
      client.Put(path,
                 {{"x-amz-date", date},
                  {"x-amz-content-sha256", payload},
                  {"Authorization", remote::sigv4_authorization(request, {"S3RVER", "S3RVER", ""},
                                                                date, "us-east-1", "s3")}},
                 body, "text/csv");
  ASSERT_TRUE(result);
  ASSERT_EQ(result->status, 200) << result->body;
}

class RemotePathTest : public TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    BILLDROP_NEED_NODE_SERVER("s3rver");
    s3rver_ = start_s3rver(dir_, {"exports"});
    proxy_ = std::make_unique<S3SigningProxy>(s3rver_->port(), "S3RVER");
    csv_ = read_text(kExample / "acme_usage.csv");
    s3_put(s3rver_->port(), "exports", "acme/2026/acme_usage.csv", csv_);
    ::setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
    ::setenv("AWS_REGION", "us-east-1", 1);
    // The example's connection, reading the local file or the bucket, each with its own state.
    const std::string remote_table =
        "\n[connections.acme-gpu.remote]\ns3_endpoint = \"http://127.0.0.1:" +
        std::to_string(proxy_->port()) + "\"\n";
    write_config("local.toml", toml_string((kExample / "acme_usage.csv").string()), "", "local");
    write_config("remote.toml", "\"s3://exports/acme/2026\"", remote_table, "remote");
  }
  void TearDown() override {
    if (proxy_) {
      EXPECT_TRUE(proxy_->bad_signatures().empty()) << proxy_->bad_signatures().front();
    }
    proxy_.reset();
    s3rver_.reset();
    TempFolderTest::TearDown();
  }

  void write_config(const std::string& name, const std::string& path, const std::string& extra,
                    const std::string& state) {
    std::string text = read_text(kExample / "billdrop.toml");
    const std::string local_path = "path = \"acme_usage.csv\"";
    text.replace(text.find(local_path), local_path.size(), "path = " + path);
    write_text(dir_ / name,
               "state_dir = " + toml_string((dir_ / state).string()) + "\n" + text + extra);
  }

  CliRun run(const std::string& config, const std::vector<std::string>& extra = {}) {
    const fs::path out = dir_ / ("run-" + std::to_string(++runs_));
    fs::create_directories(out);
    std::vector<std::string> args{
        "--log-level", "info", "run", "--config", (dir_ / config).string(), "--format", "json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_billdrop(args, out);
  }

  std::unique_ptr<NodeServer> s3rver_;
  std::unique_ptr<S3SigningProxy> proxy_;
  std::string csv_;
  int runs_ = 0;
};

std::map<std::string, std::string> expected_costs() {
  // plugins/custom/examples/acme-gpu/expected_totals.json, written by its generator.
  const std::string json = read_text(kExample / "expected_totals.json");
  std::map<std::string, std::string> costs;
  const std::regex month(R"re("([0-9]{4}-[0-9]{2})": \{\s*"rows": [0-9]+,\s*"cost": "([^"]+)")re");
  for (auto it = std::sregex_iterator(json.begin(), json.end(), month);
       it != std::sregex_iterator(); ++it)
    costs[(*it)[1]] = (*it)[2];
  return costs;
}

TEST_F(RemotePathTest, AnS3PathLandsTheSameMonthsAsTheLocalFileAndIsNotDownloadedTwice) {
  const CliRun local = run("local.toml");
  ASSERT_EQ(local.exit_code, 0) << local.out << local.err;
  const CliRun remote = run("remote.toml");
  ASSERT_EQ(remote.exit_code, 0) << remote.out << remote.err;
  const std::map<std::string, Landed> local_months = landed_months(local.out);
  const std::map<std::string, Landed> remote_months = landed_months(remote.out);
  ASSERT_EQ(local_months.size(), 3u) << local.out;
  EXPECT_EQ(remote_months, local_months) << remote.out;
  for (const auto& [month, cost] : expected_costs()) {
    EXPECT_EQ(remote_months.at(month).cost, cost) << month;
    EXPECT_EQ(remote_months.at(month).landed_cost, cost) << month;
  }
  EXPECT_EQ(proxy_->object_gets(), 1u);
  EXPECT_NE(remote.err.find("event=remote.mirror"), std::string::npos) << remote.err;
  // The custom plugin reads growing files: it read the object as it downloaded.
  EXPECT_NE(remote.err.find("mode=follow"), std::string::npos) << remote.err;

  // The nightly run of an unchanged export: listed, not downloaded.
  const CliRun again = run("remote.toml");
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_EQ(proxy_->object_gets(), 1u);
  EXPECT_NE(again.err.find("cached=1 fetched=0 fetched_bytes=0"), std::string::npos) << again.err;
  // Credentials never reach the logs.
  EXPECT_EQ(remote.err.find("S3RVER"), std::string::npos) << remote.err;
}

TEST_F(RemotePathTest, ADownloadCutMidwayResumesAndLandsTheSameTotals) {
  proxy_->cut_object_gets(1, csv_.size() / 2);
  const CliRun remote = run("remote.toml");
  ASSERT_EQ(remote.exit_code, 0) << remote.out << remote.err;
  EXPECT_NE(remote.err.find("event=remote.resume"), std::string::npos) << remote.err;
  const std::vector<S3SigningProxy::Seen> seen = proxy_->seen();
  EXPECT_EQ(seen.back().range, "bytes=" + std::to_string(csv_.size() / 2) + "-");
  const std::map<std::string, Landed> months = landed_months(remote.out);
  for (const auto& [month, cost] : expected_costs())
    EXPECT_EQ(months.at(month).landed_cost, cost) << month;
}

TEST_F(RemotePathTest, AnObjectChangedWhileBeingReadFailsWithAMessageAndLandsNothing) {
  // Another version of the object: its first record once more.
  const std::size_t first = csv_.find('\n') + 1;
  const std::string changed = csv_ + csv_.substr(first, csv_.find('\n', first) + 1 - first);
  proxy_->before_next_object_get(
      [&] { s3_put(s3rver_->port(), "exports", "acme/2026/acme_usage.csv", changed); });
  const CliRun remote = run("remote.toml");
  EXPECT_NE(remote.exit_code, 0) << remote.out;
  EXPECT_NE((remote.out + remote.err)
                .find("s3://exports/acme/2026/acme_usage.csv changed while it was being read"),
            std::string::npos)
      << remote.out << remote.err;
  EXPECT_TRUE(landed_months(remote.out).empty()) << remote.out;
}

TEST_F(RemotePathTest, APluginInARunnerProcessReadsTheObjectAsItDownloads) {
  // The growing file's status is in the file system: the runner process follows it too, through
  // a download cut half-way and resumed.
  proxy_->cut_object_gets(1, csv_.size() / 2);
  const CliRun remote = run("remote.toml", {"--isolation", "process"});
  ASSERT_EQ(remote.exit_code, 0) << remote.out << remote.err;
  EXPECT_NE(remote.err.find("mode=follow"), std::string::npos) << remote.err;
  EXPECT_NE(remote.err.find("event=remote.resume"), std::string::npos) << remote.err;
  const std::map<std::string, Landed> months = landed_months(remote.out);
  ASSERT_EQ(months.size(), 3u) << remote.out;
  for (const auto& [month, cost] : expected_costs())
    EXPECT_EQ(months.at(month).landed_cost, cost) << month;
}

TEST_F(RemotePathTest, ADownloadCutBeyondItsRetriesFailsTheRunAndLandsNothing) {
  // Every try of the run (five) gets a tenth of the object before the connection closes: the
  // plugin, reading as the bytes arrive, has read half of it when the download gives up.
  proxy_->cut_object_gets(5, csv_.size() / 10);
  const CliRun remote = run("remote.toml");
  EXPECT_NE(remote.exit_code, 0) << remote.out;
  const std::string said = remote.out + remote.err;
  // The plugin's read fails with the download's error, naming the object.
  EXPECT_NE(said.find("objects/acme_usage.csv: reading s3://exports/acme/2026/acme_usage.csv"),
            std::string::npos)
      << said;
  EXPECT_NE(said.find("the connection broke while receiving the answer (Read); gave up after 5 "
                      "tries (the next run resumes from the "),
            std::string::npos)
      << said;
  EXPECT_NE(said.find("2026-08 FAILED, no snapshot written"), std::string::npos) << said;
  EXPECT_TRUE(landed_months(remote.out).empty()) << remote.out;
  EXPECT_EQ(said.find("S3RVER"), std::string::npos) << said;

  // The next run resumes from the half received and lands the exact totals.
  const CliRun again = run("remote.toml");
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.err.find("event=remote.resume"), std::string::npos) << again.err;
  const std::map<std::string, Landed> months = landed_months(again.out);
  for (const auto& [month, cost] : expected_costs())
    EXPECT_EQ(months.at(month).landed_cost, cost) << month;
}

TEST_F(RemotePathTest, AnObjectReplacedWhileThePluginReadsItFailsTheRunAndLandsNothing) {
  // The first GET is cut half-way (the plugin reads that half); before the resumed GET the
  // object is replaced, so the rest would be of another version: the run fails.
  const std::size_t first = csv_.find('\n') + 1;
  const std::string changed = csv_ + csv_.substr(first, csv_.find('\n', first) + 1 - first);
  proxy_->cut_object_gets(1, csv_.size() / 2);
  proxy_->before_next_object_get([&] {
    proxy_->before_next_object_get(
        [&] { s3_put(s3rver_->port(), "exports", "acme/2026/acme_usage.csv", changed); });
  });
  const CliRun remote = run("remote.toml");
  EXPECT_NE(remote.exit_code, 0) << remote.out;
  const std::string said = remote.out + remote.err;
  EXPECT_NE(said.find("s3://exports/acme/2026/acme_usage.csv changed while it was being read"),
            std::string::npos)
      << said;
  EXPECT_TRUE(landed_months(remote.out).empty()) << remote.out;
  const std::vector<S3SigningProxy::Seen> seen = proxy_->seen();
  EXPECT_EQ(seen.back().range, "bytes=" + std::to_string(csv_.size() / 2) + "-");
}

} // namespace
} // namespace billdrop::test
