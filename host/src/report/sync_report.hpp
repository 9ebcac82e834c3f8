#pragma once
// How the results of convert, validate and sync jobs read: an aligned text table for people, or
// one stable JSON document per command for machines (a list of connections even when there is
// one; numbers as numbers, money as exact decimal strings). Shared by the CLI and the HTTP API.

#include "cbf/validation_report.hpp"
#include "jobs/sync.hpp"

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

namespace billdrop::report {

// convert: {"connections":[{"source","rows_read","errors","seconds","rows_per_second",
// "warnings":[…],"notes":{…},"months":[…]}],"peak_rss_bytes"}
std::string convert_json(const std::vector<const jobs::ResolvedSource*>& sources,
                         const std::vector<const jobs::ConvertOutcome*>& outcomes,
                         std::uint64_t peak_rss_bytes);
void print_convert_text(std::ostream& out, std::ostream& err, const jobs::ResolvedSource& source,
                        const jobs::ConvertOutcome& outcome);

// Row problems, at most `max_shown` lines, then how many more there are.
void print_problems(std::ostream& out, const cbf::ValidationReport& report, std::size_t max_shown);
// Failed months and the plugin's tallies (stderr keeps stdout parseable).
void print_failures_and_notes(std::ostream& err, const ingest::ConvertResult& result);

// run and push: {"connections":[{"connection","connection_id",("rows_read"|"from"),
// "destination","months":[…]}],"interrupted"}
std::string sync_json(const jobs::SyncRun& run);
// `verb` is "sent" or "pushed"; problems go to `err`, each after the connection it concerns.
void print_sync_text(std::ostream& out, std::ostream& err, const jobs::SyncRun& run);

// {"error":{"kind","message"}}: what every command prints on stdout in JSON mode when it fails.
std::string error_json(std::string_view kind, std::string_view message);

} // namespace billdrop::report
