#include "zip_source.hpp"

#include <billdrop/growing_file.hpp>
#include <billdrop/text.hpp>

#include <zip.h>

#include <string>
#include <string_view>

namespace billdrop::aws {
namespace {

class ZipEntrySource final : public ByteSource {
public:
  ZipEntrySource(zip_t* archive, zip_file_t* file, std::string name, std::uint64_t size)
      : archive_(archive), file_(file), name_(std::move(name)), total_(size) {}
  ~ZipEntrySource() override {
    zip_fclose(file_);
    zip_discard(archive_);
  }
  ZipEntrySource(const ZipEntrySource&) = delete;
  ZipEntrySource& operator=(const ZipEntrySource&) = delete;

  Result<std::size_t> read(char* buffer, std::size_t capacity) override {
    const zip_int64_t n = zip_fread(file_, buffer, capacity);
    if (n < 0)
      return source_error(
          name_ + ": cannot read the zip entry: " + zip_error_strerror(zip_file_get_error(file_)));
    position_ += static_cast<std::uint64_t>(n);
    return static_cast<std::size_t>(n);
  }
  const std::string& name() const override { return name_; }
  std::uint64_t position() const override { return position_; }
  std::uint64_t total() const override { return total_; }

private:
  zip_t* archive_;
  zip_file_t* file_;
  std::string name_;
  std::uint64_t position_ = 0;
  std::uint64_t total_;
};

bool ends_with_csv(std::string_view name) {
  if (name.size() < 4)
    return false;
  const std::string_view tail = name.substr(name.size() - 4);
  return tail[0] == '.' && (tail[1] | 0x20) == 'c' && (tail[2] | 0x20) == 's' &&
         (tail[3] | 0x20) == 'v';
}

} // namespace

Result<std::unique_ptr<ByteSource>> open_zip_entry(const std::filesystem::path& archive) {
  const std::string label = archive.string(); // for messages: every month's zip has one name
  // libzip reads the central directory at the end: an archive still downloading is waited for.
  if (Status whole = wait_until_whole(archive); !whole)
    return std::move(whole).error();
  int code = 0;
  zip_t* zip = zip_open(archive.c_str(), ZIP_RDONLY, &code);
  if (zip == nullptr) {
    zip_error_t error;
    zip_error_init_with_code(&error, code);
    std::string message = label + ": cannot open the zip archive: " + zip_error_strerror(&error);
    zip_error_fini(&error);
    return source_error(std::move(message));
  }
  const zip_int64_t entries = zip_get_num_entries(zip, 0);
  zip_int64_t chosen = -1;
  std::string others; // the entries' names, for the message when none is a CSV file
  for (zip_int64_t i = 0; i < entries && chosen < 0; ++i) {
    const char* name = zip_get_name(zip, static_cast<zip_uint64_t>(i), 0);
    if (name != nullptr && ends_with_csv(name))
      chosen = i;
    else if (i < 5)
      others += (others.empty() ? "" : ", ") + quote_for_message(name ? name : "", 60);
  }
  if (chosen < 0) {
    zip_discard(zip);
    return source_error(label + ": the zip holds no CSV entry (" + std::to_string(entries) +
                        (entries == 1 ? " entry" : " entries") +
                        (others.empty() ? std::string() : ": " + others) +
                        (entries > 5 ? ", ..." : "") + ")");
  }
  zip_stat_t stat;
  zip_stat_init(&stat);
  std::uint64_t size = 0;
  if (zip_stat_index(zip, static_cast<zip_uint64_t>(chosen), 0, &stat) == 0 &&
      (stat.valid & ZIP_STAT_SIZE))
    size = stat.size;
  zip_file_t* file = zip_fopen_index(zip, static_cast<zip_uint64_t>(chosen), 0);
  if (file == nullptr) {
    std::string message =
        label + ": cannot open the zip entry: " + zip_error_strerror(zip_get_error(zip));
    zip_discard(zip);
    return source_error(std::move(message));
  }
  return std::unique_ptr<ByteSource>(std::make_unique<ZipEntrySource>(
      zip, file, archive.filename().string() + "/" + zip_get_name(zip, chosen, 0), size));
}

} // namespace billdrop::aws
