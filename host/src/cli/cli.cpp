#include "cli/cli.hpp"

namespace billdrop::cli {
int run(int, char**) { return 0; }
} // namespace billdrop::cli
