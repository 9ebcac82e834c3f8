// The floor of a CSV source plugin's benchmark: one pass over a file with the SDK's CSV reader
// (open, inflate on a second thread when gzip, as the plugins do, split every record into
// fields), and no mapping. A plugin's `billdrop convert` is measured against it in the same run
// (bench/focus/run_bench.sh, bench/azure/run_bench.sh).
//
//   billdrop_csv_floor <file.csv | file.csv.gz> [passes]
//
// `passes` reads the file that many times (a plugin that lists months by scanning reads it
// twice). Prints records, fields and seconds (wall).
#include <billdrop/byte_source.hpp>
#include <billdrop/csv.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>

int main(int argc, char** argv) {
  if (argc != 2 && argc != 3) {
    std::fprintf(stderr, "usage: %s <file.csv | file.csv.gz> [passes]\n", argv[0]);
    return 2;
  }
  const int passes = argc == 3 ? std::atoi(argv[2]) : 1;
  const auto begin = std::chrono::steady_clock::now();
  std::uint64_t records = 0;
  std::uint64_t fields = 0;
  std::uint64_t bytes = 0; // of every field, so that the splitting cannot be optimized away
  for (int pass = 0; pass < passes; ++pass) {
    auto file = billdrop::open_file(argv[1]);
    if (!file) {
      std::fprintf(stderr, "%s\n", file.error().message().c_str());
      return 1;
    }
    std::unique_ptr<billdrop::ByteSource> source = std::move(*file);
    if (std::string_view(argv[1]).ends_with(".gz"))
      source = billdrop::read_ahead(std::move(source));
    billdrop::CsvReader reader(std::move(source));
    billdrop::CsvRecord record;
    while (true) {
      billdrop::Result<bool> more = reader.next(record);
      if (!more) {
        std::fprintf(stderr, "%s\n", more.error().message().c_str());
        return 1;
      }
      if (!*more)
        break;
      ++records;
      fields += record.size();
      for (const std::string_view field : record)
        bytes += field.size();
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::printf("records %llu\nfields %llu\nfield_bytes %llu\nseconds %.3f\n",
              static_cast<unsigned long long>(records), static_cast<unsigned long long>(fields),
              static_cast<unsigned long long>(bytes), seconds);
  return 0;
}
