#include "cli/cli.hpp"

int main(int argc, char** argv) {
  return billdrop::cli::run(argc, argv);
}
