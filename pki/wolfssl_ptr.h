// Owning pointers for wolfSSL objects: each type is freed by its own wolfSSL function. Include
// after <wolfssl/options.h> and the wolfSSL headers that declare the types used.
#pragma once

#include <memory>

namespace bhe {

template <auto Free>
struct FreedBy {
  template <typename T>
  void operator()(T* object) const {
    Free(object);
  }
};

template <typename T, auto Free>
using WolfPtr = std::unique_ptr<T, FreedBy<Free>>;

}  // namespace bhe
