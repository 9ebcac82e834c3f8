#include "ingest/pipelined_receiver.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

using namespace billdrop;

namespace {

// Records every event as one line, so order across kinds can be compared.
struct Recorder final : source::RowReceiver {
  std::vector<std::string> events;
  std::size_t throw_on_batch = 0; // 1-based; 0 = never
  std::size_t batches = 0;

  bool on_rows(std::span<const bd_row> rows) override {
    if (++batches == throw_on_batch)
      throw ErrorException(source_error("disk full while spilling"));
    for (const bd_row& row : rows) {
      std::string line = "row ";
      line.append(row.origin.data, row.origin.size).append(":");
      for (std::size_t i = 0; i < row.field_count; ++i)
        line.append(" ")
            .append(row.fields[i].key.data, row.fields[i].key.size)
            .append("=")
            .append(row.fields[i].value.data, row.fields[i].value.size);
      events.push_back(line);
    }
    return true;
  }
  void on_reject(std::string_view origin, std::string_view reason) override {
    events.push_back("reject " + std::string(origin) + " " + std::string(reason));
  }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    events.push_back("progress " + std::to_string(done) + "/" + std::to_string(total));
  }
  void on_log(bd_log_level level, std::string_view message) override {
    events.push_back("log " + std::to_string(level) + " " + std::string(message));
  }
  void on_note(std::string_view key, std::uint64_t count) override {
    events.push_back("note " + std::string(key) + " " + std::to_string(count));
  }
};

// Sends a batch whose strings are overwritten as soon as on_rows returns, as a plugin's arena is.
bool send_batch(source::RowReceiver& receiver, int first, int count) {
  std::vector<std::string> storage;
  for (int i = first; i < first + count; ++i) {
    storage.push_back("line" + std::to_string(i));
    storage.push_back(std::to_string(i) + ".5");
  }
  std::vector<bd_field> fields;
  for (int i = 0; i < count; ++i)
    fields.push_back({{"cost/cost", 9}, {storage[2 * i + 1].data(), storage[2 * i + 1].size()}});
  std::vector<bd_row> rows;
  for (int i = 0; i < count; ++i)
    rows.push_back({&fields[i], 1, {storage[2 * i].data(), storage[2 * i].size()}});
  const bool more = receiver.on_rows(rows);
  for (std::string& s : storage)
    s.assign(s.size(), '#');
  return more;
}

// The same, with every key, value and origin in one arena, as the SDK's RowSink lays a batch out
// (the receiver then copies the arena in one piece); some values and origins are empty.
bool send_arena_batch(source::RowReceiver& receiver, int first, int count) {
  std::string arena;
  struct Spans {
    std::size_t origin, origin_size, key, value, value_size;
  };
  std::vector<Spans> spans;
  for (int i = first; i < first + count; ++i) {
    Spans span{};
    const std::string origin = i % 4 == 0 ? "" : std::string("arena").append(std::to_string(i));
    span.origin = arena.size();
    span.origin_size = origin.size();
    arena += origin;
    span.key = arena.size();
    arena += "cost/cost";
    const std::string value = i % 5 == 0 ? "" : std::to_string(i) + ".25";
    span.value = arena.size();
    span.value_size = value.size();
    arena += value;
    spans.push_back(span);
  }
  std::vector<bd_field> fields;
  for (const Spans& span : spans)
    fields.push_back({{arena.data() + span.key, 9}, {arena.data() + span.value, span.value_size}});
  std::vector<bd_row> rows;
  for (std::size_t i = 0; i < spans.size(); ++i)
    rows.push_back({&fields[i], 1, {arena.data() + spans[i].origin, spans[i].origin_size}});
  const bool more = receiver.on_rows(rows);
  arena.assign(arena.size(), '#');
  return more;
}

void send_everything(source::RowReceiver& receiver) {
  for (int b = 0; b < 20; ++b) {
    ASSERT_TRUE(send_batch(receiver, b * 7, 7));
    receiver.on_progress(b, 20);
    if (b % 3 == 0)
      receiver.on_reject(std::string("r").append(std::to_string(b)), "no cost");
    if (b % 5 == 0)
      receiver.on_log(BD_LOG_WARN, std::string("w").append(std::to_string(b)));
    receiver.on_note("n", 1);
  }
}

} // namespace

TEST(PipelinedReceiver, DeliversEverythingInThePluginsOrder) {
  Recorder direct;
  send_everything(direct);

  Recorder inner;
  {
    ingest::PipelinedReceiver pipeline(inner, 2);
    send_everything(pipeline);
    EXPECT_TRUE(pipeline.drain().ok());
    EXPECT_EQ(inner.events, direct.events);
  }
  ASSERT_EQ(direct.events.size(), 20u * 7 + 20 + 7 + 4 + 20);
  EXPECT_EQ(direct.events[0], "row line0: cost/cost=0.5");
}

TEST(PipelinedReceiver, ABatchInOneArenaArrivesIntact) {
  Recorder direct;
  Recorder inner;
  {
    ingest::PipelinedReceiver pipeline(inner, 2);
    for (int b = 0; b < 10; ++b) {
      ASSERT_TRUE(send_arena_batch(direct, b * 9, 9));
      ASSERT_TRUE(send_arena_batch(pipeline, b * 9, 9));
    }
    EXPECT_TRUE(pipeline.drain().ok());
  }
  EXPECT_EQ(inner.events, direct.events);
  ASSERT_EQ(direct.events.size(), 90u);
  EXPECT_EQ(direct.events[0], "row : cost/cost=");
  EXPECT_EQ(direct.events[1], "row arena1: cost/cost=1.25");
}

// Strings close together but with gaps between them (separate allocations, a plugin's own
// layout): only the strings themselves may be read, and each arrives intact.
TEST(PipelinedReceiver, StringsWithGapsBetweenThemArriveIntact) {
  std::string block(4096, '#');
  const auto put = [&](std::size_t at, std::string_view text) {
    block.replace(at, text.size(), text);
    return bd_str{block.data() + at, text.size()};
  };
  // origin, key, value with a gap of a few bytes between each, and a key shared by both rows.
  const bd_str key = put(100, "cost/cost");
  std::vector<bd_field> fields{{key, put(120, "1.5")}, {key, put(140, "2.5")}};
  std::vector<bd_row> rows{{&fields[0], 1, put(10, "gap:1")}, {&fields[1], 1, put(40, "gap:2")}};
  Recorder inner;
  {
    ingest::PipelinedReceiver pipeline(inner, 2);
    ASSERT_TRUE(pipeline.on_rows(rows));
    block.assign(block.size(), '#'); // the plugin reuses its memory once on_rows returns
    EXPECT_TRUE(pipeline.drain().ok());
  }
  EXPECT_EQ(inner.events,
            (std::vector<std::string>{"row gap:1: cost/cost=1.5", "row gap:2: cost/cost=2.5"}));
}

// Strings that fill the span from the first to the last exactly, but not in row order (a value
// before its key): the bytes add up, yet the layout is not the one copied in a block.
TEST(PipelinedReceiver, StringsOutOfOrderButWithoutGapsArriveIntact) {
  std::string block = "o:1"
                      "1.5"
                      "cost/cost";
  const bd_str origin{block.data(), 3};
  const bd_str value{block.data() + 3, 3};
  const bd_str key{block.data() + 6, 9};
  std::vector<bd_field> fields{{key, value}};
  std::vector<bd_row> rows{{fields.data(), 1, origin}};
  Recorder inner;
  {
    ingest::PipelinedReceiver pipeline(inner, 2);
    ASSERT_TRUE(pipeline.on_rows(rows));
    block.assign(block.size(), '#');
    EXPECT_TRUE(pipeline.drain().ok());
  }
  EXPECT_EQ(inner.events, (std::vector<std::string>{"row o:1: cost/cost=1.5"}));
}

// A plugin's string literals and its heap lie far apart: the distance between them must not be
// taken for the size of a block to copy.
TEST(PipelinedReceiver, StringsFarApartArriveIntact) {
  static constexpr std::string_view kKey = "cost/cost"; // in the program's read-only data
  std::vector<std::string> values{"o:1", "2.5"};        // on the heap
  std::vector<bd_field> fields{{bd_str{kKey.data(), kKey.size()}, {values[1].data(), 3}}};
  std::vector<bd_row> rows{{fields.data(), 1, {values[0].data(), 3}}};
  Recorder inner;
  {
    ingest::PipelinedReceiver pipeline(inner, 2);
    ASSERT_TRUE(pipeline.on_rows(rows));
    values.assign(2, std::string(3, '#'));
    EXPECT_TRUE(pipeline.drain().ok());
  }
  EXPECT_EQ(inner.events, (std::vector<std::string>{"row o:1: cost/cost=2.5"}));
}

TEST(PipelinedReceiver, AnInnerFailureStopsThePluginAndComesOutOfDrain) {
  Recorder inner;
  inner.throw_on_batch = 3;
  ingest::PipelinedReceiver pipeline(inner, 1);
  bool stopped = false;
  for (int b = 0; b < 50 && !stopped; ++b)
    stopped = !send_batch(pipeline, b * 2, 2);
  EXPECT_TRUE(stopped) << "the plugin is asked to stop after the failure";
  const Status status = pipeline.drain();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(), "disk full while spilling");
  EXPECT_EQ(inner.events.size(), 4u) << "two batches of two rows before the failing one";
  // After drain() the pipeline works again (the next month).
  EXPECT_TRUE(send_batch(pipeline, 100, 1));
  EXPECT_TRUE(pipeline.drain().ok());
  EXPECT_EQ(inner.events.back(), "row line100: cost/cost=100.5");
}

TEST(PipelinedReceiver, DestroyingWithQueuedWorkFinishesIt) {
  Recorder inner;
  {
    ingest::PipelinedReceiver pipeline(inner, 8);
    for (int b = 0; b < 8; ++b)
      send_batch(pipeline, b, 1);
  }
  EXPECT_EQ(inner.events.size(), 8u);
}

// ---- Retained batches (bd_sink::write_retained, ABI 1.5): not copied; on_retained_rows returns
// only once the batch before it was handled, release_rows once every one was.

namespace {

// BILLDROP_RETAINED_BATCHES + 1 buffers used in turn, as the SDK's RowSink does: a batch is
// overwritten with '#' just before its buffer is filled again, so a receiver that still read it
// then would see '#'.
struct RetainedBuffers {
  struct Buffer {
    std::vector<std::string> values;
    std::vector<bd_field> fields;
    std::vector<bd_row> rows;
  } buffers[BILLDROP_RETAINED_BATCHES + 1];
  int next = 0;

  bool send(source::RowReceiver& receiver, int first, int count) {
    Buffer& b = buffers[next];
    next = (next + 1) % (BILLDROP_RETAINED_BATCHES + 1);
    for (std::string& value : b.values)
      value.assign(value.size(), '#'); // the plugin reuses the buffer
    b.values.clear();
    b.fields.clear();
    b.rows.clear();
    b.values.reserve(2 * static_cast<std::size_t>(count));
    for (int i = first; i < first + count; ++i) {
      b.values.push_back("kept" + std::to_string(i));
      b.values.push_back(std::to_string(i) + ".5");
    }
    for (int i = 0; i < count; ++i)
      b.fields.push_back(
          {{"cost/cost", 9}, {b.values[2 * i + 1].data(), b.values[2 * i + 1].size()}});
    for (int i = 0; i < count; ++i)
      b.rows.push_back({&b.fields[i], 1, {b.values[2 * i].data(), b.values[2 * i].size()}});
    return receiver.on_retained_rows(b.rows);
  }
  void scribble() {
    for (Buffer& b : buffers)
      for (std::string& value : b.values)
        value.assign(value.size(), '#');
  }
};

// An inner receiver that takes its time, so that the plugin's side runs ahead if it may.
struct SlowRecorder final : source::RowReceiver {
  Recorder recorder;
  std::atomic<int> handled{0};
  bool on_rows(std::span<const bd_row> rows) override {
    std::this_thread::sleep_for(std::chrono::milliseconds(3));
    const bool more = recorder.on_rows(rows);
    ++handled;
    return more;
  }
  void on_reject(std::string_view origin, std::string_view reason) override {
    recorder.on_reject(origin, reason);
  }
};

} // namespace

TEST(PipelinedReceiver, RetainedBatchesArriveIntactWithoutACopy) {
  Recorder direct;
  RetainedBuffers plain;
  for (int b = 0; b < 30; ++b) {
    ASSERT_TRUE(plain.send(direct, b * 3, 3));
    if (b % 7 == 0)
      direct.on_reject("r" + std::to_string(b), "no cost");
  }

  SlowRecorder inner;
  RetainedBuffers buffers;
  ingest::PipelinedReceiver pipeline(inner, 2);
  for (int b = 0; b < 30; ++b) {
    ASSERT_TRUE(buffers.send(pipeline, b * 3, 3));
    // The batch BILLDROP_RETAINED_BATCHES before this one has been handled: the plugin may now
    // overwrite its buffer.
    EXPECT_GE(inner.handled.load(), b - BILLDROP_RETAINED_BATCHES + 1) << "batch " << b;
    if (b % 7 == 0)
      pipeline.on_reject("r" + std::to_string(b), "no cost");
  }
  pipeline.release_rows();
  EXPECT_EQ(inner.handled.load(), 30) << "release_rows returns once every batch was handled";
  buffers.scribble(); // the plugin frees its buffers once release returns
  ASSERT_TRUE(pipeline.drain().ok());
  EXPECT_EQ(inner.recorder.events, direct.events);
  ASSERT_EQ(direct.events.size(), 30u * 3 + 5);
  EXPECT_EQ(direct.events[0], "row kept0: cost/cost=0.5");
  EXPECT_EQ(direct.events.back(), "row kept89: cost/cost=89.5");
}

TEST(PipelinedReceiver, RetainedAndCopiedBatchesKeepTheirOrder) {
  Recorder direct;
  RetainedBuffers plain;
  for (int b = 0; b < 12; ++b)
    ASSERT_TRUE(b % 3 == 1 ? send_batch(direct, b * 2, 2) : plain.send(direct, b * 2, 2));

  SlowRecorder inner;
  RetainedBuffers buffers;
  ingest::PipelinedReceiver pipeline(inner, 2);
  for (int b = 0; b < 12; ++b)
    ASSERT_TRUE(b % 3 == 1 ? send_batch(pipeline, b * 2, 2) : buffers.send(pipeline, b * 2, 2));
  pipeline.release_rows();
  buffers.scribble();
  ASSERT_TRUE(pipeline.drain().ok());
  EXPECT_EQ(inner.recorder.events, direct.events);
}

TEST(PipelinedReceiver, AFailureWithRetainedBatchesStopsThePluginAndReleases) {
  Recorder inner;
  inner.throw_on_batch = 3;
  RetainedBuffers buffers;
  ingest::PipelinedReceiver pipeline(inner, 1);
  bool stopped = false;
  int sent = 0;
  for (; sent < 50 && !stopped; ++sent)
    stopped = !buffers.send(pipeline, sent * 2, 2);
  EXPECT_TRUE(stopped) << "the plugin is asked to stop after the failure";
  // A retained batch waits for the one BILLDROP_RETAINED_BATCHES before it, so the plugin stops
  // soon after the failing third batch.
  EXPECT_LE(sent, 3 + BILLDROP_RETAINED_BATCHES + 1);
  pipeline.release_rows(); // returns although the worker skips what follows the failure
  buffers.scribble();
  const Status status = pipeline.drain();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(), "disk full while spilling");
  EXPECT_EQ(inner.events.size(), 4u) << "two batches of two rows before the failing one";
}
