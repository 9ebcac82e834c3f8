// Reports month texts that are not months, through a months() written against the C ABI.
#include "test_plugin.hpp"

namespace {

int32_t bad_months(void* /*instance*/, bd_month_callback emit, void* context, bd_error* /*error*/) {
  emit(context, bd_str{"2024-08", 7});
  emit(context, bd_str{"2024-13", 7});
  return BD_OK;
}

using Adapter = billdrop::detail::Adapter<billdrop::test_plugins::IdlePlugin>;

} // namespace

extern "C" BILLDROP_EXPORT const bd_plugin_descriptor* billdrop_plugin_entry(void) {
  static const bd_plugin_descriptor descriptor = {BILLDROP_PLUGIN_MAGIC,
                                                  BILLDROP_ABI_MAJOR,
                                                  BILLDROP_ABI_MINOR,
                                                  sizeof(bd_plugin_descriptor),
                                                  "bad_months",
                                                  "0.0.1",
                                                  "Reports an impossible month",
                                                  Adapter::schema_json(),
                                                  &Adapter::create,
                                                  &Adapter::destroy,
                                                  &Adapter::check,
                                                  &bad_months,
                                                  &Adapter::read};
  return &descriptor;
}
