// The path of a probe request as it goes on the wire after "GET ": it must start with '/' and
// hold no space or control character, which would end the request line early or smuggle headers
// (or a second request) into it. Such bytes have to be percent-encoded.
#pragma once

#include <algorithm>
#include <string_view>

namespace bhe {

inline bool hasSpaceOrControl(std::string_view text) {
  return std::any_of(text.begin(), text.end(),
                     [](unsigned char c) { return c <= ' ' || c == 0x7f; });
}

inline bool isValidRequestPath(std::string_view path) {
  return !path.empty() && path.front() == '/' && !hasSpaceOrControl(path);
}

}  // namespace bhe
