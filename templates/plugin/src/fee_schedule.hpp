#pragma once
// Reads a fee schedule: a CSV with the columns date,service,amount (amount an exact decimal).

#include <billdrop/sdk.hpp>

#include <filesystem>
#include <string>
#include <vector>

namespace example {

struct Fee {
  billdrop::UtcTime start;
  std::string service;
  std::string amount;
  std::string origin; // "fees.csv:3"
};

// A line that is not a fee: where, which CBF column it could not fill ("" for the whole line),
// the rule it broke (docs/cbf.md's ids: "timestamp", "record_shape", ...) and why.
struct Reject {
  std::string origin;
  std::string column;
  std::string rule;
  std::string reason;
};

// Every fee of the file; a line that is not a fee goes to `rejects`, never silently away.
billdrop::Result<std::vector<Fee>> read_fee_schedule(const std::filesystem::path& file,
                                                     std::vector<Reject>& rejects);

} // namespace example
