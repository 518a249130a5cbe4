#include "common/bounded_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace bhe {
namespace {

class Descriptor {
 public:
  explicit Descriptor(int fd) : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) {
      ::close(fd_);
    }
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

BoundedFile failure(std::string message) {
  BoundedFile file;
  file.error = std::move(message);
  return file;
}

std::string lastError() {
  return std::strerror(errno);
}

// Empty for a regular file, else why it is refused.
std::string notRegularFile(mode_t mode) {
  if (S_ISREG(mode)) {
    return "";
  }
  std::string_view kind = "of an unknown kind";
  if (S_ISDIR(mode)) {
    kind = "a directory";
  } else if (S_ISFIFO(mode)) {
    kind = "a FIFO (named pipe)";
  } else if (S_ISCHR(mode)) {
    kind = "a character device";
  } else if (S_ISBLK(mode)) {
    kind = "a block device";
  } else if (S_ISSOCK(mode)) {
    kind = "a socket";
  }
  return "it is " + std::string(kind) + ", not a regular file";
}

std::string tooLarge(FileSizeLimit limit, std::string_view actual) {
  return "it is larger than " + formatByteSize(limit.max_bytes) + ", the limit for " +
         std::string(limit.kind) + std::string(actual);
}

}  // namespace

std::string formatByteSize(std::size_t bytes) {
  constexpr std::size_t kKiB = 1024;
  constexpr std::size_t kMiB = 1024 * kKiB;
  if (bytes >= kMiB && bytes % kMiB == 0) {
    return std::to_string(bytes / kMiB) + " MiB";
  }
  if (bytes >= kKiB && bytes % kKiB == 0) {
    return std::to_string(bytes / kKiB) + " KiB";
  }
  return std::to_string(bytes) + (bytes == 1 ? " byte" : " bytes");
}

BoundedFile readBoundedFile(const std::string& path, FileSizeLimit limit) {
  // Looking at the path first keeps devices from being opened at all (opening one can have side
  // effects, a terminal could become the controlling one); the descriptor is checked again below
  // because the path may be replaced between the two.
  struct stat before {};
  if (::stat(path.c_str(), &before) != 0) {
    return failure(lastError());
  }
  if (std::string refused = notRegularFile(before.st_mode); !refused.empty()) {
    return failure(std::move(refused));
  }
  // O_NONBLOCK: should a FIFO be swapped in after the stat, opening it must not wait for a writer.
  Descriptor fd(::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
  if (fd.get() < 0) {
    return failure(lastError());
  }
  struct stat opened {};
  if (::fstat(fd.get(), &opened) != 0) {
    return failure(lastError());
  }
  if (std::string refused = notRegularFile(opened.st_mode); !refused.empty()) {
    return failure(std::move(refused));
  }
  const auto size = static_cast<std::size_t>(std::max<off_t>(opened.st_size, 0));
  if (size > limit.max_bytes) {
    return failure(tooLarge(limit, " (it has " + std::to_string(size) + " bytes)"));
  }

  BoundedFile file;
  // One byte more than the limit tells a file that grew past it from one that ends exactly there.
  const std::size_t wanted = limit.max_bytes + 1;
  file.content.resize(std::min(wanted, std::max<std::size_t>(size + 1, 4096)));
  std::size_t used = 0;
  for (;;) {
    if (used == file.content.size()) {
      if (used == wanted) {
        return failure(tooLarge(limit, ""));  // it grew after the fstat, or does not know its size
      }
      file.content.resize(std::min(wanted, used * 2));
    }
    const ssize_t n = ::read(fd.get(), file.content.data() + used, file.content.size() - used);
    if (n < 0) {
      if (errno == EINTR) {
        continue;
      }
      return failure(lastError());
    }
    if (n == 0) {
      break;
    }
    used += static_cast<std::size_t>(n);
  }
  file.content.resize(used);
  return file;
}

}  // namespace bhe
