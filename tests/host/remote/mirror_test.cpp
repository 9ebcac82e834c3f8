// The mirror's downloads with a store the test controls (RemoteMirror's StoreFactory): several
// objects are fetched at once, each lands whole at its key, and the first failure stops the run
// without leaving a half-read object; what was fetched whole stays cached for the next run.
// (The stores themselves are tested against s3rver, azurite and a GCS server in the *_store_test
// files.)
#include "remote/mirror.hpp"
#include "support/convert_run.hpp"
#include "support/temp_folder.hpp"

#include <billdrop/byte_source.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

namespace billdrop::remote {
namespace {

namespace fs = std::filesystem;
using test::read_text;

// Objects in memory, read in 1,000-byte pieces. Reads of the objects named in `gate` wait until
// that many reads are in flight together (or a second passes), so a test sees whether the mirror
// reads them at once.
struct FakeObjects {
  std::map<std::string, std::string> bodies;  // key -> bytes
  std::map<std::string, std::string> changed; // key -> the version the store answers instead
  std::size_t gate = 0;
  // Bytes of an object sent before its read waits for `released` (up to 10 s, then fails).
  std::size_t hold_after = SIZE_MAX;
  bool released = false;
  // key -> bytes sent by the first read of it before the connection breaks (retryable).
  std::map<std::string, std::size_t> cut_after;
  // key -> bytes sent before the store finds the object changed (ObjectChanged).
  std::map<std::string, std::size_t> changes_after;

  std::mutex mutex;
  std::condition_variable cv;
  bool gate_opened = false; // once reached, later reads do not wait
  std::size_t in_flight = 0;
  std::size_t most_in_flight = 0;
  std::size_t reads = 0;
};

class FakeStore final : public ObjectStore {
public:
  explicit FakeStore(FakeObjects& objects) : objects_(objects) {}

  std::vector<ObjectInfo> list(std::string_view prefix) override {
    std::vector<ObjectInfo> out;
    for (const auto& [key, body] : objects_.bodies)
      if (key.starts_with(prefix))
        out.push_back({key, body.size(), "v-" + std::to_string(body.size())});
    return out;
  }

  void read(const ObjectInfo& object, std::uint64_t offset,
            const std::function<bool(const char*, std::size_t)>& sink) override {
    {
      std::unique_lock lock(objects_.mutex);
      ++objects_.reads;
      ++objects_.in_flight;
      objects_.most_in_flight = std::max(objects_.most_in_flight, objects_.in_flight);
      if (objects_.in_flight >= objects_.gate)
        objects_.gate_opened = true;
      objects_.cv.notify_all();
      objects_.cv.wait_for(lock, std::chrono::seconds(1), [&] { return objects_.gate_opened; });
    }
    struct Leave {
      FakeObjects& objects;
      ~Leave() {
        const std::lock_guard lock(objects.mutex);
        --objects.in_flight;
      }
    } leave{objects_};
    if (const auto found = objects_.changed.find(object.key); found != objects_.changed.end())
      throw ObjectChanged(source_error("s3://fake/" + object.key +
                                       " changed while it was being read (listed as " +
                                       object.version + ", now " + found->second + ")"));
    const std::string& body = objects_.bodies.at(object.key);
    std::size_t cut = SIZE_MAX;
    std::size_t change = SIZE_MAX;
    {
      const std::lock_guard lock(objects_.mutex);
      if (const auto found = objects_.cut_after.find(object.key);
          found != objects_.cut_after.end()) {
        cut = found->second;
        objects_.cut_after.erase(found);
      }
      if (const auto found = objects_.changes_after.find(object.key);
          found != objects_.changes_after.end())
        change = found->second;
    }
    for (std::size_t at = offset; at < body.size(); at += 1000) {
      if (at >= objects_.hold_after) {
        std::unique_lock lock(objects_.mutex);
        if (!objects_.cv.wait_for(lock, std::chrono::seconds(10),
                                  [&] { return objects_.released; }))
          throw ErrorException(source_error("s3://fake/" + object.key + ": never released"));
      }
      if (at >= cut)
        throw ErrorException(source_error("s3://fake/" + object.key + ": connection reset", true));
      if (at >= change)
        throw ObjectChanged(source_error("s3://fake/" + object.key +
                                         " changed while it was being read (listed as " +
                                         object.version + ", now v-other)"));
      if (!sink(body.data() + at, std::min<std::size_t>(1000, body.size() - at)))
        return;
    }
  }

private:
  FakeObjects& objects_;
};

std::string body_of(std::size_t bytes, char seed) {
  std::string text;
  for (std::size_t i = 0; text.size() < bytes; ++i)
    text += std::string(1, seed) + std::to_string(i) + ",";
  text.resize(bytes);
  return text;
}

class MirrorTest : public test::TempFolderTest {
protected:
  Result<MirrorLease> mirror(FakeObjects& objects, MirrorMode mode = MirrorMode::whole,
                             const std::string& location = "s3://fake/exp/") {
    RemoteMirror mirror(dir_ / "cache", {}, process_environment(), [&](const RemoteLocation&) {
      return std::make_unique<FakeStore>(objects);
    });
    return mirror.mirror(*parse_remote_location(location), "conn", mode);
  }

  // Reads `count` bytes of `source` (all of it: SIZE_MAX); the error's message, if any.
  static std::string read_from(ByteSource& source, std::string& into,
                               std::size_t count = SIZE_MAX) {
    char block[4096];
    while (into.size() < count) {
      Result<std::size_t> n =
          source.read(block, std::min<std::size_t>(sizeof block, count - into.size()));
      if (!n)
        return n.error().message();
      if (*n == 0)
        break;
      into.append(block, *n);
    }
    return "";
  }
};

TEST_F(MirrorTest, SeveralObjectsAreDownloadedAtOnceAndEachLandsWhole) {
  FakeObjects objects;
  std::uint64_t total = 0;
  for (int i = 0; i < 10; ++i) {
    const std::string body = body_of(20'000 + static_cast<std::size_t>(i) * 777, 'a' + i);
    total += body.size();
    objects.bodies["exp/month=" + std::to_string(i) + "/part.csv"] = body;
  }
  objects.gate = 4;
  const Result<MirrorLease> lease = mirror(objects);
  ASSERT_TRUE(lease) << lease.error().message();
  EXPECT_EQ(objects.most_in_flight, 4u); // bounded: never more than four at once
  EXPECT_EQ(lease->stats.fetched_objects, 10u);
  EXPECT_EQ(lease->stats.fetched_bytes, total);
  for (const auto& [key, body] : objects.bodies)
    EXPECT_EQ(read_text(lease->local_path / key.substr(4)), body) << key;
  EXPECT_TRUE(fs::is_empty(lease->local_path.parent_path() / "partial"));

  // Nothing is fetched again.
  objects.gate = 0;
  const std::size_t reads = objects.reads;
  const Result<MirrorLease> again = mirror(objects);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->stats.cached_objects, 10u);
  EXPECT_EQ(objects.reads, reads);
}

TEST_F(MirrorTest, AnObjectChangedDuringConcurrentDownloadsFailsTheRunAndLeavesNoPart) {
  FakeObjects objects;
  for (int i = 0; i < 6; ++i)
    objects.bodies["exp/" + std::to_string(i) + ".csv"] = body_of(5'000, 'k' + i);
  objects.changed["exp/2.csv"] = "v-new";
  const Result<MirrorLease> lease = mirror(objects);
  ASSERT_FALSE(lease);
  EXPECT_NE(lease.error().message().find("s3://fake/exp/2.csv changed while it was being read"),
            std::string::npos)
      << lease.error().message();
  EXPECT_FALSE(lease.error().retryable());
  for (const auto& entry : fs::recursive_directory_iterator(dir_ / "cache"))
    EXPECT_NE(entry.path().filename(), "2.csv") << entry.path();

  // Objects fetched whole before the failure are kept; the next run fetches only the rest.
  objects.changed.clear();
  const std::size_t reads = objects.reads;
  const Result<MirrorLease> again = mirror(objects);
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->stats.cached_objects + again->stats.fetched_objects, 6u);
  EXPECT_GE(again->stats.fetched_objects, 1u);
  EXPECT_EQ(objects.reads - reads, again->stats.fetched_objects);
  for (const auto& [key, body] : objects.bodies)
    EXPECT_EQ(read_text(again->local_path / key.substr(4)), body) << key;
}

TEST_F(MirrorTest, FollowModeHandsOutAnObjectWhileItDownloads) {
  FakeObjects objects;
  const std::string body = body_of(3'000'000, 'f');
  objects.bodies["exp/big.csv"] = body;
  // The store sends two thirds, then waits for the test (more than the mirror's write buffer,
  // 256 KiB, so at least the first megabyte is on disk).
  objects.hold_after = 2'000'000;
  const Result<MirrorLease> lease = mirror(objects, MirrorMode::follow, "s3://fake/exp/big.csv");
  ASSERT_TRUE(lease) << lease.error().message();
  ASSERT_NE(lease->downloads, nullptr);
  EXPECT_EQ(lease->local_path.filename(), "big.csv");
  auto source = open_file(lease->local_path, Compression::none);
  ASSERT_TRUE(source) << source.error().message();
  EXPECT_EQ((*source)->total(), body.size());
  // The first megabyte is read while the rest has not been sent: the read overlaps the download.
  std::string read;
  EXPECT_EQ(read_from(**source, read, 1'000'000), "");
  EXPECT_EQ(read, body.substr(0, 1'000'000));
  {
    const std::lock_guard lock(objects.mutex);
    objects.released = true;
  }
  objects.cv.notify_all();
  EXPECT_EQ(read_from(**source, read), "");
  EXPECT_TRUE(read == body) << read.size() << " bytes read"; // whole, its end only at the end
  EXPECT_TRUE(lease->wait().ok());

  // Cached: the next run fetches nothing and hands out the whole file.
  const std::size_t reads = objects.reads;
  const Result<MirrorLease> again = mirror(objects, MirrorMode::follow, "s3://fake/exp/big.csv");
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_EQ(again->downloads, nullptr);
  EXPECT_EQ(again->stats.cached_objects, 1u);
  EXPECT_EQ(objects.reads, reads);
  EXPECT_EQ(read_text(again->local_path), body);
}

TEST_F(MirrorTest, FollowModeResumesACutDownloadUnderTheReader) {
  FakeObjects objects;
  for (int i = 0; i < 3; ++i)
    objects.bodies["exp/" + std::to_string(i) + ".csv"] = body_of(150'000, 'p' + i);
  objects.cut_after["exp/1.csv"] = 60'000;
  const Result<MirrorLease> lease = mirror(objects, MirrorMode::follow);
  ASSERT_TRUE(lease) << lease.error().message();
  for (const auto& [key, body] : objects.bodies) {
    auto source = open_file(lease->local_path / key.substr(4), Compression::none);
    ASSERT_TRUE(source) << source.error().message();
    std::string read;
    EXPECT_EQ(read_from(**source, read), "") << key;
    EXPECT_TRUE(read == body) << key << ": " << read.size() << " bytes read";
  }
  EXPECT_TRUE(lease->wait().ok());
  EXPECT_EQ(objects.reads, 4u); // three objects, one of them resumed
}

TEST_F(MirrorTest, FollowModeFailsTheReaderOfAnObjectThatChangesAndKeepsNothingOfIt) {
  FakeObjects objects;
  const std::string body = body_of(200'000, 'c');
  objects.bodies["exp/one.csv"] = body;
  objects.changes_after["exp/one.csv"] = 120'000;
  std::optional<Result<MirrorLease>> lease =
      mirror(objects, MirrorMode::follow, "s3://fake/exp/one.csv");
  ASSERT_TRUE(*lease) << (*lease).error().message();
  const fs::path local = (*lease)->local_path;
  auto source = open_file(local, Compression::none);
  ASSERT_TRUE(source) << source.error().message();
  std::string read;
  const std::string error = read_from(**source, read);
  EXPECT_EQ(error, local.string() +
                       ": s3://fake/exp/one.csv changed while it was being read (listed as "
                       "v-200000, now v-other)");
  EXPECT_LE(read.size(), 120'000u); // never more than the old version sent, and never an end
  const Status waited = (*lease)->wait();
  ASSERT_FALSE(waited.ok());
  EXPECT_NE(waited.error().message().find("s3://fake/exp/one.csv changed while it was being read"),
            std::string::npos)
      << waited.error().message();
  lease.reset(); // the session ends: the half object leaves the mirror
  EXPECT_FALSE(fs::exists(local));
  EXPECT_FALSE(fs::exists(local.parent_path().parent_path() / "growing"));

  // The next run downloads it again, whole.
  objects.changes_after.clear();
  const Result<MirrorLease> again = mirror(objects, MirrorMode::follow, "s3://fake/exp/one.csv");
  ASSERT_TRUE(again) << again.error().message();
  EXPECT_TRUE(again->wait().ok());
  EXPECT_EQ(read_text(again->local_path), body);
}

TEST_F(MirrorTest, FollowModeFailsEveryObjectNotDownloadedAfterAFailure) {
  FakeObjects objects;
  for (int i = 0; i < 8; ++i)
    objects.bodies["exp/" + std::to_string(i) + ".csv"] = body_of(20'000, 'a' + i);
  objects.changes_after["exp/0.csv"] = 0;
  objects.gate = 1;
  const Result<MirrorLease> lease = mirror(objects, MirrorMode::follow);
  ASSERT_TRUE(lease) << lease.error().message();
  EXPECT_FALSE(lease->wait().ok());
  // Every object is whole or fails its reader: none reads as a short success.
  std::size_t failed = 0;
  for (const auto& [key, body] : objects.bodies) {
    auto source = open_file(lease->local_path / key.substr(4), Compression::none);
    ASSERT_TRUE(source) << source.error().message();
    std::string read;
    const std::string error = read_from(**source, read);
    if (error.empty()) {
      EXPECT_TRUE(read == body) << key << ": " << read.size() << " bytes read";
    } else {
      ++failed;
      EXPECT_NE(error.find("s3://fake/exp/0.csv changed while it was being read"),
                std::string::npos)
          << error;
    }
  }
  EXPECT_GE(failed, 1u);
}

} // namespace
} // namespace billdrop::remote
