// The dir destination: request bodies as files, the month's current rows kept on disk with the
// operations applied as the API applies them, and the legacy bucket layout written from them.

#include "send/destination.hpp"

#include "cbf/columns.hpp"
#include "cbf/drop_body_reader.hpp"

#include <openssl/evp.h>
#include <simdjson.h>
#include <zlib.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <set>
#include <system_error>
#include <unordered_map>
#include <vector>

namespace billdrop::send {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kUsageStartPrefix = "{\"time/usage_start\":\"";
constexpr std::size_t kHourKeyLength = 13; // "YYYY-MM-DDTHH"
constexpr std::size_t kDropIdHexDigits = 32;
constexpr std::size_t kGzipFlushBytes = 1 << 20;
constexpr std::size_t kMaxErrorsInMessage = 10;

// A failure while writing, and whether the month's rows had already changed when it happened.
struct WriteFailure {
  std::string message;
  bool state_changed = false;
};

std::string_view hour_of(std::string_view line) noexcept {
  if (!line.starts_with(kUsageStartPrefix) ||
      line.size() < kUsageStartPrefix.size() + kHourKeyLength)
    return {};
  return line.substr(kUsageStartPrefix.size(), kHourKeyLength);
}

// "20240801-20240901": the month's first day to the next month's first day.
std::string bucket_range(Month month) {
  const auto day = [](Month m) {
    char text[16];
    std::snprintf(text, sizeof text, "%04d%02d01", m.year(), m.month());
    return std::string(text);
  };
  return day(month) + "-" + day(month.next());
}

std::string chunk_file_name(std::uint32_t index, cbf::DropOperation operation) {
  char text[16];
  std::snprintf(text, sizeof text, "%05u-", index);
  return text + std::string(cbf::to_string(operation)) + ".json";
}

// "00001-replace_hourly.json" (or its ".tmp"): a name chunk_file_name() gives.
bool is_body_file_name(std::string_view name) {
  if (name.ends_with(".tmp"))
    name.remove_suffix(4);
  if (name.size() < 6 || name[5] != '-' || !name.ends_with(".json"))
    return false;
  for (std::size_t i = 0; i < 5; ++i)
    if (name[i] < '0' || name[i] > '9')
      return false;
  const std::string_view operation = name.substr(6, name.size() - 6 - 5);
  return cbf::parse_drop_operation(operation).has_value();
}

// Connection ids become folder names: they must be one plain path component.
bool is_safe_component(std::string_view name) {
  if (name.empty() || name == "." || name == "..")
    return false;
  for (const char c : name)
    if (c == '/' || c == '\\' || c == '\0')
      return false;
  return true;
}

std::string io_error(std::string_view action, const fs::path& path, std::string_view why) {
  return "cannot " + std::string(action) + " " + path.string() + ": " + std::string(why);
}

// Writes `text` to `path` through a temporary file and a rename, so a reader never sees half.
std::optional<std::string> write_atomically(const fs::path& path, std::string_view text) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    out.close();
    if (!out)
      return io_error("write", temporary, "the write failed (disk full or no permission?)");
  }
  std::error_code error;
  fs::rename(temporary, path, error);
  if (error)
    return io_error("rename into place", path, error.message());
  return std::nullopt;
}

// RFC 4180 field: quoted when it holds a separator, a quote or a line break.
void append_csv_field(std::string& out, std::string_view value) {
  if (value.find_first_of(",\"\r\n") == std::string_view::npos) {
    out.append(value);
    return;
  }
  out += '"';
  for (const char c : value) {
    if (c == '"')
      out += '"';
    out += c;
  }
  out += '"';
}

class Sha256 {
public:
  Sha256() : context_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(context_, EVP_sha256(), nullptr); }
  ~Sha256() { EVP_MD_CTX_free(context_); }
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void update(std::string_view text) { EVP_DigestUpdate(context_, text.data(), text.size()); }
  std::string hex() {
    std::array<unsigned char, EVP_MAX_MD_SIZE> bytes{};
    unsigned int length = 0;
    EVP_DigestFinal_ex(context_, bytes.data(), &length);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (unsigned int i = 0; i < length; ++i) {
      out += kHex[bytes[i] >> 4];
      out += kHex[bytes[i] & 0x0F];
    }
    return out;
  }

private:
  EVP_MD_CTX* context_;
};

class GzipFile {
public:
  std::optional<std::string> open(const fs::path& path) {
    path_ = path;
    file_ = gzopen(path.c_str(), "wb6");
    if (file_ == nullptr)
      return io_error("create", path, "gzopen failed");
    return std::nullopt;
  }
  ~GzipFile() {
    if (file_ != nullptr)
      gzclose(file_);
  }

  std::optional<std::string> write(std::string& buffer, bool force) {
    if (buffer.empty() || (!force && buffer.size() < kGzipFlushBytes))
      return std::nullopt;
    const int wrote = gzwrite(file_, buffer.data(), static_cast<unsigned>(buffer.size()));
    if (wrote != static_cast<int>(buffer.size()))
      return io_error("write", path_, "gzwrite failed (disk full?)");
    buffer.clear();
    return std::nullopt;
  }

  std::optional<std::string> close() {
    const int code = gzclose(file_);
    file_ = nullptr;
    if (code != Z_OK)
      return io_error("finish", path_, "gzclose failed (disk full?)");
    return std::nullopt;
  }

private:
  fs::path path_;
  gzFile file_ = nullptr;
};

// The CSV header for a set of columns: the known columns in canonical order, then tags by key.
std::vector<std::string> header_of(const std::set<std::string>& present) {
  std::vector<std::string> header;
  for (const cbf::ColumnInfo& info : cbf::kColumns)
    if (present.count(std::string(info.name)) != 0)
      header.emplace_back(info.name);
  for (const std::string& name : present)
    if (!cbf::find_column(name))
      header.push_back(name);
  if (header.empty()) // an empty month: a header-only file that empties it
    header = {"time/usage_start", "cost/cost"};
  return header;
}

class DirDestination final : public Destination {
public:
  DirDestination(fs::path root, std::uint64_t max_rows_per_file)
      : root_(std::move(root)), max_rows_per_file_(max_rows_per_file == 0 ? 1 : max_rows_per_file) {
  }

  std::string describe() const override { return "dir " + root_.string(); }

  DropResponse send(const DropRequest& request) override {
    const std::lock_guard lock(mutex_);
    DropResponse response;
    if (!is_safe_component(request.connection_id)) {
      response.outcome = Outcome::rejected;
      response.message = "the connection id \"" + request.connection_id +
                         "\" cannot name a folder; use one without '/', '\\' or NUL";
      return response;
    }
    try {
      return apply(request);
    } catch (const std::exception& e) {
      response.outcome = Outcome::ambiguous;
      response.message = std::string("the dir destination failed: ") + e.what();
      return response;
    }
  }

  Result<std::optional<LandedMonth>> read_back(const std::string& connection_id,
                                               Month month) override {
    const std::lock_guard lock(mutex_);
    const std::string context =
        "reading back " + month.to_string() + " of connection " + connection_id;
    if (!is_safe_component(connection_id))
      return config_error(context + ": the connection id cannot name a folder");
    const fs::path state = root_ / "state" / connection_id / (month.to_string() + ".ndjson");
    LandedMonth landed;
    std::error_code error;
    if (!fs::exists(state, error)) {
      if (error)
        return source_error(context + ": " + io_error("look for", state, error.message()));
      return std::optional<LandedMonth>(landed); // never sent: the month holds nothing
    }
    std::ifstream in(state, std::ios::binary);
    if (!in)
      return source_error(context + ": " + io_error("open", state, "no permission?"));
    simdjson::dom::parser parser;
    std::uint64_t line_number = 0;
    for (std::string line; std::getline(in, line);) {
      ++line_number;
      if (line.empty())
        continue;
      const auto bad_line = [&](std::string_view why) {
        return data_error(context + ": " + state.string() + " line " + std::to_string(line_number) +
                          ": " + std::string(why));
      };
      simdjson::dom::object row;
      std::string_view usage_start;
      std::string_view cost;
      if (parser.parse(line).get(row))
        return bad_line("not a JSON object");
      if (row["time/usage_start"].get(usage_start) || row["cost/cost"].get(cost))
        return bad_line("no time/usage_start and cost/cost strings");
      if (Status counted = landed.add_row(usage_start, cost); !counted)
        return bad_line(counted.error().message());
    }
    if (in.bad())
      return source_error(context + ": " + io_error("read", state, "the read failed"));
    return std::optional<LandedMonth>(std::move(landed));
  }

private:
  DropResponse apply(const DropRequest& request) {
    DropResponse response;
    const std::string month_text = request.month.to_string();
    const fs::path bodies = root_ / "bodies" / request.connection_id / month_text;
    const fs::path states = root_ / "state" / request.connection_id;
    const auto fail = [&](WriteFailure failure) {
      // Before the month's rows changed nothing is stored (retry freely); after, it may be.
      response.outcome = failure.state_changed ? Outcome::ambiguous : Outcome::retryable;
      response.message = std::move(failure.message);
      return response;
    };

    Result<emulator::DropBody> body = emulator::read_drop_body(request.body, kMaxErrorsInMessage);
    if (!body || !body->valid() || body->month != request.month) {
      response.outcome = Outcome::rejected;
      response.http_status = 400;
      if (!body) {
        response.message = body.error().message();
      } else if (!body->valid()) {
        response.message = std::to_string(body->error_count) + " problem(s) in the drop body: ";
        for (std::size_t i = 0; i < body->errors.size(); ++i)
          response.message += (i > 0 ? "; " : "") + body->errors[i];
      } else {
        response.message = "the body's month " +
                           (body->month ? body->month->to_string() : std::string("(none)")) +
                           " is not the request's month " + month_text;
      }
      return response;
    }

    std::error_code error;
    fs::create_directories(bodies, error);
    if (!error)
      fs::create_directories(states, error);
    if (error)
      return fail({io_error("create the folders under", root_, error.message()), false});
    // A plan's first chunk starts a new set of bodies: an earlier plan's (which may have had
    // more chunks) would otherwise be left beside it, looking like part of this one.
    if (request.chunk_index == 0)
      if (auto failed = remove_bodies(bodies))
        return fail({*failed, false});
    if (auto failed = write_atomically(
            bodies / chunk_file_name(request.chunk_index, body->operation), request.body))
      return fail({*failed, false});

    const fs::path state = states / (month_text + ".ndjson");
    if (auto failed = apply_operation(state, body->operation, body->rows))
      return fail({*failed, false});
    if (request.chunk_index + 1 >= request.chunk_count) {
      Result<std::string> drop_id = write_bucket(request.connection_id, request.month, state);
      if (!drop_id)
        return fail({drop_id.error().message(), true});
      response.drop_id = std::move(*drop_id);
    }
    response.outcome = Outcome::acknowledged;
    response.http_status = 200;
    response.row_count = body->rows.size();
    return response;
  }

  // Removes the body files (and leftover temporaries) of the month's folder; other files stay.
  static std::optional<std::string> remove_bodies(const fs::path& bodies) {
    std::error_code error;
    std::vector<fs::path> stale;
    for (const fs::directory_entry& entry : fs::directory_iterator(bodies, error))
      if (is_body_file_name(entry.path().filename().string()))
        stale.push_back(entry.path());
    if (error)
      return io_error("list", bodies, error.message());
    for (const fs::path& file : stale)
      if (fs::remove(file, error); error)
        return io_error("remove", file, error.message());
    return std::nullopt;
  }

  // Rewrites the month's rows with one request applied, then renames it into place.
  static std::optional<std::string> apply_operation(const fs::path& state,
                                                    cbf::DropOperation operation,
                                                    const std::vector<emulator::StoredRow>& rows) {
    const fs::path temporary = state.string() + ".tmp";
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    if (!out)
      return io_error("create", temporary, "no permission or no such folder");
    if (operation != cbf::DropOperation::replace_drop) {
      std::set<std::string, std::less<>> replaced;
      if (operation == cbf::DropOperation::replace_hourly)
        for (const emulator::StoredRow& row : rows)
          replaced.insert(row.hour);
      std::ifstream in(state, std::ios::binary);
      for (std::string line; in && std::getline(in, line);) {
        if (line.empty() || replaced.count(hour_of(line)) != 0)
          continue;
        out << line << '\n';
      }
    }
    for (const emulator::StoredRow& row : rows)
      out << row.json << '\n';
    out.close();
    if (!out)
      return io_error("write", temporary, "the write failed (disk full?)");
    std::error_code error;
    fs::rename(temporary, state, error);
    if (error)
      return io_error("rename into place", state, error.message());
    return std::nullopt;
  }

  // Writes the month's rows as a new drop and points the manifest at it; returns the drop id.
  Result<std::string> write_bucket(const std::string& connection, Month month,
                                   const fs::path& state) {
    simdjson::dom::parser parser;
    std::set<std::string> columns;
    Sha256 digest;
    std::uint64_t rows = 0;
    {
      std::ifstream in(state, std::ios::binary);
      for (std::string line; std::getline(in, line);) {
        if (line.empty())
          continue;
        digest.update(line);
        digest.update("\n");
        ++rows;
        simdjson::dom::object object;
        if (parser.parse(line).get(object))
          return internal_error(io_error("read", state, "a row is not a JSON object"));
        for (const auto field : object)
          columns.emplace(field.key);
      }
    }
    const std::string drop_id = digest.hex().substr(0, kDropIdHexDigits);
    const std::vector<std::string> header = header_of(columns);
    std::unordered_map<std::string_view, std::size_t> position;
    for (std::size_t i = 0; i < header.size(); ++i)
      position.emplace(header[i], i);

    const fs::path range = root_ / "bucket" / connection / bucket_range(month);
    const fs::path staging = range / (drop_id + ".tmp");
    std::error_code error;
    fs::remove_all(staging, error);
    fs::create_directories(staging, error);
    if (error)
      return source_error(io_error("create", staging, error.message()));

    std::string header_line;
    for (std::size_t i = 0; i < header.size(); ++i) {
      if (i > 0)
        header_line += ',';
      append_csv_field(header_line, header[i]);
    }
    header_line += '\n';

    std::ifstream in(state, std::ios::binary);
    std::uint64_t written = 0;
    std::uint32_t part = 0;
    std::vector<std::string_view> values(header.size());
    std::string buffer;
    std::string line;
    do {
      char name[32];
      std::snprintf(name, sizeof name, "part-%05u.csv.gz", part++);
      GzipFile file;
      if (auto failed = file.open(staging / name))
        return source_error(*failed);
      buffer = header_line;
      std::uint64_t in_file = 0;
      while (in_file < max_rows_per_file_ && std::getline(in, line)) {
        if (line.empty())
          continue;
        simdjson::dom::object object;
        if (parser.parse(line).get(object))
          return internal_error(io_error("read", state, "a row is not a JSON object"));
        std::fill(values.begin(), values.end(), std::string_view());
        for (const auto field : object) {
          std::string_view value;
          if (!field.value.get(value))
            values[position.at(field.key)] = value;
        }
        for (std::size_t i = 0; i < values.size(); ++i) {
          if (i > 0)
            buffer += ',';
          append_csv_field(buffer, values[i]);
        }
        buffer += '\n';
        ++in_file;
        if (auto failed = file.write(buffer, false))
          return source_error(*failed);
      }
      written += in_file;
      if (auto failed = file.write(buffer, true))
        return source_error(*failed);
      if (auto failed = file.close())
        return source_error(*failed);
    } while (written < rows);

    const fs::path final_dir = range / drop_id;
    fs::remove_all(final_dir, error);
    fs::rename(staging, final_dir, error);
    if (error)
      return source_error(io_error("rename into place", final_dir, error.message()));
    const std::string manifest =
        "{\"version\":\"1.3.0\",\"current_drop_id\":\"" + drop_id + "\"}\n";
    if (auto failed = write_atomically(range / "manifest.json", manifest))
      return source_error(*failed);
    // Superseded drops: the manifest no longer points at them.
    for (const fs::directory_entry& entry : fs::directory_iterator(range, error))
      if (entry.is_directory() && entry.path().filename() != drop_id)
        fs::remove_all(entry.path(), error);
    return drop_id;
  }

  fs::path root_;
  std::uint64_t max_rows_per_file_;
  std::mutex mutex_;
};

} // namespace

std::unique_ptr<Destination> make_dir_destination(std::filesystem::path root,
                                                  std::uint64_t max_rows_per_file) {
  return std::make_unique<DirDestination>(std::move(root), max_rows_per_file);
}

} // namespace billdrop::send
