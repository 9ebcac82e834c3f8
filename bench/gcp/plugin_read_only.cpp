// Times the gcp plugin alone: loads its descriptor from the .so, lists the months (the scan of
// every file for the months it holds) and reads every month into a sink that discards the rows.
// Prints wall and CPU seconds of the listing and of the reads; the difference to `billdrop
// convert` is the host's share (validation, snapshots).
//
//   billdrop_gcp_plugin_read_only <billdrop_gcp.so> <config json>
#include <billdrop/plugin.h>

#include <dlfcn.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {
std::uint64_t rows = 0;
std::uint64_t fields = 0;
std::uint64_t rejects = 0;
int32_t on_write(void*, const bd_row* batch, size_t count) {
  rows += count;
  for (size_t i = 0; i < count; ++i)
    fields += batch[i].field_count;
  return 0;
}
void on_reject(void*, bd_str, bd_str) {
  ++rejects;
}
void on_progress(void*, uint64_t, uint64_t) {}
void on_log(void*, int32_t, bd_str) {}
void on_note(void*, bd_str, uint64_t) {}

struct Clock {
  double wall;
  double cpu; // user + system, this process

  static Clock now() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval& t) { return t.tv_sec + t.tv_usec / 1e6; };
    return {
        std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(),
        seconds(usage.ru_utime) + seconds(usage.ru_stime)};
  }
};
} // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s <plugin.so> <config json>\n", argv[0]);
    return 2;
  }
  void* library = dlopen(argv[1], RTLD_NOW);
  if (library == nullptr) {
    std::fprintf(stderr, "%s\n", dlerror());
    return 1;
  }
  using Entry = const bd_plugin_descriptor* (*)();
  const auto entry = reinterpret_cast<Entry>(dlsym(library, "billdrop_plugin_entry"));
  const bd_plugin_descriptor* plugin = entry();
  char message[4096];
  bd_error error{0, message, sizeof message, 0};
  void* instance = nullptr;
  if (plugin->create(argv[2], std::strlen(argv[2]), &instance, &error) != BD_OK) {
    std::fprintf(stderr, "create: %.*s\n", static_cast<int>(error.size), message);
    return 1;
  }
  const Clock begin = Clock::now();
  std::vector<std::string> months;
  if (plugin->months(
          instance,
          [](void* context, bd_str month) {
            static_cast<std::vector<std::string>*>(context)->emplace_back(month.data, month.size);
          },
          &months, &error) != BD_OK) {
    std::fprintf(stderr, "months: %.*s\n", static_cast<int>(error.size), message);
    return 1;
  }
  const Clock listed = Clock::now();
  bd_sink sink{nullptr, &on_write, &on_reject, &on_progress, &on_log, &on_note};
  for (const std::string& month : months)
    if (plugin->read(instance, bd_str{month.data(), month.size()}, &sink, &error) != BD_OK)
      std::fprintf(stderr, "read %s: %.*s\n", month.c_str(), static_cast<int>(error.size), message);
  const Clock read = Clock::now();
  std::printf("months %zu\nrows %llu\nfields %llu\nrejects %llu\n", months.size(),
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(fields),
              static_cast<unsigned long long>(rejects));
  std::printf("months_seconds %.3f\nmonths_cpu_seconds %.3f\n", listed.wall - begin.wall,
              listed.cpu - begin.cpu);
  std::printf("read_seconds %.3f\nread_cpu_seconds %.3f\n", read.wall - listed.wall,
              read.cpu - listed.cpu);
  std::printf("seconds %.3f\ncpu_seconds %.3f\n", read.wall - begin.wall, read.cpu - begin.cpu);
  plugin->destroy(instance);
  return 0;
}
