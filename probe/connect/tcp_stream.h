// The connect phase and its result: a TCP connection on the probe loop (libuv), then a Stream.
#pragma once

#include <uv.h>

#include <functional>
#include <string>

#include "common/uv_handle.h"
#include "probe/connect/stream.h"

namespace bhe {

class TcpStream final : public Stream {
 public:
  // `status`: 0 when connected, else the libuv error (negative errno).
  using Connected = std::function<void(int status)>;

  explicit TcpStream(uv_loop_t* loop);
  // Closes the connection with a reset (RST), not FIN: see the definition.
  ~TcpStream() override;
  TcpStream(const TcpStream&) = delete;
  TcpStream& operator=(const TcpStream&) = delete;

  // Connects to address:port (an IP literal). Returns a libuv error for failures that are known
  // at once (a bad address, no route: ENETUNREACH, no descriptors: EMFILE, also when the socket
  // would take one of the descriptors kept for the web surface, see common/descriptor_budget.h),
  // and then `connected` never runs; otherwise 0, and `connected` runs once unless the stream is
  // destroyed first.
  int connect(const std::string& address, int port, Connected connected);

  void read(StreamReceiver* receiver) override;
  void write(std::string bytes) override;

 private:
  void startReading();
  void onRead(ssize_t nread, const uv_buf_t* buf);
  void end(const StreamEnd& end);

  uv_loop_t* loop_;
  UvHandle<uv_tcp_t> tcp_;  // from connect() on
  Connected connected_;
  StreamReceiver* receiver_ = nullptr;
  bool reading_ = false;  // uv_read_start is in effect
  bool ended_ = false;
};

}  // namespace bhe
