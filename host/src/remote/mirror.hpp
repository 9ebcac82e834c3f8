#pragma once
// The local mirror of a remote location, in the state directory: what a plugin reads instead of
// the store. Every object under the location's prefix is kept at its key (relative to the
// prefix) below <cache>/<id>/objects/, with the version (ETag or generation) and size it was
// downloaded at in <cache>/<id>/index.tsv; <id> is a digest of the connection id and the
// location, so two connections never share (or evict) a mirror they are reading.
//
// A mirror() call lists the objects, then for each one (up to four downloads at once, each on its
// own connection; the first failure stops the others from starting another object):
//   - listed at the version and size of its index entry, with the file there: nothing fetched
//     (a nightly sync of an unchanged export downloads nothing);
//   - otherwise fetched into partial/, pinned to the listed version (If-Match, ifGenerationMatch,
//     and the answer's ETag compared), and moved into objects/ once whole. A broken transfer is
//     resumed from the bytes already there with a Range request — in the same run (a few
//     retries) and in the next, as long as the object is still the version being fetched;
//   - an object that changed since it was listed fails the whole mirror with ObjectChanged's
//     message: the plugin never reads a mix of old and new bytes. Running again starts over.
// Objects gone from the listing are removed from objects/.
//
// With MirrorMode::follow (for a plugin that reads growing files, billdrop/growing_file.hpp)
// mirror() returns once the objects are listed and the missing ones announced: each is already at
// its place in objects/ as a growing file (a hard link to its partial/ file) while up to four
// downloads fill them in the background, so the plugin reads an object as its bytes arrive. A
// reader never takes a short or mixed object for a whole one: it waits for the download to end,
// and fails with the download's message (cut beyond the retries, changed while being read). The
// lease's wait() gives the downloads' outcome; a lease destroyed before they end stops them (what
// was received stays in partial/ for the next run). The cache is size-bounded
// (RemoteSettings::cache_max_bytes): a location larger than the bound is refused before any
// download, and least-recently-used mirrors of other locations are removed to stay within it
// (never one that is being read: each mirror is locked while its lease lives).

#include "core/file_lock.hpp"
#include "remote/location.hpp"
#include "remote/object_store.hpp"
#include "remote/settings.hpp"

#include <billdrop/result.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>

namespace billdrop::remote {

struct MirrorStats {
  std::uint64_t objects = 0;          // objects the location holds
  std::uint64_t bytes = 0;            // their total size
  std::uint64_t cached_objects = 0;   // found in the mirror, not downloaded
  std::uint64_t fetched_objects = 0;  // downloaded (whole or resumed)
  std::uint64_t fetched_bytes = 0;    // bytes received this run
  std::uint64_t resumed_requests = 0; // ranged requests that continued a partial download
  std::uint64_t removed_objects = 0;  // deleted from the mirror: no longer listed
};

// A mirrored location: the local path to hand the plugin (a folder, or the one file when the
// location names one object), locked against eviction while this lives. The lock is shared by
// the leases of one mirror within a process (a second session of the same connection reuses it);
// another process waits for it.
class MirrorDownloads;

struct MirrorLease {
  std::filesystem::path local_path;
  // With MirrorMode::follow, the objects found cached and what is being fetched; the figures of
  // the downloads themselves are in their remote.mirror log line.
  MirrorStats stats;
  std::shared_ptr<core::FileLock> lock;
  // The downloads still running (MirrorMode::follow), null otherwise. Declared after the lock:
  // stopped and joined before the lock is released.
  std::shared_ptr<MirrorDownloads> downloads;

  // Waits for the downloads (at once without any); their first failure, naming the object.
  Status wait() const;
};

enum class MirrorMode {
  whole,  // every object is whole in the mirror before mirror() returns
  follow, // mirror() returns while the missing objects download (growing files)
};

// Opens the store of a location (tests pass a fake).
using StoreFactory = std::function<std::unique_ptr<ObjectStore>(const RemoteLocation&)>;

class RemoteMirror {
public:
  // `cache_dir`: <state_dir>/remote-cache. The default factory opens the real store with
  // `settings` and `environment`.
  RemoteMirror(std::filesystem::path cache_dir, RemoteSettings settings,
               Environment environment = process_environment(), StoreFactory factory = {});

  // Mirrors `location` for connection `owner`. Errors: config (credentials, a location larger
  // than the cache), source (unreachable, refused, changed while being read: its message names
  // the object), each with the location in the message.
  Result<MirrorLease> mirror(const RemoteLocation& location, const std::string& owner,
                             MirrorMode mode = MirrorMode::whole);

private:
  std::filesystem::path cache_dir_;
  RemoteSettings settings_;
  Environment environment_;
  StoreFactory factory_;
};

} // namespace billdrop::remote
