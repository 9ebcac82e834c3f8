// Claims a future major ABI: the host must refuse it before calling anything else.
#include "test_plugin.hpp"

BILLDROP_TEST_PLUGIN_ENTRY(billdrop::test_plugins::IdlePlugin, "abi_major2", BILLDROP_PLUGIN_MAGIC,
                           2, 0)
