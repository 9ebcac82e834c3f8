#include "source/plugin_loader.hpp"

#include "core/log.hpp"

// Boost 1.74's library_info headers use std::vector and std::string without including them.
#include <string>
#include <vector>

#include <boost/dll/library_info.hpp>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>

#include <dlfcn.h>
#include <elf.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <fstream>
#include <new>
#include <optional>
#include <set>

namespace billdrop::source {
namespace fs = std::filesystem;

PluginLog plugin_log(std::string plugin, std::string connection) {
  return [plugin = std::move(plugin),
          connection = std::move(connection)](bd_log_level level, std::string_view message) {
    const log::Level mapped = level == BD_LOG_DEBUG  ? log::Level::debug
                              : level == BD_LOG_INFO ? log::Level::info
                              : level == BD_LOG_WARN ? log::Level::warn
                                                     : log::Level::error;
    if (connection.empty())
      log::write(mapped, "plugin.log", {{"plugin", plugin}, {"message", message}});
    else
      log::write(mapped, "plugin.log",
                 {{"plugin", plugin}, {"connection", connection}, {"message", message}});
  };
}

void PluginInstance::HostLink::write(void* context, int32_t level, bd_str message) noexcept {
  auto* self = static_cast<HostLink*>(context);
  const bd_log_level clamped =
      static_cast<bd_log_level>(std::clamp<int32_t>(level, BD_LOG_DEBUG, BD_LOG_ERROR));
  try {
    self->log(clamped, std::string_view(message.data, message.size));
  } catch (...) {
    // A log line that cannot be written (out of memory) is not worth failing the plugin's call.
  }
}

Error receiver_exception_error() {
  try {
    throw;
  } catch (const ErrorException& e) {
    return e.error();
  } catch (const std::bad_alloc&) {
    return internal_error("out of memory while receiving rows");
  } catch (const std::exception& e) {
    return internal_error(std::string("unexpected exception while receiving rows: ") + e.what());
  } catch (...) {
    return internal_error("unexpected non-standard exception while receiving rows");
  }
}

std::string printable_start(std::string_view text) {
  constexpr std::size_t kShown = 60;
  std::string out = "\"";
  for (const char c : text.substr(0, kShown)) {
    if (c == '\n')
      out += "\\n";
    else if (c == '"' || c == '\\')
      out += std::string("\\") + c;
    else
      out += static_cast<unsigned char>(c) < 0x20 ? '?' : c;
  }
  out += text.size() > kShown ? "…\"" : "\"";
  return out;
}

struct LoadedPlugin::Library {
  boost::dll::shared_library library;
};

LoadedPlugin::~LoadedPlugin() = default;

namespace {

std::string abi_text(unsigned major, unsigned minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

const std::string kHostAbi = abi_text(BILLDROP_ABI_MAJOR, BILLDROP_ABI_MINOR);
const std::string kSdk = "billdrop-sdk " + std::to_string(BILLDROP_ABI_MAJOR) + ".x";
const std::string kRebuild = "rebuild the plugin against " + kSdk;

// The bytes of the descriptor that exist in each minor version of the current major: index is
// abi_minor. A minor version appends fields, so this only grows.
constexpr std::size_t kDescriptorSizeByMinor[] = {
    offsetof(bd_plugin_descriptor, read) + sizeof(bd_plugin_descriptor::read),
    // 1.1 added bd_sink::note (the host's side of the boundary); the descriptor is unchanged.
    offsetof(bd_plugin_descriptor, read) + sizeof(bd_plugin_descriptor::read),
    // 1.2 added bd_sink::reject_field; the descriptor is unchanged.
    offsetof(bd_plugin_descriptor, read) + sizeof(bd_plugin_descriptor::read),
    // 1.3 added incremental and read_since (and bd_sink::cursor).
    offsetof(bd_plugin_descriptor, read_since) + sizeof(bd_plugin_descriptor::read_since),
    // 1.4 added one_pass, read_all and create_with_host (and bd_host).
    offsetof(bd_plugin_descriptor, create_with_host) +
        sizeof(bd_plugin_descriptor::create_with_host),
    // 1.5 added reads_growing_files (and bd_sink::write_retained and release).
    offsetof(bd_plugin_descriptor, reads_growing_files) +
        sizeof(bd_plugin_descriptor::reads_growing_files),
};
static_assert(std::size(kDescriptorSizeByMinor) == BILLDROP_ABI_MINOR + 1,
              "a new ABI minor version needs its descriptor size here");
// The sizes docs/abi.md lists for 64-bit Linux.
static_assert(sizeof(void*) != 8 ||
                  (kDescriptorSizeByMinor[0] == 88 && kDescriptorSizeByMinor[2] == 88 &&
                   kDescriptorSizeByMinor[3] == 104 && kDescriptorSizeByMinor[4] == 128 &&
                   kDescriptorSizeByMinor[5] == 132),
              "docs/abi.md's table of descriptor sizes per minor version is out of date");

bool valid_plugin_name(std::string_view name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  });
}

fs::path normalized(const fs::path& path) {
  std::error_code ec;
  fs::path absolute = fs::absolute(path, ec);
  if (ec)
    absolute = path;
  absolute = absolute.lexically_normal();
  if (absolute.has_relative_path() && absolute.filename().empty())
    absolute = absolute.parent_path(); // "/a/b/" and "/a/b" are the same directory
  return absolute;
}

// What the first bytes of the file say it is. Checked before Boost.DLL so a text file gets a
// plain sentence rather than an iostream error.
enum class FileKind { unreadable, not_elf, not_shared_object, executable, shared_object };

// Whether an ET_DYN file asks for a program interpreter (PT_INTERP): a position-independent
// executable, which is ET_DYN like a shared object. Only 64-bit little-endian ELF is read.
bool has_interpreter(std::ifstream& in) {
  Elf64_Ehdr header{};
  in.clear();
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(&header), sizeof header) ||
      header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
      header.e_phentsize != sizeof(Elf64_Phdr) || header.e_phnum > 4096)
    return false;
  in.seekg(static_cast<std::streamoff>(header.e_phoff));
  for (unsigned i = 0; i < header.e_phnum; ++i) {
    Elf64_Phdr program{};
    if (!in.read(reinterpret_cast<char*>(&program), sizeof program))
      return false;
    if (program.p_type == PT_INTERP)
      return true;
  }
  return false;
}

FileKind inspect_header(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return FileKind::unreadable;
  std::array<unsigned char, EI_NIDENT + 2> header{};
  in.read(reinterpret_cast<char*>(header.data()), header.size());
  if (in.gcount() < static_cast<std::streamsize>(header.size()) ||
      std::memcmp(header.data(), ELFMAG, SELFMAG) != 0)
    return FileKind::not_elf;
  // e_type follows e_ident in both ELF classes; read it in the file's own byte order.
  const bool little = header[EI_DATA] == ELFDATA2LSB;
  const unsigned type = little ? header[EI_NIDENT] | (header[EI_NIDENT + 1] << 8)
                               : (header[EI_NIDENT] << 8) | header[EI_NIDENT + 1];
  if (type != ET_DYN)
    return FileKind::not_shared_object;
  return has_interpreter(in) ? FileKind::executable : FileKind::shared_object;
}

// Whether the dynamic symbol table (what dlsym searches) defines `name`. Boost 1.74's
// library_info reads only .symtab, which `strip` removes from installed plugins, so a stripped
// plugin is checked here instead. Only 64-bit little-endian ELF is read; others report false.
bool dynamic_table_exports(const fs::path& file, std::string_view name) {
  std::ifstream in(file, std::ios::binary);
  Elf64_Ehdr header{};
  if (!in.read(reinterpret_cast<char*>(&header), sizeof header) ||
      header.e_ident[EI_CLASS] != ELFCLASS64 || header.e_ident[EI_DATA] != ELFDATA2LSB ||
      header.e_shentsize != sizeof(Elf64_Shdr))
    return false;
  std::error_code ec;
  const std::uintmax_t file_size = fs::file_size(file, ec);
  if (ec)
    return false;
  auto read_at = [&](std::uint64_t offset, void* out, std::uint64_t size) {
    if (offset > file_size || size > file_size - offset)
      return false;
    in.seekg(static_cast<std::streamoff>(offset));
    return static_cast<bool>(in.read(static_cast<char*>(out), static_cast<std::streamsize>(size)));
  };
  std::vector<Elf64_Shdr> sections(header.e_shnum);
  if (!read_at(header.e_shoff, sections.data(), sections.size() * sizeof(Elf64_Shdr)))
    return false;
  for (const Elf64_Shdr& section : sections) {
    if (section.sh_type != SHT_DYNSYM || section.sh_link >= sections.size())
      continue;
    const Elf64_Shdr& strings = sections[section.sh_link];
    std::vector<Elf64_Sym> symbols(section.sh_size / sizeof(Elf64_Sym));
    std::string names(strings.sh_size, '\0');
    if (!read_at(section.sh_offset, symbols.data(), symbols.size() * sizeof(Elf64_Sym)) ||
        !read_at(strings.sh_offset, names.data(), names.size()))
      return false;
    for (const Elf64_Sym& symbol : symbols) {
      if (symbol.st_shndx == SHN_UNDEF || ELF64_ST_BIND(symbol.st_info) == STB_LOCAL ||
          ELF64_ST_VISIBILITY(symbol.st_other) != STV_DEFAULT || symbol.st_name >= names.size())
        continue;
      if (std::string_view(names.c_str() + symbol.st_name) == name)
        return true;
    }
  }
  return false;
}

// Inspects the file without running any of its code.
Status inspect(const fs::path& file) {
  std::error_code ec;
  if (!fs::exists(file, ec))
    return config_error("plugin file " + file.string() + " does not exist");
  if (fs::is_directory(file, ec))
    return config_error(file.string() + " is a directory, not a plugin file");
  switch (inspect_header(file)) {
  case FileKind::unreadable:
    return config_error("cannot read plugin file " + file.string() + ": permission denied");
  case FileKind::not_elf:
    return config_error(file.string() +
                        " is not a shared object (ELF): cannot load it as a plugin");
  case FileKind::not_shared_object:
    return config_error(file.string() +
                        " is an ELF executable or object file, not a shared object: build the "
                        "plugin with billdrop_add_plugin() (a MODULE library)");
  case FileKind::executable:
    return config_error(file.string() +
                        " is a program (a position-independent executable), not a plugin: a "
                        "plugin is a shared library built with billdrop_add_plugin()");
  case FileKind::shared_object:
    break;
  }
  bool exported = false;
  try {
    boost::dll::library_info info(file);
    const std::vector<std::string> symbols = info.symbols();
    exported =
        std::find(symbols.begin(), symbols.end(), BILLDROP_PLUGIN_ENTRY_SYMBOL) != symbols.end();
  } catch (const std::exception& e) {
    return config_error(file.string() +
                        " is not a readable shared object (ELF): cannot inspect it as a plugin (" +
                        e.what() + ")");
  }
  if (!exported && !dynamic_table_exports(file, BILLDROP_PLUGIN_ENTRY_SYMBOL))
    return config_error(file.string() + " does not export " BILLDROP_PLUGIN_ENTRY_SYMBOL
                                        ": it is not a billdrop plugin, or BILLDROP_PLUGIN(...) "
                                        "is missing from its sources");
  return {};
}

ErrorKind kind_of(int32_t code) {
  switch (code) {
  case BD_ERR_CONFIG:
    return ErrorKind::config;
  case BD_ERR_SOURCE:
    return ErrorKind::source;
  case BD_ERR_DATA:
    return ErrorKind::data;
  case BD_ERR_CANCELLED:
    return ErrorKind::cancelled;
  default:
    return ErrorKind::internal;
  }
}

// The host-owned buffer a plugin writes its error message into.
class ErrorBuffer {
public:
  ErrorBuffer() : error_{0, text_.data(), text_.size(), 0} {}
  ErrorBuffer(const ErrorBuffer&) = delete;
  ErrorBuffer& operator=(const ErrorBuffer&) = delete;

  bd_error* get() noexcept { return &error_; }

  // The error a plugin reported with `code` from `operation` ("check()", ...).
  Error to_error(const LoadedPlugin& plugin, std::string_view operation, int32_t code) const {
    std::size_t size = std::min(error_.size, text_.size() - 1);
    if (size == 0) // a hand-written plugin may write a C string and leave size at 0
      size = strnlen(text_.data(), text_.size() - 1);
    std::string message(text_.data(), size);
    const bool retryable = error_.retryable != 0;
    const bool known = code >= BD_ERR_CONFIG && code <= BD_ERR_CANCELLED;
    if (!known)
      return Error(ErrorKind::internal,
                   "plugin '" + plugin.name() + "' returned unknown status code " +
                       std::to_string(code) + " from " + std::string(operation) +
                       (message.empty() ? "" : ": " + message),
                   retryable);
    if (message.empty())
      message = "plugin '" + plugin.name() + "' reported a " + to_string(kind_of(code)) +
                " error from " + std::string(operation) + " without a message";
    return Error(kind_of(code), std::move(message), retryable);
  }

private:
  std::array<char, 4096> text_{};
  bd_error error_;
};

// The bd_sink of one read(): forwards to the RowReceiver and keeps its exceptions from unwinding
// through plugin frames.
struct ReadSink {
  RowReceiver& receiver;
  bool stopped = false;
  std::optional<Error> failure;
  // read_since only: the last cursor given, and whether rows came after it.
  std::optional<std::string> last_cursor;
  bool rows_after_cursor = false;

  bool active() const noexcept { return !stopped && !failure; }

  // The sink a read passes to the plugin; `cursor` is set in read_since's only.
  bd_sink sink(bool with_cursor) noexcept {
    return bd_sink{this,
                   &ReadSink::write,
                   &ReadSink::reject,
                   &ReadSink::progress,
                   &ReadSink::log,
                   &ReadSink::note,
                   &ReadSink::reject_field,
                   with_cursor ? &ReadSink::cursor : nullptr,
                   &ReadSink::write_retained,
                   &ReadSink::release};
  }

  // A batch to the receiver: copied by it (write) or left in place (write_retained, ABI 1.5).
  template <bool retained>
  static int32_t deliver(void* context, const bd_row* rows, size_t count) noexcept {
    auto* self = static_cast<ReadSink*>(context);
    if (!self->active())
      return 1;
    try {
      if (count > 0)
        self->rows_after_cursor = true;
      const std::span<const bd_row> batch(rows, count);
      if (!(retained ? self->receiver.on_retained_rows(batch) : self->receiver.on_rows(batch)))
        self->stopped = true;
    } catch (...) {
      self->failure = receiver_exception_error();
    }
    return self->active() ? 0 : 1;
  }
  static int32_t write(void* context, const bd_row* rows, size_t count) noexcept {
    return deliver<false>(context, rows, count);
  }
  static int32_t write_retained(void* context, const bd_row* rows, size_t count) noexcept {
    return deliver<true>(context, rows, count);
  }
  // Called even after a failure or a stop: the plugin may free its batches once it returns.
  static void release(void* context) noexcept {
    auto* self = static_cast<ReadSink*>(context);
    try {
      self->receiver.release_rows();
    } catch (...) {
      if (!self->failure)
        self->failure = receiver_exception_error();
    }
  }
  static void reject(void* context, bd_str origin, bd_str reason) noexcept {
    auto* self = static_cast<ReadSink*>(context);
    if (!self->active())
      return;
    try {
      self->receiver.on_reject(std::string_view(origin.data, origin.size),
                               std::string_view(reason.data, reason.size));
    } catch (...) {
      self->failure = receiver_exception_error();
    }
  }
  static void reject_field(void* context, bd_str origin, bd_str column, bd_str rule,
                           bd_str reason) noexcept {
    auto* self = static_cast<ReadSink*>(context);
    if (!self->active())
      return;
    try {
      self->receiver.on_reject_field(
          std::string_view(origin.data, origin.size), std::string_view(column.data, column.size),
          std::string_view(rule.data, rule.size), std::string_view(reason.data, reason.size));
    } catch (...) {
      self->failure = receiver_exception_error();
    }
  }
  static void progress(void* context, uint64_t done, uint64_t total) noexcept {
    auto* self = static_cast<ReadSink*>(context);
    if (!self->active())
      return;
    try {
      self->receiver.on_progress(done, total);
    } catch (...) {
      self->failure = receiver_exception_error();
    }
  }
  static void log(void* context, int32_t level, bd_str message) noexcept {
    auto* self = static_cast<ReadSink*>(context);
    if (!self->active())
      return;
    const bd_log_level clamped =
        static_cast<bd_log_level>(std::clamp<int32_t>(level, BD_LOG_DEBUG, BD_LOG_ERROR));
    try {
      self->receiver.on_log(clamped, std::string_view(message.data, message.size));
    } catch (...) {
      self->failure = receiver_exception_error();
    }
  }
  static void note(void* context, bd_str key, uint64_t count) noexcept {
    auto* self = static_cast<ReadSink*>(context);
    if (!self->active())
      return;
    try {
      self->receiver.on_note(std::string_view(key.data, key.size), count);
    } catch (...) {
      self->failure = receiver_exception_error();
    }
  }
  static void cursor(void* context, bd_str text) noexcept {
    auto* self = static_cast<ReadSink*>(context);
    if (!self->active())
      return;
    try {
      const std::string_view cursor(text.data, text.size);
      self->last_cursor = std::string(cursor);
      self->rows_after_cursor = false;
      self->receiver.on_cursor(cursor);
    } catch (...) {
      self->failure = receiver_exception_error();
    }
  }
};

std::string without_prefix(std::string text, const std::string& prefix) {
  if (text.compare(0, prefix.size(), prefix) == 0)
    text.erase(0, prefix.size());
  return text;
}

} // namespace

Status check_abi(const bd_plugin_descriptor& descriptor, const fs::path& file) {
  const std::string where = file.string();
  if (descriptor.magic != BILLDROP_PLUGIN_MAGIC)
    return config_error(where + " exports " BILLDROP_PLUGIN_ENTRY_SYMBOL
                                " but it does not return a billdrop plugin descriptor (bad "
                                "magic number): it is not a billdrop plugin, or it is corrupt");
  const std::string plugin_abi = abi_text(descriptor.abi_major, descriptor.abi_minor);
  if (descriptor.abi_major > BILLDROP_ABI_MAJOR)
    return config_error(where + " was built for billdrop plugin ABI " + plugin_abi +
                        ", this billdrop speaks " + kHostAbi + ": " + kRebuild);
  if (descriptor.abi_major < BILLDROP_ABI_MAJOR)
    return config_error(where + " was built for billdrop plugin ABI " + plugin_abi +
                        ", too old for this billdrop (" + kHostAbi + "): rebuild it against " +
                        kSdk);
  if (descriptor.abi_minor > BILLDROP_ABI_MINOR)
    return config_error(where + " needs ABI " + plugin_abi + ", this billdrop speaks " + kHostAbi +
                        ": upgrade billdrop");
  const std::size_t needed = kDescriptorSizeByMinor[descriptor.abi_minor];
  if (descriptor.struct_size < needed)
    return config_error(where + " has a truncated plugin descriptor (" +
                        std::to_string(descriptor.struct_size) + " bytes, ABI " + plugin_abi +
                        " needs " + std::to_string(needed) + "): " + kRebuild);

  if (descriptor.name == nullptr || *descriptor.name == '\0')
    return config_error(where + " has a plugin descriptor without a name: " + kRebuild +
                        " using BILLDROP_PLUGIN(...)");
  if (!valid_plugin_name(descriptor.name))
    return config_error(where + " names its plugin '" + std::string(descriptor.name) +
                        "', which is not a valid plugin name (use lowercase letters, digits, '_' "
                        "and '-')");
  // ABI 1.3: incremental and read_since come together (both or neither).
  if (descriptor.abi_minor >= 3 &&
      (descriptor.incremental == nullptr) != (descriptor.read_since == nullptr))
    return config_error(where + ": plugin '" + std::string(descriptor.name) + "' has " +
                        (descriptor.incremental != nullptr ? "incremental but no read_since"
                                                           : "read_since but no incremental") +
                        " in its descriptor (an incremental source needs both): " + kRebuild +
                        " using BILLDROP_PLUGIN(...)");
  // ABI 1.4: one_pass and read_all come together (both or neither).
  if (descriptor.abi_minor >= 4 &&
      (descriptor.one_pass == nullptr) != (descriptor.read_all == nullptr))
    return config_error(
        where + ": plugin '" + std::string(descriptor.name) + "' has " +
        (descriptor.one_pass != nullptr ? "one_pass but no read_all" : "read_all but no one_pass") +
        " in its descriptor (a one-pass source needs both): " + kRebuild +
        " using BILLDROP_PLUGIN(...)");
  std::string missing;
  const std::pair<const char*, bool> functions[] = {{"create", descriptor.create != nullptr},
                                                    {"destroy", descriptor.destroy != nullptr},
                                                    {"check", descriptor.check != nullptr},
                                                    {"months", descriptor.months != nullptr},
                                                    {"read", descriptor.read != nullptr}};
  for (const auto& [function, present] : functions)
    if (!present)
      missing += (missing.empty() ? "" : ", ") + std::string(function);
  if (!missing.empty())
    return config_error(where + ": plugin '" + std::string(descriptor.name) +
                        "' has no function for " + missing + " in its descriptor: " + kRebuild +
                        " using BILLDROP_PLUGIN(...)");
  return {};
}

std::string plugin_name_of_file(const fs::path& file) {
  static constexpr std::string_view prefix = "billdrop_";
  static constexpr std::string_view suffix = ".so";
  const std::string name = file.filename().string();
  if (name.size() <= prefix.size() + suffix.size() || !name.starts_with(prefix) ||
      !name.ends_with(suffix))
    return {};
  return name.substr(prefix.size(), name.size() - prefix.size() - suffix.size());
}

Result<std::shared_ptr<LoadedPlugin>> load_plugin(const fs::path& file,
                                                  std::string_view expected_name) {
  const fs::path path = normalized(file);
  if (Status inspected = inspect(path); !inspected)
    return std::move(inspected).error();

  auto library = std::make_unique<LoadedPlugin::Library>();
  std::error_code ec;
  library->library.load(path, boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now,
                        ec);
  if (ec) {
    const char* reason = dlerror();
    return config_error(
        "cannot load plugin " + path.string() + ": " +
        (reason != nullptr ? without_prefix(reason, path.string() + ": ") : ec.message()));
  }
  if (!library->library.has(BILLDROP_PLUGIN_ENTRY_SYMBOL))
    return config_error(path.string() + " does not export " BILLDROP_PLUGIN_ENTRY_SYMBOL
                                        " to the dynamic loader: BILLDROP_PLUGIN(...) must be "
                                        "used at namespace scope in one of its sources");
  const auto entry =
      library->library.get<const bd_plugin_descriptor*()>(BILLDROP_PLUGIN_ENTRY_SYMBOL);
  const bd_plugin_descriptor* descriptor = nullptr;
  try {
    descriptor = entry();
  } catch (...) { // an entry point must not throw; one built without the SDK might
    return internal_error(path.string() + ": " BILLDROP_PLUGIN_ENTRY_SYMBOL
                                          "() threw an exception");
  }
  if (descriptor == nullptr)
    return config_error(path.string() +
                        ": " BILLDROP_PLUGIN_ENTRY_SYMBOL "() returned no descriptor: " + kRebuild +
                        " using BILLDROP_PLUGIN(...)");
  if (Status abi = check_abi(*descriptor, path); !abi)
    return std::move(abi).error();
  // The name comes from the build (billdrop_add_plugin() names the file after it): a file whose
  // descriptor names another plugin was renamed or copied, and would send its rows as that one.
  if (!expected_name.empty() && expected_name != descriptor->name)
    return config_error(path.string() + " holds plugin '" + std::string(descriptor->name) +
                        "', but plugin '" + std::string(expected_name) +
                        "' was asked for: a plugin file keeps the name it was built with (" +
                        plugin_file_name(descriptor->name) + "); rename it back, or ask for '" +
                        std::string(descriptor->name) + "'");

  // A descriptor without a schema declares no configuration keys.
  const char* schema_json =
      descriptor->config_schema_json != nullptr ? descriptor->config_schema_json : "{\"keys\":[]}";
  Result<ConfigSchema> schema = ConfigSchema::from_json(schema_json);
  if (!schema)
    return config_error("plugin '" + std::string(descriptor->name) + "' (" + path.string() +
                        ") has an unreadable config schema: " + schema.error().message());

  std::shared_ptr<LoadedPlugin> plugin(new LoadedPlugin());
  plugin->library_ = std::move(library);
  plugin->descriptor_ = descriptor;
  plugin->name_ = descriptor->name;
  plugin->version_ = descriptor->version != nullptr ? descriptor->version : "";
  plugin->description_ = descriptor->description != nullptr ? descriptor->description : "";
  plugin->path_ = path;
  plugin->schema_ = std::move(*schema);
  return plugin;
}

Result<std::unique_ptr<PluginInstance>>
PluginInstance::create(std::shared_ptr<const LoadedPlugin> plugin, const ConfigValues& config,
                       std::string connection) {
  if (!plugin)
    return internal_error("PluginInstance::create() was given no plugin");
  Result<ConfigValues> values = plugin->schema().validate(plugin->name(), config);
  if (!values)
    return std::move(values).error();
  PluginLog log = plugin_log(plugin->name(), std::move(connection));
  return create_from_json(std::move(plugin), config_to_json(*values), std::move(log));
}

Result<std::unique_ptr<PluginInstance>>
PluginInstance::create_from_json(std::shared_ptr<const LoadedPlugin> plugin, std::string_view json,
                                 PluginLog log) {
  if (!plugin)
    return internal_error("PluginInstance::create_from_json() was given no plugin");
  ErrorBuffer error;
  void* handle = nullptr;
  // ABI 1.4: the instance gets the host's log for its whole life (check and months have no sink).
  auto link = std::make_unique<HostLink>();
  link->log = log ? std::move(log) : plugin_log(plugin->name(), {});
  link->host = bd_host{link.get(), &HostLink::write};
  const bd_plugin_descriptor& descriptor = plugin->descriptor();
  const int32_t code =
      descriptor.abi_minor >= 4 && descriptor.create_with_host != nullptr
          ? descriptor.create_with_host(json.data(), json.size(), &link->host, &handle, error.get())
          : descriptor.create(json.data(), json.size(), &handle, error.get());
  if (code != BD_OK)
    return error.to_error(*plugin, "create()", code)
        .with_context("plugin '" + plugin->name() + "' failed to initialise");
  if (handle == nullptr)
    return internal_error("plugin '" + plugin->name() +
                          "' reported success from create() but returned no instance");
  std::unique_ptr<PluginInstance> instance(new PluginInstance(std::move(plugin), handle));
  instance->host_link_ = std::move(link);
  if (Status asked = instance->ask_incremental(); !asked)
    return std::move(asked).error();
  if (Status asked = instance->ask_one_pass(); !asked)
    return std::move(asked).error();
  return instance;
}

Status PluginInstance::ask_one_pass() {
  const bd_plugin_descriptor& descriptor = plugin_->descriptor();
  // Fields of ABI 1.4: check_abi() made sure struct_size covers them when abi_minor says so.
  if (descriptor.abi_minor < 4 || descriptor.one_pass == nullptr || descriptor.read_all == nullptr)
    return {};
  int32_t flag = 0;
  ErrorBuffer error;
  const int32_t code = descriptor.one_pass(handle_, &flag, error.get());
  if (code != BD_OK)
    return error.to_error(*plugin_, "one_pass()", code)
        .with_context("plugin '" + plugin_->name() + "' failed to initialise");
  one_pass_ = flag != 0;
  return {};
}

Status PluginInstance::ask_incremental() {
  const bd_plugin_descriptor& descriptor = plugin_->descriptor();
  // Fields of ABI 1.3: check_abi() made sure struct_size covers them when abi_minor says so.
  if (descriptor.abi_minor < 3 || descriptor.incremental == nullptr ||
      descriptor.read_since == nullptr)
    return {};
  struct Collected {
    std::vector<std::string> columns;
    bool out_of_memory = false;
  } collected;
  int32_t flag = 0;
  ErrorBuffer error;
  const int32_t code = descriptor.incremental(
      handle_, &flag,
      [](void* context, bd_str column) noexcept {
        auto* into = static_cast<Collected*>(context);
        try {
          into->columns.emplace_back(column.data, column.size);
        } catch (...) {
          into->out_of_memory = true;
        }
      },
      &collected, error.get());
  if (code != BD_OK)
    return error.to_error(*plugin_, "incremental()", code)
        .with_context("plugin '" + plugin_->name() + "' failed to initialise");
  if (collected.out_of_memory)
    return internal_error("out of memory while asking plugin '" + plugin_->name() +
                          "' for its identity columns");
  incremental_ = flag != 0;
  if (incremental_)
    identity_columns_ = std::move(collected.columns);
  return {};
}

PluginInstance::~PluginInstance() {
  if (handle_ != nullptr)
    plugin_->descriptor().destroy(handle_);
}

Status PluginInstance::check() {
  ErrorBuffer error;
  const int32_t code = plugin_->descriptor().check(handle_, error.get());
  if (code != BD_OK)
    return error.to_error(*plugin_, "check()", code);
  return {};
}

Result<std::vector<Month>> PluginInstance::months() {
  struct Collected {
    std::vector<std::string> texts;
    bool out_of_memory = false;
  } collected;
  ErrorBuffer error;
  const int32_t code = plugin_->descriptor().months(
      handle_,
      [](void* context, bd_str month) noexcept {
        auto* into = static_cast<Collected*>(context);
        try {
          into->texts.emplace_back(month.data, month.size);
        } catch (...) {
          into->out_of_memory = true;
        }
      },
      &collected, error.get());
  if (code != BD_OK)
    return error.to_error(*plugin_, "months()", code);
  if (collected.out_of_memory)
    return internal_error("out of memory while listing the months of plugin '" + plugin_->name() +
                          "'");
  std::vector<Month> months;
  months.reserve(collected.texts.size());
  for (const std::string& text : collected.texts) {
    Result<Month> month = Month::parse(text);
    if (!month)
      return internal_error("plugin '" + plugin_->name() + "' reported an invalid month '" + text +
                            "': " + month.error().message());
    months.push_back(*month);
  }
  std::sort(months.begin(), months.end());
  months.erase(std::unique(months.begin(), months.end()), months.end());
  return months;
}

Status PluginInstance::read(Month month, RowReceiver& receiver) {
  ReadSink state{receiver};
  const bd_sink sink = state.sink(false);
  const std::string text = month.to_string();
  ErrorBuffer error;
  const int32_t code =
      plugin_->descriptor().read(handle_, bd_str{text.data(), text.size()}, &sink, error.get());
  if (state.failure)
    return std::move(*state.failure);
  if (state.stopped && (code == BD_OK || code == BD_ERR_CANCELLED))
    return Error(ErrorKind::cancelled,
                 "the read of " + text + " from plugin '" + plugin_->name() + "' was stopped");
  if (code != BD_OK)
    return error.to_error(*plugin_, "read()", code);
  return {};
}

Status PluginInstance::read_all(RowReceiver& receiver) {
  if (!one_pass_)
    return config_error("plugin '" + plugin_->name() +
                        "' does not read every month in one pass (with this configuration)");
  ReadSink state{receiver};
  const bd_sink sink = state.sink(false);
  ErrorBuffer error;
  const int32_t code = plugin_->descriptor().read_all(handle_, &sink, error.get());
  if (state.failure)
    return std::move(*state.failure);
  if (state.stopped && (code == BD_OK || code == BD_ERR_CANCELLED))
    return Error(ErrorKind::cancelled, "the one-pass read of every month from plugin '" +
                                           plugin_->name() + "' was stopped");
  if (code != BD_OK)
    return error.to_error(*plugin_, "read_all()", code);
  return {};
}

Status PluginInstance::read_since(std::string_view cursor, RowReceiver& receiver,
                                  std::string& next_cursor) {
  if (!incremental_)
    return config_error("plugin '" + plugin_->name() +
                        "' does not read increments (with this configuration)");
  ReadSink state{receiver};
  const bd_sink sink = state.sink(true);
  const std::string what =
      cursor.empty() ? std::string("from the start") : "since cursor '" + std::string(cursor) + "'";
  ErrorBuffer error;
  const int32_t code = plugin_->descriptor().read_since(
      handle_, bd_str{cursor.data(), cursor.size()}, &sink, error.get());
  if (state.failure)
    return std::move(*state.failure);
  if (state.stopped && (code == BD_OK || code == BD_ERR_CANCELLED))
    return Error(ErrorKind::cancelled, "the incremental read " + what + " from plugin '" +
                                           plugin_->name() + "' was stopped");
  if (code != BD_OK)
    return error.to_error(*plugin_, "read_since()", code);
  if (!state.last_cursor)
    return internal_error("plugin '" + plugin_->name() + "' returned from read_since() " + what +
                          " without giving the next cursor (bd_sink::cursor)");
  if (state.rows_after_cursor)
    return internal_error("plugin '" + plugin_->name() +
                          "' wrote rows after its last cursor in "
                          "read_since() " +
                          what + ": they would be read again next time");
  next_cursor = std::move(*state.last_cursor);
  return {};
}

PluginLocator PluginLocator::standard(std::vector<fs::path> cli_dirs) {
  std::vector<fs::path> directories;
  auto add = [&](const fs::path& directory) {
    if (directory.empty())
      return;
    fs::path normal = normalized(directory);
    if (std::find(directories.begin(), directories.end(), normal) == directories.end())
      directories.push_back(std::move(normal));
  };
  for (const fs::path& directory : cli_dirs)
    add(directory);
  if (const char* env = std::getenv("BILLDROP_PLUGIN_PATH")) {
    std::string_view rest(env);
    while (!rest.empty()) {
      const std::size_t colon = rest.find(':');
      add(fs::path(rest.substr(0, colon)));
      rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    }
  }
  // The build tree and a relocated install keep plugins next to bin/, as the install does.
  std::error_code ec;
  const fs::path exe = boost::dll::program_location(ec);
  if (!ec) {
    const fs::path beside = exe.parent_path().parent_path() / "lib" / "billdrop" / "plugins";
    if (fs::is_directory(beside, ec))
      add(beside);
  }
  add(fs::path(BILLDROP_INSTALL_PLUGIN_DIR));
  return PluginLocator(std::move(directories));
}

Result<fs::path> PluginLocator::find(std::string_view name_or_path) const {
  const bool is_path = name_or_path.find('/') != std::string_view::npos ||
                       (name_or_path.size() > 3 && name_or_path.ends_with(".so"));
  if (is_path) {
    fs::path path(name_or_path);
    std::error_code ec;
    if (!fs::exists(path, ec))
      return config_error("plugin file " + path.string() + " does not exist");
    return path;
  }
  if (!valid_plugin_name(name_or_path))
    return config_error("'" + std::string(name_or_path) +
                        "' is not a plugin name (lowercase letters, digits, '_' and '-') nor a "
                        "path to a .so file");
  const std::string file_name = plugin_file_name(name_or_path);
  for (const fs::path& directory : directories_) {
    std::error_code ec;
    const fs::path candidate = directory / file_name;
    if (fs::is_regular_file(candidate, ec))
      return candidate;
  }
  std::string searched;
  for (const fs::path& directory : directories_)
    searched += (searched.empty() ? "" : ", ") + directory.string();
  std::string available;
  for (const fs::path& file : list()) {
    const std::string stem = file.stem().string();
    available += (available.empty() ? "" : ", ") + stem.substr(std::string("billdrop_").size());
  }
  return config_error("no plugin named '" + std::string(name_or_path) + "' (" + file_name +
                      ") in " + (searched.empty() ? "any directory" : searched) +
                      (available.empty() ? "" : "; found plugins: " + available) +
                      ". Add the plugin's directory with --plugin-dir DIR or "
                      "BILLDROP_PLUGIN_PATH, or pass the path to its .so file");
}

std::vector<fs::path> PluginLocator::list() const {
  static constexpr std::string_view prefix = "billdrop_";
  static constexpr std::string_view suffix = ".so";
  std::vector<fs::path> found;
  std::set<std::string> seen;
  for (const fs::path& directory : directories_) {
    std::error_code ec;
    std::vector<fs::path> here;
    for (fs::directory_iterator it(directory, ec), end; !ec && it != end; it.increment(ec)) {
      const std::string name = it->path().filename().string();
      std::error_code file_ec;
      if (name.size() > prefix.size() + suffix.size() && name.starts_with(prefix) &&
          name.ends_with(suffix) && fs::is_regular_file(it->path(), file_ec))
        here.push_back(it->path());
    }
    std::sort(here.begin(), here.end());
    for (fs::path& file : here)
      if (seen.insert(file.filename().string()).second)
        found.push_back(std::move(file));
  }
  return found;
}

std::string plugin_file_name(std::string_view name) {
  return "billdrop_" + std::string(name) + ".so";
}

} // namespace billdrop::source
