#pragma once
// What the sender records as it goes, and what it asks before it starts: the store side of
// sending, as an interface the send layer owns and a store implements (store/sqlite today, a
// shared PostgreSQL store later). The scheduler knows only this, never which store it is.
//
// The rules every implementation keeps (docs/architecture.md, "Idempotency keys"):
// - begin_send moves the (connection, month)'s generation on, except when it resumes a send of the
//   same plan that never finished and began recently: then the same generation and key state;
// - a chunk's key state is saved before the attempt that uses it;
// - a month is synced only when every chunk of its plan was acknowledged since its send began.

#include "plan/drop_plan.hpp"
#include "send/connection_sender.hpp"

#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string_view>

namespace billdrop::send {

class SendJournal {
public:
  virtual ~SendJournal() = default;

  virtual Result<SendStart>
  begin_send(std::string_view connection_id, Month month, std::string_view plan_digest,
             std::chrono::system_clock::time_point now = std::chrono::system_clock::now()) = 0;
  virtual Status save_key_state(std::string_view connection_id, Month month,
                                const SendGeneration& generation,
                                const std::map<std::uint32_t, ChunkKeyState>& chunks) = 0;
  virtual Status record_attempt(const Attempt& attempt) = 0;
  virtual Status mark_chunk_acknowledged(std::string_view connection_id, Month month,
                                         std::string_view plan_digest, std::uint32_t chunk_index,
                                         std::string_view drop_id,
                                         std::chrono::system_clock::time_point at) = 0;
  virtual Status mark_month_synced(std::string_view connection_id, const plan::DropPlan& plan,
                                   std::chrono::system_clock::time_point at) = 0;
  virtual Status mark_month_failed(std::string_view connection_id, Month month,
                                   std::string_view plan_digest, std::string_view error,
                                   std::chrono::system_clock::time_point at) = 0;
  // Called right before each request of a send: a store shared by several hosts checks that this
  // host still holds the connection's lease (its fencing token), and an error stops the send
  // before the request. A single host's store has nothing to check.
  virtual Status check_before_request(std::string_view connection_id) {
    (void)connection_id;
    return {};
  }
};

} // namespace billdrop::send
