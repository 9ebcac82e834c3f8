// The PostgreSQL store's leases: a connection is leased to one host at a time, each claim takes
// the next fencing token, heartbeats renew only what is still this host's, and every write of a
// host that lost a lease is refused (the self-fence before a request too). Against the tests'
// real PostgreSQL cluster; "hosts" are stores with their own connection.
#include "store/postgres/postgres_store.hpp"
#include "support/postgres_cluster.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

namespace billdrop::store {
namespace {

using std::chrono::milliseconds;
using SystemTime = std::chrono::system_clock::time_point;
using test::PostgresCluster;

const SystemTime kAt = SystemTime(milliseconds(1'786'000'000'123));

class PostgresLeaseTest : public ::testing::Test {
protected:
  void SetUp() override { url_ = PostgresCluster::shared().create_database(); }

  std::unique_ptr<PostgresStore> host(milliseconds ttl = milliseconds(60'000)) {
    Result<std::unique_ptr<PostgresStore>> store = PostgresStore::open(url_, ttl, true);
    EXPECT_TRUE(store.ok()) << store.error().message();
    return std::move(store).value();
  }

  static std::vector<LeaseKey> keys(std::size_t count) {
    std::vector<LeaseKey> out;
    for (std::size_t i = 0; i < count; ++i)
      out.push_back({"conn-" + std::to_string(i), "id-" + std::to_string(i)});
    return out;
  }

  // Expires a lease in the database, as if its holder had been paused past the TTL.
  void expire(const std::string& name) {
    PostgresCluster::query(url_, "UPDATE leases SET expires_at = now() - interval '1 second' "
                                 "WHERE name = '" +
                                     name + "'");
  }

  std::string sql(const std::string& statement) { return PostgresCluster::query(url_, statement); }

  std::string url_;
};

plan::DropPlan one_chunk_plan() {
  plan::DropPlan plan;
  plan.month = Month(2026, 8);
  plan.digest = "digest-a";
  plan.rows = 3;
  plan.cost = Decimal::from_string("12.50");
  plan.chunks.resize(1);
  return plan;
}

TEST_F(PostgresLeaseTest, EachConnectionIsLeasedToOneHostAndTokensGrowOnEveryClaim) {
  auto a = host();
  auto b = host();
  Result<std::vector<Lease>> first = a->claim(keys(10), 6);
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(first->size(), 6u);
  Result<std::vector<Lease>> second = b->claim(keys(10), 10);
  ASSERT_TRUE(second.ok()) << second.error().message();
  EXPECT_EQ(second->size(), 4u); // only the free ones
  std::set<std::string> names;
  for (const Lease& lease : *first) {
    names.insert(lease.name);
    EXPECT_EQ(lease.token, 1u);
    EXPECT_FALSE(lease.taken_over);
    EXPECT_TRUE(a->holds(lease.name));
    EXPECT_FALSE(b->holds(lease.name));
  }
  for (const Lease& lease : *second)
    EXPECT_TRUE(names.insert(lease.name).second) << lease.name << " leased twice";
  EXPECT_EQ(names.size(), 10u);
  EXPECT_TRUE(a->claim(keys(10), 10)->empty());

  // Expired: the next claim takes it over with the next token.
  const std::string moved = (*first)[0].name;
  expire(moved);
  Result<std::vector<Lease>> taken = b->claim(keys(10), 10);
  ASSERT_EQ(taken->size(), 1u);
  EXPECT_EQ((*taken)[0].name, moved);
  EXPECT_EQ((*taken)[0].token, 2u);
  EXPECT_TRUE((*taken)[0].taken_over);
  EXPECT_EQ(sql("SELECT token FROM leases WHERE name = '" + moved + "'"), "2");
  EXPECT_EQ(sql("SELECT owner FROM leases WHERE name = '" + moved + "'"), b->owner());
}

TEST_F(PostgresLeaseTest, AHostThatLostItsLeaseWritesNothingAndSendsNothing) {
  auto a = host();
  auto b = host();
  const std::vector<LeaseKey> acme = {{"acme", "acme-id"}};
  ASSERT_EQ(a->claim(acme, 1)->size(), 1u);
  const plan::DropPlan plan = one_chunk_plan();
  Result<send::SendStart> started = a->begin_send("acme-id", plan.month, plan.digest, kAt);
  ASSERT_TRUE(started.ok()) << started.error().message();
  EXPECT_TRUE(a->check_before_request("acme-id").ok());

  // A is paused past its TTL; B claims the connection.
  expire("acme");
  ASSERT_EQ(b->claim(acme, 1)->size(), 1u);

  const Status fence = a->check_before_request("acme-id");
  ASSERT_FALSE(fence.ok());
  EXPECT_NE(fence.error().message().find("fenced"), std::string::npos) << fence.error().message();
  EXPECT_FALSE(a->holds("acme")); // found out: dropped from what it holds
  send::Attempt attempt;
  attempt.connection_id = "acme-id";
  attempt.month = plan.month;
  attempt.plan_digest = plan.digest;
  attempt.idempotency_key = "k";
  attempt.outcome = send::Outcome::acknowledged;
  EXPECT_FALSE(a->record_attempt(attempt).ok());
  EXPECT_FALSE(a->save_key_state("acme-id", plan.month, started->generation, {{0, {1, 0}}}).ok());
  EXPECT_FALSE(a->mark_chunk_acknowledged("acme-id", plan.month, plan.digest, 0, "d", kAt).ok());
  EXPECT_FALSE(a->mark_month_failed("acme-id", plan.month, plan.digest, "stale", kAt).ok());
  EXPECT_FALSE(a->begin_send("acme-id", plan.month, plan.digest, kAt).ok());
  ConnectionRecord record;
  record.connection = "acme";
  record.last_error = "stale";
  EXPECT_FALSE(a->save_connection(record).ok());
  EXPECT_FALSE(a->begin_job("sync", "acme").ok());
  EXPECT_EQ(sql("SELECT COUNT(*) FROM send_attempts"), "0");
  EXPECT_EQ(sql("SELECT COUNT(*) FROM connection_state"), "0");
  EXPECT_EQ(a->month_status("acme-id", plan.month)->state, MonthSyncState::pending);

  // B, the holder, resumes the same send (same generation: the same keys) and finishes it.
  Result<send::SendStart> resumed = b->begin_send("acme-id", plan.month, plan.digest, kAt);
  ASSERT_TRUE(resumed.ok()) << resumed.error().message();
  EXPECT_TRUE(resumed->resumed);
  EXPECT_EQ(resumed->generation.number, started->generation.number);
  EXPECT_TRUE(b->check_before_request("acme-id").ok());
  ASSERT_TRUE(b->record_attempt(attempt).ok());
  ASSERT_TRUE(b->mark_chunk_acknowledged("acme-id", plan.month, plan.digest, 0, "d", kAt).ok());
  ASSERT_TRUE(b->mark_month_synced("acme-id", plan, kAt).ok());
  EXPECT_EQ(a->month_status("acme-id", plan.month)->state, MonthSyncState::synced);
  EXPECT_EQ(sql("SELECT host FROM send_attempts"), b->owner());
}

TEST_F(PostgresLeaseTest, AnUnclaimedConnectionIsFencedToo) {
  auto a = host();
  const Status fence = a->check_before_request("never-claimed");
  ASSERT_FALSE(fence.ok());
  EXPECT_NE(fence.error().message().find("holds no lease"), std::string::npos);
  EXPECT_FALSE(a->begin_send("never-claimed", Month(2026, 8), "d", kAt).ok());
}

TEST_F(PostgresLeaseTest, HeartbeatsRenewWhatIsStillHeldAndReportWhatWasLost) {
  auto a = host(milliseconds(30'000));
  auto b = host(milliseconds(30'000));
  ASSERT_EQ(a->claim(keys(3), 3)->size(), 3u);
  // Renewal moves the expiry on (the database's clock): set it near, renew, it is a TTL away.
  sql("UPDATE leases SET expires_at = now() + interval '2 seconds'");
  Result<HeartbeatResult> beat = a->heartbeat();
  ASSERT_TRUE(beat.ok()) << beat.error().message();
  EXPECT_TRUE(beat->lost.empty());
  EXPECT_EQ(beat->live_hosts, 2u);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM leases WHERE expires_at > now() + interval '20 seconds'"),
            "3");
  // One lapsed (nobody claimed it yet): lost all the same; one taken by B: lost.
  expire("conn-0");
  sql("UPDATE leases SET owner = '" + b->owner() + "', token = token + 1 WHERE name = 'conn-1'");
  beat = a->heartbeat();
  ASSERT_TRUE(beat.ok()) << beat.error().message();
  std::sort(beat->lost.begin(), beat->lost.end());
  EXPECT_EQ(beat->lost, (std::vector<std::string>{"conn-0", "conn-1"}));
  EXPECT_EQ(a->held(), 1u);
  EXPECT_TRUE(a->holds("conn-2"));
}

TEST_F(PostgresLeaseTest, HostsClaimingAtOnceNeverShareALease) {
  constexpr std::size_t kHosts = 4, kConnections = 200;
  std::vector<std::unique_ptr<PostgresStore>> hosts;
  for (std::size_t i = 0; i < kHosts; ++i)
    hosts.push_back(host());
  std::vector<std::vector<Lease>> won(kHosts);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < kHosts; ++i)
    threads.emplace_back([&, i] {
      // Small batches, many rounds: the claims interleave.
      for (int round = 0; round < 20; ++round) {
        Result<std::vector<Lease>> claimed = hosts[i]->claim(keys(kConnections), 5);
        ASSERT_TRUE(claimed.ok()) << claimed.error().message();
        won[i].insert(won[i].end(), claimed->begin(), claimed->end());
      }
    });
  for (std::thread& thread : threads)
    thread.join();
  std::set<std::string> all;
  std::size_t total = 0;
  for (std::size_t i = 0; i < kHosts; ++i) {
    total += won[i].size();
    EXPECT_EQ(hosts[i]->held(), won[i].size());
    for (const Lease& lease : won[i]) {
      EXPECT_TRUE(all.insert(lease.name).second) << lease.name << " leased twice";
      EXPECT_EQ(lease.token, 1u);
    }
  }
  EXPECT_EQ(total, kConnections);
  EXPECT_EQ(sql("SELECT COUNT(DISTINCT owner) FROM leases"), std::to_string(kHosts));
}

TEST_F(PostgresLeaseTest, AReleasedLeaseIsClaimedAtOnceAndNotAsATakeover) {
  auto a = host();
  auto b = host();
  ASSERT_EQ(a->claim(keys(1), 1)->size(), 1u);
  EXPECT_TRUE(b->claim(keys(1), 1)->empty());
  ASSERT_TRUE(a->release("conn-0").ok());
  EXPECT_FALSE(a->holds("conn-0"));
  Result<std::vector<Lease>> claimed = b->claim(keys(1), 1);
  ASSERT_EQ(claimed->size(), 1u);
  EXPECT_EQ((*claimed)[0].token, 2u);
  EXPECT_FALSE((*claimed)[0].taken_over);
}

TEST_F(PostgresLeaseTest, JobsOfAHostWhoseHeartbeatStoppedAreInterrupted) {
  auto a = host();
  auto b = host();
  ASSERT_EQ(a->claim(keys(1), 1)->size(), 1u);
  Result<std::string> job = a->begin_job("sync", "conn-0");
  ASSERT_TRUE(job.ok()) << job.error().message();
  // A is alive: its job is not touched.
  EXPECT_EQ(*b->interrupt_orphaned_jobs(), 0u);
  // A's heartbeat stops (its host row expires).
  sql("UPDATE hosts SET expires_at = now() - interval '1 second' WHERE owner = '" + a->owner() +
      "'");
  EXPECT_EQ(*b->interrupt_orphaned_jobs(), 1u);
  Result<std::optional<JobRecord>> record = b->job(*job);
  ASSERT_TRUE(record.ok() && record->has_value());
  EXPECT_EQ((*record)->state, JobState::interrupted);
  EXPECT_NE((*record)->message.find(a->owner()), std::string::npos) << (*record)->message;
}

TEST_F(PostgresLeaseTest, MigrationsAreVersionedAndANewerSchemaIsRefused) {
  Result<int> first = PostgresStore::migrate(url_);
  ASSERT_TRUE(first.ok()) << first.error().message();
  EXPECT_EQ(*first, 0);
  Result<int> again = PostgresStore::migrate(url_);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, PostgresStore::kSchemaVersion);
  EXPECT_EQ(sql("SELECT version FROM billdrop_schema"),
            std::to_string(PostgresStore::kSchemaVersion));
  sql("UPDATE billdrop_schema SET version = 99");
  Result<std::unique_ptr<PostgresStore>> newer =
      PostgresStore::open(url_, milliseconds(60'000), false);
  ASSERT_FALSE(newer.ok());
  EXPECT_EQ(newer.error().kind(), ErrorKind::config);
  EXPECT_NE(newer.error().message().find("version 99"), std::string::npos)
      << newer.error().message();
}

TEST_F(PostgresLeaseTest, HostsStartingAtOnceMigrateOnce) {
  std::vector<std::thread> threads;
  std::atomic<int> opened{0};
  for (int i = 0; i < 4; ++i)
    threads.emplace_back([&] {
      Result<std::unique_ptr<PostgresStore>> store =
          PostgresStore::open(url_, milliseconds(60'000), true);
      EXPECT_TRUE(store.ok()) << store.error().message();
      opened += store.ok() ? 1 : 0;
    });
  for (std::thread& thread : threads)
    thread.join();
  EXPECT_EQ(opened.load(), 4);
  EXPECT_EQ(sql("SELECT COUNT(*) FROM store_info"), "1");
}

TEST_F(PostgresLeaseTest, AnUnreachableDatabaseIsAConfigErrorWithoutThePassword) {
  Result<std::unique_ptr<PostgresStore>> store =
      PostgresStore::open("host=/nonexistent-billdrop port=5432 user=x password=s3cret dbname=x",
                          milliseconds(1000), true);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().kind(), ErrorKind::config);
  EXPECT_EQ(store.error().message().find("s3cret"), std::string::npos);
}

// A run request asked of one host is carried out by the host holding the connection's lease,
// marked with its token; a host that lost the lease (or ran under an older token) marks nothing,
// and the request waits for the next holder.
TEST_F(PostgresLeaseTest, ARunRequestIsMarkedDoneOnlyUnderTheHoldersToken) {
  auto a = host();
  auto b = host();
  auto asker = host(); // holds no lease: any host may ask
  const std::vector<LeaseKey> acme = {{"acme", "acme-id"}};
  ASSERT_EQ(a->claim(acme, 1)->size(), 1u);
  const std::uint64_t a_token = a->token("acme");
  EXPECT_EQ(a_token, 1u);
  EXPECT_EQ(b->token("acme"), 0u);
  Result<std::vector<std::string>> ids = asker->request_runs({"acme"}, "job_verify");
  ASSERT_TRUE(ids.ok()) << ids.error().message();
  EXPECT_EQ(sql("SELECT requested_by FROM run_requests"), asker->owner());
  // Every host sees it pending.
  ASSERT_EQ(a->pending_runs({"acme"})->size(), 1u);
  ASSERT_EQ(b->pending_runs({"acme"})->size(), 1u);

  // A is paused past its TTL mid-run; B claims the connection. A's mark is refused.
  expire("acme");
  ASSERT_EQ(b->claim(acme, 1)->size(), 1u);
  const std::uint64_t b_token = b->token("acme");
  EXPECT_EQ(b_token, a_token + 1);
  const Status stale = a->finish_runs("acme", *ids, "job_a", a_token);
  ASSERT_FALSE(stale.ok());
  EXPECT_NE(stale.error().message().find("fenced"), std::string::npos) << stale.error().message();
  EXPECT_EQ(sql("SELECT done FROM run_requests"), "f");
  // A host not holding the lease at all marks nothing either.
  EXPECT_FALSE(asker->finish_runs("acme", *ids, "job_x", 0).ok());
  // B, running under an older token than the one it holds now, marks nothing.
  EXPECT_FALSE(b->finish_runs("acme", *ids, "job_b0", b_token - 1).ok());
  EXPECT_EQ(sql("SELECT done FROM run_requests"), "f");

  // B's run under its token carries it out.
  ASSERT_TRUE(b->finish_runs("acme", *ids, "job_b", b_token).ok());
  EXPECT_EQ(sql("SELECT done || ' ' || job || ' ' || done_by || ' ' || token FROM run_requests"),
            "true job_b " + b->owner() + " " + std::to_string(b_token));
  Result<std::vector<RunRequest>> read = asker->run_requests(*ids);
  ASSERT_TRUE(read.ok());
  ASSERT_EQ(read->size(), 1u);
  EXPECT_TRUE(read->at(0).done);
  EXPECT_EQ(read->at(0).done_by, b->owner());
  EXPECT_EQ(read->at(0).token, b_token);
  EXPECT_EQ(read->at(0).parent, "job_verify");
  EXPECT_TRUE(a->pending_runs()->empty());
}

} // namespace
} // namespace billdrop::store
