// `billdrop __plugin-runner`: loads one plugin and serves the host's calls over the pipes of
// runner_protocol.hpp, until the host closes its end.
#include "source/process_session.hpp"
#include "source/row_ring.hpp"
#include "source/runner_protocol.hpp"

#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <new>
#include <optional>

namespace billdrop::source {
namespace {

using runner::Frame;

std::atomic<bool> alarm_raised{false};

// Called by operator new when an allocation fails: under RLIMIT_AS that is the memory limit.
// Says so on the alarm pipe once (a one-byte write: atomic, no allocation), then fails the
// allocation as usual.
void on_allocation_failure() {
  if (!alarm_raised.exchange(true)) {
    const char byte = 'M';
    [[maybe_unused]] const ssize_t n = ::write(runner::kAlarmFd, &byte, 1);
  }
  std::set_new_handler(nullptr);
  throw std::bad_alloc();
}

// The runner's address space now, from /proc/self/status (VmSize, KiB); 0 when unknown.
std::uint64_t address_space_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmSize:", 0) == 0)
      return std::strtoull(line.c_str() + 7, nullptr, 10) * 1024;
  return 0;
}

// One request from the host; nullopt at the end of the requests (the host is done, or gone).
std::optional<std::pair<Frame, std::string>> next_request() {
  return runner::read_frame(runner::kRequestFd);
}

// What the host gets while a call runs: every event as a frame, in order. Small frames wait in
// the buffer for the next batch of rows (or the end of the call), so a plugin's rows cost one
// write per batch; after each batch, the requests that came meanwhile are read (the host's
// releases of ring bytes, its stop).
class ForwardingReceiver final : public RowReceiver {
public:
  explicit ForwardingReceiver(std::string& out) : out_(out) {}

  // The ring the host gave; without one every batch goes through the pipe.
  void use_ring(runner::RowRing ring) {
    placer_.emplace(ring.capacity());
    ring_ = std::move(ring);
  }

  bool on_rows(std::span<const bd_row> rows) override {
    encoder_.measure(rows.data(), rows.size());
    // A batch larger than a quarter of the ring (huge rows) goes through the pipe: in the ring it
    // would wait for the host to give back most of it, and one larger than the ring never fits.
    if (ring_ && encoder_.size() <= ring_->capacity() / 4 && encoder_.size() <= UINT32_MAX) {
      const std::uint64_t position = reserve(encoder_.size());
      encoder_.write(ring_->writable_data() + position % ring_->capacity());
      runner::Writer w(out_);
      w.begin(Frame::ring_rows);
      w.u64(position);
      w.u32(static_cast<std::uint32_t>(encoder_.head_size()));
      w.u32(static_cast<std::uint32_t>(encoder_.size()));
      w.end();
    } else {
      runner::append_rows(out_, encoder_);
    }
    flush();
    return !stop_requested();
  }
  void on_reject(std::string_view origin, std::string_view reason) override {
    runner::Writer w(out_);
    w.begin(Frame::reject);
    w.text(origin);
    w.text(reason);
    w.end();
    maybe_flush();
  }
  void on_reject_field(std::string_view origin, std::string_view column, std::string_view rule,
                       std::string_view reason) override {
    runner::Writer w(out_);
    w.begin(Frame::reject_field);
    w.text(origin);
    w.text(column);
    w.text(rule);
    w.text(reason);
    w.end();
    maybe_flush();
  }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    runner::Writer w(out_);
    w.begin(Frame::progress);
    w.u64(done);
    w.u64(total);
    w.end();
    maybe_flush();
  }
  void on_log(bd_log_level level, std::string_view message) override {
    runner::Writer w(out_);
    w.begin(Frame::log);
    w.u32(static_cast<std::uint32_t>(level));
    w.text(message);
    w.end();
    maybe_flush();
  }
  void on_note(std::string_view key, std::uint64_t count) override {
    runner::Writer w(out_);
    w.begin(Frame::note);
    w.text(key);
    w.u64(count);
    w.end();
    maybe_flush();
  }
  void on_cursor(std::string_view cursor) override {
    runner::Writer w(out_);
    w.begin(Frame::cursor);
    w.text(cursor);
    w.end();
    maybe_flush();
  }

  void begin_call() {
    stopped_ = false;
    if (placer_) // the host sends a request only once it is done with the last call's batches
      placer_->release_all();
  }
  void flush() {
    if (!runner::write_fully(runner::kReplyFd, out_.data(), out_.size()))
      std::_Exit(0); // the host is gone: nobody wants the rest
    out_.clear();
  }

private:
  void maybe_flush() {
    if (out_.size() >= (256u << 10))
      flush();
  }
  // Where the batch of `size` bytes goes in the ring, once the host has given back the bytes it
  // would overwrite (the host processes and releases every batch it was sent, even after a stop,
  // so the wait ends).
  std::uint64_t reserve(std::size_t size) {
    for (;;) {
      if (const std::optional<std::uint64_t> position = placer_->place(size))
        return *position;
      take_request();
    }
  }
  // Reads the requests that came meanwhile; whether the host sent its stop.
  bool stop_requested() {
    for (;;) {
      pollfd fd{runner::kRequestFd, POLLIN, 0};
      if (::poll(&fd, 1, 0) <= 0)
        return stopped_;
      take_request();
    }
  }
  // One request of the host, waiting for it: while a call runs it sends only releases and its
  // stop.
  void take_request() {
    std::optional<std::pair<Frame, std::string>> request = next_request();
    if (!request)
      std::_Exit(0);
    if (request->first == Frame::stop) {
      stopped_ = true;
    } else if (request->first == Frame::release && placer_) {
      runner::Reader in(request->second.data(), request->second.size());
      const std::uint64_t position = in.u64();
      if (in.ok())
        placer_->release(position);
    }
  }

  std::string& out_;
  bool stopped_ = false;
  runner::RowsEncoder encoder_;
  std::optional<runner::RowRing> ring_;
  std::optional<runner::RingPlacer> placer_;
};

void write_status(runner::Writer& w, const Status& status) {
  if (status) {
    w.u32(0);
    w.u32(0);
    w.text("");
    return;
  }
  w.u32(static_cast<std::uint32_t>(status.error().kind()) + 1);
  w.u32(status.error().retryable() ? 1 : 0);
  w.text(status.error().message());
}

} // namespace

int run_plugin_runner() {
  // Ctrl-C reaches the whole process group: the host decides what a stop means, and says so.
  ::signal(SIGINT, SIG_IGN);
  // A host that dies (kill -9) takes its runner with it, even one stuck in a plugin.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  ::signal(SIGPIPE, SIG_DFL);
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  // Unbuffered, so a plugin's printf reaches the watched pipe while its call runs.
  std::setvbuf(stdout, nullptr, _IONBF, 0);

  std::string out;
  out.reserve(2u << 20);
  ForwardingReceiver forward(out);
  std::shared_ptr<LoadedPlugin> plugin;
  std::unique_ptr<PluginInstance> instance;
  while (std::optional<std::pair<Frame, std::string>> request = next_request()) {
    const auto& [type, payload] = *request;
    if (type == Frame::stop || type == Frame::release)
      continue; // a stop that came after its read ended; a release (the next call frees all)
    runner::Reader in(payload.data(), payload.size());
    runner::Writer w(out);
    if (type == Frame::open) {
      const std::string path(in.text());
      const std::string expected(in.text());
      const std::string config_json(in.text());
      const std::uint64_t memory_limit_mb = in.u64();
      const std::uint64_t ring_bytes = in.ok() ? in.u64() : 0;
      // Mapped before the memory limit is set, so that the ring counts as the runner's own
      // address space, not the plugin's. A ring that cannot be mapped costs only speed: every
      // batch goes through the pipe (the host reads both kinds).
      if (ring_bytes > 0) {
        std::string ignored;
        if (std::optional<runner::RowRing> ring = runner::RowRing::map_writable(
                runner::kRingFd, static_cast<std::size_t>(ring_bytes), ignored)) {
          ring->close_fd(); // the mapping keeps the memfd
          forward.use_ring(std::move(*ring));
        } else {
          ::close(runner::kRingFd);
        }
      }
      Status status;
      if (memory_limit_mb > 0) {
        const rlim_t limit = address_space_bytes() + memory_limit_mb * 1024 * 1024;
        const rlimit value{limit, limit};
        std::set_new_handler(&on_allocation_failure);
        if (::setrlimit(RLIMIT_AS, &value) != 0)
          status = internal_error("the plugin runner cannot limit its memory (RLIMIT_AS)");
      }
      if (status) {
        Result<std::shared_ptr<LoadedPlugin>> loaded = load_plugin(path, expected);
        if (!loaded) {
          status = loaded.error();
        } else {
          plugin = std::move(*loaded);
          // The plugin's bd_host log lines go to the host, before the call's result.
          Result<std::unique_ptr<PluginInstance>> created = PluginInstance::create_from_json(
              plugin, config_json, [&out](bd_log_level level, std::string_view message) {
                runner::Writer log(out);
                log.begin(Frame::host_log);
                log.u32(static_cast<std::uint32_t>(level));
                log.text(message);
                log.end();
              });
          if (created)
            instance = std::move(*created);
          else
            status = created.error();
        }
      }
      w.begin(Frame::result);
      write_status(w, status);
      w.u32(instance && instance->incremental() ? 1 : 0);
      const std::vector<std::string> none_columns;
      const auto& columns = instance ? instance->identity_columns() : none_columns;
      w.u32(static_cast<std::uint32_t>(columns.size()));
      for (const std::string& column : columns)
        w.text(column);
      w.u32(instance && instance->one_pass() ? 1 : 0);
      w.end();
    } else if (!instance) {
      w.begin(Frame::result);
      write_status(w, internal_error("the plugin runner was asked for a call before open"));
      w.end();
    } else if (type == Frame::check) {
      const Status status = instance->check();
      w.begin(Frame::result);
      write_status(w, status);
      w.end();
    } else if (type == Frame::months) {
      Result<std::vector<Month>> months = instance->months();
      w.begin(Frame::result);
      write_status(w, months ? Status() : Status(months.error()));
      if (months) {
        w.u32(static_cast<std::uint32_t>(months->size()));
        for (const Month& month : *months)
          w.text(month.to_string());
      }
      w.end();
    } else if (type == Frame::read) {
      Result<Month> month = Month::parse(in.text());
      forward.begin_call();
      const Status status = month ? instance->read(*month, forward) : Status(month.error());
      runner::Writer end(out); // the rows' frames went before it
      end.begin(Frame::result);
      write_status(end, status);
      end.end();
    } else if (type == Frame::read_all) {
      forward.begin_call();
      const Status status = instance->read_all(forward);
      runner::Writer end(out);
      end.begin(Frame::result);
      write_status(end, status);
      end.end();
    } else if (type == Frame::read_since) {
      const std::string cursor(in.text());
      std::string next_cursor;
      forward.begin_call();
      const Status status = instance->read_since(cursor, forward, next_cursor);
      runner::Writer end(out);
      end.begin(Frame::result);
      write_status(end, status);
      end.text(next_cursor);
      end.end();
    } else {
      w.begin(Frame::result);
      write_status(w, internal_error("the plugin runner got an unknown request " +
                                     std::to_string(static_cast<std::uint32_t>(type))));
      w.end();
    }
    std::fflush(stdout);
    forward.flush();
  }
  instance.reset(); // the plugin's destroy()
  return 0;
}

} // namespace billdrop::source
