// The floor of the gcp plugin's NDJSON path: read the file (inflating it if it is gzip) and run
// simdjson On Demand over it with iterate_many, a batch of whole lines at a time, visiting every
// field of every record (keys unescaped, strings unescaped, numbers as their text) and mapping
// nothing. What the plugin adds on top is the mapping and the CBF rows.
//
//   billdrop_gcp_ndjson_floor <export.ndjson[.gz]> [records]
//
// With `records`, only the documents are found (simdjson's stage 1 and the record boundaries),
// no field is visited: the part of the floor that every pass over the file pays.
//
//   billdrop_gcp_ndjson_floor implementation
//
// prints which simdjson kernel runs stage 1 (and string unescaping) at run time, chosen by the
// shared library for this CPU, and which one On Demand's inline code was compiled as.
#include <billdrop/byte_source.hpp>

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string_view>
#include <vector>

namespace {

namespace ondemand = simdjson::ondemand;

constexpr std::size_t kBlock = std::size_t{1} << 20;

struct Counts {
  std::uint64_t records = 0;
  std::uint64_t fields = 0;
  std::uint64_t bytes = 0; // of every scalar's text, so that nothing is optimised away
};

simdjson::error_code visit(ondemand::value value, Counts& counts) {
  ondemand::json_type type;
  if (auto error = value.type().get(type))
    return error;
  switch (type) {
  case ondemand::json_type::object: {
    ondemand::object object;
    if (auto error = value.get_object().get(object))
      return error;
    for (auto field_result : object) {
      ondemand::field field;
      if (auto error = std::move(field_result).get(field))
        return error;
      std::string_view key;
      if (auto error = field.unescaped_key().get(key))
        return error;
      ++counts.fields;
      counts.bytes += key.size();
      if (auto error = visit(field.value(), counts))
        return error;
    }
    return simdjson::SUCCESS;
  }
  case ondemand::json_type::array: {
    ondemand::array array;
    if (auto error = value.get_array().get(array))
      return error;
    for (auto element : array) {
      ondemand::value item;
      if (auto error = element.get(item))
        return error;
      if (auto error = visit(item, counts))
        return error;
    }
    return simdjson::SUCCESS;
  }
  case ondemand::json_type::string: {
    std::string_view text;
    if (auto error = value.get_string().get(text))
      return error;
    counts.bytes += text.size();
    return simdjson::SUCCESS;
  }
  case ondemand::json_type::number:
    counts.bytes += value.raw_json_token().size();
    return simdjson::SUCCESS;
  case ondemand::json_type::boolean: {
    bool flag = false;
    return value.get_bool().get(flag);
  }
  case ondemand::json_type::null: {
    bool null = false;
    return value.is_null().get(null);
  }
  }
  return simdjson::SUCCESS;
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string_view(argv[1]) == "implementation") {
    std::printf("simdjson %s: stage 1 and strings %s (run time), On Demand inline code %s "
                "(compile time)\n",
                SIMDJSON_STRINGIFY(SIMDJSON_VERSION),
                simdjson::get_active_implementation()->name().c_str(),
                SIMDJSON_STRINGIFY(SIMDJSON_BUILTIN_IMPLEMENTATION));
    return 0;
  }
  if (argc != 2 && !(argc == 3 && std::string_view(argv[2]) == "records")) {
    std::fprintf(stderr, "usage: %s <export.ndjson[.gz]> [records] | implementation\n", argv[0]);
    return 2;
  }
  const bool visit_fields = argc == 2;
  const auto begin = std::chrono::steady_clock::now();
  auto opened = billdrop::open_file(argv[1]);
  if (!opened) {
    std::fprintf(stderr, "%s\n", opened.error().message().c_str());
    return 1;
  }
  billdrop::ByteSource& source = **opened;
  ondemand::parser parser;
  parser.threaded = false;
  std::vector<char> buffer(2 * kBlock + simdjson::SIMDJSON_PADDING);
  std::size_t size = 0; // bytes in the buffer
  bool eof = false;
  Counts counts;
  while (!eof || size != 0) {
    while (!eof && size < kBlock) {
      if (buffer.size() - size < kBlock + simdjson::SIMDJSON_PADDING)
        buffer.resize(size + kBlock + simdjson::SIMDJSON_PADDING);
      auto got = source.read(buffer.data() + size, kBlock);
      if (!got) {
        std::fprintf(stderr, "%s\n", got.error().message().c_str());
        return 1;
      }
      eof = *got == 0;
      size += *got;
    }
    // A batch of whole lines; the rest waits for the next block.
    std::size_t lines = size;
    if (!eof) {
      const auto* last = static_cast<const char*>(memrchr(buffer.data(), '\n', size));
      if (last == nullptr)
        continue; // a line longer than the buffer: read more
      lines = static_cast<std::size_t>(last - buffer.data()) + 1;
    }
    ondemand::document_stream stream;
    auto error = parser
                     .iterate_many(reinterpret_cast<const std::uint8_t*>(buffer.data()), lines,
                                   std::max(lines, simdjson::dom::MINIMAL_BATCH_SIZE))
                     .get(stream);
    for (auto it = stream.begin(); !error && it != stream.end(); ++it) {
      ondemand::document_reference document;
      if ((error = (*it).get(document)))
        break;
      ++counts.records;
      if (!visit_fields)
        continue;
      ondemand::value root;
      if ((error = document.get_value().get(root)))
        break;
      error = visit(root, counts);
    }
    if (error) {
      std::fprintf(stderr, "invalid JSON near record %llu: %s\n",
                   static_cast<unsigned long long>(counts.records + 1),
                   simdjson::error_message(error));
      return 1;
    }
    std::memmove(buffer.data(), buffer.data() + lines, size - lines);
    size -= lines;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - begin).count();
  std::printf("records %llu\nfields %llu\nscalar_bytes %llu\nseconds %.3f\n",
              static_cast<unsigned long long>(counts.records),
              static_cast<unsigned long long>(counts.fields),
              static_cast<unsigned long long>(counts.bytes), seconds);
  return 0;
}
