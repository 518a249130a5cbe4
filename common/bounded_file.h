// Reading a file a user names (the config, certificate files, the CA bundle) safely: only a
// regular file is read, never more than a fixed size, and nothing here can block on the file's
// kind (a FIFO without a writer, a terminal, a device that never ends such as /dev/zero).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace bhe {

struct FileSizeLimit {
  std::size_t max_bytes = 0;
  std::string_view kind;  // names the limit in messages: "a config file"
};

struct BoundedFile {
  std::string content;  // the whole file; empty when error is set
  // What is wrong, without the path (the caller has it and its own prefix):
  //   "No such file or directory"                        (strerror of the failed stat/open/read)
  //   "it is a FIFO (named pipe), not a regular file"    (also directory, character device, ...)
  //   "it is larger than 4 MiB, the limit for a config file (it has 5000000 bytes)"
  std::string error;
  bool ok() const { return error.empty(); }
};

// Never throws, never blocks on the file's kind. The kind and size are decided on the open
// descriptor (fstat), so a path swapped after the check cannot slip a FIFO or a huge file in; at
// most limit + 1 bytes are read, so a file that grows meanwhile is refused too.
BoundedFile readBoundedFile(const std::string& path, FileSizeLimit limit);

// "4 MiB", "64 KiB", "1000 bytes": sizes as limits are written in messages.
std::string formatByteSize(std::size_t bytes);

}  // namespace bhe
