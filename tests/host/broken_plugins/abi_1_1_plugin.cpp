// A plugin as it was built against ABI 1.1, before bd_sink::reject_field: it declares minor 1 and
// sees the sink through its own copy of the 1.1 layout, so it never touches a field of 1.2. It
// writes one row and rejects one record per month; the host must take both as before.
#include <billdrop/plugin.h>

#include <cstring>

namespace {

// bd_sink as sdk/include/billdrop/plugin.h declared it in ABI 1.1.
struct SinkV11 {
  void* context;
  int32_t (*write)(void* context, const bd_row* rows, size_t row_count);
  void (*reject)(void* context, bd_str origin, bd_str reason);
  void (*progress)(void* context, uint64_t done, uint64_t total);
  void (*log)(void* context, int32_t level, bd_str message);
  void (*note)(void* context, bd_str key, uint64_t count);
};

bd_str text(const char* s) {
  return bd_str{s, std::strlen(s)};
}

int32_t create(const char*, size_t, void** instance, bd_error*) {
  static int handle = 0;
  *instance = &handle;
  return BD_OK;
}
void destroy(void*) {}
int32_t check(void*, bd_error*) {
  return BD_OK;
}
int32_t months(void*, bd_month_callback emit, void* context, bd_error*) {
  emit(context, text("2024-08"));
  return BD_OK;
}
int32_t read(void*, bd_str, const bd_sink* host_sink, bd_error*) {
  const auto* sink = reinterpret_cast<const SinkV11*>(host_sink);
  const bd_field fields[] = {{text("time/usage_start"), text("2024-08-01T00:00:00Z")},
                             {text("cost/cost"), text("1.25")}};
  const bd_row row{fields, 2, text("legacy:1")};
  if (sink->write(sink->context, &row, 1) != 0)
    return BD_ERR_CANCELLED;
  sink->reject(sink->context, text("legacy:2"), text("cost 'abc' is not a number"));
  sink->note(sink->context, text("legacy note"), 2);
  return BD_OK;
}

} // namespace

extern "C" BILLDROP_EXPORT const bd_plugin_descriptor* billdrop_plugin_entry(void) {
  static const bd_plugin_descriptor descriptor = {
      BILLDROP_PLUGIN_MAGIC,
      BILLDROP_ABI_MAJOR,
      1,
      static_cast<uint32_t>(sizeof(bd_plugin_descriptor)),
      "abi_1_1",
      "1.1.0",
      "A plugin built against ABI 1.1 (before reject_field)",
      "{\"keys\":[]}",
      &create,
      &destroy,
      &check,
      &months,
      &read};
  return &descriptor;
}
