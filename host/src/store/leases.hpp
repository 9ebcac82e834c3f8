#pragma once
// Leases of connections in a store shared by several hosts (store/postgres): a connection is run
// by the one host holding its lease. A lease has an owner, an expiry and a fencing token that grows
// on every claim; the holder renews it (heartbeat) every TTL/3, and every write it makes of a
// connection's state is conditioned on still holding the token, so a host that lost its lease
// (paused, cut off) finds out at its next write or request and stops.
//
// The SQLite store has no leases: one host, the per-connection file lock.

#include <billdrop/result.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace billdrop::store {

// A connection as leases know it: by its configured name, with the connection id its sends are
// journaled under.
struct LeaseKey {
  std::string name;
  std::string connection_id;
};

struct Lease {
  std::string name;
  std::uint64_t token = 0;
  // The previous holder's lease had expired (not released): its run may have been cut short.
  bool taken_over = false;
};

// Who holds a lease now, for messages.
struct LeaseHolder {
  std::string owner; // the holder's id (host_… for a `serve` host, cli_… for a one-off command)
  std::string hostname; // its machine ("" for a one-off command)
  std::int64_t pid = 0; // its process (0 for a one-off command)
  std::uint64_t token = 0;
  std::chrono::system_clock::time_point expires{};
};

struct HeartbeatResult {
  std::vector<std::string> lost; // leases this host held and holds no more
  std::size_t live_hosts = 1;    // hosts whose heartbeat is within the TTL, this one included
};

class LeaseKeeper {
public:
  virtual ~LeaseKeeper() = default;

  // This host's random id (the owner written in its leases).
  virtual const std::string& owner() const noexcept = 0;
  virtual std::chrono::milliseconds ttl() const noexcept = 0;
  // Renews this host's presence and every lease it holds; leases found expired or taken are
  // dropped from the held set and returned as lost.
  virtual Result<HeartbeatResult> heartbeat() = 0;
  // Claims up to `limit` of `candidates` whose lease is free or expired, in one short
  // `SELECT … FOR UPDATE SKIP LOCKED` transaction; returns the leases won.
  virtual Result<std::vector<Lease>> claim(const std::vector<LeaseKey>& candidates,
                                           std::size_t limit) = 0;
  // Gives a lease back (expired at once, so another host may claim it).
  virtual Status release(const std::string& name) = 0;
  // Who holds the lease of `name` now (nullopt: nobody, or it expired).
  virtual Result<std::optional<LeaseHolder>> holder(const std::string& name) const = 0;
  // The token of this host's lease of `name`; 0 when it holds none.
  virtual std::uint64_t token(const std::string& name) const = 0;
  virtual bool holds(const std::string& name) const = 0;
  virtual std::size_t held() const = 0;
};

} // namespace billdrop::store
