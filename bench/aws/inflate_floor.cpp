// The floors for the aws benchmark: inflate a file and count its lines, nothing else, with each
// gzip decoder billdrop has: ISA-L's igzip (what billdrop uses where it is built with it) and
// zlib's (the fallback). Prints one block per decoder; `seconds` is the one billdrop uses.
//
//   aws_inflate_floor <file.csv.gz>
#include <billdrop/byte_source.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

// The line ends in [data, data + size), found with memchr (as wc -l does): glibc's vector
// memchr, several times the speed of std::count's byte loop, which took more than half of the
// floor's time and made the floor a floor of counting rather than of inflating.
std::uint64_t count_lines(const char* data, std::size_t size) {
  std::uint64_t lines = 0;
  const char* const end = data + size;
  while (const void* found = std::memchr(data, '\n', static_cast<std::size_t>(end - data))) {
    ++lines;
    data = static_cast<const char*>(found) + 1;
  }
  return lines;
}

// Inflates `path` with `inflater` and counts lines; false (after printing why) on an error.
bool measure(const char* path, billdrop::Inflater inflater, const char* label, double& seconds) {
  const auto begin = std::chrono::steady_clock::now();
  auto file = billdrop::open_file(path, billdrop::Compression::none);
  if (!file) {
    std::fprintf(stderr, "%s\n", file.error().message().c_str());
    return false;
  }
  auto source = billdrop::gzip_source(std::move(*file), inflater);
  std::vector<char> buffer(1 << 20);
  std::uint64_t lines = 0;
  std::uint64_t bytes = 0;
  while (true) {
    auto n = source->read(buffer.data(), buffer.size());
    if (!n) {
      std::fprintf(stderr, "%s\n", n.error().message().c_str());
      return false;
    }
    if (*n == 0)
      break;
    bytes += *n;
    lines += count_lines(buffer.data(), *n);
  }
  seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::printf("%s_lines %llu\n%s_bytes %llu\n%s_seconds %.3f\n", label,
              static_cast<unsigned long long>(lines), label, static_cast<unsigned long long>(bytes),
              label, seconds);
  return true;
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <file.csv.gz>\n", argv[0]);
    return 2;
  }
  double zlib = 0;
  double isal = 0;
  if (!measure(argv[1], billdrop::Inflater::zlib, "zlib", zlib))
    return 1;
  if (billdrop::isal_available() && !measure(argv[1], billdrop::Inflater::fastest, "isal", isal))
    return 1;
  // The floor of what billdrop runs: its default decoder.
  std::printf("seconds %.3f\n", billdrop::isal_available() ? isal : zlib);
  return 0;
}
