#include <billdrop/byte_source.hpp>
#include <billdrop/growing_file.hpp>
#include <billdrop/parquet.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <unistd.h>

namespace fs = std::filesystem;
using namespace billdrop;

namespace {

// A mirror-like folder: <root>/objects/<name> and its status below <root>/growing/.
class GrowingFileTest : public ::testing::Test {
protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("billdrop-growing-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_ / "objects" / "sub");
  }
  void TearDown() override { fs::remove_all(root_); }

  static void append(const fs::path& file, std::string_view bytes) {
    std::ofstream out(file, std::ios::app | std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }

  // Reads a source to its end or first error: (bytes, error message or "").
  static std::pair<std::string, std::string> drain(ByteSource& source) {
    std::string out;
    char block[7]; // small reads: many of them meet the growing end
    for (;;) {
      Result<std::size_t> n = source.read(block, sizeof block);
      if (!n)
        return {out, n.error().message()};
      if (*n == 0)
        return {out, ""};
      out.append(block, *n);
    }
  }

  fs::path root_;
};

std::string text_of(std::size_t bytes) {
  std::string out;
  for (std::size_t i = 0; out.size() < bytes; ++i)
    out += "line " + std::to_string(i) + ",1.25\n";
  out.resize(bytes);
  return out;
}

TEST_F(GrowingFileTest, AReaderFollowsTheWriterToTheWholeFile) {
  const fs::path file = root_ / "objects" / "sub" / "usage.csv";
  const std::string data = text_of(200'000);
  auto writer =
      GrowingFileWriter::announce(root_ / "objects", file, data.size(), "s3://b/sub/usage.csv");
  ASSERT_TRUE(writer.ok()) << writer.error().message();
  EXPECT_EQ(writer->status_path(), root_ / "growing" / "sub" / "usage.csv");
  append(file, data.substr(0, 1000));
  auto status = growing_status(file);
  ASSERT_TRUE(status.has_value());
  EXPECT_FALSE(status->failed);
  EXPECT_EQ(status->size, data.size());

  auto source = open_file(file, Compression::none);
  ASSERT_TRUE(source.ok()) << source.error().message();
  EXPECT_EQ((*source)->total(), data.size()); // the announced size, not the bytes so far
  std::thread writing([&] {
    for (std::size_t at = 1000; at < data.size(); at += 9'000) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
      append(file, data.substr(at, 9'000));
    }
    writer->finish();
  });
  auto [bytes, error] = drain(**source);
  writing.join();
  EXPECT_EQ(error, "");
  EXPECT_EQ(bytes, data); // every byte, and the end only once the file is whole
  EXPECT_FALSE(growing_status(file).has_value());
}

TEST_F(GrowingFileTest, AllBytesButNoFinishIsNotTheEnd) {
  // The file reaches its announced size, but the writer has not said it is whole yet: the reader
  // waits for that (or for a failure) rather than ending.
  const fs::path file = root_ / "objects" / "a.csv";
  const std::string data = text_of(5000);
  auto writer = GrowingFileWriter::announce(root_ / "objects", file, data.size(), "s3://b/a.csv");
  ASSERT_TRUE(writer.ok());
  append(file, data);
  auto source = open_file(file, Compression::none);
  ASSERT_TRUE(source.ok());
  std::thread failing([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    writer->fail(source_error("s3://b/a.csv: the object changed while it was being read"));
  });
  auto [bytes, error] = drain(**source);
  failing.join();
  EXPECT_EQ(bytes, data);
  EXPECT_EQ(error, file.string() + ": s3://b/a.csv: the object changed while it was being read");
}

TEST_F(GrowingFileTest, AFailedDownloadFailsTheReadWithItsMessage) {
  const fs::path file = root_ / "objects" / "a.csv.gz";
  const std::string data = gzip_compress(text_of(100'000));
  auto writer =
      GrowingFileWriter::announce(root_ / "objects", file, data.size(), "s3://b/a.csv.gz");
  ASSERT_TRUE(writer.ok());
  append(file, data.substr(0, data.size() / 2));
  auto source = open_file(file); // the gzip magic is already there
  ASSERT_TRUE(source.ok()) << source.error().message();
  std::thread failing([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    writer->fail(source_error("s3://b/a.csv.gz: connection reset after 3 tries", true));
  });
  auto [bytes, error] = drain(**source);
  failing.join();
  EXPECT_EQ(error, file.string() + ": s3://b/a.csv.gz: connection reset after 3 tries");
  EXPECT_LT(bytes.size(), 100'000u);
  // A reader that opens it after the failure fails the same way, at once.
  auto late = open_file(file, Compression::none);
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(drain(**late).second,
            file.string() + ": s3://b/a.csv.gz: connection reset after 3 tries");
  auto waited = wait_until_whole(file);
  ASSERT_FALSE(waited.ok());
  EXPECT_TRUE(waited.error().retryable());
}

TEST_F(GrowingFileTest, AWriterThatGoesAwayFailsTheRead) {
  const fs::path file = root_ / "objects" / "a.csv";
  {
    auto writer = GrowingFileWriter::announce(root_ / "objects", file, 10'000, "s3://b/a.csv");
    ASSERT_TRUE(writer.ok());
    append(file, text_of(100));
    // Destroyed without finish(): as a download stopped half-way.
  }
  auto source = open_file(file, Compression::none);
  ASSERT_TRUE(source.ok());
  auto [bytes, error] = drain(**source);
  EXPECT_EQ(bytes.size(), 100u);
  EXPECT_EQ(error, file.string() + ": s3://b/a.csv: the download stopped before its end");

  // A status left "writing" with nobody holding its lock (a writer process killed).
  fs::create_directories(root_ / "growing");
  std::ofstream(root_ / "growing" / "b.csv") << "writing 50\ns3://b/b.csv\n";
  append(root_ / "objects" / "b.csv", "x,1\n");
  auto orphan = open_file(root_ / "objects" / "b.csv", Compression::none);
  ASSERT_TRUE(orphan.ok());
  EXPECT_EQ(drain(**orphan).second,
            (root_ / "objects" / "b.csv").string() +
                ": its download (s3://b/b.csv) stopped before its end: the process writing it "
                "is gone");
}

TEST_F(GrowingFileTest, AFileOutsideAnyMirrorOrWholeIsReadAsItIs) {
  fs::create_directories(root_ / "plain");
  append(root_ / "plain" / "a.csv", "a,b\n");
  auto plain = open_file(root_ / "plain" / "a.csv", Compression::none);
  ASSERT_TRUE(plain.ok());
  EXPECT_EQ(drain(**plain), (std::pair<std::string, std::string>{"a,b\n", ""}));
  EXPECT_TRUE(wait_until_whole(root_ / "plain" / "a.csv").ok());
  // Below objects/ with no status: whole.
  append(root_ / "objects" / "a.csv", "c,d\n");
  auto whole = open_file(root_ / "objects" / "a.csv", Compression::none);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(drain(**whole), (std::pair<std::string, std::string>{"c,d\n", ""}));
}

TEST_F(GrowingFileTest, WaitUntilWholeWaitsForTheWriter) {
  const fs::path file = root_ / "objects" / "data.parquet";
  const std::string data = text_of(3000);
  auto writer =
      GrowingFileWriter::announce(root_ / "objects", file, data.size(), "gs://b/data.parquet");
  ASSERT_TRUE(writer.ok());
  append(file, ""); // it appears right after its status, as the mirror links it
  std::thread writing([&] {
    append(file, data.substr(0, 1000));
    std::this_thread::sleep_for(std::chrono::milliseconds(60));
    append(file, data.substr(1000));
    writer->finish();
  });
  const auto started = std::chrono::steady_clock::now();
  EXPECT_TRUE(wait_until_whole(file).ok());
  EXPECT_GE(std::chrono::steady_clock::now() - started, std::chrono::milliseconds(50));
  writing.join();
  EXPECT_EQ(fs::file_size(file), data.size());
  // The Parquet reader waits the same way, then reads the whole file (not Parquet: its error).
  auto parquet = ParquetReader::open(file);
  ASSERT_FALSE(parquet.ok());
  EXPECT_EQ(parquet.error().message().find("download"), std::string::npos)
      << parquet.error().message();
}

TEST_F(GrowingFileTest, AGrowingFileTooLargeFailsTheRead) {
  const fs::path file = root_ / "objects" / "a.csv";
  auto writer = GrowingFileWriter::announce(root_ / "objects", file, 10, "s3://b/a.csv");
  ASSERT_TRUE(writer.ok());
  append(file, "0123456789ABC");
  auto source = open_file(file, Compression::none);
  ASSERT_TRUE(source.ok());
  EXPECT_EQ(drain(**source).second,
            file.string() + ": holds 13 bytes, more than the 10 its download announced");
}

TEST(GrowingFileWriter, RefusesAFileOutsideAnObjectsFolder) {
  auto writer = GrowingFileWriter::announce("/tmp/x", "/tmp/x/a.csv", 1, "s3://b/a.csv");
  ASSERT_FALSE(writer.ok());
  writer = GrowingFileWriter::announce("/tmp/objects", "/tmp/other/a.csv", 1, "s3://b/a.csv");
  ASSERT_FALSE(writer.ok());
}

TEST_F(GrowingFileTest, AnObjectsFolderInsideTheMirrorKeepsTheStatusOutsideIt) {
  // An object whose key holds "objects/": its status still goes beside the mirror's objects/,
  // never into the tree a plugin lists, and readers find it there.
  const fs::path file = root_ / "objects" / "a" / "objects" / "x.csv";
  fs::create_directories(file.parent_path());
  auto writer = GrowingFileWriter::announce(root_ / "objects", file, 4, "s3://b/a/objects/x.csv");
  ASSERT_TRUE(writer.ok()) << writer.error().message();
  EXPECT_EQ(writer->status_path(), root_ / "growing" / "a" / "objects" / "x.csv");
  EXPECT_FALSE(fs::exists(root_ / "objects" / "a" / "growing"));
  append(file, "ab");
  auto source = open_file(file, Compression::none);
  ASSERT_TRUE(source.ok());
  std::thread finishing([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(30));
    append(file, "cd");
    writer->finish();
  });
  EXPECT_EQ(drain(**source), (std::pair<std::string, std::string>{"abcd", ""}));
  finishing.join();
}

} // namespace
