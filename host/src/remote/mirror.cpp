#include "remote/mirror.hpp"

#include "core/log.hpp"
#include "core/progress.hpp"
#include "remote/crypto.hpp"

#include <algorithm>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

namespace billdrop::remote {

namespace fs = std::filesystem;

namespace {

constexpr int kAttempts = 5; // tries of one object (list or fetch) before its error stands
// Objects downloaded at once, each on its own connection.
constexpr std::size_t kConcurrentDownloads = 4;
// What a download writes to disk at once: the socket's small reads are gathered first.
constexpr std::size_t kWriteBuffer = 1 << 20;

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

// One location's mirror run: list, fetch what is missing, prune, record.
class MirrorRun {
public:
  MirrorRun(const RemoteLocation& location, ObjectStore& store, fs::path dir,
            const RemoteSettings& settings)
      : location_(location), store_(store), dir_(std::move(dir)), settings_(settings) {}

  // The objects of the location: the one object the prefix names exactly, else those under
  // "prefix/"; `single` tells which.
  std::vector<Wanted> wanted(bool& single) {
    const std::string& prefix = location_.prefix;
    std::vector<ObjectInfo> listed =
        with_retries("listing " + location_.text, [&] { return store_.list(prefix); });
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

  MirrorStats run(const std::vector<Wanted>& wanted) {
    fs::create_directories(dir_ / "objects");
    fs::create_directories(dir_ / "partial");
    Index index = read_index(dir_ / "index.tsv");
    MirrorStats stats;
    std::vector<const Wanted*> missing;
    std::uint64_t missing_bytes = 0;
    for (const Wanted& w : wanted) {
      ++stats.objects;
      stats.bytes += w.object.size;
      const auto found = index.find(w.relative);
      const fs::path local = dir_ / "objects" / w.relative;
      if (found != index.end() && found->second.version == w.object.version &&
          found->second.size == w.object.size && fs::is_regular_file(local) &&
          file_size_or_zero(local) == w.object.size) {
        ++stats.cached_objects;
        continue;
      }
      index.erase(w.relative);
      missing.push_back(&w);
      missing_bytes += w.object.size;
    }
    prune(wanted, index, stats);
    write_index(dir_ / "index.tsv", index);
    core::Progress progress("downloading " + location_.text, "bytes");
    // Several objects are downloaded at once (a CUR month is often many files, and one connection
    // seldom fills the link); the first failure stops the others from starting a new object and
    // is the run's error.
    std::mutex mutex; // guards index, stats, progress and failure
    std::size_t next = 0;
    std::exception_ptr failure;
    const auto worker = [&] {
      while (true) {
        const Wanted* w = nullptr;
        {
          const std::lock_guard guard(mutex);
          if (failure || next == missing.size())
            return;
          w = missing[next++];
        }
        try {
          fetch(*w, stats, progress, missing_bytes, mutex);
          const std::lock_guard guard(mutex);
          index[w->relative] = {w->object.version, w->object.size};
          write_index(dir_ / "index.tsv", index);
          ++stats.fetched_objects;
        } catch (...) {
          const std::lock_guard guard(mutex);
          if (!failure)
            failure = std::current_exception();
          return;
        }
      }
    };
    const std::size_t workers = std::min(kConcurrentDownloads, missing.size());
    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < workers; ++i)
      threads.emplace_back(worker);
    worker();
    for (std::thread& thread : threads)
      thread.join();
    if (failure)
      std::rethrow_exception(failure);
    progress.finish();
    return stats;
  }

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

  // Files in objects/ that are no longer listed, and their index entries, go.
  void prune(const std::vector<Wanted>& wanted, Index& index, MirrorStats& stats) {
    std::map<std::string, bool> keep;
    for (const Wanted& w : wanted)
      keep[w.relative] = true;
    for (auto it = index.begin(); it != index.end();)
      it = keep.count(it->first) ? std::next(it) : index.erase(it);
    std::vector<fs::path> files;
    const fs::path root = dir_ / "objects";
    for (const auto& entry : fs::recursive_directory_iterator(root))
      if (!entry.is_directory() &&
          !keep.count(entry.path().lexically_relative(root).generic_string()))
        files.push_back(entry.path());
    for (const fs::path& file : files) {
      fs::remove(file);
      ++stats.removed_objects;
    }
  }

  // Fetches one object into partial/ (resuming what is there of the same version), then moves
  // it into objects/. `mutex` guards `stats` and `progress`, shared with the other downloads.
  void fetch(const Wanted& w, MirrorStats& stats, core::Progress& progress,
             std::uint64_t total_missing, std::mutex& mutex) {
    const std::string id = hex(sha256(w.relative)).substr(0, 32);
    const fs::path partial = dir_ / "partial" / id;
    const fs::path meta = dir_ / "partial" / (id + ".version");
    const std::string version_line = w.object.version + "\t" + std::to_string(w.object.size);
    std::string recorded;
    {
      std::ifstream in(meta);
      std::getline(in, recorded);
    }
    if (recorded != version_line || file_size_or_zero(partial) > w.object.size) {
      std::ofstream(partial, std::ios::trunc | std::ios::binary);
      std::ofstream(meta, std::ios::trunc) << version_line << '\n';
    }
    const std::string url = location_.object_url(w.object.key);
    std::vector<char> buffer(kWriteBuffer);
    for (int attempt = 1;; ++attempt) {
      const std::uint64_t offset = file_size_or_zero(partial);
      if (offset == w.object.size)
        break;
      if (offset > 0) {
        {
          const std::lock_guard guard(mutex);
          ++stats.resumed_requests;
        }
        log::info("remote.resume", {{"object", url}, {"offset", offset}, {"size", w.object.size}});
      }
      std::ofstream out;
      out.rdbuf()->pubsetbuf(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      out.open(partial, std::ios::app | std::ios::binary);
      // Counted into `stats` every few hundred KiB and at the end, not under the lock per read.
      std::uint64_t uncounted = 0;
      const auto count = [&] {
        const std::lock_guard guard(mutex);
        stats.fetched_bytes += uncounted;
        uncounted = 0;
        progress.update(stats.fetched_bytes, total_missing, stats.fetched_bytes);
      };
      try {
        store_.read(w.object, offset, [&](const char* data, std::size_t size) {
          out.write(data, static_cast<std::streamsize>(size));
          uncounted += size;
          if (uncounted >= (256U << 10))
            count();
          return static_cast<bool>(out);
        });
        count();
        out.close();
        if (!out)
          throw ErrorException(source_error("cannot write " + partial.string()));
        if (file_size_or_zero(partial) != w.object.size)
          throw ErrorException(source_error(url + ": the store sent " +
                                                std::to_string(file_size_or_zero(partial)) +
                                                " of " + std::to_string(w.object.size) + " bytes",
                                            true));
        break;
      } catch (const ObjectChanged&) {
        out.close();
        fs::remove(partial);
        fs::remove(meta);
        throw;
      } catch (const ErrorException& e) {
        count();
        out.close(); // what was received is on disk before the next try looks at its size
        if (!e.error().retryable() || attempt == kAttempts)
          throw; // the partial file stays: the next run resumes it
        log::warn(
            "remote.retry",
            {{"what", "reading " + url}, {"attempt", attempt}, {"message", e.error().message()}});
        std::this_thread::sleep_for(std::chrono::milliseconds(100 << attempt));
      }
    }
    const fs::path local = dir_ / "objects" / w.relative;
    fs::create_directories(local.parent_path());
    fs::rename(partial, local);
    fs::remove(meta);
  }

  const RemoteLocation& location_;
  ObjectStore& store_;
  fs::path dir_;
  const RemoteSettings& settings_;
};

// Removes least-recently-used mirrors (by their index's time) other than `current` until the
// cache holds at most `limit` bytes; a mirror being read (locked) is skipped.
void evict(const fs::path& cache_dir, const fs::path& current, std::uint64_t limit) {
  struct Entry {
    fs::path dir;
    fs::file_time_type used;
    std::uint64_t bytes;
  };
  std::vector<Entry> others;
  std::uint64_t total = 0;
  for (const auto& entry : fs::directory_iterator(cache_dir)) {
    if (!entry.is_directory())
      continue;
    const std::uint64_t bytes = tree_bytes(entry.path());
    total += bytes;
    if (entry.path() == current)
      continue;
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

Result<MirrorLease> RemoteMirror::mirror(const RemoteLocation& location, const std::string& owner) {
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
    std::unique_ptr<ObjectStore> store = factory_(location);
    MirrorRun run(location, *store, dir, settings_);
    bool single = false;
    const std::vector<Wanted> wanted = run.wanted(single);
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
    lease.stats = run.run(wanted);
    const auto fetched = std::chrono::steady_clock::now();
    lease.local_path = single ? dir / "objects" / wanted.front().relative : dir / "objects";
    evict(cache_dir_, dir, settings_.cache_max_bytes);
    const auto ms_between = [](auto from, auto to) {
      return static_cast<std::int64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count());
    };
    log::info("remote.mirror", {{"location", location.text},
                                {"objects", lease.stats.objects},
                                {"bytes", lease.stats.bytes},
                                {"cached", lease.stats.cached_objects},
                                {"fetched", lease.stats.fetched_objects},
                                {"fetched_bytes", lease.stats.fetched_bytes},
                                {"resumed", lease.stats.resumed_requests},
                                {"removed", lease.stats.removed_objects},
                                {"list_ms", ms_between(started, listed)},
                                {"fetch_ms", ms_between(listed, fetched)},
                                {"ms", ms_between(started, std::chrono::steady_clock::now())}});
    return lease;
  } catch (const ErrorException& e) {
    return e.error().message().find(location.text) != std::string::npos ||
                   e.error().message().find(location.object_url("")) != std::string::npos
               ? e.error()
               : e.error().with_context(location.text);
  } catch (const fs::filesystem_error& e) {
    return source_error(location.text + ": the remote cache in " + dir.string() +
                        " cannot be written: " + e.code().message());
  }
}

} // namespace billdrop::remote
