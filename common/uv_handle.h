// The one way this code base owns a libuv handle.
//
// libuv frees nothing itself: a handle's memory must stay valid until its close callback has run,
// which is a later loop turn than uv_close(). So the handle lives on the heap, apart from its
// owner, and is freed by that close callback; the owner can be destroyed at any time (also from
// inside one of the handle's own callbacks). Closing clears `data`: a callback libuv still
// delivers after the close (a connect or write request cancelled with UV_ECANCELED) finds
// `handle->data == nullptr` and must return without touching its former owner.
//
//   UvHandle<uv_timer_t> timer([&](uv_timer_t* h) { return uv_timer_init(loop, h); });
//   timer->data = this;
//   uv_timer_start(timer.get(), &onTimer, 100, 0);
//   ...                      // ~UvHandle (or close()) stops and closes it
#pragma once

#include <uv.h>

#include <utility>

namespace bhe {

template <typename Handle>
class UvHandle {
 public:
  UvHandle() = default;
  // `init` is the handle's uv_*_init call; its return value is kept (see ok(), error()). A
  // handle whose init failed is freed at once: libuv never knew it.
  template <typename Init>
  explicit UvHandle(Init&& init) : handle_(new Handle{}) {
    error_ = std::forward<Init>(init)(handle_);
    if (error_ != 0) {
      delete handle_;
      handle_ = nullptr;
    }
  }
  ~UvHandle() { close(); }

  UvHandle(UvHandle&& other) noexcept
      : handle_(std::exchange(other.handle_, nullptr)), error_(other.error_) {}
  UvHandle& operator=(UvHandle&& other) noexcept {
    if (this != &other) {
      close();
      handle_ = std::exchange(other.handle_, nullptr);
      error_ = other.error_;
    }
    return *this;
  }
  UvHandle(const UvHandle&) = delete;
  UvHandle& operator=(const UvHandle&) = delete;

  bool ok() const { return handle_ != nullptr; }
  int error() const { return error_; }  // the init call's result (0 = fine)
  Handle* get() const { return handle_; }
  Handle* operator->() const { return handle_; }
  uv_handle_t* base() const { return reinterpret_cast<uv_handle_t*>(handle_); }
  uv_stream_t* stream() const { return reinterpret_cast<uv_stream_t*>(handle_); }

  // Detaches the owner and closes the handle; its memory goes with the close callback.
  void close() {
    if (handle_ == nullptr) {
      return;
    }
    Handle* handle = std::exchange(handle_, nullptr);
    handle->data = nullptr;
    uv_close(reinterpret_cast<uv_handle_t*>(handle),
             [](uv_handle_t* h) { delete reinterpret_cast<Handle*>(h); });
  }

 private:
  Handle* handle_ = nullptr;
  int error_ = 0;
};

}  // namespace bhe
