// Times the aws plugin alone: loads its descriptor from the .so, reads every month into a sink
// that discards the rows. The difference to `billdrop convert` is the host's share (validation,
// snapshots).
//
//   aws_plugin_read_only <billdrop_aws.so> <config json> [all]
//
// With `all`, a plugin that reads every month at once (ABI 1.4 one_pass) is read with read_all,
// as `billdrop convert` reads it; otherwise months() and read() of each month.
#include <billdrop/plugin.h>

#include <dlfcn.h>

#include <chrono>
#include <cstddef>
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
} // namespace

int main(int argc, char** argv) {
  if (argc != 3 && !(argc == 4 && std::strcmp(argv[3], "all") == 0)) {
    std::fprintf(stderr, "usage: %s <plugin.so> <config json> [all]\n", argv[0]);
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
  int32_t one_pass = 0;
  if (argc == 4 &&
      plugin->struct_size >=
          offsetof(bd_plugin_descriptor, read_all) + sizeof(bd_plugin_descriptor::read_all) &&
      plugin->one_pass != nullptr && plugin->read_all != nullptr &&
      plugin->one_pass(instance, &one_pass, &error) != BD_OK)
    one_pass = 0;
  std::vector<std::string> months;
  if (one_pass == 0)
    plugin->months(
        instance,
        [](void* context, bd_str month) {
          static_cast<std::vector<std::string>*>(context)->emplace_back(month.data, month.size);
        },
        &months, &error);
  const auto begin = std::chrono::steady_clock::now();
  bd_sink sink{nullptr, &on_write, &on_reject, &on_progress, &on_log, &on_note};
  if (one_pass != 0 && plugin->read_all(instance, &sink, &error) != BD_OK)
    std::fprintf(stderr, "read_all: %.*s\n", static_cast<int>(error.size), message);
  for (const std::string& month : months)
    if (plugin->read(instance, bd_str{month.data(), month.size()}, &sink, &error) != BD_OK)
      std::fprintf(stderr, "read %s: %.*s\n", month.c_str(), static_cast<int>(error.size), message);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::printf("rows %llu\nfields %llu\nrejects %llu\nseconds %.3f\n",
              static_cast<unsigned long long>(rows), static_cast<unsigned long long>(fields),
              static_cast<unsigned long long>(rejects), seconds);
  plugin->destroy(instance);
  return 0;
}
