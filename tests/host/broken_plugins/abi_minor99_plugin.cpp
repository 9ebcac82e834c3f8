// Claims a newer minor of the host's major: it may rely on fields this host does not know.
#include "test_plugin.hpp"

BILLDROP_TEST_PLUGIN_ENTRY(billdrop::test_plugins::IdlePlugin, "abi_minor99", BILLDROP_PLUGIN_MAGIC,
                           BILLDROP_ABI_MAJOR, 99)
