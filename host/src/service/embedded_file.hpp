#pragma once
// A file compiled into the binary by cmake/embed-files.cmake (the dashboard's), whose generated
// source defines kEmbeddedFiles and kEmbeddedFileCount.

#include <cstddef>

namespace billdrop::service {

struct EmbeddedFile {
  const char* path; // "/" + its path under the embedded folder
  const unsigned char* data;
  std::size_t size;
};

extern const EmbeddedFile kEmbeddedFiles[];
extern const std::size_t kEmbeddedFileCount;

} // namespace billdrop::service
