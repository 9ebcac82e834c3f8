// Several `billdrop serve` hosts on one PostgreSQL store (the tests' cluster), against the
// emulator: every connection is run by the host holding its lease. Three hosts × 300 connections,
// rounds of restated months each synced while hosts are killed (`kill -9`) at random moments and
// restarted: the dead host's leases move to the others within TTL + one tick, and after every
// round (one POST /verify to one host: run requests in the store) every month at the
// destination equals the source exactly (rows and exact cost per hour:
// nothing lost, nothing counted twice). A host paused (SIGSTOP) past its TTL and continued fences
// itself: no request of it reaches the API after it lost its leases. Expected totals are summed
// here from the generated rows, with no billdrop code.
#include "emulator/emulator.hpp"

#include "support/loopback_proxy.hpp"
#include "support/postgres_cluster.hpp"
#include "support/process.hpp"
#include "support/temp_folder.hpp"

#include <gtest/gtest.h>
#include <httplib.h>

#include <algorithm>
#include <map>
#include <random>

#include <signal.h>
#include <sys/wait.h>

namespace billdrop {
namespace {

using std::chrono::milliseconds;
using test::PostgresCluster;
using Steady = std::chrono::steady_clock;

constexpr int kTtlSeconds = 3;

std::string month_text(int back) {
  const auto today = std::chrono::floor<std::chrono::days>(std::chrono::system_clock::now());
  const std::chrono::year_month_day date(today);
  std::chrono::year_month ym = date.year() / date.month();
  ym -= std::chrono::months(back);
  char text[16];
  std::snprintf(text, sizeof text, "%04d-%02u", static_cast<int>(ym.year()),
                static_cast<unsigned>(ym.month()));
  return text;
}

struct Expected {
  std::map<std::string, std::pair<std::uint64_t, Decimal>> hours; // "YYYY-MM-DDTHH"
  std::uint64_t rows = 0;
  Decimal cost;
};

class MultiHostTest : public test::TempFolderTest {
protected:
  void SetUp() override {
    TempFolderTest::SetUp();
    url_ = PostgresCluster::shared().create_database();
    std::ofstream(dir_ / "pg.url") << url_ << "\n";
    std::ofstream(dir_ / "key.txt") << "multi-host-key\n";
  }

  // Whatever a test ends with (a failed assertion returns early), no host it started outlives
  // it: each host still its child is resumed (it may be paused) and killed.
  void TearDown() override {
    for (const pid_t pid : spawned_) {
      if (pid <= 0 || ::waitpid(pid, nullptr, WNOHANG) != 0)
        continue; // reaped earlier (the pid may be reused since), or exited just now
      ::kill(pid, SIGCONT);
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    TempFolderTest::TearDown();
  }

  // Connections c000…: two months each of 3 hours × 2 rows, with new costs every call (a
  // provider restating its months); bodies of 400 bytes make each month several chunks.
  void restate(std::size_t count) {
    expected_.clear();
    for (std::size_t c = 0; c < count; ++c) {
      const std::string connection = name(c);
      std::string csv = "ts,id,amount\n";
      int id = 0;
      for (int back = 0; back < 2; ++back) {
        const std::string month = month_text(back);
        Expected& e = expected_[connection][month];
        for (int hour = 0; hour < 3; ++hour)
          for (int r = 0; r < 2; ++r) {
            const std::string cost =
                std::to_string(rng_() % 10000) + "." + std::to_string(10 + rng_() % 90);
            char ts[32];
            std::snprintf(ts, sizeof ts, "%s-02T%02d:00:00Z", month.c_str(), hour);
            csv += std::string(ts) + ",r" + std::to_string(++id) + "," + cost + "\n";
            const std::string key = month + "-02T0" + std::to_string(hour);
            e.hours[key].first += 1;
            e.hours[key].second += Decimal::from_string(cost);
            e.rows += 1;
            e.cost += Decimal::from_string(cost);
          }
      }
      std::ofstream(dir_ / (connection + ".csv.tmp")) << csv;
      std::filesystem::rename(dir_ / (connection + ".csv.tmp"), dir_ / (connection + ".csv"));
    }
  }

  static std::string name(std::size_t c) {
    char text[8];
    std::snprintf(text, sizeof text, "c%03zu", c);
    return text;
  }

  // Host `host`'s config: its own state directory, the shared store, `count` connections whose
  // API is at `base_url`.
  std::string write_config(int host, std::size_t count, const std::string& base_url) {
    std::string toml = "state_dir = \"host" + std::to_string(host) +
                       "\"\n[server]\nlisten = \"127.0.0.1:0\"\nmax_parallel_connections = 6\n"
                       "[store]\nkind = \"postgres\"\nurl_file = \"pg.url\"\nlease_ttl_seconds = " +
                       std::to_string(kTtlSeconds) +
                       "\n[limits]\nmax_body_bytes = 400\n"
                       "[sending]\ninitial_backoff_ms = 5\nmax_backoff_ms = 40\n";
    for (std::size_t c = 0; c < count; ++c) {
      const std::string connection = name(c);
      toml += "[connections." + connection +
              "]\nplugin = \"custom\"\ndestination = \"anycost\"\nbackfill_months = 3\n"
              "[connections." +
              connection + ".anycost]\nbase_url = \"" + base_url +
              "\"\napi_key_file = \"key.txt\"\n[connections." + connection + ".config]\npath = \"" +
              connection + ".csv\"\n[connections." + connection +
              ".config.columns]\n\"time/usage_start\" = \"{ts}\"\n\"lineitem/id\" = \"{id}\"\n"
              "\"cost/cost\" = \"{amount}\"\n";
    }
    const std::filesystem::path file = dir_ / ("host" + std::to_string(host) + ".toml");
    std::ofstream(file) << toml;
    return file.string();
  }

  struct Host {
    pid_t pid = -1;
    int port = 0;
    std::string config;
    int starts = 0;
  };

  void start(Host& host, int index) {
    const std::string log = "host" + std::to_string(index) + "-" + std::to_string(host.starts++);
    host.pid =
        test::spawn_billdrop({"--log-level", "info", "serve", "--config", host.config}, dir_, log);
    spawned_.push_back(host.pid);
    host.port = 0;
    ASSERT_TRUE(test::eventually([&] {
      const std::string out = test::read_text(dir_ / (log + ".out"));
      const std::size_t at = out.find("127.0.0.1:");
      if (at == std::string::npos)
        return false;
      host.port = std::stoi(out.substr(at + 10));
      return true;
    })) << test::read_text(dir_ / (log + ".err"));
  }

  // Starts the org-wide verify on `host`; its job id ("" when the POST failed). A verify still
  // running answers with its own id (docs/user-guide.md): a round waits for its verify to end.
  static std::string verify(const Host& host) {
    httplib::Client client("127.0.0.1", host.port);
    client.set_connection_timeout(2);
    const httplib::Result posted = client.Post("/api/v1/billing/verify", "", "application/json");
    if (!posted || posted->status != 202)
      return "";
    const std::size_t at = posted->body.find("\"jobId\":\"");
    if (at == std::string::npos)
      return "";
    const std::size_t start = at + 9;
    return posted->body.substr(start, posted->body.find('"', start) - start);
  }

  // True once the verify job `id` has completed, asked of `host`. Not merely "not running": a
  // host paused past its TTL has its jobs marked interrupted by the others (shown as failed)
  // while its verify goes on after it continues, and ends it completed.
  static bool verify_completed(const Host& host, const std::string& id, milliseconds limit) {
    return test::eventually(
        [&] {
          httplib::Client client("127.0.0.1", host.port);
          client.set_connection_timeout(2);
          const httplib::Result got = client.Get("/api/v1/billing/verify/" + id);
          return got && got->status == 200 &&
                 got->body.find("\"status\":\"completed\"") != std::string::npos;
        },
        limit);
  }

  std::string sql(const std::string& statement) { return PostgresCluster::query(url_, statement); }

  // The POSTs the proxy passed on after the first `from`, to connections whose lease `owner`
  // does not hold now (the drop path names the connection: /v2/connections/billing/anycost/<id>/
  // billing_drops, and each connection's id is its name).
  std::vector<std::string> stale_posts(const test::LoopbackProxy& proxy, std::size_t from,
                                       const std::string& owner) {
    const std::string held = "," + held_by(owner) + ",";
    const std::vector<std::string> paths = proxy.post_paths();
    std::vector<std::string> stale;
    for (std::size_t i = from; i < paths.size(); ++i) {
      const std::string_view path = paths[i];
      const std::size_t end = path.rfind("/billing_drops");
      const std::size_t begin = path.rfind('/', end == 0 ? 0 : end - 1) + 1;
      const std::string connection(path.substr(begin, end - begin));
      if (end == std::string_view::npos || held.find("," + connection + ",") == std::string::npos)
        stale.push_back(connection);
    }
    return stale;
  }

  // The connections whose leases `owner` holds now, comma-separated.
  std::string held_by(const std::string& owner) {
    return sql("SELECT COALESCE(string_agg(name, ',' ORDER BY name), '') FROM leases WHERE "
               "owner = '" +
               owner + "' AND expires_at > now()");
  }

  static std::string join(const std::vector<std::string>& names) {
    std::string text;
    for (const std::string& name : names)
      text += (text.empty() ? "" : ",") + name;
    return text;
  }

  std::string owner_of(pid_t pid) {
    return sql("SELECT owner FROM hosts WHERE pid = " + std::to_string(pid) +
               " ORDER BY started_at DESC LIMIT 1");
  }

  // Every month at the destination equals the expected source exactly; "" when so, else the
  // first difference.
  std::string difference(const emulator::Emulator& emulator) const {
    for (const auto& [connection, months] : expected_)
      for (const auto& [month, e] : months) {
        Result<emulator::MonthState> state = emulator.month_state(connection, *Month::parse(month));
        if (!state)
          return connection + " " + month + ": " + state.error().message();
        if (state->rows != e.rows || state->cost != e.cost)
          return connection + " " + month + ": " + std::to_string(state->rows) + " rows, " +
                 state->cost.to_string() + " at the destination; expected " +
                 std::to_string(e.rows) + ", " + e.cost.to_string();
        if (state->hours.size() != e.hours.size())
          return connection + " " + month + ": hours differ";
        for (const auto& [hour, totals] : e.hours) {
          const auto found = state->hours.find(hour);
          if (found == state->hours.end() || found->second.rows != totals.first ||
              found->second.cost != totals.second)
            return connection + " " + hour + ": the hour differs";
        }
      }
    return "";
  }

  // Waits until every month landed exactly; the last difference when it did not in `limit`.
  std::string wait_landed(const emulator::Emulator& emulator, milliseconds limit) const {
    std::string last;
    const bool landed = test::eventually(
        [&] {
          last = difference(emulator);
          return last.empty();
        },
        limit);
    return landed ? "" : last;
  }

  // How long until no lease is `owner`'s any more (its connections moved); -1 past `limit`.
  std::int64_t wait_moved(const std::string& owner, Steady::time_point since, milliseconds limit) {
    const bool moved = test::eventually(
        [&] { return sql("SELECT COUNT(*) FROM leases WHERE owner = '" + owner + "'") == "0"; },
        limit);
    return moved ? std::chrono::duration_cast<milliseconds>(Steady::now() - since).count() : -1;
  }

  std::string url_;
  std::vector<pid_t> spawned_; // every host started, for TearDown
  std::mt19937 rng_{20261207};
  std::map<std::string, std::map<std::string, Expected>> expected_; // connection → month
};

TEST_F(MultiHostTest, ThreeHostsKilledAtRandomMomentsLandEveryMonthExactlyOnce) {
  constexpr std::size_t kConnections = 300;
  constexpr int kRounds = 7, kKillsPerRound = 3;
  emulator::EmulatorOptions options;
  options.store = dir_ / "emulator.db";
  options.faults.latency_min = milliseconds(2);
  options.faults.latency_max = milliseconds(10);
  emulator::Emulator emulator(options);
  ASSERT_TRUE(emulator.start("127.0.0.1", 0).ok());

  std::vector<Host> hosts(3);
  for (int i = 0; i < 3; ++i) {
    hosts[i].config = write_config(i, kConnections, emulator.base_url());
  }
  restate(kConnections);
  for (int i = 0; i < 3; ++i)
    start(hosts[i], i);
  // The first syncs (backfills) of every connection, spread over the hosts.
  ASSERT_EQ(wait_landed(emulator, milliseconds(120'000)), "");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM leases"), std::to_string(kConnections));
  EXPECT_EQ(sql("SELECT COUNT(DISTINCT owner) FROM leases WHERE expires_at > now()"), "3");

  std::uniform_int_distribution<int> moment(50, 1500);
  std::uniform_int_distribution<int> which(0, 2);
  std::vector<std::int64_t> moves;
  int kills = 0;
  for (int round = 0; round < kRounds; ++round) {
    restate(kConnections);
    // One verify, to one host (which may be the next one killed): it writes a run request per
    // connection to the store, and whichever host holds (or next claims) a connection's lease
    // runs it, through the kills and the leases moving back and forth.
    verify(hosts[round % 3]);
    for (int k = 0; k < kKillsPerRound; ++k) {
      std::this_thread::sleep_for(milliseconds(moment(rng_)));
      Host& victim = hosts[which(rng_)];
      const std::string owner = owner_of(victim.pid);
      ASSERT_FALSE(owner.empty());
      const int held = std::stoi(sql("SELECT COUNT(*) FROM leases WHERE owner = '" + owner + "'"));
      ::kill(victim.pid, SIGKILL);
      const Steady::time_point killed = Steady::now();
      EXPECT_EQ(test::wait_exit(victim.pid), -SIGKILL);
      ++kills;
      start(victim, static_cast<int>(&victim - hosts.data()));
      // Its connections move within the TTL plus one tick (1 s), with 2 s to spare for a
      // loaded machine.
      const std::int64_t moved =
          wait_moved(owner, killed, milliseconds((kTtlSeconds + 1 + 2) * 1000));
      EXPECT_GE(moved, 0) << "the leases of a host killed " << kills << " did not move";
      if (held > 0)
        moves.push_back(moved);
    }
    // Every month of this round's restatement lands exactly once.
    ASSERT_EQ(wait_landed(emulator, milliseconds(120'000)), "") << "round " << round;
  }
  EXPECT_EQ(kills, kRounds * kKillsPerRound);
  ASSERT_FALSE(moves.empty());
  std::sort(moves.begin(), moves.end());
  std::cout << "[ figures ] kills: " << kills << ", leases moved after (ms): median "
            << moves[moves.size() / 2] << ", max " << moves.back() << std::endl;
  EXPECT_LE(moves.back(), (kTtlSeconds + 1 + 2) * 1000);
  // No lease was ever given to two hosts: the tokens only grew, one claim each.
  EXPECT_EQ(sql("SELECT COUNT(*) FROM leases WHERE token < 1"), "0");
  for (Host& host : hosts) {
    ::kill(host.pid, SIGTERM);
    EXPECT_EQ(test::wait_exit(host.pid, milliseconds(20'000)), 0);
  }
}

TEST_F(MultiHostTest, AHostPausedPastItsTtlFencesItselfAndSendsNothingStale) {
  constexpr std::size_t kConnections = 40;
  emulator::EmulatorOptions options;
  options.store = dir_ / "emulator.db";
  // Slow enough that the paused host is caught mid-send.
  options.faults.latency_min = milliseconds(20);
  options.faults.latency_max = milliseconds(60);
  emulator::Emulator emulator(options);
  ASSERT_TRUE(emulator.start("127.0.0.1", 0).ok());
  // Each host reaches the API through its own proxy, which counts its requests.
  test::LoopbackProxy proxy_a(emulator.port());
  test::LoopbackProxy proxy_b(emulator.port());
  std::vector<Host> hosts(2);
  hosts[0].config =
      write_config(0, kConnections, "http://127.0.0.1:" + std::to_string(proxy_a.port()));
  hosts[1].config =
      write_config(1, kConnections, "http://127.0.0.1:" + std::to_string(proxy_b.port()));
  restate(kConnections);
  start(hosts[0], 0);
  start(hosts[1], 1);
  ASSERT_EQ(wait_landed(emulator, milliseconds(120'000)), "");
  // Both hosts hold leases (the fair share settles within a few ticks).
  ASSERT_TRUE(test::eventually(
      [&] {
        return sql("SELECT COUNT(DISTINCT owner) FROM leases WHERE expires_at > now()") == "2";
      },
      milliseconds(20'000)));

  int paused_mid_send = 0;
  for (int round = 0; round < 3; ++round) {
    restate(kConnections);
    const std::string owner = owner_of(hosts[0].pid);
    // A holds some of the connections again: a loaded machine can make it miss a heartbeat at
    // this short TTL, and B then holds everything until the fair share gives A its half back.
    ASSERT_TRUE(test::eventually(
        [&] {
          const std::string held = sql("SELECT COUNT(*) FROM leases WHERE owner = '" + owner +
                                       "' AND expires_at > now()");
          return !held.empty() && std::stoi(held) >= 5;
        },
        milliseconds(60'000)))
        << "round " << round;
    const std::size_t a_before = proxy_a.requests_forwarded();
    // One verify, to the host about to be paused: its connections' run requests stay pending
    // until B, holding their leases after A's TTL, carries them out.
    const std::string job = verify(hosts[0]);
    ASSERT_NE(job, "") << "round " << round;
    // Pause A once it is sending this round (its verify first checks every connection, each in
    // a plugin runner under serve: slow when the other multi-host test runs beside this one).
    ASSERT_TRUE(proxy_a.wait_for_requests(a_before + 3, milliseconds(90'000)));
    ::kill(hosts[0].pid, SIGSTOP);
    const Steady::time_point stopped = Steady::now();
    ++paused_mid_send;
    // Past its TTL B takes A's connections and finishes them.
    EXPECT_GE(wait_moved(owner, stopped, milliseconds((kTtlSeconds + 1 + 2) * 1000)), 0);
    ASSERT_EQ(wait_landed(emulator, milliseconds(60'000)), "") << "round " << round;
    // A continues: it finds its leases gone and sends nothing more for them. A send already on
    // its way when A was paused (it passed the fence before the pause: at most one per worker)
    // may still complete; no send starts after that. Sends are the POSTs (the GETs of a verify's
    // read-back change nothing and are not fenced), and a send counts as stale when its
    // connection's lease is not A's afterwards: once back, A may win leases again by the fair
    // share, and send for them rightly.
    const std::size_t a_at_continue = proxy_a.posts_forwarded();
    ::kill(hosts[0].pid, SIGCONT);
    std::this_thread::sleep_for(milliseconds(1000));
    const std::size_t a_drained = proxy_a.posts_forwarded();
    const std::vector<std::string> in_flight = stale_posts(proxy_a, a_at_continue, owner);
    EXPECT_LE(in_flight.size(), 6u)
        << "more than one send in flight per worker: POSTs for " << join(in_flight) << " (all "
        << a_drained - a_at_continue << " POSTs after the pause; held by A now: " << held_by(owner)
        << ")";
    std::this_thread::sleep_for(milliseconds(kTtlSeconds * 1000));
    EXPECT_EQ(join(stale_posts(proxy_a, a_drained, owner)), "")
        << "the paused host sent after it lost its leases";
    // Nothing stale was applied: every month still equals this round's source.
    EXPECT_EQ(difference(emulator), "") << "round " << round;
    // This round's verify ends before the next round starts: a verify still running would
    // answer the next POST with its own job, whose run requests predate the next restatement.
    EXPECT_TRUE(verify_completed(hosts[0], job, milliseconds(60'000))) << "round " << round;
    // Let A take its share back before the next round.
    ASSERT_TRUE(test::eventually(
        [&] {
          return sql("SELECT COUNT(*) FROM leases WHERE owner = '" + owner_of(hosts[0].pid) +
                     "' AND expires_at > now()") != "0";
        },
        milliseconds(20'000)));
  }
  EXPECT_EQ(paused_mid_send, 3);
  // The POST counts above saw A's sends (it held half the leases between the pauses).
  EXPECT_GT(proxy_a.posts_forwarded(), 0u);
  const std::string log = test::read_text(dir_ / "host0-0.err");
  EXPECT_NE(log.find("serve.lease_lost"), std::string::npos) << log.substr(0, 2000);
  for (Host& host : hosts) {
    ::kill(host.pid, SIGTERM);
    EXPECT_EQ(test::wait_exit(host.pid, milliseconds(20'000)), 0);
  }
}

} // namespace
} // namespace billdrop
