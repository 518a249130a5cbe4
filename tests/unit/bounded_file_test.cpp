// Reading user-named files: regular files only, bounded, never blocking on a FIFO or a device.
#include "common/bounded_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <future>

namespace bhe {
namespace {

constexpr FileSizeLimit kTenBytes{10, "a test file"};

class BoundedFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("bhe-bounded-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& content) {
    std::ofstream(path(name), std::ios::binary) << content;
    return path(name);
  }

  // Reads on another thread, so that a read that blocks fails the test instead of hanging it
  // (the blocked thread cannot be cancelled: the process exits).
  static BoundedFile readWithin(const std::string& file, FileSizeLimit limit) {
    auto reading = std::async(std::launch::async, [=] { return readBoundedFile(file, limit); });
    if (reading.wait_for(std::chrono::seconds(10)) != std::future_status::ready) {
      std::fprintf(stderr, "FAILED: reading %s blocked for 10 s\n", file.c_str());
      std::_Exit(1);
    }
    return reading.get();
  }

  std::filesystem::path dir_;
};

TEST_F(BoundedFileTest, ReadsARegularFileWhole) {
  const std::string bytes("a\0b\r\n\xff", 6);
  BoundedFile f = readBoundedFile(write("f", bytes), kTenBytes);
  ASSERT_TRUE(f.ok()) << f.error;
  EXPECT_EQ(f.content, bytes);
}

TEST_F(BoundedFileTest, EmptyFileIsFine) {
  BoundedFile f = readBoundedFile(write("empty", ""), kTenBytes);
  ASSERT_TRUE(f.ok()) << f.error;
  EXPECT_EQ(f.content, "");
}

TEST_F(BoundedFileTest, ExactlyTheLimitIsAcceptedOneByteMoreIsNot) {
  EXPECT_EQ(readBoundedFile(write("ten", "0123456789"), kTenBytes).content, "0123456789");
  BoundedFile f = readBoundedFile(write("eleven", "0123456789X"), kTenBytes);
  EXPECT_EQ(f.error, "it is larger than 10 bytes, the limit for a test file (it has 11 bytes)");
  EXPECT_TRUE(f.content.empty());
}

TEST_F(BoundedFileTest, LargeFileIsRefusedBeforeReading) {
  const std::string big = path("big");
  {
    std::ofstream out(big, std::ios::binary);
    out.seekp(64 * 1024 * 1024 - 1);
    out.put('x');  // a sparse 64 MiB file: cheap to make, expensive if it were read
  }
  BoundedFile f = readBoundedFile(big, {4 * 1024 * 1024, "a config file"});
  EXPECT_EQ(f.error,
            "it is larger than 4 MiB, the limit for a config file (it has 67108864 bytes)");
}

TEST_F(BoundedFileTest, FileWithoutAKnownSizeIsCutAtTheLimit) {
  // /proc files are regular but report size 0; this one holds far more than 10 bytes.
  BoundedFile f = readBoundedFile("/proc/self/status", kTenBytes);
  EXPECT_EQ(f.error, "it is larger than 10 bytes, the limit for a test file");
  EXPECT_TRUE(readBoundedFile("/proc/self/status", {1024 * 1024, "x"}).ok());
}

TEST_F(BoundedFileTest, MissingFile) {
  EXPECT_EQ(readBoundedFile(path("nope"), kTenBytes).error, "No such file or directory");
}

TEST_F(BoundedFileTest, DirectoryIsRefused) {
  EXPECT_EQ(readBoundedFile(dir_.string(), kTenBytes).error,
            "it is a directory, not a regular file");
}

TEST_F(BoundedFileTest, FifoWithoutWriterIsRefusedWithoutBlocking) {
  const std::string fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  EXPECT_EQ(readWithin(fifo, kTenBytes).error, "it is a FIFO (named pipe), not a regular file");
}

TEST_F(BoundedFileTest, FifoWithASilentWriterIsRefusedWithoutBlocking) {
  const std::string fifo = path("fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0) << std::strerror(errno);
  int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // lets the writer open at once
  int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
  ASSERT_GE(writer, 0) << std::strerror(errno);
  EXPECT_EQ(readWithin(fifo, kTenBytes).error, "it is a FIFO (named pipe), not a regular file");
  ::close(writer);
  ::close(reader);
}

TEST_F(BoundedFileTest, CharacterDevicesAreRefused) {
  EXPECT_EQ(readWithin("/dev/zero", kTenBytes).error,
            "it is a character device, not a regular file");
  EXPECT_EQ(readWithin("/dev/null", kTenBytes).error,
            "it is a character device, not a regular file");
}

TEST_F(BoundedFileTest, SymlinksAreFollowedToWhatTheyNameAndJudgedByIt) {
  std::filesystem::create_symlink("/dev/zero", dir_ / "zero");
  EXPECT_EQ(readWithin(path("zero"), kTenBytes).error,
            "it is a character device, not a regular file");
  std::filesystem::create_symlink(write("real", "ok"), dir_ / "link");
  EXPECT_EQ(readBoundedFile(path("link"), kTenBytes).content, "ok");
  std::filesystem::create_symlink(path("gone"), dir_ / "dangling");
  EXPECT_EQ(readBoundedFile(path("dangling"), kTenBytes).error, "No such file or directory");
}

TEST_F(BoundedFileTest, SocketIsRefused) {
  const std::string socket_path = path("sock");
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  ASSERT_LT(socket_path.size(), sizeof(address.sun_path));
  std::memcpy(address.sun_path, socket_path.c_str(), socket_path.size() + 1);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)), 0);
  EXPECT_EQ(readBoundedFile(socket_path, kTenBytes).error, "it is a socket, not a regular file");
  ::close(fd);
}

TEST(FormatByteSize, WholeUnitsOrBytes) {
  EXPECT_EQ(formatByteSize(4 * 1024 * 1024), "4 MiB");
  EXPECT_EQ(formatByteSize(16 * 1024 * 1024), "16 MiB");
  EXPECT_EQ(formatByteSize(64 * 1024), "64 KiB");
  EXPECT_EQ(formatByteSize(1536 * 1024), "1536 KiB");
  EXPECT_EQ(formatByteSize(1000), "1000 bytes");
  EXPECT_EQ(formatByteSize(1), "1 byte");
  EXPECT_EQ(formatByteSize(0), "0 bytes");
}

}  // namespace
}  // namespace bhe
