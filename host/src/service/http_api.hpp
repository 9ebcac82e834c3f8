#pragma once
// The daemon's HTTP API, in seed 002's envelope ({"success":true,"data":…} /
// {"success":false,"error":{"code","message"}}):
//   GET  /api/v1/billing/sync-status       every connection's status (seed 000's fields)
//   POST /api/v1/billing/verify            starts the org-wide verify job (202), or returns it
//   GET  /api/v1/billing/verify/{jobId}    its per-connection results
//   GET  /healthz                          liveness (no token needed)
//   GET  /metrics                          Prometheus text
// Loopback needs no token; any other address needs `Authorization: Bearer <token>`.

#include "service/daemon.hpp"

#include <billdrop/result.hpp>

#include <cstdint>
#include <memory>
#include <string>

namespace billdrop::service {

struct ApiOptions {
  std::string bearer_token;             // empty: none required (loopback only)
  std::size_t max_body_bytes = 1 << 20; // 1 MiB
};

class ApiServer {
public:
  ApiServer(Daemon& daemon, ApiOptions options);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  Result<std::uint16_t> listen(const std::string& host, std::uint16_t port);
  void stop();

private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// {"success":false,"error":{"code","message"}} with its status.
std::string error_envelope(const std::string& code, const std::string& message);

} // namespace billdrop::service
