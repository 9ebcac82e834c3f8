// Claims a past major ABI (0.3): too old for this host.
#include "test_plugin.hpp"

BILLDROP_TEST_PLUGIN_ENTRY(billdrop::test_plugins::IdlePlugin, "abi_major0", BILLDROP_PLUGIN_MAGIC,
                           0, 3)
