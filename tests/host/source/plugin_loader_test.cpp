// The loader against real shared objects: tests/host/broken_plugins builds one .so per rule of
// docs/abi.md that a plugin can break, plus a correct one whose rows are derived from its
// configuration (see good_plugin.cpp) so the expected values below are computed by hand.
#include "source/plugin_loader.hpp"

#include <gtest/gtest.h>
#include <support/broken_plugins.hpp>

#include <dlfcn.h>

#include <cstddef>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace billdrop {
namespace {

namespace fs = std::filesystem;

fs::path broken_dir() {
  return fs::path(BILLDROP_TEST_BROKEN_PLUGIN_DIR).lexically_normal();
}
fs::path test_plugin(std::string_view name) {
  return test::broken_plugin_file(name);
}

// The error message of a load that must fail.
std::string load_error(const fs::path& file) {
  Result<std::shared_ptr<source::LoadedPlugin>> plugin = source::load_plugin(file);
  if (plugin)
    return "(loaded)";
  return plugin.error().message();
}

std::shared_ptr<source::LoadedPlugin> load_or_fail(std::string_view name) {
  Result<std::shared_ptr<source::LoadedPlugin>> plugin = source::load_plugin(test_plugin(name));
  if (!plugin)
    throw std::runtime_error(plugin.error().message());
  return *plugin;
}

std::unique_ptr<source::PluginInstance>
create_or_fail(std::shared_ptr<const source::LoadedPlugin> plugin, const ConfigValues& config) {
  Result<std::unique_ptr<source::PluginInstance>> instance =
      source::PluginInstance::create(std::move(plugin), config);
  if (!instance)
    throw std::runtime_error(instance.error().message());
  return std::move(*instance);
}

// A scratch directory per test.
class TempDir {
public:
  TempDir() {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    path_ = fs::temp_directory_path() / ("billdrop_loader_" + std::to_string(::getpid())) /
            (std::string(info->test_suite_name()) + "." + info->name());
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path write(const std::string& name, std::string_view bytes) const {
    const fs::path file = path_ / name;
    std::ofstream out(file, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    return file;
  }

private:
  fs::path path_;
};

struct ReceivedRow {
  std::string origin;
  std::vector<std::pair<std::string, std::string>> fields;
};

// Copies everything a read produces; can stop or throw at a chosen batch.
class RecordingReceiver final : public source::RowReceiver {
public:
  std::vector<ReceivedRow> rows;
  std::vector<std::size_t> batch_sizes;
  std::vector<std::pair<std::string, std::string>> rejects;
  std::vector<std::string> logs;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> progress;
  std::optional<std::size_t> stop_after_batch; // on_rows returns false on this batch (1-based)
  std::optional<std::size_t> throw_at_batch;   // on_rows throws on this batch (1-based)
  std::optional<Error> error_to_throw;         // thrown as ErrorException, else runtime_error

  bool on_rows(std::span<const bd_row> batch) override {
    batch_sizes.push_back(batch.size());
    if (throw_at_batch && batch_sizes.size() == *throw_at_batch) {
      if (error_to_throw)
        throw ErrorException(*error_to_throw);
      throw std::runtime_error("disk full");
    }
    for (const bd_row& row : batch) {
      ReceivedRow copy;
      copy.origin.assign(row.origin.data, row.origin.size);
      for (std::size_t i = 0; i < row.field_count; ++i)
        copy.fields.emplace_back(std::string(row.fields[i].key.data, row.fields[i].key.size),
                                 std::string(row.fields[i].value.data, row.fields[i].value.size));
      rows.push_back(std::move(copy));
    }
    return !(stop_after_batch && batch_sizes.size() == *stop_after_batch);
  }
  void on_reject(std::string_view origin, std::string_view reason) override {
    rejects.emplace_back(origin, reason);
  }
  void on_progress(std::uint64_t done, std::uint64_t total) override {
    progress.emplace_back(done, total);
  }
  void on_log(bd_log_level level, std::string_view message) override {
    logs.push_back(std::to_string(level) + " " + std::string(message));
  }
};

// ---- files that are not billdrop plugins ----

TEST(LoadPlugin, MissingFileDoesNotExist) {
  const fs::path file = broken_dir() / "billdrop_nowhere.so";
  EXPECT_EQ(load_error(file), "plugin file " + file.string() + " does not exist");
}

TEST(LoadPlugin, DirectoryIsNotAPluginFile) {
  TempDir dir;
  fs::create_directories(dir.path() / "billdrop_dir.so");
  EXPECT_EQ(load_error(dir.path() / "billdrop_dir.so"),
            (dir.path() / "billdrop_dir.so").string() + " is a directory, not a plugin file");
}

TEST(LoadPlugin, TextFileNamedLikeASharedObject) {
  TempDir dir;
  for (const std::string& text :
       std::vector<std::string>{"this is not a shared object\n", "", std::string(200, 'x')}) {
    const fs::path file = dir.write("billdrop_notes.so", text);
    EXPECT_EQ(load_error(file),
              file.string() + " is not a shared object (ELF): cannot load it as a plugin");
  }
}

// A minimal little-endian ELF64 identification followed by e_type.
std::string elf_header(std::uint16_t type) {
  std::string bytes = {'\x7f', 'E', 'L', 'F', 2 /*64-bit*/, 1 /*LSB*/, 1 /*version*/};
  bytes.resize(16, '\0');
  bytes += static_cast<char>(type & 0xff);
  bytes += static_cast<char>(type >> 8);
  bytes.resize(24, '\0'); // e_machine and part of e_version: still far from a whole header
  return bytes;
}

TEST(LoadPlugin, ElfObjectFileIsNotASharedObject) {
  TempDir dir;
  const fs::path file = dir.write("billdrop_object.so", elf_header(1 /*ET_REL*/));
  EXPECT_EQ(load_error(file), file.string() +
                                  " is an ELF executable or object file, not a shared object: "
                                  "build the plugin with billdrop_add_plugin() (a MODULE library)");
}

TEST(LoadPlugin, ProgramRenamedLikeASharedObjectIsAProgram) {
  // billdrop itself is a position-independent executable: ET_DYN like a plugin, with PT_INTERP.
  TempDir dir;
  const fs::path file = dir.path() / "billdrop_program.so";
  fs::copy_file(BILLDROP_TEST_BILLDROP_EXE, file);
  EXPECT_EQ(load_error(file), file.string() +
                                  " is a program (a position-independent executable), not a "
                                  "plugin: a plugin is a shared library built with "
                                  "billdrop_add_plugin()");
}

TEST(LoadPlugin, TruncatedSharedObjectCannotBeInspected) {
  TempDir dir;
  const fs::path file = dir.write("billdrop_truncated.so", elf_header(3 /*ET_DYN*/));
  const std::string message = load_error(file);
  EXPECT_EQ(message.rfind(file.string() + " is not a readable shared object (ELF): cannot "
                                          "inspect it as a plugin (",
                          0),
            0u)
      << message;
}

TEST(LoadPlugin, SharedObjectWithoutEntryPoint) {
  const fs::path file = test_plugin("no_entry");
  EXPECT_EQ(load_error(file), file.string() +
                                  " does not export billdrop_plugin_entry: it is not a billdrop "
                                  "plugin, or BILLDROP_PLUGIN(...) is missing from its sources");
}

TEST(LoadPlugin, UnresolvedSymbolFailsAtLoadWithTheLoadersReason) {
  const fs::path file = test_plugin("undefined_symbol");
  const std::string message = load_error(file);
  EXPECT_EQ(message.rfind("cannot load plugin " + file.string() + ": ", 0), 0u) << message;
  EXPECT_NE(message.find("undefined symbol: billdrop_test_symbol_nobody_defines"),
            std::string::npos)
      << message;
}

// ---- the ABI policy, on real files ----

// The host's own ABI version as its messages print it, e.g. "1.1".
const std::string kHostAbi =
    std::to_string(BILLDROP_ABI_MAJOR) + "." + std::to_string(BILLDROP_ABI_MINOR);

TEST(LoadPlugin, NewerMajorAbiSaysRebuild) {
  const fs::path file = test_plugin("abi_major2");
  EXPECT_EQ(load_error(file), file.string() +
                                  " was built for billdrop plugin ABI 2.0, this billdrop speaks " +
                                  kHostAbi + ": rebuild the plugin against billdrop-sdk 1.x");
}

TEST(LoadPlugin, OlderMajorAbiIsTooOld) {
  const fs::path file = test_plugin("abi_major0");
  EXPECT_EQ(load_error(file), file.string() +
                                  " was built for billdrop plugin ABI 0.3, too old for this "
                                  "billdrop (" +
                                  kHostAbi + "): rebuild it against billdrop-sdk 1.x");
}

TEST(LoadPlugin, NewerMinorAbiSaysUpgradeBilldrop) {
  const fs::path file = test_plugin("abi_minor99");
  EXPECT_EQ(load_error(file), file.string() + " needs ABI 1.99, this billdrop speaks " + kHostAbi +
                                  ": upgrade billdrop");
}

TEST(LoadPlugin, BadMagicIsNotABilldropDescriptor) {
  const fs::path file = test_plugin("bad_magic");
  EXPECT_EQ(load_error(file), file.string() +
                                  " exports billdrop_plugin_entry but it does not return a "
                                  "billdrop plugin descriptor (bad magic number): it is not a "
                                  "billdrop plugin, or it is corrupt");
}

TEST(LoadPlugin, MalformedDefaultMakesTheSchemaUnreadable) {
  const fs::path file = test_plugin("bad_schema");
  const std::string message = load_error(file);
  EXPECT_EQ(message.rfind("plugin 'bad_schema' (" + file.string() +
                              ") has an unreadable config schema: invalid config_keys: config "
                              "key 'limit': default ten is not valid JSON",
                          0),
            0u)
      << message;
}

// ---- check_abi on descriptors built here ----

bd_plugin_descriptor valid_descriptor() {
  static const auto create = [](const char*, size_t, void**, bd_error*) -> int32_t {
    return BD_OK;
  };
  static const auto destroy = [](void*) {};
  static const auto check = [](void*, bd_error*) -> int32_t { return BD_OK; };
  static const auto months = [](void*, bd_month_callback, void*, bd_error*) -> int32_t {
    return BD_OK;
  };
  static const auto read = [](void*, bd_str, const bd_sink*, bd_error*) -> int32_t {
    return BD_OK;
  };
  return bd_plugin_descriptor{BILLDROP_PLUGIN_MAGIC,
                              BILLDROP_ABI_MAJOR,
                              BILLDROP_ABI_MINOR,
                              sizeof(bd_plugin_descriptor),
                              "fake",
                              "1.0.0",
                              "",
                              R"({"keys":[]})",
                              +create,
                              +destroy,
                              +check,
                              +months,
                              +read};
}

TEST(CheckAbi, AcceptsTheCurrentVersion) {
  EXPECT_TRUE(source::check_abi(valid_descriptor(), "/p/billdrop_fake.so").ok());
}

TEST(CheckAbi, TruncatedDescriptor) {
  bd_plugin_descriptor descriptor = valid_descriptor();
  descriptor.struct_size = 40;
  const Status status = source::check_abi(descriptor, "/p/billdrop_fake.so");
  ASSERT_FALSE(status.ok());
  // magic..struct_size (12 bytes, padded to 16), four pointers and five functions in 1.0 to
  // 1.2 (1.1 and 1.2 added sink callbacks, not descriptor fields); 1.3 added two functions, 1.4
  // three (one_pass, read_all, create_with_host), 1.5 one int32_t (reads_growing_files).
  const std::size_t needed = 16 + 4 * sizeof(void*) + 10 * sizeof(void*) + sizeof(int32_t);
  EXPECT_EQ(status.error().message(),
            "/p/billdrop_fake.so has a truncated plugin descriptor (40 bytes, ABI " + kHostAbi +
                " needs " + std::to_string(needed) +
                "): rebuild the plugin against billdrop-sdk 1.x");
}

TEST(CheckAbi, NameMustBePresentAndValid) {
  bd_plugin_descriptor descriptor = valid_descriptor();
  for (const char* name : {static_cast<const char*>(nullptr), ""}) {
    descriptor.name = name;
    const Status status = source::check_abi(descriptor, "/p/billdrop_fake.so");
    ASSERT_FALSE(status.ok());
    EXPECT_EQ(status.error().message(),
              "/p/billdrop_fake.so has a plugin descriptor without a name: rebuild the plugin "
              "against billdrop-sdk 1.x using BILLDROP_PLUGIN(...)");
  }
  descriptor.name = "Acme Cloud";
  const Status status = source::check_abi(descriptor, "/p/billdrop_fake.so");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(),
            "/p/billdrop_fake.so names its plugin 'Acme Cloud', which is not a valid plugin name "
            "(use lowercase letters, digits, '_' and '-')");
}

TEST(CheckAbi, NullFunctionPointersAreListed) {
  bd_plugin_descriptor descriptor = valid_descriptor();
  descriptor.create = nullptr;
  descriptor.read = nullptr;
  const Status status = source::check_abi(descriptor, "/p/billdrop_fake.so");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(),
            "/p/billdrop_fake.so: plugin 'fake' has no function for create, read in its "
            "descriptor: rebuild the plugin against billdrop-sdk 1.x using BILLDROP_PLUGIN(...)");
}

TEST(CheckAbi, MagicIsCheckedBeforeTheVersion) {
  bd_plugin_descriptor descriptor = valid_descriptor();
  descriptor.magic = 0;
  descriptor.abi_major = 7;
  const Status status = source::check_abi(descriptor, "/p/x.so");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("bad magic number"), std::string::npos);
}

// ---- the good plugin ----

const ConfigValues kGoodConfig = {{"account", std::string("acme-1")}};

TEST(GoodPlugin, DescriptorFieldsAndSchema) {
  const auto plugin = load_or_fail("good");
  EXPECT_EQ(plugin->name(), "good");
  EXPECT_EQ(plugin->version(), "1.2.3");
  EXPECT_EQ(plugin->description(), "Emits rows computed from its configuration");
  EXPECT_EQ(plugin->path(), test_plugin("good"));
  EXPECT_EQ(plugin->descriptor().abi_major, 1);
  EXPECT_EQ(plugin->descriptor().abi_minor, BILLDROP_ABI_MINOR);

  const std::vector<ConfigKeySpec>& keys = plugin->schema().keys();
  ASSERT_EQ(keys.size(), 8u);
  EXPECT_EQ(keys[0].key, "account");
  EXPECT_EQ(keys[0].type, ConfigType::string);
  EXPECT_TRUE(keys[0].required);
  EXPECT_FALSE(keys[0].default_value.has_value());
  EXPECT_EQ(keys[0].description, "Account id written to every row");
  EXPECT_EQ(keys[1].key, "rows");
  EXPECT_EQ(keys[1].default_value, ConfigValue(std::int64_t{3}));
  EXPECT_EQ(keys[3].default_value, ConfigValue(false));
  EXPECT_EQ(keys[4].default_value,
            ConfigValue(std::vector<std::string>{"2024-08", "2024-06", "2024-08"}));
  EXPECT_EQ(keys[5].default_value, ConfigValue(StringMap{{"team", "core"}}));
  EXPECT_EQ(keys[6].type, ConfigType::path);
  EXPECT_EQ(keys[7].key, "token");
  EXPECT_TRUE(keys[7].secret);
  EXPECT_FALSE(keys[7].required);
}

TEST(GoodPlugin, StrippedCopyLoadsThroughTheDynamicSymbolTable) {
  const auto plugin = source::load_plugin(test_plugin("stripped"));
  ASSERT_TRUE(plugin.ok()) << plugin.error().message();
  EXPECT_EQ((*plugin)->name(), "good");
  EXPECT_LT(fs::file_size(test_plugin("stripped")), fs::file_size(test_plugin("good")));
}

TEST(GoodPlugin, MonthsAreSortedWithoutDuplicates) {
  auto plugin = load_or_fail("good");
  auto defaults = create_or_fail(plugin, kGoodConfig);
  Result<std::vector<Month>> months = defaults->months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2024, 6), Month(2024, 8)}));

  ConfigValues config = kGoodConfig;
  config["months"] = std::vector<std::string>{"2025-01", "2024-12", "2025-01", "2023-02"};
  auto configured = create_or_fail(plugin, config);
  months = configured->months();
  ASSERT_TRUE(months.ok()) << months.error().message();
  EXPECT_EQ(*months, (std::vector<Month>{Month(2023, 2), Month(2024, 12), Month(2025, 1)}));
}

TEST(GoodPlugin, ReadDeliversRowsRejectsLogsAndProgress) {
  auto instance = create_or_fail(load_or_fail("good"),
                                 {{"account", std::string("acme-1")},
                                  {"tagged", true},
                                  {"tags", StringMap{{"team", "core"}, {"env", "prod"}}}});
  ASSERT_TRUE(instance->check().ok());
  RecordingReceiver receiver;
  const Status status = instance->read(Month(2024, 8), receiver);
  ASSERT_TRUE(status.ok()) << status.error().message();

  using Fields = std::vector<std::pair<std::string, std::string>>;
  ASSERT_EQ(receiver.rows.size(), 3u);
  EXPECT_EQ(receiver.batch_sizes, std::vector<std::size_t>{3});
  EXPECT_EQ(receiver.rows[0].origin, "good:1");
  EXPECT_EQ(receiver.rows[0].fields, (Fields{{"time/usage_start", "2024-08-01T00:00:00Z"},
                                             {"cost/cost", "1.25"},
                                             {"resource/id", "res-1"},
                                             {"resource/account", "acme-1"},
                                             {"resource/tag:team", "core"},
                                             {"resource/tag:env", "prod"}}));
  EXPECT_EQ(receiver.rows[1].origin, "good:2");
  EXPECT_EQ(receiver.rows[1].fields, (Fields{{"time/usage_start", "2024-08-01T01:00:00Z"},
                                             {"cost/cost", "2.50"},
                                             {"resource/id", "res-2"},
                                             {"resource/account", "acme-1"},
                                             {"resource/tag:team", "core"},
                                             {"resource/tag:env", "prod"}}));
  EXPECT_EQ(receiver.rows[2].fields[1], (std::pair<std::string, std::string>{"cost/cost", "3.75"}));
  EXPECT_EQ(receiver.rejects, (std::vector<std::pair<std::string, std::string>>{
                                  {"good:extra", "a record the plugin could not map"}}));
  EXPECT_EQ(receiver.logs, std::vector<std::string>{"1 reading 2024-08"});
  EXPECT_EQ(receiver.progress, (std::vector<std::pair<std::uint64_t, std::uint64_t>>{{3, 3}}));
}

TEST(GoodPlugin, InvalidConfigurationIsRejectedBeforeThePluginRuns) {
  const auto plugin = load_or_fail("good");
  Result<std::unique_ptr<source::PluginInstance>> instance =
      source::PluginInstance::create(plugin, {{"acount", std::string("acme-1")},
                                              {"rows", std::string("10")},
                                              {"tags", std::vector<std::string>{"team"}}});
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.error().kind(), ErrorKind::config);
  EXPECT_EQ(instance.error().message(),
            "plugin 'good': unknown config key 'acount' (known keys: account, rows, prefix, "
            "tagged, months, tags, data, token)\n"
            "plugin 'good': missing required config key 'account'\n"
            "plugin 'good': config key 'rows' must be an integer, got a string\n"
            "plugin 'good': config key 'tags' must be a table of strings, got a list of strings");
}

TEST(GoodPlugin, PluginErrorFromCreateNamesThePlugin) {
  Result<std::unique_ptr<source::PluginInstance>> instance = source::PluginInstance::create(
      load_or_fail("good"), {{"account", std::string("a")}, {"rows", std::int64_t{-1}}});
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.error().kind(), ErrorKind::config);
  EXPECT_EQ(instance.error().message(),
            "plugin 'good' failed to initialise: rows must not be negative");
}

TEST(GoodPlugin, ReceiverReturningFalseStopsTheRead) {
  auto instance = create_or_fail(load_or_fail("good"),
                                 {{"account", std::string("a")}, {"rows", std::int64_t{2500}}});
  RecordingReceiver receiver;
  receiver.stop_after_batch = 1;
  const Status status = instance->read(Month(2024, 8), receiver);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::cancelled);
  EXPECT_EQ(status.error().message(), "the read of 2024-08 from plugin 'good' was stopped");
  // The SDK batches 1024 rows; the plugin stopped after the first batch.
  EXPECT_EQ(receiver.batch_sizes, std::vector<std::size_t>{1024});
  EXPECT_EQ(receiver.rows.back().origin, "good:1024");
  EXPECT_TRUE(receiver.rejects.empty());

  // Without a stop, all 2500 rows arrive: 1024 + 1024 + 452.
  RecordingReceiver all;
  ASSERT_TRUE(instance->read(Month(2024, 8), all).ok());
  EXPECT_EQ(all.batch_sizes, (std::vector<std::size_t>{1024, 1024, 452}));
  EXPECT_EQ(all.rows.size(), 2500u);
  // Row 2500 costs 2500 * 1.25 = 3125.00 and starts at hour (2500 - 1) % 24 = 3.
  EXPECT_EQ(all.rows.back().fields[1].second, "3125.00");
  EXPECT_EQ(all.rows.back().fields[0].second, "2024-08-01T03:00:00Z");
}

TEST(GoodPlugin, ReceiverExceptionBecomesTheReadsError) {
  auto instance = create_or_fail(load_or_fail("good"),
                                 {{"account", std::string("a")}, {"rows", std::int64_t{3000}}});
  RecordingReceiver receiver;
  receiver.throw_at_batch = 2;
  const Status status = instance->read(Month(2024, 8), receiver);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::internal);
  EXPECT_EQ(status.error().message(), "unexpected exception while receiving rows: disk full");
  // The plugin stopped at the batch that threw; nothing after it reached the receiver.
  EXPECT_EQ(receiver.batch_sizes, (std::vector<std::size_t>{1024, 1024}));
  EXPECT_EQ(receiver.rows.size(), 1024u);
  EXPECT_TRUE(receiver.rejects.empty());

  // A billdrop error thrown by the receiver keeps its kind, message and retryable flag.
  RecordingReceiver typed;
  typed.throw_at_batch = 1;
  typed.error_to_throw = Error(ErrorKind::data, "row good:7 has no cost", true);
  const Status typed_status = instance->read(Month(2024, 8), typed);
  ASSERT_FALSE(typed_status.ok());
  EXPECT_EQ(typed_status.error().kind(), ErrorKind::data);
  EXPECT_EQ(typed_status.error().message(), "row good:7 has no cost");
  EXPECT_TRUE(typed_status.error().retryable());
}

TEST(GoodPlugin, LibraryStaysLoadedWhileAnInstanceLives) {
  // billdrop_unloadable.so is good_plugin.cpp linked to export only its entry point. A plugin that
  // exports libstdc++'s STB_GNU_UNIQUE symbols may be pinned in memory by glibc, which would hide
  // an early unload from this test.
  const fs::path file = test_plugin("unloadable");
  auto is_loaded = [&] {
    void* handle = dlopen(file.c_str(), RTLD_LAZY | RTLD_NOLOAD);
    if (handle == nullptr)
      return false;
    dlclose(handle); // RTLD_NOLOAD took a reference too
    return true;
  };
  ASSERT_FALSE(is_loaded()) << "another test left the plugin loaded";
  std::shared_ptr<source::LoadedPlugin> plugin = load_or_fail("unloadable");
  EXPECT_TRUE(is_loaded());
  std::unique_ptr<source::PluginInstance> instance = create_or_fail(plugin, kGoodConfig);
  plugin.reset();
  EXPECT_TRUE(is_loaded());
  EXPECT_EQ(instance->plugin().name(), "good");
  RecordingReceiver receiver;
  ASSERT_TRUE(instance->read(Month(2024, 9), receiver).ok());
  EXPECT_EQ(receiver.rows.size(), 3u);
  EXPECT_EQ(receiver.rows[0].fields[0].second, "2024-09-01T00:00:00Z");
  instance.reset();
  EXPECT_FALSE(is_loaded()); // the last reference is gone: the library was closed

  // Without an instance, releasing the LoadedPlugin closes the library.
  plugin = load_or_fail("unloadable");
  EXPECT_TRUE(is_loaded());
  plugin.reset();
  EXPECT_FALSE(is_loaded());
}

// ---- plugins that fail at run time ----

TEST(BrokenPlugin, ConstructorThrowingPluginErrorFailsCreate) {
  Result<std::unique_ptr<source::PluginInstance>> instance =
      source::PluginInstance::create(load_or_fail("init_throws"), {});
  ASSERT_FALSE(instance.ok());
  EXPECT_EQ(instance.error().kind(), ErrorKind::config);
  EXPECT_FALSE(instance.error().retryable());
  EXPECT_EQ(instance.error().message(),
            "plugin 'init_throws' failed to initialise: missing credentials: set token");
}

TEST(BrokenPlugin, ExceptionInReadAfterSomeRows) {
  auto instance = create_or_fail(load_or_fail("read_throws"), {});
  RecordingReceiver receiver;
  const Status status = instance->read(Month(2024, 8), receiver);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::internal);
  EXPECT_FALSE(status.error().retryable());
  EXPECT_EQ(status.error().message(), "unexpected exception: disk on fire after row 5");
  ASSERT_EQ(receiver.rows.size(), 5u);
  EXPECT_EQ(receiver.rows[4].origin, "read_throws:5");
}

TEST(BrokenPlugin, RetryableCheckFailure) {
  auto instance = create_or_fail(load_or_fail("check_retryable"), {{"note", std::string("x")}});
  const Status status = instance->check();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::source);
  EXPECT_TRUE(status.error().retryable());
  EXPECT_EQ(status.error().message(), "api.example.test timed out after 30 s");
}

TEST(BrokenPlugin, InvalidMonthTextNamesThePlugin) {
  auto instance = create_or_fail(load_or_fail("bad_months"), {});
  Result<std::vector<Month>> months = instance->months();
  ASSERT_FALSE(months.ok());
  EXPECT_EQ(months.error().kind(), ErrorKind::internal);
  EXPECT_EQ(months.error().message().rfind("plugin 'bad_months' reported an invalid month "
                                           "'2024-13': ",
                                           0),
            0u)
      << months.error().message();
}

// ---- where plugins are found ----

class ScopedEnv {
public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name))
      old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }

private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(PluginLocator, StandardSearchOrder) {
  TempDir dir;
  const fs::path cli = dir.path() / "cli";
  const fs::path env_a = dir.path() / "env_a";
  const fs::path env_b = dir.path() / "env_b";
  // Empty entries are ignored; a directory named twice is searched once, where it first appears.
  const ScopedEnv env("BILLDROP_PLUGIN_PATH",
                      env_a.string() + "::" + env_b.string() + ":" + cli.string() + "/");
  const source::PluginLocator locator =
      source::PluginLocator::standard({cli, env_a.string() + "/./"});
  const std::vector<fs::path>& dirs = locator.directories();

  std::vector<fs::path> expected = {cli, env_a, env_b};
  // The test binary lives in <build>/bin, like billdrop, so <build>/lib/billdrop/plugins follows.
  const fs::path beside_exe =
      fs::read_symlink("/proc/self/exe").parent_path().parent_path() / "lib/billdrop/plugins";
  if (fs::is_directory(beside_exe))
    expected.push_back(beside_exe.lexically_normal());
  ASSERT_EQ(dirs.size(), expected.size() + 1);
  EXPECT_EQ(std::vector<fs::path>(dirs.begin(), dirs.end() - 1), expected);
  EXPECT_EQ(dirs.back().filename(), "plugins"); // the configured install location comes last
  EXPECT_EQ(dirs.back().parent_path().filename(), "billdrop");
}

TEST(PluginLocator, FindTakesTheFirstMatchAndListsEachNameOnce) {
  TempDir dir;
  const fs::path first = dir.path() / "first";
  const fs::path second = dir.path() / "second";
  fs::create_directories(first);
  fs::create_directories(second);
  fs::copy_file(test_plugin("good"), first / "billdrop_dup.so");
  fs::copy_file(test_plugin("good"), second / "billdrop_dup.so");
  fs::copy_file(test_plugin("good"), second / "billdrop_other.so");
  dir.write("second/not_a_plugin.so", "x");
  dir.write("second/billdrop_notes.txt", "x");
  const source::PluginLocator locator({first, second});

  Result<fs::path> found = locator.find("dup");
  ASSERT_TRUE(found.ok()) << found.error().message();
  EXPECT_EQ(*found, first / "billdrop_dup.so");
  EXPECT_EQ(locator.list(),
            (std::vector<fs::path>{first / "billdrop_dup.so", second / "billdrop_other.so"}));

  // A path is taken as is.
  found = locator.find((second / "billdrop_dup.so").string());
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(*found, second / "billdrop_dup.so");
  const Result<fs::path> missing_path = locator.find((second / "billdrop_gone.so").string());
  ASSERT_FALSE(missing_path.ok());
  EXPECT_EQ(missing_path.error().message(),
            "plugin file " + (second / "billdrop_gone.so").string() + " does not exist");
}

TEST(PluginLocator, NotFoundListsTheSearchedDirectories) {
  TempDir dir;
  fs::create_directories(dir.path() / "b");
  fs::copy_file(test_plugin("good"), dir.path() / "b" / "billdrop_custom.so");
  const source::PluginLocator locator({dir.path() / "a", dir.path() / "b"});
  const Result<fs::path> found = locator.find("aws");
  ASSERT_FALSE(found.ok());
  EXPECT_EQ(found.error().message(),
            "no plugin named 'aws' (billdrop_aws.so) in " + (dir.path() / "a").string() + ", " +
                (dir.path() / "b").string() +
                "; found plugins: custom. Add the plugin's directory with --plugin-dir DIR or "
                "BILLDROP_PLUGIN_PATH, or pass the path to its .so file");
}

TEST(PluginLocator, FoundPluginLoads) {
  const source::PluginLocator locator({broken_dir()});
  Result<fs::path> found = locator.find("check_retryable");
  ASSERT_TRUE(found.ok()) << found.error().message();
  const auto plugin = source::load_plugin(*found);
  ASSERT_TRUE(plugin.ok()) << plugin.error().message();
  EXPECT_EQ((*plugin)->name(), "check_retryable");
}

// ---- incremental sources (ABI 1.3) ----

// Collects the rows' origins and the cursors of an incremental read, in the order they came.
class IncrementReceiver final : public source::RowReceiver {
public:
  std::vector<std::string> events; // "row <origin>" and "cursor <cursor>"
  bool on_rows(std::span<const bd_row> batch) override {
    for (const bd_row& row : batch)
      events.push_back("row " + std::string(row.origin.data, row.origin.size));
    return true;
  }
  void on_reject(std::string_view origin, std::string_view) override {
    events.push_back("reject " + std::string(origin));
  }
  void on_cursor(std::string_view cursor) override {
    events.push_back("cursor " + std::string(cursor));
  }
};

TEST(OldMinorPlugin, Abi12PluginLoadsReadsAndIsNotIncremental) {
  // Its descriptor ends at `read`, followed by bytes that are not function pointers.
  const auto plugin = load_or_fail("abi_1_2");
  EXPECT_EQ(plugin->descriptor().abi_minor, 2);
  EXPECT_LT(plugin->descriptor().struct_size, sizeof(bd_plugin_descriptor));
  auto instance = create_or_fail(plugin, {});
  EXPECT_FALSE(instance->incremental());
  EXPECT_TRUE(instance->identity_columns().empty());

  RecordingReceiver rows;
  const Status read = instance->read(Month(2024, 8), rows);
  ASSERT_TRUE(read.ok()) << read.error().message();
  ASSERT_EQ(rows.rows.size(), 1u);
  EXPECT_EQ(rows.rows[0].origin, "v12:1");

  IncrementReceiver increment;
  std::string cursor = "kept";
  const Status since = instance->read_since("", increment, cursor);
  ASSERT_FALSE(since.ok());
  EXPECT_EQ(since.error().kind(), ErrorKind::config);
  EXPECT_EQ(since.error().message(),
            "plugin 'abi_1_2' does not read increments (with this configuration)");
  EXPECT_EQ(cursor, "kept");
  EXPECT_TRUE(increment.events.empty());
}

TEST(OldMinorPlugin, Abi11PluginIsNotIncremental) {
  auto instance = create_or_fail(load_or_fail("abi_1_1"), {});
  EXPECT_FALSE(instance->incremental());
}

TEST(IncrementalPlugin, APluginOfTheSdkIsNotIncrementalByDefault) {
  auto instance = create_or_fail(load_or_fail("good"), kGoodConfig);
  EXPECT_FALSE(instance->incremental());
  // The base SourceSession says the same for sources that know nothing of increments.
  source::SourceSession& session = *instance;
  EXPECT_FALSE(session.incremental());
}

TEST(IncrementalPlugin, ReadsEachPartThenItsCursor) {
  const auto plugin = load_or_fail("incremental");
  EXPECT_GE(plugin->descriptor().abi_minor, 3); // built with this SDK: 1.3 or later
  auto instance = create_or_fail(
      plugin, {{"identity", std::vector<std::string>{"resource/id", "time/usage_start"}}});
  ASSERT_TRUE(instance->incremental());
  EXPECT_EQ(instance->identity_columns(),
            (std::vector<std::string>{"resource/id", "time/usage_start"}));

  IncrementReceiver all;
  std::string cursor;
  Status status = instance->read_since("", all, cursor);
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(all.events, (std::vector<std::string>{"row inc:1", "cursor 1", "row inc:2", "cursor 2",
                                                  "row inc:3", "cursor 3", "cursor 3"}));
  EXPECT_EQ(cursor, "3");

  IncrementReceiver rest;
  status = instance->read_since("1", rest, cursor);
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(rest.events, (std::vector<std::string>{"row inc:2", "cursor 2", "row inc:3", "cursor 3",
                                                   "cursor 3"}));
  EXPECT_EQ(cursor, "3");

  // Nothing new: no row, and the cursor it was given back.
  IncrementReceiver none;
  status = instance->read_since("3", none, cursor);
  ASSERT_TRUE(status.ok()) << status.error().message();
  EXPECT_EQ(none.events, std::vector<std::string>{"cursor 3"});
  EXPECT_EQ(cursor, "3");
}

TEST(IncrementalPlugin, AnInstanceMaySayItIsNotIncremental) {
  auto instance = create_or_fail(
      load_or_fail("incremental"),
      {{"incremental", false}, {"identity", std::vector<std::string>{"resource/id"}}});
  EXPECT_FALSE(instance->incremental());
  EXPECT_TRUE(instance->identity_columns().empty());
  IncrementReceiver receiver;
  std::string cursor;
  EXPECT_EQ(instance->read_since("", receiver, cursor).error().kind(), ErrorKind::config);
}

TEST(IncrementalPlugin, SuccessWithoutACursorIsAnError) {
  auto instance = create_or_fail(load_or_fail("incremental"), {{"mode", std::string("no_cursor")}});
  IncrementReceiver receiver;
  std::string cursor = "7";
  const Status status = instance->read_since("7", receiver, cursor);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind(), ErrorKind::internal);
  EXPECT_EQ(status.error().message(),
            "plugin 'incremental' returned from read_since() since cursor '7' without giving the "
            "next cursor (bd_sink::cursor)");
  EXPECT_EQ(cursor, "7");
}

TEST(IncrementalPlugin, RowsAfterTheLastCursorAreAnError) {
  auto instance =
      create_or_fail(load_or_fail("incremental"), {{"mode", std::string("rows_after_cursor")}});
  IncrementReceiver receiver;
  std::string cursor;
  const Status status = instance->read_since("", receiver, cursor);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(),
            "plugin 'incremental' wrote rows after its last cursor in read_since() from the "
            "start: they would be read again next time");
  EXPECT_EQ(cursor, "");
}

TEST(CheckAbi, IncrementalNeedsReadSinceAndTheOtherWayRound) {
  bd_plugin_descriptor descriptor = valid_descriptor();
  descriptor.incremental = [](void*, int32_t*, bd_text_callback, void*, bd_error*) -> int32_t {
    return BD_OK;
  };
  Status status = source::check_abi(descriptor, "/p/billdrop_fake.so");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(),
            "/p/billdrop_fake.so: plugin 'fake' has incremental but no read_since in its "
            "descriptor (an incremental source needs both): rebuild the plugin against "
            "billdrop-sdk 1.x using BILLDROP_PLUGIN(...)");
  descriptor.incremental = nullptr;
  descriptor.read_since = [](void*, bd_str, const bd_sink*, bd_error*) -> int32_t { return BD_OK; };
  status = source::check_abi(descriptor, "/p/billdrop_fake.so");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("has read_since but no incremental"), std::string::npos);
  // Neither: a 1.3 plugin that never reads increments.
  descriptor.read_since = nullptr;
  EXPECT_TRUE(source::check_abi(descriptor, "/p/billdrop_fake.so").ok());
}

TEST(CheckAbi, SizeIsCheckedPerMinor) {
  bd_plugin_descriptor descriptor = valid_descriptor();
  const std::size_t size_1_2 = offsetof(bd_plugin_descriptor, read) + sizeof(void*);
  descriptor.struct_size = static_cast<uint32_t>(size_1_2);
  for (std::uint16_t minor : {0, 1, 2}) {
    descriptor.abi_minor = minor;
    EXPECT_TRUE(source::check_abi(descriptor, "/p/billdrop_fake.so").ok()) << minor;
  }
  descriptor.abi_minor = 3;
  Status status = source::check_abi(descriptor, "/p/billdrop_fake.so");
  ASSERT_FALSE(status.ok());
  const std::size_t size_1_3 = offsetof(bd_plugin_descriptor, read_since) + sizeof(void*);
  EXPECT_EQ(status.error().message(), "/p/billdrop_fake.so has a truncated plugin descriptor (" +
                                          std::to_string(size_1_2) + " bytes, ABI 1.3 needs " +
                                          std::to_string(size_1_3) +
                                          "): rebuild the plugin against billdrop-sdk 1.x");
  // A 1.3 descriptor ends at read_since: enough for 1.3, not for 1.4 (one_pass, read_all,
  // create_with_host).
  descriptor.struct_size = static_cast<uint32_t>(size_1_3);
  EXPECT_TRUE(source::check_abi(descriptor, "/p/billdrop_fake.so").ok());
  descriptor.abi_minor = 4;
  status = source::check_abi(descriptor, "/p/billdrop_fake.so");
  ASSERT_FALSE(status.ok());
  const std::size_t size_1_4 = offsetof(bd_plugin_descriptor, create_with_host) + sizeof(void*);
  EXPECT_EQ(status.error().message(), "/p/billdrop_fake.so has a truncated plugin descriptor (" +
                                          std::to_string(size_1_3) + " bytes, ABI 1.4 needs " +
                                          std::to_string(size_1_4) +
                                          "): rebuild the plugin against billdrop-sdk 1.x");
  // A 1.4 descriptor ends at create_with_host: enough for 1.4, not for 1.5
  // (reads_growing_files).
  descriptor.struct_size = static_cast<uint32_t>(size_1_4);
  EXPECT_TRUE(source::check_abi(descriptor, "/p/billdrop_fake.so").ok());
  descriptor.abi_minor = 5;
  status = source::check_abi(descriptor, "/p/billdrop_fake.so");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(), "/p/billdrop_fake.so has a truncated plugin descriptor (" +
                                          std::to_string(size_1_4) + " bytes, ABI 1.5 needs " +
                                          std::to_string(size_1_4 + sizeof(int32_t)) +
                                          "): rebuild the plugin against billdrop-sdk 1.x");
}

TEST(CheckAbi, OnePassNeedsReadAllAndTheOtherWayRound) {
  bd_plugin_descriptor descriptor = valid_descriptor();
  descriptor.one_pass = [](void*, int32_t*, bd_error*) -> int32_t { return BD_OK; };
  Status status = source::check_abi(descriptor, "/p/billdrop_fake.so");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message(),
            "/p/billdrop_fake.so: plugin 'fake' has one_pass but no read_all in its descriptor (a "
            "one-pass source needs both): rebuild the plugin against billdrop-sdk 1.x using "
            "BILLDROP_PLUGIN(...)");
  descriptor.one_pass = nullptr;
  descriptor.read_all = [](void*, const bd_sink*, bd_error*) -> int32_t { return BD_OK; };
  status = source::check_abi(descriptor, "/p/billdrop_fake.so");
  ASSERT_FALSE(status.ok());
  EXPECT_NE(status.error().message().find("has read_all but no one_pass"), std::string::npos);
  // A 1.3 plugin's bytes past its descriptor are never read as these fields.
  descriptor.abi_minor = 3;
  EXPECT_TRUE(source::check_abi(descriptor, "/p/billdrop_fake.so").ok());
}

TEST(PluginLocator, PluginFileName) {
  EXPECT_EQ(source::plugin_file_name("aws"), "billdrop_aws.so");
  EXPECT_EQ(source::plugin_file_name("my-source"), "billdrop_my-source.so");
}

} // namespace
} // namespace billdrop
