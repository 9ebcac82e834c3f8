#pragma once
// The header-only C++ layer over the C ABI: a plugin is one class deriving from SourcePlugin plus
// one BILLDROP_PLUGIN(...) line. The macro builds the descriptor, converts every exception into an
// error code and message, and never lets a C++ type cross the boundary.
//
//   class AcmePlugin final : public billdrop::SourcePlugin {
//   public:
//     static constexpr billdrop::ConfigKey config_keys[] = {
//         {"path", billdrop::ConfigType::string, nullptr, true, "Export file to read"}};
//     explicit AcmePlugin(const billdrop::Config& config);   // may throw PluginError
//     billdrop::Status check() override;
//     billdrop::Result<std::vector<billdrop::Month>> months() override;
//     billdrop::Status read(billdrop::Month month, billdrop::RowSink& sink) override;
//   };
//
// An incremental source (ABI 1.3) also overrides incremental() and read_since() (see
// SourcePlugin). A source that learns its months only by reading its data (one file holding
// several months) may also declare, as public members (ABI 1.4, "one pass"; found at compile
// time, so a plugin without them compiles and behaves as before):
//     billdrop::Status read_all(billdrop::RowSink& sink); // every row of every month, one pass
//     bool one_pass() const; // optional: whether this instance wants read_all (default: yes)
//   BILLDROP_PLUGIN(AcmePlugin, "acme", "1.0.0", "Reads Acme usage exports")

#include <billdrop/config.hpp>
#include <billdrop/detail/short_copy.hpp>
#include <billdrop/plugin.h>
#include <billdrop/result.hpp>
#include <billdrop/timestamp.hpp>

#include <algorithm>
#include <array>
#include <concepts>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace billdrop {

// Thrown by plugin code (constructor included) for an error it wants the host to see as is.
class PluginError : public ErrorException {
public:
  explicit PluginError(std::string message, ErrorKind kind = ErrorKind::source,
                       bool retryable = false)
      : ErrorException(Error(kind, std::move(message), retryable)) {}
};

enum class LogLevel {
  debug = BD_LOG_DEBUG,
  info = BD_LOG_INFO,
  warn = BD_LOG_WARN,
  error = BD_LOG_ERROR
};

// Collects rows into batches and hands them to the host through the C sink. Field bytes are
// copied into one arena per batch, so building a row costs no allocation once warm.
//
// With a host of ABI 1.5 (bd_sink::write_retained), the batches take BILLDROP_RETAINED_BATCHES + 1
// sets of buffers in turn: the host validates the batches it holds where they lie while the
// plugin fills the next set, and write_retained returns only once the host is done with the
// batch that set held, so no batch is copied. The destructor calls bd_sink::release, so no row is
// in the host's hands once read returns, however it returns.
class RowSink {
public:
  explicit RowSink(const bd_sink* sink, std::size_t batch_rows = 1024)
      : sink_(sink), batch_rows_(batch_rows == 0 ? 1 : batch_rows),
        retain_(sink->write_retained != nullptr && sink->release != nullptr) {}
  RowSink(const RowSink&) = delete;
  RowSink& operator=(const RowSink&) = delete;
  ~RowSink() {
    if (retained_)
      sink_->release(sink_->context);
  }

  // Starts a row; `origin` names its source record, e.g. "usage.csv:118".
  void begin_row(std::string_view origin) {
    make_room(origin.size());
    rows_.push_back(PendingRow{fields_.size(), 0, put(origin)});
  }
  // Inlined where it is called: a key is usually a literal, whose copy then has a fixed size.
  [[gnu::always_inline]] void field(std::string_view key, std::string_view value) {
    make_room(key.size() + value.size());
    fields_.push_back(bd_field{put(key), put(value)});
    ++rows_.back().field_count;
  }
  // Ends the row; sends the batch when it is full. A non-ok status means the host asked to stop:
  // return it from read().
  Status end_row() {
    ++rows_written_;
    if (rows_.size() >= batch_rows_)
      return flush();
    return {};
  }

  // A source record that cannot become a row. Never drop a record silently: reject it.
  void reject(std::string_view origin, std::string_view reason) {
    ++rejected_;
    if (sink_->reject)
      sink_->reject(sink_->context, to_str(origin), to_str(reason));
  }
  // The same, naming the CBF column the record could not fill ("" for the whole record) and a
  // rule id ("timestamp", "decimal", ...), which the host's report shows like its own problems
  // (ABI 1.2). On a sink without reject_field the column leads the reason instead.
  void reject(std::string_view origin, std::string_view column, std::string_view rule,
              std::string_view reason) {
    ++rejected_;
    if (sink_->reject_field) {
      sink_->reject_field(sink_->context, to_str(origin), to_str(column), to_str(rule),
                          to_str(reason));
    } else if (sink_->reject) {
      const std::string text =
          column.empty() ? std::string(reason) : std::string(column) + ": " + std::string(reason);
      sink_->reject(sink_->context, to_str(origin), to_str(text));
    }
  }
  void progress(std::uint64_t done, std::uint64_t total) {
    if (sink_->progress)
      sink_->progress(sink_->context, done, total);
  }
  // Adds `count` to a named tally shown in the host's run report: things a user should see that
  // are not errors ("unknown line item type 'Foo' mapped to Usage"). Tallies are summed here and
  // handed to the host with each batch, so calling this once per row is cheap.
  void note(std::string_view key, std::uint64_t count = 1) {
    // A plugin notes the same thing row after row (a rewritten tag key): the last tally is kept
    // at hand rather than searched for in the map every time.
    if (last_note_ != notes_.end() && key == last_note_->first) {
      last_note_->second += count;
      return;
    }
    auto it = notes_.find(key);
    if (it != notes_.end())
      it->second += count;
    else
      it = notes_.emplace(std::string(key), count).first;
    last_note_ = it;
  }
  void log(LogLevel level, std::string_view message) {
    if (sink_->log)
      sink_->log(sink_->context, static_cast<int32_t>(level), to_str(message));
  }

  // In read_since() (ABI 1.3): every record written so far has been consumed up to `cursor`,
  // where the next read_since() must start to get the rest. Sends the pending rows first. A
  // plugin that reads its changes in parts (files, pages of a change feed) calls it after each
  // part; when two parts restate the same record, the later part wins. The SDK sends the final
  // cursor (read_since's next_cursor) itself, so a plugin reading one part need not call it.
  Status checkpoint(std::string_view cursor) {
    if (sink_->cursor == nullptr)
      return Error(ErrorKind::internal,
                   "RowSink::checkpoint() was called outside read_since(): only an incremental "
                   "read has a cursor");
    if (Status status = flush(); !status)
      return status;
    sink_->cursor(sink_->context, to_str(cursor));
    return {};
  }

  // Sends whatever is pending. Called by the SDK after read() returns, so plugins need not.
  Status flush() {
    send_notes();
    if (rows_.empty())
      return {};
    c_rows_.resize(rows_.size());
    for (std::size_t i = 0; i < rows_.size(); ++i)
      c_rows_[i] =
          bd_row{fields_.data() + rows_[i].first_field, rows_[i].field_count, rows_[i].origin};
    int32_t stop = 0;
    if (retain_) {
      stop = sink_->write_retained(sink_->context, c_rows_.data(), c_rows_.size());
      // The host may read this batch until BILLDROP_RETAINED_BATCHES more have been written: the
      // next one goes into the oldest set of buffers, which it has let go of now.
      Buffers& oldest = spare_[next_spare_];
      next_spare_ = (next_spare_ + 1) % spare_.size();
      arena_.swap(oldest.arena);
      fields_.swap(oldest.fields);
      c_rows_.swap(oldest.c_rows);
      retained_ = true;
    } else {
      stop = sink_->write(sink_->context, c_rows_.data(), c_rows_.size());
    }
    rows_.clear();
    fields_.clear();
    used_ = 0;
    if (stop != 0)
      return Error(ErrorKind::cancelled, "the host stopped the read");
    return {};
  }

  std::uint64_t rows_written() const noexcept { return rows_written_; }
  std::uint64_t rows_rejected() const noexcept { return rejected_; }

private:
  struct PendingRow {
    std::size_t first_field;
    std::size_t field_count;
    bd_str origin;
  };

  void make_room(std::size_t n) {
    if (arena_.size() - used_ < n) [[unlikely]]
      grow(n);
  }
  // Fields are short (an account id, a cost), and this runs for every field of every row: the
  // bytes go in with a few inline moves instead of a call to std::string::append and memcpy.
  // The result is the string's final address (make_room() made room for it), so that flush()
  // hands the fields to the host as they are.
  bd_str put(std::string_view text) {
    const std::size_t n = text.size();
    char* dst = arena_.data() + used_;
    detail::copy_short(dst, text.data(), n);
    used_ += n;
    return bd_str{dst, n};
  }
  // Makes room for `n` more bytes. The batch's strings stay back to back in one arena (the host
  // copies a batch laid out so with one memcpy), so the ones already written move to the new
  // arena and their fields follow them. The arena keeps its size from batch to batch: this
  // happens only while the first batches find the size they need (hence out of line, keeping
  // field() small).
  [[gnu::noinline]] void grow(std::size_t n) {
    std::vector<char> larger(std::max(2 * arena_.size(), used_ + n + 4096));
    if (used_ > 0)
      std::memcpy(larger.data(), arena_.data(), used_);
    const char* const old_base = arena_.data();
    const auto moved = [&](bd_str& text) { text.data = larger.data() + (text.data - old_base); };
    for (bd_field& f : fields_) {
      moved(f.key);
      moved(f.value);
    }
    for (PendingRow& row : rows_)
      moved(row.origin);
    arena_ = std::move(larger);
  }
  void send_notes() {
    if (notes_.empty())
      return;
    for (const auto& [key, count] : notes_) {
      if (sink_->note)
        sink_->note(sink_->context, to_str(key), count);
      else if (sink_->log) // a test sink without tallies: keep the information visible
        sink_->log(sink_->context, BD_LOG_INFO, to_str(key + " (x" + std::to_string(count) + ")"));
    }
    notes_.clear();
    last_note_ = notes_.end();
  }
  static bd_str to_str(std::string_view text) noexcept { return bd_str{text.data(), text.size()}; }

  const bd_sink* sink_;
  std::size_t batch_rows_;
  bool retain_;             // the host's sink has write_retained and release (ABI 1.5)
  std::vector<char> arena_; // [0, used_) holds the batch's bytes, in row order
  std::size_t used_ = 0;
  std::vector<bd_field> fields_; // pointing into arena_
  std::vector<PendingRow> rows_;
  std::vector<bd_row> c_rows_;
  // With write_retained: the buffers of the batches the host may still be reading, the oldest at
  // next_spare_.
  struct Buffers {
    std::vector<char> arena;
    std::vector<bd_field> fields;
    std::vector<bd_row> c_rows;
  };
  std::array<Buffers, BILLDROP_RETAINED_BATCHES> spare_;
  std::size_t next_spare_ = 0;
  bool retained_ = false; // a batch went through write_retained: release() before going
  std::map<std::string, std::uint64_t, std::less<>> notes_;
  std::map<std::string, std::uint64_t, std::less<>>::iterator last_note_ = notes_.end();
  std::uint64_t rows_written_ = 0;
  std::uint64_t rejected_ = 0;
};

namespace detail {
// The host of the instance being constructed (create_with_host, ABI 1.4), which SourcePlugin's
// constructor keeps: the plugin's constructor then logs through it too.
inline thread_local const bd_host* constructing_host = nullptr;
} // namespace detail

class SourcePlugin {
public:
  SourcePlugin() noexcept : host_(detail::constructing_host) {}
  virtual ~SourcePlugin() = default;
  // Can the source be reached and read? Say precisely what is wrong when it cannot.
  virtual Status check() = 0;
  // The billing months the source holds.
  virtual Result<std::vector<Month>> months() = 0;
  // Streams every row of `month`. Rows of other months (late corrections) are allowed: the host
  // routes each row by its own usage_start.
  virtual Status read(Month month, RowSink& sink) = 0;

  // ---- Incremental sources (ABI 1.3, docs/abi.md). The defaults say "not incremental", so a
  // plugin that reads whole months overrides none of these.

  // Whether this instance reads increments with read_since() (it may depend on the
  // configuration). The host asks once, after construction.
  virtual bool incremental() const { return false; }
  // The CBF columns that identify a record ("lineitem/id", "resource/tag:<key>", ...): a record
  // read again replaces the stored rows that have the same values in these columns. Empty: the
  // host's default identity (time/usage_start, lineitem/type, lineitem/id, resource/id and the
  // other columns that say what was used where; docs/abi.md).
  virtual std::vector<std::string> identity_columns() const { return {}; }
  // The rows of the records that are new or changed since `cursor` ("" = from the start), of any
  // month. Set `next_cursor` to where the next call must start (it starts as `cursor`: nothing
  // consumed). Call sink.checkpoint(cursor) after each part read, when there are several.
  virtual Status read_since(std::string_view cursor, RowSink& sink, std::string& next_cursor) {
    (void)cursor;
    (void)sink;
    (void)next_cursor;
    return Error(ErrorKind::internal, "this plugin does not read increments");
  }

protected:
  // A line in the host's log, which adds the plugin's and the connection's names (ABI 1.4): usable
  // anywhere, the constructor, check() and months() included. Inside read() the sink's log goes to
  // the same place. Without a host context (an older host, a test constructing the class itself)
  // the line goes nowhere.
  void log(LogLevel level, std::string_view message) const noexcept {
    if (host_ != nullptr && host_->log != nullptr)
      host_->log(host_->context, static_cast<int32_t>(level),
                 bd_str{message.data(), message.size()});
  }

private:
  const bd_host* host_;
};

namespace detail {

inline void fill_error(bd_error* error, const Error& e) noexcept {
  if (error == nullptr)
    return;
  error->retryable = e.retryable() ? 1 : 0;
  if (error->message == nullptr || error->capacity == 0)
    return;
  const std::string& text = e.message();
  const std::size_t n = text.size() < error->capacity - 1 ? text.size() : error->capacity - 1;
  std::memcpy(error->message, text.data(), n);
  error->message[n] = '\0';
  error->size = n;
}

inline int32_t status_code(ErrorKind kind) noexcept {
  switch (kind) {
  case ErrorKind::config:
    return BD_ERR_CONFIG;
  case ErrorKind::source:
    return BD_ERR_SOURCE;
  case ErrorKind::data:
    return BD_ERR_DATA;
  case ErrorKind::internal:
    return BD_ERR_INTERNAL;
  case ErrorKind::cancelled:
    return BD_ERR_CANCELLED;
  }
  return BD_ERR_INTERNAL;
}

inline int32_t report(bd_error* error, const Error& e) noexcept {
  fill_error(error, e);
  return status_code(e.kind());
}

// Runs `body` (returning Status) and turns every outcome, exceptions included, into a code.
template <class Body>
int32_t guarded(bd_error* error, Body&& body) noexcept {
  try {
    Status status = body();
    if (status.ok())
      return BD_OK;
    return report(error, status.error());
  } catch (const ErrorException& e) {
    return report(error, e.error());
  } catch (const std::bad_alloc&) {
    return report(error, Error(ErrorKind::internal, "out of memory"));
  } catch (const std::exception& e) {
    return report(error,
                  Error(ErrorKind::internal, std::string("unexpected exception: ") + e.what()));
  } catch (...) {
    return report(error, Error(ErrorKind::internal, "unexpected non-standard exception"));
  }
}

template <class Plugin>
struct Adapter {
  // One pass (ABI 1.4): a plugin class with a public `Status read_all(RowSink&)`.
  static constexpr bool reads_all = requires(Plugin & plugin, RowSink& sink) {
    { plugin.read_all(sink) } -> std::same_as<Status>;
  };

  // A malformed default in config_keys is a plugin bug; the host then reports the schema as
  // unreadable instead of the plugin throwing out of its entry point.
  static const char* schema_json() noexcept {
    static const std::string json = []() noexcept -> std::string {
      try {
        // A plugin without configuration simply declares no config_keys.
        if constexpr (requires { Plugin::config_keys; })
          return ConfigSchema::from_keys(Plugin::config_keys).to_json();
        else
          return ConfigSchema().to_json();
      } catch (const std::exception& e) {
        // The message quotes the bad default ("\"ten\""), so it is escaped to stay valid JSON.
        std::string report = "{\"error\":\"invalid config_keys: ";
        for (const char c : std::string_view(e.what())) {
          if (c == '"' || c == '\\')
            report += '\\';
          report += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
        }
        return report + "\"}";
      }
    }();
    return json.c_str();
  }

  static int32_t create(const char* config_json, std::size_t size, void** instance,
                        bd_error* error) noexcept {
    return guarded(error, [&]() -> Status {
      Result<Config> config = Config::parse(std::string_view(config_json, size));
      if (!config)
        return config.error();
      *instance = static_cast<SourcePlugin*>(new Plugin(*config));
      return {};
    });
  }
  static int32_t create_with_host(const char* config_json, std::size_t size, const bd_host* host,
                                  void** instance, bd_error* error) noexcept {
    struct Forget {
      ~Forget() { constructing_host = nullptr; }
    } forget;
    constructing_host = host;
    return create(config_json, size, instance, error);
  }
  static void destroy(void* instance) noexcept { delete static_cast<SourcePlugin*>(instance); }
  static int32_t check(void* instance, bd_error* error) noexcept {
    return guarded(error, [&] { return static_cast<SourcePlugin*>(instance)->check(); });
  }
  static int32_t months(void* instance, bd_month_callback emit, void* context,
                        bd_error* error) noexcept {
    return guarded(error, [&]() -> Status {
      Result<std::vector<Month>> months = static_cast<SourcePlugin*>(instance)->months();
      if (!months)
        return months.error();
      for (const Month& month : *months) {
        const std::string text = month.to_string();
        emit(context, bd_str{text.data(), text.size()});
      }
      return {};
    });
  }
  static int32_t read(void* instance, bd_str month_text, const bd_sink* sink,
                      bd_error* error) noexcept {
    return guarded(error, [&]() -> Status {
      Result<Month> month = Month::parse(std::string_view(month_text.data, month_text.size));
      if (!month)
        return month.error();
      RowSink rows(sink);
      Status status = static_cast<SourcePlugin*>(instance)->read(*month, rows);
      if (!status)
        return status;
      return rows.flush();
    });
  }
  static int32_t incremental(void* instance, int32_t* flag, bd_text_callback identity_column,
                             void* context, bd_error* error) noexcept {
    return guarded(error, [&]() -> Status {
      const auto* plugin = static_cast<const SourcePlugin*>(instance);
      const bool reads_increments = plugin->incremental();
      *flag = reads_increments ? 1 : 0;
      if (reads_increments && identity_column != nullptr)
        for (const std::string& column : plugin->identity_columns())
          identity_column(context, bd_str{column.data(), column.size()});
      return {};
    });
  }
  static int32_t read_since(void* instance, bd_str cursor_text, const bd_sink* sink,
                            bd_error* error) noexcept {
    return guarded(error, [&]() -> Status {
      const std::string_view cursor(cursor_text.data, cursor_text.size);
      std::string next_cursor(cursor);
      RowSink rows(sink);
      Status status = static_cast<SourcePlugin*>(instance)->read_since(cursor, rows, next_cursor);
      if (!status)
        return status;
      return rows.checkpoint(next_cursor); // sends the last rows, then the cursor after them
    });
  }
  static int32_t one_pass(void* instance, int32_t* flag, bd_error* error) noexcept {
    return guarded(error, [&]() -> Status {
      const auto* plugin = static_cast<const Plugin*>(static_cast<const SourcePlugin*>(instance));
      if constexpr (requires(const Plugin& p) {
                      { p.one_pass() } -> std::convertible_to<bool>;
                    })
        *flag = plugin->one_pass() ? 1 : 0;
      else
        *flag = 1;
      (void)plugin;
      return {};
    });
  }
  static int32_t read_all(void* instance, const bd_sink* sink, bd_error* error) noexcept {
    return guarded(error, [&]() -> Status {
      if constexpr (reads_all) {
        RowSink rows(sink);
        Status status = static_cast<Plugin*>(static_cast<SourcePlugin*>(instance))->read_all(rows);
        if (!status)
          return status;
        return rows.flush();
      } else {
        (void)instance;
        (void)sink;
        return Error(ErrorKind::internal, "this plugin does not read every month in one pass");
      }
    });
  }
  // Growing files (ABI 1.5): a plugin class that says `static constexpr bool reads_growing_files
  // = true;` reads every file through the SDK's readers (billdrop/growing_file.hpp).
  static constexpr int32_t reads_growing_files = [] {
    if constexpr (requires { Plugin::reads_growing_files; })
      return Plugin::reads_growing_files ? 1 : 0;
    else
      return 0;
  }();
  // The descriptor's one-pass entries: null in a plugin without read_all.
  static constexpr int32_t (*one_pass_entry)(void*, int32_t*,
                                             bd_error*) = reads_all ? &Adapter::one_pass : nullptr;
  static constexpr int32_t (*read_all_entry)(void*, const bd_sink*,
                                             bd_error*) = reads_all ? &Adapter::read_all : nullptr;
};

} // namespace detail
} // namespace billdrop

// Defines the plugin's exported entry point. Use once per plugin, at namespace scope.
#define BILLDROP_PLUGIN(PluginClass, plugin_name, plugin_version, plugin_description)              \
  extern "C" BILLDROP_EXPORT const bd_plugin_descriptor* billdrop_plugin_entry(void) {             \
    using Adapter_ = ::billdrop::detail::Adapter<PluginClass>;                                     \
    static const bd_plugin_descriptor descriptor = {                                               \
        BILLDROP_PLUGIN_MAGIC,                                                                     \
        BILLDROP_ABI_MAJOR,                                                                        \
        BILLDROP_ABI_MINOR,                                                                        \
        static_cast<uint32_t>(sizeof(bd_plugin_descriptor)),                                       \
        plugin_name,                                                                               \
        plugin_version,                                                                            \
        plugin_description,                                                                        \
        Adapter_::schema_json(),                                                                   \
        &Adapter_::create,                                                                         \
        &Adapter_::destroy,                                                                        \
        &Adapter_::check,                                                                          \
        &Adapter_::months,                                                                         \
        &Adapter_::read,                                                                           \
        &Adapter_::incremental,                                                                    \
        &Adapter_::read_since,                                                                     \
        Adapter_::one_pass_entry,                                                                  \
        Adapter_::read_all_entry,                                                                  \
        &Adapter_::create_with_host,                                                               \
        Adapter_::reads_growing_files};                                                            \
    return &descriptor;                                                                            \
  }
