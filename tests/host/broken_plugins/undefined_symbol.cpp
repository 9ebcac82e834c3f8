// Exports the entry point but needs a symbol nothing defines: loading it with RTLD_NOW must fail
// before any of its code runs.
extern "C" const void* billdrop_test_symbol_nobody_defines();

extern "C" __attribute__((visibility("default"))) const void* billdrop_plugin_entry() {
  return billdrop_test_symbol_nobody_defines();
}
