// A shared object that exports functions, but not the billdrop entry point.
extern "C" __attribute__((visibility("default"))) int billdrop_almost_a_plugin(int x) {
  return x + 1;
}
