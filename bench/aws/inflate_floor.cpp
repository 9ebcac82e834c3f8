// The floor for the aws benchmark: inflate a file with the same inflater billdrop uses
// (billdrop::open_file) and count its lines, nothing else.
//
//   aws_inflate_floor <file.csv.gz>
#include <billdrop/byte_source.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <file.csv.gz>\n", argv[0]);
    return 2;
  }
  const auto begin = std::chrono::steady_clock::now();
  auto source = billdrop::open_file(argv[1]);
  if (!source) {
    std::fprintf(stderr, "%s\n", source.error().message().c_str());
    return 1;
  }
  std::vector<char> buffer(1 << 20);
  std::uint64_t lines = 0;
  std::uint64_t bytes = 0;
  while (true) {
    auto n = (*source)->read(buffer.data(), buffer.size());
    if (!n) {
      std::fprintf(stderr, "%s\n", n.error().message().c_str());
      return 1;
    }
    if (*n == 0)
      break;
    bytes += *n;
    lines += static_cast<std::uint64_t>(std::count(buffer.data(), buffer.data() + *n, '\n'));
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::printf("lines %llu\nbytes %llu\nseconds %.3f\n", static_cast<unsigned long long>(lines),
              static_cast<unsigned long long>(bytes), seconds);
  return 0;
}
