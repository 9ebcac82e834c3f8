#pragma once
// An object store seen as what the mirror needs: the objects under a prefix with their size and
// version (ETag, or GCS generation), and the bytes of one version of an object from an offset.
// S3, Azure Blob and GCS each implement it (s3_store.cpp, azure_store.cpp, gcs_store.cpp).
//
// Every failure is thrown as ErrorException: a transport failure (connection cut, 5xx) as a
// retryable source error, so the mirror resumes; a refusal (403, no credentials) as a fatal one;
// an object whose version is no longer the listed one as ObjectChanged. Credentials never appear
// in a message.

#include "remote/location.hpp"
#include "remote/settings.hpp"

#include <billdrop/result.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace billdrop::remote {

struct ObjectInfo {
  std::string key;
  std::uint64_t size = 0;
  std::string version; // the ETag as listed (quotes kept), or the GCS generation
};

// The object is not (any more) the version that was listed: it changed while being read.
class ObjectChanged : public ErrorException {
public:
  using ErrorException::ErrorException;
};

class ObjectStore {
public:
  virtual ~ObjectStore() = default;
  // Every object whose key starts with `prefix`, in key order, following continuation.
  virtual std::vector<ObjectInfo> list(std::string_view prefix) = 0;
  // The bytes [offset, object.size) of the listed version into `sink`, in order; a sink that
  // returns false stops the read (nothing thrown).
  virtual void read(const ObjectInfo& object, std::uint64_t offset,
                    const std::function<bool(const char*, std::size_t)>& sink) = 0;
};

// The store of `location`, with its credentials resolved now (a missing credential is a config
// error naming the variables to set).
std::unique_ptr<ObjectStore> open_object_store(const RemoteLocation& location,
                                               const RemoteSettings& settings,
                                               const Environment& environment);

std::unique_ptr<ObjectStore> open_s3_store(const RemoteLocation& location,
                                           const RemoteSettings& settings,
                                           const Environment& environment);
std::unique_ptr<ObjectStore> open_azure_store(const RemoteLocation& location,
                                              const RemoteSettings& settings,
                                              const Environment& environment);
std::unique_ptr<ObjectStore> open_gcs_store(const RemoteLocation& location,
                                            const RemoteSettings& settings,
                                            const Environment& environment);

} // namespace billdrop::remote
