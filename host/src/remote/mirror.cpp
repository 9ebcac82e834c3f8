#include "remote/mirror.hpp"

#include "core/log.hpp"
#include "core/progress.hpp"
#include "remote/crypto.hpp"

#include <billdrop/growing_file.hpp>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <thread>

namespace billdrop::remote {

namespace fs = std::filesystem;

namespace {

constexpr int kAttempts = 5; // tries of one object (list or fetch) before its error stands
// Objects downloaded at once, each on its own connection.
constexpr std::size_t kConcurrentDownloads = 4;
// What a download writes to disk at once: the socket's small reads are gathered first. Small
// enough that a plugin reading the file as it grows trails the download by little.
constexpr std::size_t kWriteBuffer = 256 << 10;

struct IndexEntry {
  std::string version;
  std::uint64_t size = 0;
};
using Index = std::map<std::string, IndexEntry>; // by key relative to the prefix

Index read_index(const fs::path& file) {
  Index index;
  std::ifstream in(file);
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t tab1 = line.find('\t');
    const std::size_t tab2 = tab1 == std::string::npos ? tab1 : line.find('\t', tab1 + 1);
    if (tab2 == std::string::npos)
      continue; // a torn last line: that object is fetched again
    IndexEntry entry{line.substr(0, tab1), 0};
    try {
      entry.size = std::stoull(line.substr(tab1 + 1, tab2 - tab1 - 1));
    } catch (const std::exception&) {
      continue;
    }
    index[line.substr(tab2 + 1)] = entry;
  }
  return index;
}

void write_index(const fs::path& file, const Index& index) {
  const fs::path temporary = file.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::trunc);
    for (const auto& [key, entry] : index)
      out << entry.version << '\t' << entry.size << '\t' << key << '\n';
    if (!out)
      throw ErrorException(source_error("cannot write " + temporary.string()));
  }
  fs::rename(temporary, file);
}

// A key relative to the location's prefix as a path below objects/: no "..", no absolute path,
// no empty segment, no control characters — a key that would leave the mirror is refused.
bool safe_relative_key(std::string_view key) {
  if (key.empty() || key.front() == '/')
    return false;
  std::size_t at = 0;
  while (at <= key.size()) {
    std::size_t end = key.find('/', at);
    if (end == std::string_view::npos)
      end = key.size();
    const std::string_view segment = key.substr(at, end - at);
    if (segment.empty() || segment == "." || segment == "..")
      return false;
    at = end + 1;
  }
  return std::none_of(key.begin(), key.end(),
                      [](char c) { return static_cast<unsigned char>(c) < 0x20; });
}

std::uint64_t file_size_or_zero(const fs::path& file) {
  std::error_code ec;
  const std::uintmax_t size = fs::file_size(file, ec);
  return ec ? 0 : static_cast<std::uint64_t>(size);
}

std::uint64_t tree_bytes(const fs::path& dir) {
  std::uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec))
    if (it->is_regular_file(ec))
      total += file_size_or_zero(it->path());
  return total;
}

std::string human_bytes(std::uint64_t bytes) {
  std::ostringstream out;
  if (bytes >= (1ULL << 30))
    out << (bytes >> 30) << " GiB";
  else if (bytes >= (1ULL << 20))
    out << (bytes >> 20) << " MiB";
  else
    out << bytes << " bytes";
  return out.str();
}

struct Wanted {
  std::string relative; // below objects/
  ObjectInfo object;
};

// One location's mirror run: list, fetch what is missing, prune, record. Owned by a shared_ptr:
// with MirrorMode::follow its downloads outlive mirror() (MirrorDownloads).
class MirrorRun {
public:
  MirrorRun(RemoteLocation location, std::unique_ptr<ObjectStore> store, fs::path dir,
            MirrorMode mode)
      : location_(std::move(location)), store_(std::move(store)), dir_(std::move(dir)),
        mode_(mode) {}

  // The objects of the location: the one object the prefix names exactly, else those under
  // "prefix/"; `single` tells which.
  std::vector<Wanted> wanted(bool& single) {
    const std::string& prefix = location_.prefix;
    std::vector<ObjectInfo> listed =
        with_retries("listing " + location_.text, [&] { return store_->list(prefix); });
    std::vector<Wanted> out;
    single = false;
    for (const ObjectInfo& object : listed)
      if (!prefix.empty() && !prefix.ends_with('/') && object.key == prefix) {
        single = true;
        const std::size_t slash = prefix.rfind('/');
        out.push_back({slash == std::string::npos ? prefix : prefix.substr(slash + 1), object});
        return out;
      }
    const std::string folder = prefix.empty() || prefix.ends_with('/') ? prefix : prefix + "/";
    for (const ObjectInfo& object : listed) {
      if (!object.key.starts_with(folder) || object.key.ends_with('/'))
        continue; // a sibling ("prefix-old/…") or a folder marker
      const std::string relative = object.key.substr(folder.size());
      if (!safe_relative_key(relative))
        throw ErrorException(source_error(location_.object_url(object.key) +
                                          ": this object's key cannot be a local file name "
                                          "(an empty, '.' or '..' part, or a control character)"));
      out.push_back({relative, object});
    }
    return out;
  }

  // Compares the listing with the index: what is there at its listed version stays, the rest is
  // to fetch; files no longer listed go. A status left by a run that died goes too.
  void plan(std::vector<Wanted> wanted) {
    wanted_ = std::move(wanted);
    fs::create_directories(dir_ / "objects");
    fs::create_directories(dir_ / "partial");
    fs::remove_all(dir_ / "growing");
    index_ = read_index(dir_ / "index.tsv");
    for (const Wanted& w : wanted_) {
      ++stats_.objects;
      stats_.bytes += w.object.size;
      const auto found = index_.find(w.relative);
      const fs::path local = dir_ / "objects" / w.relative;
      if (found != index_.end() && found->second.version == w.object.version &&
          found->second.size == w.object.size && fs::is_regular_file(local) &&
          file_size_or_zero(local) == w.object.size) {
        ++stats_.cached_objects;
        continue;
      }
      index_.erase(w.relative);
      missing_.push_back(&w);
      missing_bytes_ += w.object.size;
    }
    prune();
    write_index(dir_ / "index.tsv", index_);
  }

  bool anything_missing() const { return !missing_.empty(); }

  // MirrorMode::follow: every missing object announced as growing (billdrop/growing_file.hpp)
  // and put at its place in objects/ as a hard link to its partial file, with whatever an earlier
  // run received of the same version, before any plugin looks.
  void announce() {
    for (const Wanted* w : missing_) {
      const fs::path local = dir_ / "objects" / w->relative;
      Result<GrowingFileWriter> writer = GrowingFileWriter::announce(
          dir_ / "objects", local, w->object.size, location_.object_url(w->object.key));
      if (!writer)
        throw ErrorException(std::move(writer).error());
      writers_.emplace(w, std::move(*writer));
      const fs::path partial = prepare_partial(*w);
      fs::create_directories(local.parent_path());
      fs::remove(local);
      fs::create_hard_link(partial, local);
    }
  }

  // Fetches the missing objects, up to four at once; the first failure stops the others from
  // starting a new object and is thrown. With MirrorMode::follow each object's readers learn its
  // end or its failure as it happens, and those never started fail with the run's error.
  void fetch_all() {
    // Several objects are downloaded at once (a CUR month is often many files, and one connection
    // seldom fills the link). A plugin reading as the bytes arrive shows its own progress.
    std::optional<core::Progress> progress;
    if (mode_ == MirrorMode::whole)
      progress.emplace("downloading " + location_.text, "bytes");
    std::size_t next = 0;
    std::exception_ptr failure;
    const auto worker = [&] {
      while (true) {
        const Wanted* w = nullptr;
        {
          const std::lock_guard guard(mutex_);
          if (failure || stop_ || next == missing_.size())
            return;
          w = missing_[next++];
        }
        try {
          fetch(*w, progress ? &*progress : nullptr);
          const std::lock_guard guard(mutex_);
          index_[w->relative] = {w->object.version, w->object.size};
          write_index(dir_ / "index.tsv", index_);
          ++stats_.fetched_objects;
          if (const auto writer = writers_.find(w); writer != writers_.end())
            writer->second.finish(); // every byte is in place and recorded
          finished_.insert(w);
        } catch (const ErrorException& e) {
          fail_object(*w, e.error());
          const std::lock_guard guard(mutex_);
          if (!failure)
            failure = std::current_exception();
          return;
        } catch (const std::exception& e) {
          fail_object(*w, source_error(location_.object_url(w->object.key) +
                                       ": cannot be written to the remote cache in " +
                                       dir_.string() + ": " + e.what()));
          const std::lock_guard guard(mutex_);
          if (!failure)
            failure = std::current_exception();
          return;
        }
      }
    };
    const std::size_t workers = std::min(kConcurrentDownloads, missing_.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers; ++i)
      threads.emplace_back(worker);
    worker();
    for (std::thread& thread : threads)
      thread.join();
    if (failure || stop_) {
      const Error why = failure ? error_of(failure)
                                : source_error(location_.text + ": the download was stopped", true);
      for (auto& [w, writer] : writers_)
        if (!finished_.count(w))
          writer.fail(source_error(location_.object_url(w->object.key) +
                                       " was not downloaded: " + why.message(),
                                   why.retryable()));
    }
    if (failure)
      std::rethrow_exception(failure);
    if (progress)
      progress->finish();
  }

  // Stops the downloads at their next block (MirrorDownloads' destructor).
  void stop() { stop_ = true; }

  // After a follow-mode run, once no plugin reads: the objects that did not arrive whole leave
  // objects/ (their bytes stay in partial/ for the next run), and their statuses go.
  void clear_unfinished() {
    for (const Wanted* w : missing_)
      if (!finished_.count(w)) {
        std::error_code ec;
        fs::remove(dir_ / "objects" / w->relative, ec);
      }
    std::error_code ec;
    fs::remove_all(dir_ / "growing", ec);
  }

  MirrorStats stats() {
    const std::lock_guard guard(mutex_);
    return stats_;
  }
  const RemoteLocation& location() const { return location_; }

private:
  template <class Step>
  auto with_retries(const std::string& what, Step step) -> decltype(step()) {
    for (int attempt = 1;; ++attempt) {
      try {
        return step();
      } catch (const ObjectChanged&) {
        throw;
      } catch (const ErrorException& e) {
        if (!e.error().retryable() || attempt == kAttempts)
          throw;
        log::warn("remote.retry",
                  {{"what", what}, {"attempt", attempt}, {"message", e.error().message()}});
        std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
      }
    }
  }

  static Error error_of(const std::exception_ptr& failure) {
    try {
      std::rethrow_exception(failure);
    } catch (const ErrorException& e) {
      return e.error();
    } catch (const std::exception& e) {
      return source_error(e.what());
    }
  }

  void fail_object(const Wanted& w, const Error& error) {
    if (const auto writer = writers_.find(&w); writer != writers_.end())
      writer->second.fail(error);
  }

  // Files in objects/ that are no longer listed, and their index entries, go.
  void prune() {
    std::map<std::string, bool> keep;
    for (const Wanted& w : wanted_)
      keep[w.relative] = true;
    for (auto it = index_.begin(); it != index_.end();)
      it = keep.count(it->first) ? std::next(it) : index_.erase(it);
    std::vector<fs::path> files;
    const fs::path root = dir_ / "objects";
    for (const auto& entry : fs::recursive_directory_iterator(root))
      if (!entry.is_directory() &&
          !keep.count(entry.path().lexically_relative(root).generic_string()))
        files.push_back(entry.path());
    for (const fs::path& file : files) {
      fs::remove(file);
      ++stats_.removed_objects;
    }
  }

  fs::path partial_of(const Wanted& w) const {
    return dir_ / "partial" / hex(sha256(w.relative)).substr(0, 32);
  }

  // The object's partial file, kept when it holds a prefix of the same version (resumed), else
  // emptied.
  fs::path prepare_partial(const Wanted& w) {
    const fs::path partial = partial_of(w);
    const fs::path meta = partial.string() + ".version";
    const std::string version_line = w.object.version + "\t" + std::to_string(w.object.size);
    std::string recorded;
    {
      std::ifstream in(meta);
      std::getline(in, recorded);
    }
    if (recorded != version_line || file_size_or_zero(partial) > w.object.size ||
        !fs::exists(partial)) {
      std::ofstream(partial, std::ios::trunc | std::ios::binary);
      std::ofstream(meta, std::ios::trunc) << version_line << '\n';
    }
    return partial;
  }

  // Fetches one object into partial/ (resuming what is there of the same version), then moves
  // it into objects/ (with MirrorMode::follow it is there already: the partial name goes).
  void fetch(const Wanted& w, core::Progress* progress) {
    const fs::path partial = prepare_partial(w);
    const fs::path meta = partial.string() + ".version";
    const std::string url = location_.object_url(w.object.key);
    // The socket's bytes arrive in pieces of a few KiB: they are gathered here and written
    // kWriteBuffer bytes at a time. (A stream buffer would not gather them: libstdc++ writes any
    // piece of 1 KiB or more straight through, one system call each.) A reader following the
    // file is woken once per write, not once per piece.
    std::string pending;
    pending.reserve(kWriteBuffer);
    for (int attempt = 1;; ++attempt) {
      const std::uint64_t offset = file_size_or_zero(partial);
      if (offset == w.object.size)
        break;
      if (offset > 0) {
        {
          const std::lock_guard guard(mutex_);
          ++stats_.resumed_requests;
        }
        log::info("remote.resume", {{"object", url}, {"offset", offset}, {"size", w.object.size}});
      }
      std::ofstream out(partial, std::ios::app | std::ios::binary);
      const auto write_pending = [&] {
        out.write(pending.data(), static_cast<std::streamsize>(pending.size()));
        pending.clear();
      };
      // Counted into `stats_` every few hundred KiB and at the end, not under the lock per read.
      std::uint64_t uncounted = 0;
      const auto count = [&] {
        const std::lock_guard guard(mutex_);
        stats_.fetched_bytes += uncounted;
        uncounted = 0;
        if (progress)
          progress->update(stats_.fetched_bytes, missing_bytes_, stats_.fetched_bytes);
      };
      try {
        store_->read(w.object, offset, [&](const char* data, std::size_t size) {
          pending.append(data, size);
          if (pending.size() >= kWriteBuffer)
            write_pending();
          uncounted += size;
          if (uncounted >= (256U << 10))
            count();
          return static_cast<bool>(out) && !stop_;
        });
        write_pending();
        count();
        out.close();
        if (!out)
          throw ErrorException(source_error("cannot write " + partial.string()));
        if (stop_)
          throw ErrorException(source_error(url + ": the download was stopped", true));
        if (file_size_or_zero(partial) != w.object.size)
          throw ErrorException(source_error(url + ": the store sent " +
                                                std::to_string(file_size_or_zero(partial)) +
                                                " of " + std::to_string(w.object.size) + " bytes",
                                            true));
        break;
      } catch (const ObjectChanged&) {
        pending.clear();
        out.close();
        fs::remove(partial);
        fs::remove(meta);
        throw;
      } catch (const ErrorException& e) {
        write_pending();
        count();
        out.close(); // what was received is on disk before the next try looks at its size
        if (!e.error().retryable() || stop_)
          throw; // the partial file stays: the next run resumes it
        if (attempt == kAttempts)
          throw ErrorException(
              source_error(e.error().message() + "; gave up after " + std::to_string(kAttempts) +
                               " tries (the next run resumes from the " +
                               std::to_string(file_size_or_zero(partial)) + " bytes received)",
                           true));
        log::warn(
            "remote.retry",
            {{"what", "reading " + url}, {"attempt", attempt}, {"message", e.error().message()}});
        std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
      }
    }
    const fs::path local = dir_ / "objects" / w.relative;
    if (mode_ == MirrorMode::follow) {
      fs::remove(partial); // objects/ holds the same file (a hard link)
    } else {
      fs::create_directories(local.parent_path());
      fs::rename(partial, local);
    }
    fs::remove(meta);
  }

  RemoteLocation location_;
  std::unique_ptr<ObjectStore> store_;
  fs::path dir_;
  MirrorMode mode_;
  std::vector<Wanted> wanted_;
  std::vector<const Wanted*> missing_;
  std::uint64_t missing_bytes_ = 0;
  std::map<const Wanted*, GrowingFileWriter> writers_; // follow mode; built before any download
  std::mutex mutex_; // guards index_, stats_, finished_ and the progress
  Index index_;
  MirrorStats stats_;
  std::set<const Wanted*> finished_;
  std::atomic<bool> stop_{false};
};

// Removes least-recently-used mirrors (by their index's time) other than `current` until the
// cache holds at most `limit` bytes; a mirror being read (locked) is skipped. `current` counts as
// the `current_bytes` its objects take once whole (not walked: while its objects download it
// holds less, and each is counted twice, under partial/ and under objects/).
void evict(const fs::path& cache_dir, const fs::path& current, std::uint64_t current_bytes,
           std::uint64_t limit) {
  struct Entry {
    fs::path dir;
    fs::file_time_type used;
    std::uint64_t bytes;
  };
  std::vector<Entry> others;
  std::uint64_t total = current_bytes;
  for (const auto& entry : fs::directory_iterator(cache_dir)) {
    if (!entry.is_directory() || entry.path() == current)
      continue;
    const std::uint64_t bytes = tree_bytes(entry.path());
    total += bytes;
    std::error_code ec;
    fs::file_time_type used = fs::last_write_time(entry.path() / "index.tsv", ec);
    if (ec)
      used = fs::file_time_type::min();
    others.push_back({entry.path(), used, bytes});
  }
  std::sort(others.begin(), others.end(),
            [](const Entry& a, const Entry& b) { return a.used < b.used; });
  for (const Entry& other : others) {
    if (total <= limit)
      break;
    Result<core::FileLock> lock =
        core::FileLock::acquire(other.dir / "lock", "the remote mirror " + other.dir.string());
    if (!lock)
      continue; // being read
    std::error_code ec;
    fs::remove_all(other.dir, ec);
    if (ec)
      continue;
    total -= other.bytes;
    log::info("remote.evict", {{"mirror", other.dir.string()}, {"bytes", other.bytes}});
  }
}

// The lock of a mirror folder: shared by this process's leases of it (flock would refuse a second
// descriptor of the same process), waited for when another process holds it.
Result<std::shared_ptr<core::FileLock>> lock_mirror(const fs::path& dir,
                                                    const RemoteLocation& location) {
  static std::mutex mutex;
  static std::map<fs::path, std::weak_ptr<core::FileLock>> held;
  const std::lock_guard guard(mutex);
  if (std::shared_ptr<core::FileLock> lock = held[dir].lock())
    return lock;
  Result<core::FileLock> lock = core::FileLock::acquire(
      dir / "lock", "the remote mirror of " + location.text, std::chrono::minutes(10));
  if (!lock)
    return lock.error();
  auto shared = std::make_shared<core::FileLock>(std::move(*lock));
  held[dir] = shared;
  return shared;
}

std::int64_t ms_between(std::chrono::steady_clock::time_point from,
                        std::chrono::steady_clock::time_point to) {
  return static_cast<std::int64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
}

void log_mirror(const RemoteLocation& location, const MirrorStats& stats, MirrorMode mode,
                std::chrono::steady_clock::time_point started,
                std::chrono::steady_clock::time_point listed) {
  const auto now = std::chrono::steady_clock::now();
  log::info("remote.mirror", {{"location", location.text},
                              {"objects", stats.objects},
                              {"bytes", stats.bytes},
                              {"cached", stats.cached_objects},
                              {"fetched", stats.fetched_objects},
                              {"fetched_bytes", stats.fetched_bytes},
                              {"resumed", stats.resumed_requests},
                              {"removed", stats.removed_objects},
                              {"list_ms", ms_between(started, listed)},
                              {"fetch_ms", ms_between(listed, now)},
                              {"ms", ms_between(started, now)},
                              {"mode", mode == MirrorMode::follow ? "follow" : "whole"}});
}

// The failure of a mirror run as the caller's error: with the location in its message.
Error with_location(const Error& error, const RemoteLocation& location) {
  return error.message().find(location.text) != std::string::npos ||
                 error.message().find(location.object_url("")) != std::string::npos
             ? error
             : error.with_context(location.text);
}

} // namespace

// The downloads of a follow-mode lease, on their own thread.
class MirrorDownloads {
public:
  MirrorDownloads(std::shared_ptr<MirrorRun> run, std::chrono::steady_clock::time_point started,
                  std::chrono::steady_clock::time_point listed)
      : run_(std::move(run)) {
    thread_ = std::thread([this, started, listed] {
      try {
        run_->fetch_all();
        log_mirror(run_->location(), run_->stats(), MirrorMode::follow, started, listed);
      } catch (const ErrorException& e) {
        outcome_ = with_location(e.error(), run_->location());
      } catch (const std::exception& e) {
        outcome_ = source_error(run_->location().text + ": " + e.what());
      }
    });
  }
  MirrorDownloads(const MirrorDownloads&) = delete;
  MirrorDownloads& operator=(const MirrorDownloads&) = delete;
  ~MirrorDownloads() {
    run_->stop();
    join();
    run_->clear_unfinished();
  }

  Status wait() {
    join();
    return outcome_;
  }

private:
  void join() {
    const std::lock_guard guard(join_mutex_);
    if (thread_.joinable())
      thread_.join();
  }

  std::shared_ptr<MirrorRun> run_;
  std::mutex join_mutex_;
  std::thread thread_;
  Status outcome_; // written by the thread, read after the join
};

Status MirrorLease::wait() const {
  return downloads ? downloads->wait() : Status{};
}

namespace {

// A follow-mode lease's downloads by mirror folder: a second mirror() of the same folder in this
// process (it shares the lock) waits for them before it looks at the folder.
std::shared_ptr<MirrorDownloads> running_downloads(const fs::path& dir,
                                                   std::shared_ptr<MirrorDownloads> replace = {},
                                                   bool set = false) {
  static std::mutex mutex;
  static std::map<fs::path, std::weak_ptr<MirrorDownloads>> running;
  const std::lock_guard guard(mutex);
  if (set) {
    running[dir] = replace;
    return replace;
  }
  return running[dir].lock();
}

} // namespace

RemoteMirror::RemoteMirror(fs::path cache_dir, RemoteSettings settings, Environment environment,
                           StoreFactory factory)
    : cache_dir_(std::move(cache_dir)), settings_(std::move(settings)),
      environment_(std::move(environment)), factory_(std::move(factory)) {
  if (!factory_)
    factory_ = [this](const RemoteLocation& location) {
      return open_object_store(location, settings_, environment_);
    };
}

Result<MirrorLease> RemoteMirror::mirror(const RemoteLocation& location, const std::string& owner,
                                         MirrorMode mode) {
  const fs::path dir = cache_dir_ / hex(sha256(owner + "\n" + location.text)).substr(0, 24);
  try {
    const auto started = std::chrono::steady_clock::now();
    fs::create_directories(dir);
    { std::ofstream(dir / "location.txt", std::ios::trunc) << location.text << '\n'; }
    MirrorLease lease;
    // A second process mirroring the same location waits for the first (which downloads it).
    Result<std::shared_ptr<core::FileLock>> lock = lock_mirror(dir, location);
    if (!lock)
      return lock.error();
    lease.lock = std::move(*lock);
    if (const std::shared_ptr<MirrorDownloads> earlier = running_downloads(dir))
      (void)earlier->wait(); // its outcome is its own lease's; this run looks afresh
    auto run = std::make_shared<MirrorRun>(location, factory_(location), dir, mode);
    bool single = false;
    std::vector<Wanted> wanted = run->wanted(single);
    const auto listed = std::chrono::steady_clock::now();
    if (wanted.empty())
      return source_error(location.text + " holds no objects (is the bucket and prefix right?)");
    std::uint64_t bytes = 0;
    for (const Wanted& w : wanted)
      bytes += w.object.size;
    if (bytes > settings_.cache_max_bytes)
      return config_error(location.text + " holds " + human_bytes(bytes) +
                          ", more than the remote cache may keep (" +
                          human_bytes(settings_.cache_max_bytes) +
                          "); raise cache_max_bytes in the connection's [remote] table");
    lease.local_path = single ? dir / "objects" / wanted.front().relative : dir / "objects";
    run->plan(std::move(wanted));
    if (mode == MirrorMode::follow && run->anything_missing()) {
      run->announce();
      lease.stats = run->stats();
      evict(cache_dir_, dir, bytes, settings_.cache_max_bytes);
      lease.downloads = std::make_shared<MirrorDownloads>(run, started, listed);
      running_downloads(dir, lease.downloads, true);
      return lease;
    }
    run->fetch_all();
    lease.stats = run->stats();
    // Only a run that downloaded can have grown the cache: a warm run (everything cached) does
    // not walk every other mirror's files. (A lowered cache_max_bytes takes effect at the next
    // download.)
    if (lease.stats.fetched_objects > 0)
      evict(cache_dir_, dir, bytes, settings_.cache_max_bytes);
    log_mirror(location, lease.stats, mode, started, listed);
    return lease;
  } catch (const ErrorException& e) {
    return with_location(e.error(), location);
  } catch (const fs::filesystem_error& e) {
    return source_error(location.text + ": the remote cache in " + dir.string() +
                        " cannot be written: " + e.code().message());
  }
}

} // namespace billdrop::remote
