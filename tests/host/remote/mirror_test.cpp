// The mirror's downloads with a store the test controls (RemoteMirror's StoreFactory): several
// objects are fetched at once, each lands whole at its key, and the first failure stops the run
// without leaving a half-read object; what was fetched whole stays cached for the next run.
// (The stores themselves are tested against s3rver, azurite and a GCS server in the *_store_test
// files.)
#include "remote/mirror.hpp"
#include "support/convert_run.hpp"
#include "support/temp_folder.hpp"

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
    for (std::size_t at = offset; at < body.size(); at += 1000)
      if (!sink(body.data() + at, std::min<std::size_t>(1000, body.size() - at)))
        return;
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
  Result<MirrorLease> mirror(FakeObjects& objects) {
    RemoteMirror mirror(dir_ / "cache", {}, process_environment(), [&](const RemoteLocation&) {
      return std::make_unique<FakeStore>(objects);
    });
    return mirror.mirror(*parse_remote_location("s3://fake/exp/"), "conn");
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

} // namespace
} // namespace billdrop::remote
