// clang-format off
#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>
#include <wolfssl/error-ssl.h>
// clang-format on

#include "probe/tls/tls_client.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <utility>

#include "probe/tls/host_match.h"

namespace bhe {
namespace {

std::string_view alertNameOf(int code) {
  switch (code) {
    case 0:
      return "close_notify";
    case 10:
      return "unexpected_message";
    case 20:
      return "bad_record_mac";
    case 22:
      return "record_overflow";
    case 40:
      return "handshake_failure";
    case 42:
      return "bad_certificate";
    case 43:
      return "unsupported_certificate";
    case 44:
      return "certificate_revoked";
    case 45:
      return "certificate_expired";
    case 46:
      return "certificate_unknown";
    case 47:
      return "illegal_parameter";
    case 48:
      return "unknown_ca";
    case 49:
      return "access_denied";
    case 50:
      return "decode_error";
    case 51:
      return "decrypt_error";
    case 70:
      return "protocol_version";
    case 71:
      return "insufficient_security";
    case 80:
      return "internal_error";
    case 86:
      return "inappropriate_fallback";
    case 90:
      return "user_canceled";
    case 109:
      return "missing_extension";
    case 110:
      return "unsupported_extension";
    case 112:
      return "unrecognized_name";
    case 116:
      return "certificate_required";
    case 120:
      return "no_application_protocol";
    default:
      return "unknown";
  }
}

std::string wolfSslErrorText(int code) {
  char buffer[WOLFSSL_MAX_ERROR_SZ] = {};
  wolfSSL_ERR_error_string_n(static_cast<unsigned long>(code), buffer, sizeof(buffer));
  return buffer;
}

// Offered in this order in supported_groups, and the first one as the TLS 1.3 key share. wolfSSL's
// own default lists P-521 first (servers that honour the client's order, as nginx does by default
// for TLS 1.2, then pick it) and sends a P-256 key share. Debian's wolfSSL does elliptic curves
// with generic big-integer code, where one P-521 exchange costs several milliseconds and P-256
// about a millisecond, while X25519 has its own fast implementation. X25519 and P-256 are what
// common servers accept first (OpenSSL's, nginx's and Go's defaults), so no HelloRetryRequest is
// needed. The rest of what wolfSSL offered before follows, last, for servers restricted to one
// of them (they cost a HelloRetryRequest in TLS 1.3, nothing to anyone else).
constexpr std::array<int, 6> kGroups = {WOLFSSL_ECC_X25519,    WOLFSSL_ECC_SECP256R1,
                                        WOLFSSL_ECC_SECP384R1, WOLFSSL_ECC_SECP521R1,
                                        WOLFSSL_ECC_X448,      WOLFSSL_FFDHE_2048};

int protocolVersion(TlsVersion v) {
  return v == TlsVersion::kTls12 ? TLS1_2_VERSION : TLS1_3_VERSION;
}

// wolfSSL's public-key callbacks: certificate signatures and the server's handshake signature
// go through the context's cache (signature_cache.h).
int rsaVerifyCallback(WOLFSSL* /*ssl*/, unsigned char* sig, unsigned int sig_size,
                      unsigned char** out, const unsigned char* key, unsigned int key_size,
                      void* cache) {
  return static_cast<SignatureCache*>(cache)->rsaVerifyInline(sig, sig_size, out, key, key_size);
}

int eccVerifyCallback(WOLFSSL* /*ssl*/, const unsigned char* sig, unsigned int sig_size,
                      const unsigned char* hash, unsigned int hash_size, const unsigned char* key,
                      unsigned int key_size, int* verified, void* cache) {
  return static_cast<SignatureCache*>(cache)->eccVerify(sig, sig_size, hash, hash_size, key,
                                                        key_size, verified);
}

// A TLS record starts with a content type 20..24 and major version 3.
bool looksLikeTls(std::string_view first) {
  if (first.empty()) {
    return true;
  }
  const auto type = static_cast<unsigned char>(first[0]);
  if (type < 20 || type > 24) {
    return false;
  }
  return first.size() < 2 || first[1] == 3;
}

std::string printable(std::string_view bytes) {
  std::string out;
  for (unsigned char c : bytes) {
    if (c == '\r' || c == '\n') {
      break;
    }
    if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
    } else {
      char hex[5];
      std::snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    }
  }
  return out;
}

}  // namespace

std::string_view tlsAlertName(int code) {
  return alertNameOf(code);
}

void WolfSslDeleter::operator()(WOLFSSL* ssl) const {
  wolfSSL_free(ssl);
}
void WolfSslDeleter::operator()(WOLFSSL_CTX* ctx) const {
  wolfSSL_CTX_free(ctx);
}

std::shared_ptr<const TlsContext> TlsContext::create(std::shared_ptr<const TrustAnchors> anchors,
                                                     const TlsContextOptions& options,
                                                     std::string* error) {
  ensureWolfSslInitialized();
  auto set_error = [&](std::string message) {
    if (error != nullptr) {
      *error = std::move(message);
    }
    return nullptr;
  };
  if (anchors == nullptr) {
    anchors = TrustAnchors::fromCertificates({});
  }
  std::shared_ptr<TlsContext> context(new TlsContext());
  context->anchors_ = std::move(anchors);
  context->ctx_.reset(wolfSSL_CTX_new(wolfSSLv23_client_method()));
  if (!context->ctx_) {
    return set_error("wolfSSL_CTX_new failed");
  }
  WOLFSSL_CTX* ctx = context->ctx_.get();
  // Before the version range: wolfSSL accepts a group list only while the context allows TLS 1.3.
  std::array<int, kGroups.size()> groups = kGroups;  // wolfSSL takes a non-const pointer
  if (wolfSSL_CTX_set_groups(ctx, groups.data(), static_cast<int>(groups.size())) !=
      WOLFSSL_SUCCESS) {
    return set_error("wolfSSL refused the key exchange groups");
  }
  if (wolfSSL_CTX_set_min_proto_version(ctx, protocolVersion(options.min_version)) !=
          WOLFSSL_SUCCESS ||
      wolfSSL_CTX_set_max_proto_version(ctx, protocolVersion(options.max_version)) !=
          WOLFSSL_SUCCESS) {
    return set_error("wolfSSL refused the TLS version range");
  }
  for (std::size_t i = 0; i < context->anchors_->size(); ++i) {
    const Der& der = context->anchors_->at(i).der();
    if (wolfSSL_CTX_load_verify_buffer(ctx, der.data(), static_cast<long>(der.size()),
                                       WOLFSSL_FILETYPE_ASN1) == WOLFSSL_SUCCESS) {
      ++context->loaded_;
    }
  }
  // VERIFY_NONE would hide every error (the callback then always sees preverify=1); a callback
  // that records and accepts keeps the errors and the whole presented chain.
  wolfSSL_CTX_set_verify(ctx, WOLFSSL_VERIFY_PEER, &TlsClient::verifyCallback);
  if (options.client_identity) {
    if (std::string problem = useClientIdentity(ctx, *options.client_identity); !problem.empty()) {
      return set_error("wolfSSL refused the client certificate: " + problem);
    }
    context->client_identity_ = options.client_identity;
  }
  // Runs when a CertificateRequest arrives and no certificate is loaded (TLS 1.2 and 1.3): it
  // sends none, and remembers, so that a server refusing the handshake for want of a client
  // certificate can be told apart. (wolfSSL's other hook, the cert setup callback, makes a TLS
  // 1.3 client without a certificate fail with BUFFER_E, so it is not used.)
  if (!options.client_identity) {
    wolfSSL_CTX_set_client_cert_cb(ctx, &TlsClient::certificateRequested);
  }
  wolfSSL_CTX_SetRsaVerifyCb(ctx, &rsaVerifyCallback);
  wolfSSL_CTX_SetEccVerifyCb(ctx, &eccVerifyCallback);
  // Lets a connection ask for a stapled OCSP response (requestOcspStapling); nothing is asked
  // for unless it does.
  wolfSSL_CTX_EnableOCSPStapling(ctx);
  wolfSSL_CTX_SetIORecv(ctx, &TlsClient::recvCallback);
  wolfSSL_CTX_SetIOSend(ctx, &TlsClient::sendCallback);
  return context;
}

TlsClient::TlsClient(std::shared_ptr<const TlsContext> context, std::string_view server_name,
                     const TlsPeerHint& hint)
    : context_(std::move(context)) {
  // wolfSSL_new only takes a reference on the shared context; its settings stay untouched.
  ssl_.reset(wolfSSL_new(context_->ctx_.get()));
  if (!ssl_) {
    fail(0, "wolfSSL_new failed");
    return;
  }
  wolfSSL_SetIOReadCtx(ssl_.get(), this);
  wolfSSL_SetIOWriteCtx(ssl_.get(), this);
  wolfSSL_set_ex_data(ssl_.get(), 0, this);
  wolfSSL_SetCertCbCtx(ssl_.get(), this);
  wolfSSL_SetRsaVerifyCtx(ssl_.get(), context_->signatures_.get());
  wolfSSL_SetEccVerifyCtx(ssl_.get(), context_->signatures_.get());
  std::string_view sni = server_name;
  if (!sni.empty() && sni.back() == '.') {
    sni.remove_suffix(1);  // RFC 6066: no trailing dot in SNI
  }
  if (!sni.empty() && !isIpHost(sni) &&
      wolfSSL_UseSNI(ssl_.get(), WOLFSSL_SNI_HOST_NAME, sni.data(),
                     static_cast<unsigned short>(std::min<std::size_t>(sni.size(), 255))) !=
          WOLFSSL_SUCCESS) {
    fail(0, "wolfSSL refused the SNI host name");
  }
  if (hint.last_was_tls12 && wolfSSL_NoKeyShares(ssl_.get()) != WOLFSSL_SUCCESS) {
    fail(0, "wolfSSL refused to leave out the key share");
  }
}

TlsClient::~TlsClient() = default;

int TlsClient::recvCallback(WOLFSSL* /*ssl*/, char* buf, int size, void* ctx) {
  auto* self = static_cast<TlsClient*>(ctx);
  const std::size_t available = self->inbound_.size() - self->inbound_pos_;
  if (available == 0) {
    return self->peer_closed_ ? WOLFSSL_CBIO_ERR_CONN_CLOSE : WOLFSSL_CBIO_ERR_WANT_READ;
  }
  const std::size_t n = std::min<std::size_t>(available, static_cast<std::size_t>(size));
  std::memcpy(buf, self->inbound_.data() + self->inbound_pos_, n);
  self->inbound_pos_ += n;
  if (self->inbound_pos_ == self->inbound_.size()) {
    self->inbound_.clear();
    self->inbound_pos_ = 0;
  }
  return static_cast<int>(n);
}

int TlsClient::sendCallback(WOLFSSL* /*ssl*/, char* buf, int size, void* ctx) {
  auto* self = static_cast<TlsClient*>(ctx);
  self->outgoing_.append(buf, static_cast<std::size_t>(size));
  return size;
}

int TlsClient::certificateRequested(WOLFSSL* ssl, WOLFSSL_X509** /*certificate*/,
                                    WOLFSSL_EVP_PKEY** /*key*/) {
  if (auto* self = static_cast<TlsClient*>(wolfSSL_get_ex_data(ssl, 0))) {
    self->certificate_requested_ = true;
  }
  return 0;  // no certificate to offer: an empty Certificate message is sent
}

int TlsClient::verifyCallback(int preverify, WOLFSSL_X509_STORE_CTX* store) {
  auto* self = static_cast<TlsClient*>(store->userCtx);
  const int code = wolfSSL_X509_STORE_CTX_get_error(store);
  if (self != nullptr && (preverify == 0 || code != 0)) {
    VerifyError error;
    error.code = code;
    error.depth = wolfSSL_X509_STORE_CTX_get_error_depth(store);
    error.text = verifyErrorText(code);
    self->verify_errors_.push_back(std::move(error));
  }
  return 1;  // never abort: the chain analyser decides from the whole presented chain
}

void TlsClient::requestOcspStapling() {
  if (!ssl_ || state_ != State::kHandshaking) {
    return;
  }
  if (wolfSSL_UseOCSPStapling(ssl_.get(), WOLFSSL_CSR_OCSP, 0) == WOLFSSL_SUCCESS) {
    stapling_requested_ = true;
    wolfSSL_set_msg_callback(ssl_.get(), &TlsClient::messageCallback);
    wolfSSL_set_msg_callback_arg(ssl_.get(), this);
  }
}

void TlsClient::messageCallback(int write_p, int /*version*/, int content_type, const void* buf,
                                std::size_t len, WOLFSSL* /*ssl*/, void* arg) {
  // CertificateStatus: type 22, length(3), status_type 1 (ocsp), length(3), OCSPResponse.
  constexpr int kHandshake = 22;
  constexpr unsigned char kCertificateStatus = 22;
  const auto* bytes = static_cast<const unsigned char*>(buf);
  if (write_p != 0 || content_type != kHandshake || len < 8 || bytes[0] != kCertificateStatus ||
      bytes[4] != WOLFSSL_CSR_OCSP) {
    return;
  }
  const std::size_t size = (std::size_t{bytes[5]} << 16) | (std::size_t{bytes[6]} << 8) | bytes[7];
  if (size <= len - 8) {
    static_cast<TlsClient*>(arg)->stapled_response_.assign(reinterpret_cast<const char*>(bytes + 8),
                                                           size);
  }
}

bool TlsClient::staplingGood() const {
  if (!stapling_requested_ || state_ != State::kEstablished) {
    return false;
  }
  // wolfSSL records the producedAt of a stapled response it accepted, and only then.
  byte produced[64];
  int format = 0;
  return wolfSSL_get_ocsp_producedDate(ssl_.get(), produced, sizeof(produced), &format) == 0;
}

bool TlsClient::staplingRevoked() const {
  return stapling_requested_ && state_ == State::kFailed && error_.code == OCSP_CERT_REVOKED;
}

TlsClient::State TlsClient::start() {
  return advance();
}

bool TlsClient::receive(const void* data, std::size_t len) {
  if (state_ == State::kFailed) {
    return false;
  }
  if (inbound_.size() - inbound_pos_ + len > kMaxPendingInbound) {
    fail(0, "more than " + std::to_string(kMaxPendingInbound / 1024) +
                " KiB of unprocessed data from the peer");
    return false;
  }
  if (inbound_pos_ > 0 && inbound_pos_ >= inbound_.size() / 2) {
    inbound_.erase(0, inbound_pos_);
    inbound_pos_ = 0;
  }
  const auto* bytes = static_cast<const char*>(data);
  if (first_bytes_.size() < 32) {
    first_bytes_.append(bytes, std::min<std::size_t>(len, 32 - first_bytes_.size()));
  }
  inbound_.append(bytes, len);
  bytes_received_ += len;
  return true;
}

void TlsClient::markPeerClosed() {
  peer_closed_ = true;
}

TlsClient::State TlsClient::advance() {
  if (state_ != State::kHandshaking) {
    return state_;
  }
  const int ret = wolfSSL_connect(ssl_.get());
  if (ret == WOLFSSL_SUCCESS) {
    state_ = State::kEstablished;
    captureChain();
    return state_;
  }
  const int err = wolfSSL_get_error(ssl_.get(), ret);
  if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
    return state_;
  }
  captureChain();
  failFromWolfSsl(err, "handshake");
  return state_;
}

void TlsClient::fail(int code, std::string text) {
  if (state_ == State::kFailed) {
    return;
  }
  state_ = State::kFailed;
  error_.code = code;
  error_.text = std::move(text);
}

std::string TlsClient::describePeerBytes() const {
  if (first_bytes_.starts_with("HTTP/")) {
    return "the peer is not speaking TLS: it answered with plain HTTP (\"" +
           printable(first_bytes_) + "\")";
  }
  return "the peer is not speaking TLS: its first bytes are \"" + printable(first_bytes_) + "\"";
}

void TlsClient::failFromWolfSsl(int err, std::string_view during) {
  const std::string library = "wolfSSL error " + std::to_string(err) + ": " + wolfSslErrorText(err);
  if (!looksLikeTls(first_bytes_)) {
    fail(err, describePeerBytes() + " (" + library + ")");
    return;
  }
  WOLFSSL_ALERT_HISTORY history{};
  if (wolfSSL_get_alert_history(ssl_.get(), &history) == WOLFSSL_SUCCESS &&
      history.last_rx.level == alert_fatal) {
    fail(err, "the server sent fatal alert " + std::string(alertNameOf(history.last_rx.code)) +
                  " (" + std::to_string(history.last_rx.code) + ") during the " +
                  std::string(during) + " (" + library + ")");
    error_.alert = history.last_rx.code;
    return;
  }
  if (peer_closed_ && inbound_pos_ == inbound_.size()) {
    fail(err, "the peer closed the connection during the " + std::string(during) + " after " +
                  std::to_string(bytes_received_) + " bytes (" + library + ")");
    return;
  }
  if (history.last_tx.level == alert_fatal) {
    fail(err, "the client aborted the " + std::string(during) + " with alert " +
                  std::string(alertNameOf(history.last_tx.code)) + " (" +
                  std::to_string(history.last_tx.code) + "): " + library);
    return;
  }
  fail(err, library);
}

void TlsClient::captureChain() {
  WOLFSSL_X509_CHAIN* chain = wolfSSL_get_peer_chain(ssl_.get());
  const int count = chain != nullptr ? wolfSSL_get_chain_count(chain) : 0;
  if (count <= 0) {
    return;
  }
  chain_.clear();
  for (int i = 0; i < count; ++i) {
    const unsigned char* der = wolfSSL_get_chain_cert(chain, i);
    const int len = wolfSSL_get_chain_length(chain, i);
    if (der != nullptr && len > 0) {
      chain_.emplace_back(der, der + len);
    }
  }
}

std::string TlsClient::takeOutgoing() {
  return std::exchange(outgoing_, std::string());
}

bool TlsClient::writePlain(std::string_view data) {
  if (state_ != State::kEstablished) {
    return false;
  }
  while (!data.empty()) {
    const int chunk = static_cast<int>(std::min<std::size_t>(data.size(), 16384));
    const int ret = wolfSSL_write(ssl_.get(), data.data(), chunk);
    if (ret <= 0) {
      failFromWolfSsl(wolfSSL_get_error(ssl_.get(), ret), "write");
      return false;
    }
    data.remove_prefix(static_cast<std::size_t>(ret));
  }
  return true;
}

TlsClient::ReadStatus TlsClient::readPlain(std::string& out, std::size_t max) {
  if (state_ == State::kFailed) {
    return ReadStatus::kError;
  }
  if (state_ != State::kEstablished) {
    return ReadStatus::kOk;
  }
  if (close_notify_) {
    return ReadStatus::kClosed;
  }
  std::size_t got = 0;
  char buffer[16384];
  while (got < max) {
    const int want = static_cast<int>(std::min(sizeof(buffer), max - got));
    const int ret = wolfSSL_read(ssl_.get(), buffer, want);
    if (ret > 0) {
      out.append(buffer, static_cast<std::size_t>(ret));
      got += static_cast<std::size_t>(ret);
      continue;
    }
    const int err = wolfSSL_get_error(ssl_.get(), ret);
    if (err == WOLFSSL_ERROR_WANT_READ || err == WOLFSSL_ERROR_WANT_WRITE) {
      return ReadStatus::kOk;
    }
    if (err == WOLFSSL_ERROR_ZERO_RETURN) {
      close_notify_ = true;
      return ReadStatus::kClosed;
    }
    // Many servers (HTTP/1.0 read-until-close) just close the socket without close_notify; all
    // data that arrived has been decrypted, so that is an ordinary end for a probe.
    if (peer_closed_ && inbound_pos_ == inbound_.size() &&
        (err == SOCKET_PEER_CLOSED_E || err == SOCKET_ERROR_E)) {
      return ReadStatus::kClosed;
    }
    failFromWolfSsl(err, "read");
    return ReadStatus::kError;
  }
  return ReadStatus::kOk;
}

void TlsClient::sendCloseNotify() {
  if (state_ == State::kEstablished && ssl_) {
    wolfSSL_shutdown(ssl_.get());
  }
}

std::string TlsClient::version() const {
  if (state_ != State::kEstablished) {
    return {};
  }
  const char* v = wolfSSL_get_version(ssl_.get());
  return v != nullptr ? v : "";
}

TlsPeerHint TlsClient::hintForNextHandshake() const {
  TlsPeerHint hint;
  hint.last_was_tls12 =
      state_ == State::kEstablished && wolfSSL_version(ssl_.get()) == TLS1_2_VERSION;
  return hint;
}

std::string TlsClient::keyExchangeGroup() const {
  if (state_ != State::kEstablished) {
    return {};
  }
  const char* group = wolfSSL_get_curve_name(ssl_.get());
  return group != nullptr ? group : "";
}

std::string TlsClient::cipher() const {
  if (state_ != State::kEstablished) {
    return {};
  }
  const char* c = wolfSSL_get_cipher_name(ssl_.get());
  return c != nullptr ? c : "";
}

}  // namespace bhe
