#pragma once
// Reads CBF rows from files for `validate`: NDJSON or a JSON array of row objects, a drop body
// ({"month","operation","data":[...]}) or several in NDJSON, or CSV whose header names CBF
// columns; each optionally gzip-compressed. Every row goes through the ValidatingReceiver; problems
// of a drop body itself (month, operation, size, rows outside the month) go to the report too.

#include "ingest/validating_receiver.hpp"

#include <filesystem>

namespace billdrop::ingest {

struct CbfInputOptions {
  std::size_t max_body_bytes = 5'000'000; // the API's request body limit
};

// An error only when the file cannot be read or parsed at all; row problems go to the report.
Status validate_cbf_file(const std::filesystem::path& file, ValidatingReceiver& receiver,
                         cbf::ValidationReport& report, const CbfInputOptions& options = {});

} // namespace billdrop::ingest
