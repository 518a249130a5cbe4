// The TLS phase's stream: TLS (TlsClient, wolfSSL over memory buffers) layered over another
// Stream (TCP), so that once the handshake is done the HTTP phase reads and writes plaintext
// exactly as it would on TCP.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "probe/connect/stream.h"
#include "probe/tls/tls_client.h"

namespace bhe {

// Why a handshake did not complete: facts for classification.
struct TlsHandshakeFailure {
  enum class Kind {
    kLibrary,   // wolfSSL gave up (code, text): alert, protocol or cipher mismatch, non-TLS peer
    kOverflow,  // the peer sent more unprocessed ciphertext than we buffer (text)
    kTransportBroke,  // the connection was reset or failed (uv_error) after bytes_received bytes
    kWriteFailed,     // the socket refused our handshake bytes (uv_error)
  };
  Kind kind = Kind::kLibrary;
  int code = 0;  // wolfSSL error code
  std::string text;
  int uv_error = 0;
  std::uint64_t bytes_received = 0;
  int alert = -1;  // kLibrary: the fatal alert the server sent, -1 = none
  bool client_certificate_requested = false;
  bool client_certificate_presented = false;
};

class TlsStream final : public Stream, private StreamReceiver {
 public:
  // Null failure: established; the chain and versions are in client().
  using HandshakeDone = std::function<void(const TlsHandshakeFailure* failure)>;

  // `server_name`: SNI and the name the certificate is expected to carry (see TlsClient).
  TlsStream(std::unique_ptr<Stream> lower, std::shared_ptr<const TlsContext> context,
            std::string_view server_name, const TlsPeerHint& hint = {});

  // Starts the handshake; `done` runs once (possibly before this returns, when wolfSSL refuses
  // at once) unless the stream is destroyed first.
  void handshake(HandshakeDone done);
  const TlsClient& client() const { return client_; }
  TlsClient& client() { return client_; }  // e.g. requestOcspStapling() before handshake()

  // Plaintext, once established.
  void read(StreamReceiver* receiver) override;
  void write(std::string bytes) override;

 private:
  void onStreamData(std::string_view bytes) override;
  void onStreamEnd(const StreamEnd& end) override;
  void advanceHandshake();
  void failHandshake(TlsHandshakeFailure failure);
  void drainPlaintext();
  void end(StreamEnd how);
  void flush();

  std::unique_ptr<Stream> lower_;
  TlsClient client_;
  HandshakeDone handshake_done_;
  StreamReceiver* receiver_ = nullptr;
  std::optional<StreamEnd> unread_end_;  // the stream ended before anyone read it
  bool ended_ = false;
};

}  // namespace bhe
