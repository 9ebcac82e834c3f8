// How a plugin runner's rows reach the host (issue 15): the shared-memory ring (row_ring.hpp),
// the pipe for batches too large for it, the batch layout both share (runner_protocol.hpp), and
// what the host does when a runner dies mid-batch or breaks the ring's rules
// (hostile_runner/hostile_runner.cpp).
#include "source/process_session.hpp"
#include "source/row_ring.hpp"
#include "source/runner_protocol.hpp"

#include <gtest/gtest.h>
#include <support/broken_plugins.hpp>

#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <deque>
#include <map>
#include <random>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace billdrop {
namespace {

namespace fs = std::filesystem;
namespace runner = source::runner;

// ---- The runner's placement of batches in the ring.

TEST(RingPlacer, PlacesBatchesInOrderAndWaitsForReleases) {
  runner::RingPlacer ring(100);
  EXPECT_EQ(ring.place(40), 0u);
  EXPECT_EQ(ring.place(40), 40u);
  EXPECT_EQ(ring.place(30), std::nullopt); // 80..110 would cross the end: 100..130, over 0..40
  ring.release(40);
  EXPECT_EQ(ring.place(30), 100u);         // from the next lap, over the first batch's bytes
  EXPECT_EQ(ring.place(20), std::nullopt); // 130..150 would overwrite the second batch (40..80)
  ring.release(80);
  EXPECT_EQ(ring.place(20), 130u);
  EXPECT_FALSE(ring.empty());
  ring.release(150);
  EXPECT_TRUE(ring.empty());
}

TEST(RingPlacer, AnEmptyRingTakesABatchOfItsWholeSizeWhereverItsHeadIs) {
  runner::RingPlacer ring(100);
  EXPECT_EQ(ring.place(30), 0u);
  EXPECT_EQ(ring.place(100), std::nullopt);
  ring.release(30);
  // Empty: the batch starts the next lap (at offset 0), the 70 bytes skipped are nobody's.
  EXPECT_EQ(ring.place(100), 100u);
  EXPECT_EQ(ring.place(1), std::nullopt);
  ring.release_all();
  EXPECT_EQ(ring.place(1), 200u);
}

TEST(RingPlacer, AReleaseBeyondWhatWasPlacedOrALateOneChangesNothingWrong) {
  runner::RingPlacer ring(100);
  EXPECT_EQ(ring.place(60), 0u);
  ring.release(1'000'000); // more than was placed: only what was placed is free
  EXPECT_TRUE(ring.empty());
  EXPECT_EQ(ring.place(60), 100u);
  ring.release(10); // older than what was released: ignored
  EXPECT_EQ(ring.place(50), std::nullopt);
}

TEST(RingPlacer, RandomBatchesNeverOverlapWhatTheHostStillHolds) {
  // Batches of random sizes (small ones, and up to the whole ring), the host releasing the oldest
  // few at random moments: every batch placed lies inside the ring, apart from every batch the
  // host holds, after the one placed before.
  std::mt19937 random(3);
  const std::size_t capacity = 1000;
  runner::RingPlacer ring(capacity);
  std::deque<std::pair<std::uint64_t, std::size_t>> held; // position, size; oldest first
  std::uint64_t end = 0;
  std::size_t placed = 0;
  std::size_t waited = 0;
  for (int i = 0; i < 100'000; ++i) {
    if (!held.empty() && random() % 3 == 0) {
      for (std::size_t n = 1 + random() % held.size(); n > 0; --n) {
        ring.release(held.front().first + held.front().second);
        held.pop_front();
      }
      continue;
    }
    const std::size_t size = random() % 4 != 0 ? random() % 60 : random() % (capacity + 1);
    const std::optional<std::uint64_t> position = ring.place(size);
    if (!position) {
      ++waited;
      ASSERT_FALSE(held.empty()) << "an empty ring takes any batch up to its size";
      continue;
    }
    ASSERT_GE(*position, end);
    end = *position + size;
    const std::optional<std::size_t> offset = runner::ring_span(*position, size, capacity);
    ASSERT_TRUE(offset) << *position << " " << size;
    for (const auto& [other_position, other_size] : held) {
      const std::size_t other = other_position % capacity;
      const bool apart =
          size == 0 || other_size == 0 || *offset + size <= other || other + other_size <= *offset;
      ASSERT_TRUE(apart) << "batch at " << *offset << " (" << size << " bytes) over one at "
                         << other << " (" << other_size << " bytes)";
    }
    held.emplace_back(*position, size);
    ++placed;
  }
  EXPECT_GT(placed, 30'000u);
  EXPECT_GT(waited, 1'000u);
}

TEST(RingSpan, OnlyABatchWhollyInsideTheRingHasAnOffset) {
  EXPECT_EQ(runner::ring_span(0, 100, 100), 0u);
  EXPECT_EQ(runner::ring_span(250, 50, 100), 50u);
  EXPECT_EQ(runner::ring_span(251, 50, 100), std::nullopt); // crosses the end
  EXPECT_EQ(runner::ring_span(0, 101, 100), std::nullopt);
  EXPECT_EQ(runner::ring_span(0, 0, 100), 0u);
  EXPECT_EQ(runner::ring_span(UINT64_MAX - 3, 64, 1 << 20), std::nullopt);
  EXPECT_EQ(runner::ring_span(UINT64_MAX, UINT64_MAX, 1 << 20), std::nullopt);
  EXPECT_EQ(runner::ring_span(5, 1, 0), std::nullopt);
}

// ---- The column names' numbers.

TEST(KeyEncoder, KeysOfOneLengthThatDifferInAnyOneByteAreDifferentKeys) {
  // The key at the same position in the row before is compared first (word by word): for every
  // length up to 40 and every byte, a key that differs there only is a new key.
  for (std::size_t length = 1; length <= 40; ++length) {
    for (std::size_t at = 0; at < length; ++at) {
      runner::KeyEncoder keys;
      std::vector<bd_str> defined;
      const std::string first(length, 'k');
      std::string second = first;
      second[at] = 'j';
      EXPECT_EQ(keys.id(0, bd_str{first.data(), first.size()}, defined), 0u);
      EXPECT_EQ(keys.id(0, bd_str{second.data(), second.size()}, defined), 1u)
          << length << " " << at;
      const std::string again = first; // equal bytes elsewhere
      EXPECT_EQ(keys.id(0, bd_str{again.data(), again.size()}, defined), 0u);
      EXPECT_EQ(keys.id(0, bd_str{again.data(), again.size()}, defined), 0u);
      EXPECT_EQ(defined.size(), 2u);
    }
  }
}

// ---- The batch layout.

struct Rows {
  std::vector<std::string> texts;
  std::vector<bd_field> fields;
  std::vector<bd_row> rows;
};

// `count` rows of 3 fields; the third key changes from row 2 on, and one value is long (the
// 255 escape of put_small()).
Rows sample_rows(std::size_t count) {
  Rows out;
  out.texts.reserve(count * 4);
  out.fields.reserve(count * 3);
  for (std::size_t i = 0; i < count; ++i) {
    out.texts.push_back("origin:" + std::to_string(i));
    out.texts.push_back(std::to_string(i) + ".25");
    out.texts.push_back(i == 1 ? std::string(300, 'v') : "value-" + std::to_string(i));
    const std::size_t at = out.texts.size() - 3;
    const char* third = i >= 2 ? "resource/tag:late" : "resource/id";
    out.fields.push_back(bd_field{bd_str{"cost/cost", 9},
                                  bd_str{out.texts[at + 1].data(), out.texts[at + 1].size()}});
    out.fields.push_back(
        bd_field{bd_str{"time/usage_start", 16}, bd_str{"2024-08-01T00:00:00Z", 20}});
    out.fields.push_back(bd_field{bd_str{third, std::strlen(third)},
                                  bd_str{out.texts[at + 2].data(), out.texts[at + 2].size()}});
  }
  for (std::size_t i = 0; i < count; ++i)
    out.rows.push_back(
        bd_row{&out.fields[i * 3], 3, bd_str{out.texts[i * 3].data(), out.texts[i * 3].size()}});
  return out;
}

std::string text(bd_str s) {
  return std::string(s.data, s.size);
}

TEST(RowsLayout, ABatchDecodesFromItsHeadAndItsValuesApart) {
  const Rows sample = sample_rows(5);
  runner::RowsEncoder encoder;
  encoder.measure(sample.rows.data(), sample.rows.size());
  std::string batch(encoder.size(), '\0');
  encoder.write(batch.data());
  ASSERT_LT(encoder.head_size(), encoder.size());
  EXPECT_EQ(runner::rows_head_size(batch.data(), batch.size()), encoder.head_size());

  // The head in one buffer, the values in another (as the host reads a ring batch).
  const std::string head = batch.substr(0, encoder.head_size());
  const std::string values = batch.substr(encoder.head_size());
  runner::KeyTable keys;
  std::vector<bd_row> rows;
  std::vector<bd_field> fields;
  ASSERT_TRUE(runner::read_rows(head.data(), head.size(), values.data(), values.size(), keys, rows,
                                fields));
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(keys.size(), 4u);
  for (std::size_t i = 0; i < 5; ++i) {
    EXPECT_EQ(text(rows[i].origin), "origin:" + std::to_string(i));
    ASSERT_EQ(rows[i].field_count, 3u);
    for (std::size_t f = 0; f < 3; ++f) {
      EXPECT_EQ(text(rows[i].fields[f].key), text(sample.rows[i].fields[f].key));
      EXPECT_EQ(text(rows[i].fields[f].value), text(sample.rows[i].fields[f].value));
      // Every value lies in the values buffer.
      EXPECT_GE(rows[i].fields[f].value.data, values.data());
      EXPECT_LE(rows[i].fields[f].value.data + rows[i].fields[f].value.size,
                values.data() + values.size());
    }
  }
  // A second batch of the same keys defines none: its head is smaller, and it names them by number.
  runner::RowsEncoder again = std::move(encoder);
  again.measure(sample.rows.data() + 2, 3);
  std::string second(again.size(), '\0');
  again.write(second.data());
  ASSERT_TRUE(runner::read_rows(second.data(), second.size(), keys, rows, fields));
  EXPECT_EQ(keys.size(), 4u);
  EXPECT_EQ(text(rows[0].fields[2].key), "resource/tag:late");
}

TEST(RowsLayout, EveryTruncationAndEveryOneByteChangeIsRefusedOrStaysInsideTheBatch) {
  const Rows sample = sample_rows(4);
  runner::RowsEncoder encoder;
  encoder.measure(sample.rows.data(), sample.rows.size());
  std::string batch(encoder.size(), '\0');
  encoder.write(batch.data());
  const std::size_t head = encoder.head_size();
  std::vector<bd_row> rows;
  std::vector<bd_field> fields;
  for (std::size_t cut = 0; cut < head; ++cut) {
    runner::KeyTable keys;
    EXPECT_FALSE(runner::read_rows(batch.data(), cut, batch.data() + head, batch.size() - head,
                                   keys, rows, fields))
        << "a head cut at " << cut;
  }
  runner::KeyTable keys_once;
  EXPECT_FALSE(runner::read_rows(batch.data(), head, batch.data() + head, batch.size() - head - 1,
                                 keys_once, rows, fields));
  // Every byte of the head changed to each of a few values: refused, or decoded into rows that lie
  // inside the values (a changed size may still add up).
  std::size_t accepted = 0;
  for (std::size_t at = 0; at < head; ++at) {
    for (const unsigned char value : {0x00, 0x01, 0x7f, 0xfe, 0xff}) {
      std::string broken = batch;
      if (static_cast<unsigned char>(broken[at]) == value)
        continue;
      broken[at] = static_cast<char>(value);
      runner::KeyTable keys;
      const char* values = broken.data() + head;
      const std::size_t values_size = broken.size() - head;
      if (!runner::read_rows(broken.data(), head, values, values_size, keys, rows, fields))
        continue;
      ++accepted;
      for (const bd_row& row : rows) {
        EXPECT_GE(row.origin.data, values);
        EXPECT_LE(row.origin.data + row.origin.size, values + values_size);
        for (std::size_t f = 0; f < row.field_count; ++f) {
          EXPECT_GE(row.fields[f].value.data, values);
          EXPECT_LE(row.fields[f].value.data + row.fields[f].value.size, values + values_size);
        }
      }
    }
  }
  EXPECT_LT(accepted, head * 5);
}

TEST(RowsLayout, CountsBeyondWhatTheSizesCanHoldAreRefusedBeforeAnythingIsAllocated) {
  const Rows sample = sample_rows(2);
  runner::RowsEncoder encoder;
  encoder.measure(sample.rows.data(), sample.rows.size());
  std::string batch(encoder.size(), '\0');
  encoder.write(batch.data());
  const std::uint32_t lie = UINT32_MAX;
  std::memcpy(batch.data(), &lie, 4);     // rows
  std::memcpy(batch.data() + 4, &lie, 4); // fields
  runner::KeyTable keys;
  std::vector<bd_row> rows;
  std::vector<bd_field> fields;
  EXPECT_FALSE(runner::read_rows(batch.data(), batch.size(), keys, rows, fields));
  EXPECT_LT(rows.capacity(), 1000u);
}

// ---- The ring's memory.

TEST(RowRing, TheHostsRingIsSealedAgainstShrinkingAndGrowing) {
  std::string error;
  std::optional<runner::RowRing> ring = runner::RowRing::create(1 << 16, error);
  ASSERT_TRUE(ring) << error;
  ASSERT_GE(ring->fd(), 10);
  EXPECT_EQ(::ftruncate(ring->fd(), 0), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(::ftruncate(ring->fd(), 1 << 17), -1);
  EXPECT_EQ(errno, EPERM);
  // What a runner's mapping writes, the host's reads.
  const int runner_fd = ::dup(ring->fd());
  std::optional<runner::RowRing> writable =
      runner::RowRing::map_writable(runner_fd, 1 << 16, error);
  ASSERT_TRUE(writable) << error;
  std::memcpy(writable->writable_data() + 65530, "hello", 5);
  EXPECT_EQ(std::string(ring->data() + 65530, 5), "hello");
  // A runner told another size maps nothing.
  const int other_fd = ::dup(ring->fd());
  EXPECT_FALSE(runner::RowRing::map_writable(other_fd, 1 << 20, error));
  EXPECT_EQ(error, "the ring holds 65536 bytes, not 1048576");
  ::close(other_fd);
}

// ---- Through real runners.

fs::path test_plugin(std::string_view name) {
  return test::broken_plugin_file(name);
}

std::shared_ptr<source::LoadedPlugin> load_or_fail(std::string_view name) {
  return test::load_broken_plugin(name);
}

source::ProcessOptions runner_options(std::size_t ring_bytes) {
  source::ProcessOptions options;
  options.runner = BILLDROP_TEST_BILLDROP_EXE;
  options.ring_bytes = ring_bytes;
  return options;
}

std::unique_ptr<source::ProcessSession>
open_or_fail(std::string_view name, const ConfigValues& config, source::ProcessOptions options) {
  Result<std::unique_ptr<source::ProcessSession>> session =
      source::ProcessSession::create(load_or_fail(name), config, std::move(options));
  if (!session)
    throw std::runtime_error(session.error().message());
  return std::move(*session);
}

// Every row as text, in order; and the events besides rows.
struct Recorder : source::RowReceiver {
  std::vector<std::string> rows;
  std::vector<std::string> events;
  int batches = 0;
  int stop_after_batches = -1;
  std::chrono::milliseconds pause_in_first_batch{0};

  bool on_rows(std::span<const bd_row> batch) override {
    for (const bd_row& row : batch) {
      std::string line = text(row.origin) + ":";
      for (std::size_t i = 0; i < row.field_count; ++i)
        line += " " + text(row.fields[i].key) + "=" + text(row.fields[i].value);
      rows.push_back(std::move(line));
    }
    if (++batches == 1)
      std::this_thread::sleep_for(pause_in_first_batch);
    return stop_after_batches < 0 || batches < stop_after_batches;
  }
  void on_reject(std::string_view origin, std::string_view reason) override {
    events.push_back("reject " + std::string(origin) + " " + std::string(reason));
  }
  void on_log(bd_log_level level, std::string_view message) override {
    events.push_back("log " + std::to_string(level) + " " + std::string(message));
  }
};

// Row i of the batches plugin, by hand (batches_plugin.cpp).
std::string batches_row(const std::string& month, std::int64_t i, std::int64_t pad = 0,
                        bool late = false) {
  char start[32];
  std::snprintf(start, sizeof start, "%s-01T%02d:00:00Z", month.c_str(),
                static_cast<int>((i - 1) % 24));
  char cost[48];
  std::snprintf(cost, sizeof cost, "%lld.%02lld", static_cast<long long>(i),
                static_cast<long long>(i % 100));
  std::string id = "r-" + std::to_string(i) + "-";
  for (std::int64_t k = 0; k < pad; ++k)
    id.push_back(static_cast<char>('a' + (i + k) % 26));
  return "batches:" + std::to_string(i) + ": time/usage_start=" + start + " cost/cost=" + cost +
         " resource/id=" + id + (late ? " resource/tag:late=yes" : "");
}

std::vector<std::string> in_process_rows(const ConfigValues& config, Month month) {
  auto instance = source::PluginInstance::create(load_or_fail("batches"), config);
  if (!instance)
    throw std::runtime_error(instance.error().message());
  Recorder recorder;
  if (Status status = (*instance)->read(month, recorder); !status)
    throw std::runtime_error(status.error().message());
  return recorder.rows;
}

TEST(RowTransport, TheRingThePipeAndInProcessGiveTheSameRows) {
  // 5,000 rows in batches of 50 (about 3 KB each), a column first met in row 2,500.
  const ConfigValues config = {{"rows", std::int64_t(5000)},
                               {"late_tag_row", std::int64_t(2500)},
                               {"flush_every", std::int64_t(50)}};
  const std::vector<std::string> expected = in_process_rows(config, Month(2024, 8));
  ASSERT_EQ(expected.size(), 5000u);
  EXPECT_EQ(expected[0], batches_row("2024-08", 1));
  EXPECT_EQ(expected[4999], batches_row("2024-08", 5000, 0, true));

  struct Way {
    const char* name;
    std::size_t ring_bytes;
  };
  // The default ring; a 64 KiB one that wraps about five times a read, so that the runner waits
  // for releases; none (every batch in the pipe).
  for (const Way way : {Way{"default ring", source::ProcessOptions{}.ring_bytes},
                        Way{"64 KiB ring", std::size_t(64) << 10}, Way{"pipe", 0}}) {
    SCOPED_TRACE(way.name);
    auto session = open_or_fail("batches", config, runner_options(way.ring_bytes));
    for (int read = 0; read < 2; ++read) { // a second read in the same runner and ring
      Recorder got;
      const Status status = session->read(Month(2024, 8), got);
      ASSERT_TRUE(status) << status.error().message();
      EXPECT_EQ(got.batches, 100);
      EXPECT_TRUE(got.rows == expected);
    }
    const auto counts = session->batch_counts();
    if (way.ring_bytes > 0) {
      EXPECT_EQ(counts.ring, 200u);
      EXPECT_EQ(counts.pipe, 0u);
    } else {
      EXPECT_EQ(counts.ring, 0u);
      EXPECT_EQ(counts.pipe, 200u);
    }
  }
}

TEST(RowTransport, ABatchTooLargeForTheRingComesThroughThePipe) {
  // Rows of about 200 KB: the SDK's batch of 40 of them (8 MB) is more than a quarter of the
  // default ring (and all of a 1 MiB one).
  const ConfigValues huge = {{"rows", std::int64_t(40)}, {"pad", std::int64_t(200'000)}};
  const std::vector<std::string> expected = in_process_rows(huge, Month(2024, 7));
  ASSERT_EQ(expected.size(), 40u);
  EXPECT_EQ(expected[39], batches_row("2024-07", 40, 200'000));
  for (const std::size_t ring_bytes : {source::ProcessOptions{}.ring_bytes, std::size_t(1) << 20}) {
    auto session = open_or_fail("batches", huge, runner_options(ring_bytes));
    Recorder got;
    const Status status = session->read(Month(2024, 7), got);
    ASSERT_TRUE(status) << status.error().message();
    EXPECT_TRUE(got.rows == expected);
    EXPECT_EQ(session->batch_counts().pipe, 1u);
    EXPECT_EQ(session->batch_counts().ring, 0u);
  }
  // Both in one read, in order: 30 rows (6 MB) through the pipe, then 10 (2 MB) through a 16 MiB
  // ring.
  ConfigValues mixed = huge;
  mixed["flush_every"] = std::int64_t(30);
  auto session = open_or_fail("batches", mixed, runner_options(std::size_t(16) << 20));
  Recorder both;
  ASSERT_TRUE(session->read(Month(2024, 7), both));
  EXPECT_TRUE(both.rows == expected);
  EXPECT_EQ(session->batch_counts().pipe, 1u);
  EXPECT_EQ(session->batch_counts().ring, 1u);
  // Batches of 2 rows (400 KB) in a ring of 2 MiB, which holds five at a time.
  ConfigValues small = huge;
  small["flush_every"] = std::int64_t(2);
  session = open_or_fail("batches", small, runner_options(std::size_t(2) << 20));
  Recorder twenty;
  ASSERT_TRUE(session->read(Month(2024, 7), twenty));
  EXPECT_TRUE(twenty.rows == expected);
  EXPECT_EQ(session->batch_counts().ring, 20u);
  EXPECT_EQ(session->batch_counts().pipe, 0u);
}

TEST(RowTransport, KeysOfBatchesSkippedAfterAStopReachTheNextRead) {
  // The receiver stops after the first batch, pausing there so that the runner sends the rest
  // meanwhile: rows 1,025.. define resource/tag:late in a batch the host skips. The next read of
  // the same runner names that key by number only.
  const ConfigValues config = {{"rows", std::int64_t(3000)}, {"late_tag_row", std::int64_t(1500)}};
  const std::vector<std::string> expected = in_process_rows(config, Month(2024, 8));
  for (const std::size_t ring_bytes : {source::ProcessOptions{}.ring_bytes, std::size_t(0)}) {
    SCOPED_TRACE(ring_bytes);
    auto session = open_or_fail("batches", config, runner_options(ring_bytes));
    const int pid = session->runner_pid();
    Recorder stopper;
    stopper.stop_after_batches = 1;
    stopper.pause_in_first_batch = std::chrono::milliseconds(300);
    const Status stopped = session->read(Month(2024, 8), stopper);
    ASSERT_FALSE(stopped);
    EXPECT_EQ(stopped.error().kind(), ErrorKind::cancelled);
    EXPECT_EQ(stopper.rows.size(), 1024u);
    Recorder whole;
    const Status status = session->read(Month(2024, 8), whole);
    ASSERT_TRUE(status) << status.error().message();
    EXPECT_TRUE(whole.rows == expected);
    EXPECT_EQ(session->runner_pid(), pid);
  }
}

// Kills the runner (SIGKILL) in its first batch, then checks every row it gets, that batch's
// and any sent before the runner died: the ring's bytes stay readable after the runner is gone.
struct Killer final : Recorder {
  int pid = -1;
  std::size_t checked = 0;
  bool on_rows(std::span<const bd_row> batch) override {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      pid = -1;
      std::this_thread::sleep_for(std::chrono::milliseconds(200)); // dead and gone by now
    }
    for (const bd_row& row : batch) {
      ++checked;
      std::string line = text(row.origin) + ":";
      for (std::size_t i = 0; i < row.field_count; ++i)
        line += " " + text(row.fields[i].key) + "=" + text(row.fields[i].value);
      EXPECT_EQ(line, batches_row("2024-08", static_cast<std::int64_t>(checked), 50));
    }
    return true;
  }
};

TEST(RowTransport, ARunnerKilledMidReadFailsTheReadClearlyAndItsRowsStayReadable) {
  const ConfigValues config = {{"rows", std::int64_t(200'000)}, {"pad", std::int64_t(50)}};
  auto session = open_or_fail("batches", config, runner_options(std::size_t(1) << 20));
  Killer killer;
  killer.pid = session->runner_pid();
  ASSERT_GT(killer.pid, 0);
  const Status status = session->read(Month(2024, 8), killer);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(), "plugin 'batches' crashed while reading 2024-08: its runner "
                                      "process was killed by SIGKILL (" +
                                          std::string(strsignal(SIGKILL)) + ")");
  EXPECT_GE(killer.checked, 1024u);
  EXPECT_LT(killer.checked, 200'000u);
  EXPECT_GT(session->batch_counts().ring, 0u);
  // The next read starts a new runner and its own ring.
  Recorder next;
  ASSERT_TRUE(session->read(Month(2024, 8), next));
  EXPECT_EQ(next.rows.size(), 200'000u);
  EXPECT_EQ(next.rows.back(), batches_row("2024-08", 200'000, 50));
}

// ---- A runner that breaks the ring's rules (hostile_runner.cpp): the host refuses, naming the
// plugin, and neither crashes nor reads outside the ring.

Status hostile_read(const std::string& mode, Recorder& recorder,
                    std::size_t ring_bytes = source::ProcessOptions{}.ring_bytes) {
  source::ProcessOptions options;
  options.runner = BILLDROP_TEST_HOSTILE_RUNNER;
  options.ring_bytes = ring_bytes;
  auto session = open_or_fail("good", {{"account", mode}}, options);
  return session->read(Month(2024, 8), recorder);
}

TEST(HostileRunner, AValidBatchIsRead) {
  Recorder got;
  const Status status = hostile_read("valid", got);
  ASSERT_TRUE(status) << status.error().message();
  EXPECT_EQ(got.rows,
            (std::vector<std::string>{"hostile:1: x=1", "hostile:2: x=2", "hostile:3: x=3"}));
}

TEST(HostileRunner, PositionsAndSizesOutsideTheRingAreRefused) {
  const std::string capacity = std::to_string(source::ProcessOptions{}.ring_bytes);
  const std::map<std::string, std::string> expected = {
      {"outside", "64 bytes at position " +
                      std::to_string(source::ProcessOptions{}.ring_bytes - 8) + ", head 16 bytes"},
      {"wrapped_position",
       "64 bytes at position " + std::to_string(UINT64_MAX - 3) + ", head 16 bytes"},
      {"head_beyond", "64 bytes at position 0, head 65 bytes"},
  };
  for (const auto& [mode, what] : expected) {
    Recorder got;
    const Status status = hostile_read(mode, got);
    ASSERT_FALSE(status) << mode;
    EXPECT_EQ(status.error().message(),
              "plugin 'good''s runner sent a batch outside its shared memory (" + what +
                  ", in a ring of " + capacity + " bytes)");
    EXPECT_TRUE(got.rows.empty());
  }
  Recorder got;
  const Status status = hostile_read("no_ring", got, 0);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(),
            "plugin 'good''s runner sent a batch in shared memory it was not given");
}

TEST(HostileRunner, GarbageAndLyingCountsAreAMalformedBatch) {
  for (const std::string mode : {"garbage", "lying_counts"}) {
    Recorder got;
    const Status status = hostile_read(mode, got);
    ASSERT_FALSE(status) << mode;
    EXPECT_EQ(status.error().message(), "plugin 'good''s runner sent a malformed batch") << mode;
    EXPECT_TRUE(got.rows.empty());
  }
}

TEST(HostileRunner, TheRingCannotBeShrunkUnderTheHost) {
  // Without the seals the host's read of the ring's last bytes would be a SIGBUS.
  Recorder got;
  const Status status = hostile_read("shrink", got);
  ASSERT_TRUE(status) << status.error().message();
  const std::string refused = " refused: " + std::string(std::strerror(EPERM));
  EXPECT_EQ(got.events,
            (std::vector<std::string>{"log 1 ftruncate to 0" + refused,
                                      "log 1 ftruncate to " +
                                          std::to_string(2 * source::ProcessOptions{}.ring_bytes) +
                                          refused}));
  EXPECT_EQ(got.rows.size(), 3u);
}

// Records how far apart the bytes of each batch lie.
struct SpanRecorder final : Recorder {
  std::size_t widest = 0;
  bool on_rows(std::span<const bd_row> batch) override {
    const char* low = nullptr;
    const char* high = nullptr;
    const auto see = [&](bd_str s) {
      if (s.size == 0)
        return;
      if (low == nullptr || s.data < low)
        low = s.data;
      if (high == nullptr || s.data + s.size > high)
        high = s.data + s.size;
    };
    for (const bd_row& row : batch) {
      see(row.origin);
      for (std::size_t i = 0; i < row.field_count; ++i)
        see(row.fields[i].value);
    }
    if (low != nullptr)
      widest = std::max(widest, static_cast<std::size_t>(high - low));
    return Recorder::on_rows(batch);
  }
};

TEST(HostileRunner, ABatchRewrittenWhileTheHostReadsItGivesRowsOrAClearError) {
  SpanRecorder got;
  const Status status = hostile_read("scribble", got);
  if (!status) {
    EXPECT_EQ(status.error().message(), "plugin 'good''s runner sent a malformed batch");
  }
  // Whatever rows were read lie inside the batch (fewer than 100 bytes), however the head was
  // rewritten: the sizes come from the host's own copy of it.
  EXPECT_LT(got.widest, 100u);
}

TEST(HostileRunner, ARunnerKilledHalfWayThroughWritingABatchIsACrash) {
  Recorder got;
  const Status status = hostile_read("killed", got);
  ASSERT_FALSE(status);
  EXPECT_EQ(status.error().message(), "plugin 'good' crashed while reading 2024-08: its runner "
                                      "process was killed by SIGKILL (" +
                                          std::string(strsignal(SIGKILL)) + ")");
  EXPECT_TRUE(got.rows.empty());
}

} // namespace
} // namespace billdrop
