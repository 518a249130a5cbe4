// A TLS client with no sockets: wolfSSL over two memory buffers. The probe engine owns the
// socket; it feeds the ciphertext it reads into receive(), calls advance()/readPlain(), and
// writes whatever takeOutgoing() returns. Nothing here blocks or touches the network, so the
// same object works on the libuv loop and in unit tests.
//
// Verification never aborts the handshake: the context verifies with VERIFY_PEER and a
// callback that records every (error, depth) and accepts, so the whole presented chain is kept
// and the chain analyser (chain_analysis.h) gives the verdict. Host names are not checked by
// wolfSSL either, for the same reason; the analyser checks them.
//
// Typical use by the engine:
//   TlsClient tls(context, sni);
//   tls.start();                      write tls.takeOutgoing()
//   on socket data: tls.receive(d, n); tls.advance(); write tls.takeOutgoing()
//   on EOF:         tls.markPeerClosed(); tls.advance()
//   kEstablished:   analyzeChain({tls.presentedChain(), ..., tls.verifyErrors()});
//                   tls.writePlain(request); write tls.takeOutgoing()
//                   then on data: tls.receive(); tls.readPlain(body, limit) until kClosed
//   kFailed:        tls_handshake_error with tls.error()
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "pki/client_identity.h"
#include "pki/trust_anchors.h"
#include "pki/x509.h"
#include "probe/tls/signature_cache.h"
#include "probe/tls/verify_error.h"

struct WOLFSSL;
struct WOLFSSL_X509;
struct WOLFSSL_EVP_PKEY;
struct WOLFSSL_CTX;
struct WOLFSSL_X509_STORE_CTX;

namespace bhe {

// "bad_certificate" for 42, "certificate_required" for 116 (TLS AlertDescription); "unknown".
std::string_view tlsAlertName(int code);

struct WolfSslDeleter {
  void operator()(WOLFSSL* ssl) const;
  void operator()(WOLFSSL_CTX* ctx) const;
};

enum class TlsVersion { kTls12, kTls13 };

struct TlsContextOptions {
  // The probe uses TLS 1.2 and 1.3, as Application Gateway does towards backends. Tests narrow
  // the range to provoke version mismatches.
  TlsVersion min_version = TlsVersion::kTls12;
  TlsVersion max_version = TlsVersion::kTls13;
  // The certificate (and chain) and key presented when a server asks for one (mutual TLS);
  // null = none is presented.
  std::shared_ptr<const ClientIdentity> client_identity;
};

// One wolfSSL client context per backend settings: the trust anchors loaded as its CA store,
// the protocol range, the recording verify callback and the cache of certificate signature
// checks (signature_cache.h). Shared by every connection of those settings; immutable once built
// but for that cache.
class TlsContext {
 public:
  // Null with `error` set when wolfSSL refuses the options. Anchors that wolfSSL cannot load
  // are skipped (see loadedAnchors()); the chain analyser still judges with all of them.
  static std::shared_ptr<const TlsContext> create(std::shared_ptr<const TrustAnchors> anchors,
                                                  const TlsContextOptions& options = {},
                                                  std::string* error = nullptr);

  const TrustAnchors& anchors() const { return *anchors_; }
  const std::shared_ptr<const TrustAnchors>& sharedAnchors() const { return anchors_; }
  std::size_t loadedAnchors() const { return loaded_; }
  const SignatureCache& signatureCache() const { return *signatures_; }

 private:
  friend class TlsClient;
  TlsContext() = default;

  std::unique_ptr<WOLFSSL_CTX, WolfSslDeleter> ctx_;
  std::shared_ptr<const TrustAnchors> anchors_;
  std::shared_ptr<const ClientIdentity> client_identity_;
  std::size_t loaded_ = 0;
  std::unique_ptr<SignatureCache> signatures_ = std::make_unique<SignatureCache>();
};

// What a client may know about its server from an earlier probe, to spend less on the handshake
// without changing its outcome.
struct TlsPeerHint {
  // The previous full handshake with this server settled on TLS 1.2. TLS 1.3 is still offered,
  // but without a key share: a TLS 1.2 server never uses one (it makes its own key exchange
  // later), and generating it costs as much as a third of the client's handshake. A server that
  // has meanwhile moved to TLS 1.3 asks for the share with a HelloRetryRequest, once.
  bool last_was_tls12 = false;
};

class TlsClient {
 public:
  // Ciphertext accepted but not yet consumed by wolfSSL; beyond it receive() fails the
  // connection. A TLS record is at most ~16 KiB and wolfSSL consumes record by record, so only
  // a caller that stops calling advance()/readPlain() can get near it.
  static constexpr std::size_t kMaxPendingInbound = 256 * 1024;

  enum class State { kHandshaking, kEstablished, kFailed };

  struct Error {
    int code = 0;      // wolfSSL error code (e.g. -313 alert received), 0 for our own checks
    std::string text;  // "the server sent fatal alert protocol_version (70)", ...
    int alert = -1;    // the fatal alert the server sent (AlertDescription), -1 = none
  };

  // `server_name` is the expected host; sent as SNI unless empty or an IP literal (RFC 6066
  // forbids IP addresses in SNI).
  TlsClient(std::shared_ptr<const TlsContext> context, std::string_view server_name,
            const TlsPeerHint& hint = {});
  ~TlsClient();
  TlsClient(const TlsClient&) = delete;
  TlsClient& operator=(const TlsClient&) = delete;

  // Sends the ClientHello (into the outgoing buffer).
  State start();
  // Ciphertext read from the socket. False once kMaxPendingInbound would be exceeded (the
  // client is then kFailed).
  bool receive(const void* data, std::size_t len);
  // The socket reached EOF (or was reset): wolfSSL sees a closed transport once the received
  // bytes are consumed.
  void markPeerClosed();
  // Drives the handshake as far as the received bytes allow; a no-op once established/failed.
  State advance();
  State state() const { return state_; }
  const Error& error() const { return error_; }

  // Ciphertext to write to the socket (moves it out; empty when nothing is pending).
  std::string takeOutgoing();
  bool hasOutgoing() const { return !outgoing_.empty(); }

  // Established only. Encrypts `data` into the outgoing buffer; false (and kFailed) on error.
  bool writePlain(std::string_view data);

  enum class ReadStatus {
    kOk,      // appended what was available (possibly nothing): receive more, call again
    kClosed,  // the peer finished: close_notify, or EOF after markPeerClosed()
    kError,   // see error()
  };
  // Appends at most `max` decrypted bytes to `out`.
  ReadStatus readPlain(std::string& out, std::size_t max);
  bool closeNotifyReceived() const { return close_notify_; }

  // Queues a close_notify alert (best effort, for a polite close).
  void sendCloseNotify();

  // The server's certificates as presented (DER, wire order); also after a failed verify, and
  // as far as received when the handshake failed later.
  const std::vector<Der>& presentedChain() const { return chain_; }
  // Every (error, depth) the verify callback saw, in the order wolfSSL reported them.
  const std::vector<VerifyError>& verifyErrors() const { return verify_errors_; }

  // The server asked for a client certificate and none is configured (a CertificateRequest
  // arrived; with a configured certificate wolfSSL does not say).
  bool clientCertificateRequested() const { return certificate_requested_; }
  bool presentsClientCertificate() const { return context_->client_identity_ != nullptr; }
  // --- OCSP stapling (revocation checking) ---------------------------------------------------
  // Before start(): sends status_request, so the server may staple an OCSP response for its
  // certificate. wolfSSL then judges that response itself: a revoked one fails the handshake
  // with staplingRevoked() true (the presented chain is still kept), a bad one fails it too.
  void requestOcspStapling();
  bool ocspStaplingRequested() const { return stapling_requested_; }
  // Established: the server stapled a response that wolfSSL accepted as good.
  bool staplingGood() const;
  // The handshake failed because the stapled response says the certificate is revoked.
  bool staplingRevoked() const;
  // The stapled OCSPResponse (DER) as received; wolfSSL hands it over only under TLS 1.2
  // (TLS 1.3 carries it inside the encrypted Certificate message, out of the message callback's
  // reach), so under TLS 1.3 this stays empty and staplingGood()/staplingRevoked() tell.
  const std::string& stapledResponse() const { return stapled_response_; }

  std::string version() const;  // "TLSv1.3"; empty before the handshake is done
  // What the next client for this server may assume (established only; else the default).
  TlsPeerHint hintForNextHandshake() const;
  // The negotiated key exchange group ("X25519"); empty before the handshake is done.
  std::string keyExchangeGroup() const;
  std::string cipher() const;
  std::uint64_t bytesReceived() const { return bytes_received_; }

 private:
  friend class TlsContext;  // installs the callbacks below on the context
  static int recvCallback(WOLFSSL* ssl, char* buf, int size, void* ctx);
  static int sendCallback(WOLFSSL* ssl, char* buf, int size, void* ctx);
  static int verifyCallback(int preverify, WOLFSSL_X509_STORE_CTX* store);
  static int certificateRequested(WOLFSSL* ssl, WOLFSSL_X509** certificate, WOLFSSL_EVP_PKEY** key);
  static void messageCallback(int write_p, int version, int content_type, const void* buf,
                              std::size_t len, WOLFSSL* ssl, void* arg);

  void fail(int code, std::string text);
  void failFromWolfSsl(int ret, std::string_view during);
  void captureChain();
  std::string describePeerBytes() const;

  std::shared_ptr<const TlsContext> context_;
  std::unique_ptr<WOLFSSL, WolfSslDeleter> ssl_;
  State state_ = State::kHandshaking;
  Error error_;
  std::string inbound_;
  std::size_t inbound_pos_ = 0;
  std::string outgoing_;
  std::string first_bytes_;  // the peer's first bytes, to tell a non-TLS peer
  std::uint64_t bytes_received_ = 0;
  bool peer_closed_ = false;
  bool close_notify_ = false;
  bool certificate_requested_ = false;
  std::vector<Der> chain_;
  std::vector<VerifyError> verify_errors_;
  bool stapling_requested_ = false;
  std::string stapled_response_;
};

}  // namespace bhe
