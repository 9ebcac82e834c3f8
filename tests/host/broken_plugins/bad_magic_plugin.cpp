// Exports the entry point but returns something that is not a billdrop descriptor.
#include "test_plugin.hpp"

BILLDROP_TEST_PLUGIN_ENTRY(billdrop::test_plugins::IdlePlugin, "bad_magic", 0x46464f45u,
                           BILLDROP_ABI_MAJOR, BILLDROP_ABI_MINOR)
