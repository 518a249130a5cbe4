// A byte stream to the backend, as the HTTP phase sees it: TCP (tcp_stream.h), or TLS layered
// over TCP (tls/tls_stream.h), the way node stacks TLS over a socket, so the HTTP phase never
// asks which one it has.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace bhe {

// How a stream ended: facts for classification (classify.h), no prose.
struct StreamEnd {
  enum class Kind {
    kEof,            // the peer closed the connection (for TLS: close_notify, or EOF after data)
    kReset,          // ECONNRESET while reading
    kReadError,      // another read error (uv_error)
    kWriteError,     // the socket refused our bytes (uv_error)
    kTlsError,       // the TLS layer failed after the handshake (tls_text)
    kTlsWriteError,  // encrypting our bytes failed (tls_text)
    kTlsOverflow,    // the peer sent more unprocessed ciphertext than the TLS layer buffers
  };
  Kind kind = Kind::kEof;
  int uv_error = 0;
  std::string tls_text;
  // kTlsError: the fatal alert the server sent (-1 = none), and the client-certificate facts
  // that explain it (the server asked for one; one was presented).
  int tls_alert = -1;
  bool client_certificate_requested = false;
  bool client_certificate_presented = false;
};

class StreamReceiver {
 public:
  // Bytes are valid only during the call.
  virtual void onStreamData(std::string_view bytes) = 0;
  // Exactly once, after the last data; nothing arrives afterwards.
  virtual void onStreamEnd(const StreamEnd& end) = 0;

 protected:
  ~StreamReceiver() = default;
};

class Stream {
 public:
  virtual ~Stream() = default;  // closes the stream; no callback runs afterwards
  // Starts delivering what arrives to `receiver` (which must outlive the stream or stop it by
  // destroying it).
  virtual void read(StreamReceiver* receiver) = 0;
  // Queues bytes for the peer; a failure arrives as onStreamEnd(kWriteError / kTlsWriteError).
  virtual void write(std::string bytes) = 0;
};

}  // namespace bhe
