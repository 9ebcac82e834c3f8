// A connection cut in the middle of an upload, between the real billdrop binary and the real
// emulator: a proxy on loopback passes the first request's head and part of its body on, then
// closes both sides. The API never received that request whole, so it is no request: nothing may
// be stored for its idempotency key, and the client, which got no response, retries with the same
// key. The push must end synced with the month holding the source's rows exactly once.
#include "emulator/emulator.hpp"
#include "support/cli_run.hpp"
#include "support/loopback_proxy.hpp"
#include "support/split_hour_month.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>

namespace billdrop {
namespace {

namespace split_hour = test::split_hour;

class CutUploadTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    emulator::EmulatorOptions options;
    options.store = dir_ / "emulator.db";
    options.api_keys = {split_hour::kApiKey};
    options.max_body_bytes = split_hour::kBodyLimit;
    emulator_ = std::make_unique<emulator::Emulator>(options);
    Result<std::uint16_t> port = emulator_->start("127.0.0.1", 0);
    ASSERT_TRUE(port.ok()) << port.error().message();
  }
  void TearDown() override {
    emulator_.reset();
    TempFolderTest::TearDown();
  }

  std::unique_ptr<emulator::Emulator> emulator_;
};

TEST_F(CutUploadTest, AnUploadCutMidBodyIsRetriedWithItsKeyAndTheMonthLandsWhole) {
  // Every chunk of the month is cut once, in turn: its first try breaks off after 100 bytes of
  // its body (of about 500 to 1,200), its retry passes.
  for (const std::size_t cut : {1u, 3u, 5u}) {
    SCOPED_TRACE("request " + std::to_string(cut) + " cut");
    const std::string connection_id = "cut-" + std::to_string(cut);
    const std::filesystem::path dir = dir_ / connection_id;
    test::LoopbackProxy proxy(emulator_->port());
    proxy.cut_request(cut, 100);
    const std::filesystem::path config = split_hour::write_connection(
        dir, connection_id, "http://127.0.0.1:" + std::to_string(proxy.port()));
    const std::string snapshots = (dir / "snapshots").string();
    ASSERT_EQ(test::run_billdrop({"convert", "--config", config.string(), "--out", snapshots}, dir)
                  .exit_code,
              0);

    const test::CliRun pushed = test::run_billdrop(
        {"push", "--config", config.string(), "--from", snapshots, "--format", "json"}, dir);
    EXPECT_EQ(proxy.requests_cut(), 1u) << "the cut never happened: the test would prove nothing";
    EXPECT_EQ(pushed.exit_code, 0) << pushed.out << pushed.err;
    EXPECT_NE(pushed.out.find("\"synced\":true"), std::string::npos) << pushed.out;

    EXPECT_EQ(split_hour::landed_rows(emulator_->port(), connection_id),
              split_hour::expected_rows());
    Result<emulator::MonthState> state =
        emulator_->month_state(connection_id, Month::parse(split_hour::kMonth).value());
    ASSERT_TRUE(state.ok()) << state.error().message();
    EXPECT_EQ(state->rows, split_hour::kRows);
    EXPECT_EQ(state->cost.normalized().to_string(), split_hour::normalized(split_hour::kCost));
  }
}

} // namespace
} // namespace billdrop
