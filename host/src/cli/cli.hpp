#pragma once

namespace billdrop::cli {
// Parses argv and runs the command; returns the process exit code (docs/cli.md).
int run(int argc, char** argv);
} // namespace billdrop::cli
