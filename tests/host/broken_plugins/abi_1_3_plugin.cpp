// A plugin as it was built against ABI 1.3, before one pass: it declares minor 3 and its
// descriptor is the 1.3 layout, which ends at `read_since` (struct_size says so), so the host must
// not read `one_pass` or `read_all` past its end. It holds two months, one row each; the host must
// load it, convert it month by month as before, and see a source that is not one-pass.
#include <billdrop/plugin.h>

#include <cstring>

namespace {

// bd_plugin_descriptor as sdk/include/billdrop/plugin.h declared it in ABI 1.3.
struct DescriptorV13 {
  uint32_t magic;
  uint16_t abi_major;
  uint16_t abi_minor;
  uint32_t struct_size;
  const char* name;
  const char* version;
  const char* description;
  const char* config_schema_json;
  int32_t (*create)(const char* config_json, size_t config_size, void** instance, bd_error* error);
  void (*destroy)(void* instance);
  int32_t (*check)(void* instance, bd_error* error);
  int32_t (*months)(void* instance, bd_month_callback emit, void* context, bd_error* error);
  int32_t (*read)(void* instance, bd_str month, const bd_sink* sink, bd_error* error);
  int32_t (*incremental)(void* instance, int32_t* incremental, bd_text_callback identity_column,
                         void* context, bd_error* error);
  int32_t (*read_since)(void* instance, bd_str cursor, const bd_sink* sink, bd_error* error);
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
  emit(context, text("2024-09"));
  return BD_OK;
}
int32_t read(void*, bd_str month, const bd_sink* sink, bd_error*) {
  const bool august = month.size == 7 && std::memcmp(month.data, "2024-08", 7) == 0;
  const bd_field fields[] = {
      {text("time/usage_start"), text(august ? "2024-08-01T00:00:00Z" : "2024-09-01T00:00:00Z")},
      {text("cost/cost"), text(august ? "2.50" : "0.75")}};
  const bd_row row{fields, 2, text(august ? "v13:1" : "v13:2")};
  if (sink->write(sink->context, &row, 1) != 0)
    return BD_ERR_CANCELLED;
  return BD_OK;
}

// The descriptor, followed by bytes that are not function pointers: a host that read past
// struct_size would take them for `one_pass` and `read_all`.
struct Layout {
  DescriptorV13 descriptor;
  unsigned char beyond[2 * sizeof(void*)];
};

} // namespace

extern "C" BILLDROP_EXPORT const bd_plugin_descriptor* billdrop_plugin_entry(void) {
  static Layout layout = {{BILLDROP_PLUGIN_MAGIC, BILLDROP_ABI_MAJOR, 3,
                           static_cast<uint32_t>(sizeof(DescriptorV13)), "abi_1_3", "1.3.0",
                           "A plugin built against ABI 1.3 (before one pass)", "{\"keys\":[]}",
                           &create, &destroy, &check, &months, &read, nullptr, nullptr},
                          {}};
  std::memset(layout.beyond, 0xA5, sizeof layout.beyond);
  return reinterpret_cast<const bd_plugin_descriptor*>(&layout.descriptor);
}
