/*
 * billdrop plugin ABI — the stable C boundary between the host and a source plugin.
 *
 * A plugin is a shared object exporting one symbol, BILLDROP_PLUGIN_ENTRY_SYMBOL, which returns a
 * pointer to a static, versioned descriptor. Nothing C++ crosses this boundary: no exceptions, no
 * std types, and no memory allocated on one side is freed on the other. Every string is a
 * (pointer, length) pair that is valid only for the duration of the call that passes it.
 *
 * Versioning (docs/abi.md): the host accepts a plugin whose abi_major equals its own and whose
 * abi_minor is less than or equal to its own. Minor versions only append fields at the end of
 * the descriptor; struct_size tells the host which fields a plugin has.
 *
 * Plugin authors normally do not use this header directly: billdrop/sdk.hpp turns one C++ class
 * into a descriptor with BILLDROP_PLUGIN(...).
 */
#ifndef BILLDROP_PLUGIN_H
#define BILLDROP_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define BILLDROP_ABI_MAJOR 1
#define BILLDROP_ABI_MINOR 5
/* Since ABI 1.5: how many batches of bd_sink::write_retained the host may hold at once. */
#define BILLDROP_RETAINED_BATCHES 3
/* "BDRP" read as a little-endian 32-bit integer. */
#define BILLDROP_PLUGIN_MAGIC 0x50524442u
#define BILLDROP_PLUGIN_ENTRY_SYMBOL "billdrop_plugin_entry"

#if defined(_WIN32)
#define BILLDROP_EXPORT __declspec(dllexport)
#else
#define BILLDROP_EXPORT __attribute__((visibility("default")))
#endif

/* A borrowed, not necessarily NUL-terminated, UTF-8 string. */
typedef struct bd_str {
  const char* data;
  size_t size;
} bd_str;

/* Result codes returned by every plugin operation. */
typedef enum bd_status {
  BD_OK = 0,
  BD_ERR_CONFIG = 1,   /* the configuration is unusable (fatal) */
  BD_ERR_SOURCE = 2,   /* the source cannot be reached or read (network, permissions, missing) */
  BD_ERR_DATA = 3,     /* the source data is malformed beyond what per-row rejects can express */
  BD_ERR_INTERNAL = 4, /* a bug or an unexpected exception inside the plugin */
  BD_ERR_CANCELLED = 5 /* the host asked the plugin to stop (the sink returned non-zero) */
} bd_status;

/*
 * Error details filled in by the plugin when an operation does not return BD_OK. The host owns
 * the message buffer; the plugin writes at most capacity-1 bytes plus a NUL and sets size.
 */
typedef struct bd_error {
  int32_t retryable; /* non-zero: the host may retry the whole operation later */
  char* message;
  size_t capacity;
  size_t size;
} bd_error;

/* One CBF column of a row: key such as "cost/cost" or "resource/tag:team", value as text. */
typedef struct bd_field {
  bd_str key;
  bd_str value;
} bd_field;

/*
 * One row. origin names where it came from (for example "usage.csv:118") so that a validation
 * error in the host can point the user at the source line.
 */
typedef struct bd_row {
  const bd_field* fields;
  size_t field_count;
  bd_str origin;
} bd_row;

typedef enum bd_log_level {
  BD_LOG_DEBUG = 0,
  BD_LOG_INFO = 1,
  BD_LOG_WARN = 2,
  BD_LOG_ERROR = 3
} bd_log_level;

/*
 * Where a plugin streams its output during read(). All callbacks are called on the thread that
 * called read(). The arrays passed to write() need only live until write() returns.
 */
typedef struct bd_sink {
  void* context;
  /* A batch of rows. Returns 0 to continue, non-zero when the plugin must stop (BD_ERR_CANCELLED).
   */
  int32_t (*write)(void* context, const bd_row* rows, size_t row_count);
  /* A source record that could not be turned into a row. It is reported, never dropped silently. */
  void (*reject)(void* context, bd_str origin, bd_str reason);
  /* Work done so far, in the plugin's own unit (bytes of source read, usually); total 0 if unknown.
   */
  void (*progress)(void* context, uint64_t done, uint64_t total);
  void (*log)(void* context, int32_t level, bd_str message);
  /*
   * Since ABI 1.1. Adds `count` to a named tally that the host shows in the run report, e.g.
   * "unknown line item type 'Foo' (mapped to Usage)" or "tag key rewritten: 'cost center' ->
   * 'cost_center'". For things that are not errors but that a user should be able to see. A host
   * only loads plugins whose minor version is at most its own, so a plugin built against 1.1 can
   * rely on this field being present.
   */
  void (*note)(void* context, bd_str key, uint64_t count);
  /*
   * Since ABI 1.2. Like reject, and names what was wrong: the CBF column the record could not
   * fill (e.g. "time/usage_start"; empty for the record as a whole) and a rule id (e.g.
   * "timestamp", "decimal", "record_shape"; empty means "rejected"). The host's validation report
   * shows both, like its own row problems. A plugin built against 1.2 can rely on this field
   * (the host is at least 1.2); the SDK's RowSink falls back to reject when it is null.
   */
  void (*reject_field)(void* context, bd_str origin, bd_str column, bd_str rule, bd_str reason);
  /*
   * Since ABI 1.3. Set only in the sink the host passes to read_since (NULL in read). Says that
   * every record up to here has been written (rows before this call have all gone through
   * write) and that `cursor` is where the next read_since must start to get the rest. A plugin
   * calls it after each unit of change it consumes (a file, a page of a change feed) and at
   * least once, after its last row: rows written after the last cursor are a plugin error.
   * Between two cursors lies one "part" of the increment: when several parts restate the same
   * record, the last part wins (docs/abi.md, "Incremental sources").
   */
  void (*cursor)(void* context, bd_str cursor);
  /*
   * Since ABI 1.5. Both set or both NULL; the host sets both in the sinks it passes to read,
   * read_since and read_all. write_retained is write, except that the host may go on using `rows`
   * and every byte they point to after the call returns: until the BILLDROP_RETAINED_BATCHES-th
   * write_retained call after it returns, or until release returns. The plugin leaves such a
   * batch untouched that long, so the host validates it where it lies instead of copying it (the
   * SDK's RowSink fills BILLDROP_RETAINED_BATCHES + 1 sets of buffers in turn). A plugin that
   * called write_retained calls release before it frees or changes its last batches, and in any
   * case before read, read_since or read_all returns; release returns once the host holds none of
   * its rows. A plugin that only calls write never needs release.
   */
  int32_t (*write_retained)(void* context, const bd_row* rows, size_t row_count);
  void (*release)(void* context);
} bd_sink;

/* Receives the months a source holds, as "YYYY-MM". */
typedef void (*bd_month_callback)(void* context, bd_str month);

/* Since ABI 1.3. Receives one string from the plugin; it is valid only during the call. */
typedef void (*bd_text_callback)(void* context, bd_str text);

/*
 * Since ABI 1.4. What the host gives an instance for its whole life (create_with_host): valid
 * from create_with_host until destroy returns, usable in every call (the constructor, check and
 * months included, which have no sink) on the thread of that call.
 */
typedef struct bd_host {
  void* context;
  /* A line for the host's structured log, which names the plugin and the connection with it. */
  void (*log)(void* context, int32_t level, bd_str message);
} bd_host;

/*
 * The descriptor. Fields up to and including `read` exist in ABI 1.0; later minor versions append
 * fields after them and raise struct_size (1.3: `incremental` and `read_since`; 1.4: `one_pass`,
 * `read_all` and `create_with_host`; 1.5: `reads_growing_files`).
 */
typedef struct bd_plugin_descriptor {
  uint32_t magic;       /* BILLDROP_PLUGIN_MAGIC */
  uint16_t abi_major;   /* BILLDROP_ABI_MAJOR the plugin was built with */
  uint16_t abi_minor;   /* BILLDROP_ABI_MINOR the plugin was built with */
  uint32_t struct_size; /* sizeof(bd_plugin_descriptor) as the plugin saw it */
  const char* name;     /* short name, [a-z0-9_-]+, e.g. "custom" */
  const char* version;  /* the plugin's own version, e.g. "1.2.0" */
  const char* description;
  /*
   * JSON: {"keys":[{"key":..,"type":..,"required":..,"default":..,"secret":..,"description":..}]}
   * with type one of "string", "integer", "boolean", "string_list", "string_map", "path"
   * (a string the host resolves against the configuration file's directory).
   */
  const char* config_schema_json;

  /*
   * Creates an instance from the host-validated configuration: a JSON object holding every key of
   * the schema that has a value (defaults filled in). Sets *instance on success.
   */
  int32_t (*create)(const char* config_json, size_t config_size, void** instance, bd_error* error);
  void (*destroy)(void* instance);
  /* Can the source be reached and read? The message explains what is wrong when it cannot. */
  int32_t (*check)(void* instance, bd_error* error);
  /* Calls emit once per billing month that the source holds, in any order. */
  int32_t (*months)(void* instance, bd_month_callback emit, void* context, bd_error* error);
  /* Streams every row of the month ("YYYY-MM") to the sink, in batches. */
  int32_t (*read)(void* instance, bd_str month, const bd_sink* sink, bd_error* error);

  /*
   * Since ABI 1.3: incremental sources (docs/abi.md). Both NULL in a plugin that never reads
   * increments, both set otherwise; the host reads them only when abi_minor >= 3.
   *
   * incremental: does this instance read increments? Sets *incremental to 1 when read_since may
   * be called, 0 when not (an instance whose configuration asks for whole months). An
   * incremental instance may name the CBF columns that identify a record ("lineitem/id",
   * "resource/tag:<key>", ...) by calling identity_column once per column, in any order; naming
   * none keeps the host's default identity. The host calls it once, right after create.
   */
  int32_t (*incremental)(void* instance, int32_t* incremental, bd_text_callback identity_column,
                         void* context, bd_error* error);
  /*
   * Streams the rows of the records that are new or changed since `cursor` (empty: from the
   * start), whatever their months, to the sink, calling sink->cursor after each part and after
   * the last row. The last cursor given is the one the host stores and passes back next time.
   * The cursor is opaque to the host (a file name, a timestamp, a page token). When the call
   * fails the host keeps the cursor it had, so the same records are read again next time.
   */
  int32_t (*read_since)(void* instance, bd_str cursor, const bd_sink* sink, bd_error* error);

  /*
   * Since ABI 1.4: one pass (docs/abi.md, "One pass"). Both NULL in a plugin that reads month by
   * month only, both set otherwise; the host reads them only when abi_minor >= 4.
   *
   * one_pass: does this instance read every month at once? Sets *one_pass to 1 when the host
   * should call read_all instead of months() and read() per month because the plugin can only
   * learn its months by reading the data (one file holding several months), 0 when not (a
   * report tree whose months are its folders). The host asks once, right after create.
   */
  int32_t (*one_pass)(void* instance, int32_t* one_pass, bd_error* error);
  /*
   * Streams every row of every month the source holds to the sink, in one pass over the data.
   * The host routes each row to its month by its own usage_start. months() and read() keep
   * working: a host that needs only the month list, or some months, calls them. When read_all
   * fails, no month it was reading is complete: the host fails them all (docs/abi.md).
   */
  int32_t (*read_all)(void* instance, const bd_sink* sink, bd_error* error);

  /*
   * Since ABI 1.4: create with a host context. NULL, or create's twin that also takes `host`,
   * which stays valid until destroy returns: a host of ABI >= 1.4 then calls it instead of
   * create, so that the plugin can log from its constructor, check and months.
   */
  int32_t (*create_with_host)(const char* config_json, size_t config_size, const bd_host* host,
                              void** instance, bd_error* error);

  /*
   * Since ABI 1.5: growing files (docs/abi.md, "Growing files"). 1 when every file the plugin
   * reads goes through the SDK's readers (billdrop::open_file, ParquetReader, or
   * billdrop::wait_until_whole before any other read), which wait for the bytes of a file the
   * host is still downloading and fail when its download fails: the host may then start the
   * plugin on a remote path while its objects download. 0: the host hands it only whole files.
   * The host reads it only when abi_minor >= 5.
   */
  int32_t reads_growing_files;
} bd_plugin_descriptor;

/* The one exported symbol. */
typedef const bd_plugin_descriptor* (*bd_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* BILLDROP_PLUGIN_H */
