#include "ingest/pipelined_receiver.hpp"

#include <condition_variable>
#include <deque>
#include <exception>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace billdrop::ingest {
namespace {

// Rows copied out of one write() call: every key, value and origin back to back in one arena.
struct Batch {
  std::string arena;
  std::vector<bd_field> fields; // pointers into arena, fixed up once the arena is complete
  std::vector<bd_row> rows;     // pointers into fields
  // While copying, offsets are stored; fix_up() turns them into pointers.
  struct Span {
    std::size_t offset, size;
  };
  std::vector<std::pair<Span, Span>> field_spans;
  std::vector<std::pair<std::size_t, std::size_t>> row_fields; // first field, count
  std::vector<Span> origins;

  void copy(std::span<const bd_row> input) {
    if (!copy_block(input))
      copy_each(input);
  }

  // The SDK's RowSink writes a batch's strings back to back in one arena, in row order (origin,
  // key, value, key, value, ...), so they can be copied with one memcpy and every pointer moved by
  // the same offset. Only when each string starts exactly where the one before it ended: then the
  // copy reads nothing but the strings. Any other layout takes copy_each().
  bool copy_block(std::span<const bd_row> input) {
    const char* low = nullptr;
    const char* high = nullptr; // where the next string must start
    std::size_t field_count = 0;
    bool contiguous = true;
    const auto see = [&](const bd_str& text) {
      if (text.size == 0)
        return;
      if (low == nullptr)
        low = text.data;
      else if (text.data != high)
        contiguous = false;
      high = text.data + text.size;
    };
    for (const bd_row& row : input) {
      see(row.origin);
      for (std::size_t i = 0; i < row.field_count && contiguous; ++i) {
        see(row.fields[i].key);
        see(row.fields[i].value);
      }
      if (!contiguous)
        return false;
      field_count += row.field_count;
    }
    if (low == nullptr)
      return false;
    arena.assign(low, static_cast<std::size_t>(high - low));
    const char* base = arena.data();
    const auto moved = [&](const bd_str& text) {
      return text.size == 0 ? bd_str{base, 0} : bd_str{base + (text.data - low), text.size};
    };
    fields.resize(field_count);
    rows.resize(input.size());
    std::size_t next = 0;
    for (std::size_t r = 0; r < input.size(); ++r) {
      const bd_row& row = input[r];
      bd_field* out = fields.data() + next;
      for (std::size_t i = 0; i < row.field_count; ++i)
        out[i] = bd_field{moved(row.fields[i].key), moved(row.fields[i].value)};
      rows[r] = bd_row{out, row.field_count, moved(row.origin)};
      next += row.field_count;
    }
    return true;
  }

  void copy_each(std::span<const bd_row> input) {
    arena.clear();
    field_spans.clear();
    row_fields.clear();
    origins.clear();
    const auto append = [&](bd_str text) {
      Span span{arena.size(), text.size};
      arena.append(text.data, text.size);
      return span;
    };
    for (const bd_row& row : input) {
      row_fields.emplace_back(field_spans.size(), row.field_count);
      origins.push_back(append(row.origin));
      for (std::size_t i = 0; i < row.field_count; ++i) {
        const Span key = append(row.fields[i].key);
        field_spans.emplace_back(key, append(row.fields[i].value));
      }
    }
    const char* base = arena.data();
    fields.resize(field_spans.size());
    for (std::size_t i = 0; i < field_spans.size(); ++i) {
      const auto& [key, value] = field_spans[i];
      fields[i] =
          bd_field{bd_str{base + key.offset, key.size}, bd_str{base + value.offset, value.size}};
    }
    rows.resize(row_fields.size());
    for (std::size_t i = 0; i < row_fields.size(); ++i)
      rows[i] = bd_row{fields.data() + row_fields[i].first, row_fields[i].second,
                       bd_str{base + origins[i].offset, origins[i].size}};
  }
};

enum class EventKind { rows, retained_rows, reject, progress, log, note, cursor };

struct Event {
  EventKind kind = EventKind::rows;
  std::unique_ptr<Batch> batch;     // rows
  std::span<const bd_row> retained; // retained_rows: the plugin's own batch
  std::string a, b;                 // reject: origin, reason; log: message; note: key; cursor
  std::string column, rule;         // reject: what the plugin named (ABI 1.2), else empty
  std::uint64_t x = 0, y = 0;       // progress: done, total; note: count; log: level
};

} // namespace

struct PipelinedReceiver::State {
  source::RowReceiver& inner;
  const std::size_t max_batches;

  std::mutex mutex;
  std::condition_variable wake_worker;
  std::condition_variable wake_producer; // room in the queue, or the worker went idle
  std::deque<Event> queue;
  std::size_t queued_batches = 0;
  // Retained batches queued and handled (or skipped) so far: the plugin may reuse a batch once
  // it is counted in retained_done.
  std::uint64_t retained_queued = 0;
  std::uint64_t retained_done = 0;
  std::vector<std::unique_ptr<Batch>> spare;
  bool busy = false; // the worker is handling an event outside the lock
  bool stopping = false;
  bool stop_reading = false; // the inner receiver asked to stop, or threw
  std::optional<Error> failure;
  std::thread worker;

  State(source::RowReceiver& receiver, std::size_t batches)
      : inner(receiver), max_batches(batches == 0 ? 1 : batches) {}

  void run() {
    std::unique_lock lock(mutex);
    for (;;) {
      wake_worker.wait(lock, [&] { return stopping || !queue.empty(); });
      if (queue.empty())
        return; // stopping, and everything queued has been handled
      Event event = std::move(queue.front());
      queue.pop_front();
      busy = true;
      const bool skip = failure.has_value();
      lock.unlock();
      bool keep_reading = true;
      std::optional<Error> error;
      if (!skip) {
        try {
          keep_reading = handle(event);
        } catch (const ErrorException& e) {
          error = e.error();
        } catch (const std::exception& e) {
          error = Error(ErrorKind::internal, std::string("unexpected exception: ") + e.what());
        } catch (...) {
          error = Error(ErrorKind::internal, "unexpected non-standard exception");
        }
      }
      lock.lock();
      busy = false;
      if (event.batch) {
        --queued_batches;
        spare.push_back(std::move(event.batch));
      }
      if (event.kind == EventKind::retained_rows)
        ++retained_done;
      if (!keep_reading)
        stop_reading = true;
      if (error && !failure) {
        failure = std::move(error);
        stop_reading = true;
      }
      wake_producer.notify_all();
    }
  }

  bool handle(Event& event) {
    switch (event.kind) {
    case EventKind::rows:
      return inner.on_rows(std::span<const bd_row>(event.batch->rows));
    case EventKind::retained_rows:
      return inner.on_rows(event.retained);
    case EventKind::reject:
      if (event.column.empty() && event.rule.empty())
        inner.on_reject(event.a, event.b);
      else
        inner.on_reject_field(event.a, event.column, event.rule, event.b);
      return true;
    case EventKind::progress:
      inner.on_progress(event.x, event.y);
      return true;
    case EventKind::log:
      inner.on_log(static_cast<bd_log_level>(event.x), event.a);
      return true;
    case EventKind::note:
      inner.on_note(event.a, event.x);
      return true;
    case EventKind::cursor:
      inner.on_cursor(event.a);
      return true;
    }
    return true;
  }

  // Queues a non-row event. The queue is bounded in events too, so a plugin that reports
  // progress for every row cannot grow it without limit.
  void push(Event event) {
    {
      std::unique_lock lock(mutex);
      wake_producer.wait(lock, [&] { return failure || queue.size() < kMaxQueuedEvents; });
      if (failure)
        return; // the worker would skip it anyway
      queue.push_back(std::move(event));
    }
    wake_worker.notify_one();
  }
  static constexpr std::size_t kMaxQueuedEvents = 4096;
};

PipelinedReceiver::PipelinedReceiver(source::RowReceiver& inner, std::size_t max_queued_batches)
    : state_(std::make_unique<State>(inner, max_queued_batches)) {
  state_->worker = std::thread([state = state_.get()] { state->run(); });
}

PipelinedReceiver::~PipelinedReceiver() {
  {
    std::lock_guard lock(state_->mutex);
    state_->stopping = true;
  }
  state_->wake_worker.notify_one();
  state_->worker.join();
}

bool PipelinedReceiver::on_rows(std::span<const bd_row> rows) {
  State& s = *state_;
  std::unique_ptr<Batch> batch;
  {
    std::unique_lock lock(s.mutex);
    s.wake_producer.wait(lock, [&] { return s.stop_reading || s.queued_batches < s.max_batches; });
    if (s.stop_reading)
      return false;
    ++s.queued_batches;
    if (!s.spare.empty()) {
      batch = std::move(s.spare.back());
      s.spare.pop_back();
    }
  }
  if (!batch)
    batch = std::make_unique<Batch>();
  batch->copy(rows); // outside the lock: the worker validates meanwhile
  Event event;
  event.kind = EventKind::rows;
  event.batch = std::move(batch);
  {
    std::lock_guard lock(s.mutex); // a row batch already has its place: never waits
    s.queue.push_back(std::move(event));
  }
  s.wake_worker.notify_one();
  return true;
}

bool PipelinedReceiver::on_retained_rows(std::span<const bd_row> rows) {
  State& s = *state_;
  std::unique_lock lock(s.mutex);
  if (s.stop_reading)
    return false; // not queued: the plugin may reuse it at once
  Event event;
  event.kind = EventKind::retained_rows;
  event.retained = rows;
  s.queue.push_back(std::move(event));
  const std::uint64_t mine = ++s.retained_queued;
  s.wake_worker.notify_one();
  // The plugin fills the buffers of the batch BILLDROP_RETAINED_BATCHES before this one next, so
  // it waits here until that one is handled. (At most BILLDROP_RETAINED_BATCHES + 1 retained
  // batches are ever queued, so they need no room in the bounded queue.)
  s.wake_producer.wait(lock, [&] { return s.retained_done + BILLDROP_RETAINED_BATCHES >= mine; });
  return !s.stop_reading;
}

void PipelinedReceiver::release_rows() {
  State& s = *state_;
  std::unique_lock lock(s.mutex);
  s.wake_producer.wait(lock, [&] { return s.retained_done == s.retained_queued; });
}

void PipelinedReceiver::on_reject(std::string_view origin, std::string_view reason) {
  Event event;
  event.kind = EventKind::reject;
  event.a = origin;
  event.b = reason;
  state_->push(std::move(event));
}

void PipelinedReceiver::on_reject_field(std::string_view origin, std::string_view column,
                                        std::string_view rule, std::string_view reason) {
  Event event;
  event.kind = EventKind::reject;
  event.a = origin;
  event.b = reason;
  event.column = column;
  event.rule = rule;
  state_->push(std::move(event));
}

void PipelinedReceiver::on_progress(std::uint64_t done, std::uint64_t total) {
  Event event;
  event.kind = EventKind::progress;
  event.x = done;
  event.y = total;
  state_->push(std::move(event));
}

void PipelinedReceiver::on_log(bd_log_level level, std::string_view message) {
  Event event;
  event.kind = EventKind::log;
  event.x = static_cast<std::uint64_t>(level);
  event.a = message;
  state_->push(std::move(event));
}

void PipelinedReceiver::on_note(std::string_view key, std::uint64_t count) {
  Event event;
  event.kind = EventKind::note;
  event.a = key;
  event.x = count;
  state_->push(std::move(event));
}

void PipelinedReceiver::on_cursor(std::string_view cursor) {
  Event event;
  event.kind = EventKind::cursor;
  event.a = cursor;
  state_->push(std::move(event));
}

Status PipelinedReceiver::drain() {
  State& s = *state_;
  std::unique_lock lock(s.mutex);
  s.wake_producer.wait(lock, [&] { return s.queue.empty() && !s.busy; });
  s.stop_reading = false;
  if (s.failure) {
    Error error = std::move(*s.failure);
    s.failure.reset();
    return error;
  }
  return {};
}

} // namespace billdrop::ingest
