#pragma once
// billdrop's exit codes (documented in docs/cli.md). Scripts and CI rely on them: never renumber.

namespace billdrop::cli {

inline constexpr int kExitOk = 0;       // everything worked, no row problems
inline constexpr int kExitData = 1;     // data problems: invalid or rejected rows
inline constexpr int kExitUsage = 2;    // bad command line
inline constexpr int kExitConfig = 3;   // configuration error (file, connection, plugin keys)
inline constexpr int kExitPlugin = 4;   // plugin not found or cannot be loaded (ABI, symbols)
inline constexpr int kExitSource = 5;   // the source cannot be reached or read
inline constexpr int kExitDelivery = 6; // a month could not be sent (it is not synced)
inline constexpr int kExitBusy =
    75; // the connection is being synced by another process (EX_TEMPFAIL)
inline constexpr int kExitInternal = 70; // a bug (EX_SOFTWARE)
inline constexpr int kExitInterrupted =
    130; // SIGINT or SIGTERM: stopped, what was sent stays resumable

} // namespace billdrop::cli
