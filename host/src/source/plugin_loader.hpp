#pragma once
// Finds, inspects and loads source plugins (Boost.DLL), and drives them through the C ABI.
//
// Loading: the file is inspected (Boost.DLL library_info: is it a shared object, does it export
// BILLDROP_PLUGIN_ENTRY_SYMBOL) before any of its code runs; then it is loaded with local symbols,
// its descriptor is checked (magic, ABI, struct size) by check_abi(), and its config schema parsed.
// Every failure is one sentence a user can act on. The library stays loaded while any
// LoadedPlugin or PluginInstance made from it lives; the host never unloads during a run.

#include "source/source_session.hpp"

#include <billdrop/config.hpp>
#include <billdrop/plugin.h>
#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::source {

// The ABI policy (docs/abi.md), enforced here and nowhere else: magic must match, abi_major must
// equal BILLDROP_ABI_MAJOR, abi_minor must be <= BILLDROP_ABI_MINOR, struct_size must cover the
// fields of the plugin's minor version. `file` is only used in messages.
Status check_abi(const bd_plugin_descriptor& descriptor, const std::filesystem::path& file);

class LoadedPlugin {
public:
  ~LoadedPlugin();
  LoadedPlugin(const LoadedPlugin&) = delete;
  LoadedPlugin& operator=(const LoadedPlugin&) = delete;

  const bd_plugin_descriptor& descriptor() const noexcept { return *descriptor_; }
  const std::string& name() const noexcept { return name_; }
  const std::string& version() const noexcept { return version_; }
  const std::string& description() const noexcept { return description_; }
  const std::filesystem::path& path() const noexcept { return path_; }
  const ConfigSchema& schema() const noexcept { return schema_; }
  // ABI 1.5: may the host hand this plugin files it is still downloading (growing files)?
  bool reads_growing_files() const noexcept {
    return descriptor_->abi_minor >= 5 && descriptor_->reads_growing_files != 0;
  }

private:
  friend Result<std::shared_ptr<LoadedPlugin>> load_plugin(const std::filesystem::path& file,
                                                           std::string_view expected_name);
  struct Library; // hides boost::dll::shared_library from this header
  LoadedPlugin() = default;

  std::unique_ptr<Library> library_;
  const bd_plugin_descriptor* descriptor_ = nullptr;
  std::string name_;
  std::string version_;
  std::string description_;
  std::filesystem::path path_;
  ConfigSchema schema_;
};

// Loads one plugin file. Errors, for example:
//   "plugin file /x/billdrop_aws.so does not exist"
//   "/x/notes.so is not a shared object (ELF): cannot load it as a plugin"
//   "/x/billdrop_foo.so does not export billdrop_plugin_entry: it is not a billdrop plugin, or
//    BILLDROP_PLUGIN(...) is missing from its sources"
//   "/x/billdrop_foo.so was built for billdrop plugin ABI 2.0, this billdrop speaks 1.0: rebuild
//    the plugin against billdrop-sdk 1.x"
// With an `expected_name` (the plugin asked for: `--plugin aws`, `plugin = "aws"`), a descriptor
// naming another plugin is refused, naming both:
//   "/x/billdrop_aws.so holds plugin 'azure', not 'aws': ..."
Result<std::shared_ptr<LoadedPlugin>> load_plugin(const std::filesystem::path& file,
                                                  std::string_view expected_name = {});

// The plugin a file is named for: "aws" for ".../billdrop_aws.so"; "" for a file not named
// billdrop_<name>.so (then nothing is expected of its descriptor's name).
std::string plugin_name_of_file(const std::filesystem::path& file);

// Receives what a plugin's read() produces. on_rows returns false to ask the plugin to stop.
class RowReceiver {
public:
  virtual ~RowReceiver() = default;
  virtual bool on_rows(std::span<const bd_row> rows) = 0;
  // A batch the plugin leaves in place after the call (bd_sink::write_retained, ABI 1.5): the
  // receiver may keep using `rows` until the BILLDROP_RETAINED_BATCHES-th on_retained_rows()
  // after it returns, or release_rows() returns, and need not copy them. By default it is
  // handled at once, like on_rows().
  virtual bool on_retained_rows(std::span<const bd_row> rows) { return on_rows(rows); }
  // Returns once no row of an on_retained_rows() batch is in use (bd_sink::release).
  virtual void release_rows() {}
  virtual void on_reject(std::string_view origin, std::string_view reason) = 0;
  // A reject that names the column and the rule id (bd_sink::reject_field, ABI 1.2). Receivers
  // that keep no columns get it as an on_reject() whose reason starts with the column.
  virtual void on_reject_field(std::string_view origin, std::string_view column,
                               std::string_view rule, std::string_view reason) {
    (void)rule;
    on_reject(origin, column.empty() ? std::string(reason)
                                     : std::string(column) + ": " + std::string(reason));
  }
  virtual void on_progress(std::uint64_t /*done*/, std::uint64_t /*total*/) {}
  virtual void on_log(bd_log_level /*level*/, std::string_view /*message*/) {}
  // A named tally for the run report (bd_sink::note, ABI 1.1).
  virtual void on_note(std::string_view /*key*/, std::uint64_t /*count*/) {}
  // In read_since() only (bd_sink::cursor, ABI 1.3): every row before this call was consumed up
  // to `cursor`; the rows since the previous cursor are one part of the increment.
  virtual void on_cursor(std::string_view /*cursor*/) {}
};

// Where the log lines a plugin writes through bd_host (ABI 1.4: from its constructor, check,
// months) go.
using PluginLog = std::function<void(bd_log_level level, std::string_view message)>;
// The host's structured log: event "plugin.log" with the plugin's name, the connection's (when
// given) and the message, at the plugin's level.
PluginLog plugin_log(std::string plugin, std::string connection);

// One configured plugin instance. Exceptions thrown by a RowReceiver are caught at the boundary
// (they never unwind through plugin frames) and returned as the read's error.
class PluginInstance final : public SourceSession {
public:
  // Validates `config` against the plugin's schema (unknown key, wrong type, missing required key
  // all name the plugin and the key), fills defaults, and calls the plugin's create().
  // `connection` names the connection in the plugin's log lines (empty: none).
  static Result<std::unique_ptr<PluginInstance>> create(std::shared_ptr<const LoadedPlugin> plugin,
                                                        const ConfigValues& config,
                                                        std::string connection = {});
  // The same with the configuration as create() hands it to the plugin: the JSON of values the
  // schema has already accepted, defaults filled (the plugin runner's side of a ProcessSession).
  // `log` receives the plugin's log lines outside reads (default: plugin_log(name, "")).
  static Result<std::unique_ptr<PluginInstance>>
  create_from_json(std::shared_ptr<const LoadedPlugin> plugin, std::string_view config_json,
                   PluginLog log = {});
  ~PluginInstance() override;
  PluginInstance(const PluginInstance&) = delete;
  PluginInstance& operator=(const PluginInstance&) = delete;

  const LoadedPlugin& plugin() const noexcept { return *plugin_; }

  const std::string& name() const noexcept override { return plugin_->name(); }
  Status check() override;
  Result<std::vector<Month>> months() override; // sorted, without duplicates
  Status read(Month month, RowReceiver& receiver) override;

  // Asked of the plugin once, by create(): false for a plugin of ABI 1.0-1.2, or one without
  // the incremental functions, or whose instance says no.
  bool incremental() const noexcept override { return incremental_; }
  const std::vector<std::string>& identity_columns() const noexcept override {
    return identity_columns_;
  }
  // Through bd_plugin_descriptor::read_since. Fails (config) when the instance is not
  // incremental; fails (internal) when the plugin returns success without a cursor, or with
  // rows after its last cursor.
  Status read_since(std::string_view cursor, RowReceiver& receiver,
                    std::string& next_cursor) override;

  // Asked of the plugin once, by create(): false for a plugin of ABI 1.0-1.3, or one without
  // read_all, or whose instance says no.
  bool one_pass() const noexcept override { return one_pass_; }
  // Through bd_plugin_descriptor::read_all. Fails (config) when the instance is not one-pass.
  Status read_all(RowReceiver& receiver) override;

private:
  PluginInstance(std::shared_ptr<const LoadedPlugin> plugin, void* handle)
      : plugin_(std::move(plugin)), handle_(handle) {}
  // Asks an ABI 1.3 plugin whether this instance reads increments, and its identity columns.
  Status ask_incremental();
  // Asks an ABI 1.4 plugin whether this instance reads every month in one pass.
  Status ask_one_pass();

  std::shared_ptr<const LoadedPlugin> plugin_;
  void* handle_;
  bool incremental_ = false;
  std::vector<std::string> identity_columns_;
  bool one_pass_ = false;
  // The bd_host the instance was created with (ABI 1.4): it must outlive destroy().
  struct HostLink {
    bd_host host{};
    PluginLog log;
    static void write(void* context, int32_t level, bd_str message) noexcept;
  };
  std::unique_ptr<HostLink> host_link_;
};

// Where plugins are looked for, in order: --plugin-dir values, then BILLDROP_PLUGIN_PATH
// (':'-separated), then <directory of the billdrop executable>/../lib/billdrop/plugins (the
// build tree and a relocated install), then the configured install location.
class PluginLocator {
public:
  explicit PluginLocator(std::vector<std::filesystem::path> directories)
      : directories_(std::move(directories)) {}
  // The standard search path with `cli_dirs` first.
  static PluginLocator standard(std::vector<std::filesystem::path> cli_dirs);

  const std::vector<std::filesystem::path>& directories() const noexcept { return directories_; }

  // `name_or_path` is a plugin name ("custom" -> billdrop_custom.so, first match in search order)
  // or a path to a .so file. The error lists the directories searched.
  Result<std::filesystem::path> find(std::string_view name_or_path) const;

  // Every billdrop_*.so in the search path; a name found twice is listed once (the first wins).
  std::vector<std::filesystem::path> list() const;

private:
  std::vector<std::filesystem::path> directories_;
};

// File name of a plugin: "billdrop_<name>.so".
std::string plugin_file_name(std::string_view name);

// The error for the exception a RowReceiver threw, called inside a catch block: the same
// whether the plugin runs in-process or in a runner.
Error receiver_exception_error();

// The first 60 bytes a plugin printed to stdout, on one line and quoted, for messages.
std::string printable_start(std::string_view text);

} // namespace billdrop::source
