#pragma once
// Shared by the loader-test plugins: a plugin that does nothing, and an entry point whose
// descriptor header (magic, ABI version) a test chooses, so each .so can break one rule.

#include <billdrop/sdk.hpp>

#include <vector>

namespace billdrop::test_plugins {

class IdlePlugin : public SourcePlugin {
public:
  static constexpr ConfigKey config_keys[] = {
      {"note", ConfigType::string, nullptr, false, "Ignored"}};
  explicit IdlePlugin(const Config& /*config*/) {}
  Status check() override { return {}; }
  Result<std::vector<Month>> months() override { return std::vector<Month>{}; }
  Status read(Month /*month*/, RowSink& /*sink*/) override { return {}; }
};

} // namespace billdrop::test_plugins

// Like BILLDROP_PLUGIN(...), with the descriptor's header fields given explicitly.
#define BILLDROP_TEST_PLUGIN_ENTRY(PluginClass, plugin_name, magic, abi_major, abi_minor)          \
  extern "C" BILLDROP_EXPORT const bd_plugin_descriptor* billdrop_plugin_entry(void) {             \
    using Adapter_ = ::billdrop::detail::Adapter<PluginClass>;                                     \
    static const bd_plugin_descriptor descriptor = {                                               \
        magic,                                                                                     \
        abi_major,                                                                                 \
        abi_minor,                                                                                 \
        static_cast<uint32_t>(sizeof(bd_plugin_descriptor)),                                       \
        plugin_name,                                                                               \
        "0.0.1",                                                                                   \
        "A deliberately broken plugin for the loader tests",                                       \
        Adapter_::schema_json(),                                                                   \
        &Adapter_::create,                                                                         \
        &Adapter_::destroy,                                                                        \
        &Adapter_::check,                                                                          \
        &Adapter_::months,                                                                         \
        &Adapter_::read,                                                                           \
        &Adapter_::incremental,                                                                    \
        &Adapter_::read_since};                                                                    \
    return &descriptor;                                                                            \
  }
