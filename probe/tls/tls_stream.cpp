#include "probe/tls/tls_stream.h"

namespace bhe {
namespace {

// Decrypted bytes handed to the receiver per call.
constexpr std::size_t kPlaintextChunk = 64 * 1024;

}  // namespace

TlsStream::TlsStream(std::unique_ptr<Stream> lower, std::shared_ptr<const TlsContext> context,
                     std::string_view server_name, const TlsPeerHint& hint)
    : lower_(std::move(lower)), client_(std::move(context), server_name, hint) {}

void TlsStream::handshake(HandshakeDone done) {
  handshake_done_ = std::move(done);
  lower_->read(this);
  client_.start();
  advanceHandshake();
}

void TlsStream::advanceHandshake() {
  TlsClient::State state = client_.advance();
  flush();
  if (!handshake_done_) {
    return;  // flush() failed the handshake already
  }
  if (state == TlsClient::State::kFailed) {
    failHandshake({TlsHandshakeFailure::Kind::kLibrary, client_.error().code, client_.error().text,
                   0, client_.bytesReceived(), client_.error().alert,
                   client_.clientCertificateRequested(), client_.presentsClientCertificate()});
  } else if (state == TlsClient::State::kEstablished) {
    HandshakeDone done = std::move(handshake_done_);
    done(nullptr);
  }
}

void TlsStream::failHandshake(TlsHandshakeFailure failure) {
  HandshakeDone done = std::move(handshake_done_);
  if (done) {
    done(&failure);
  }
}

void TlsStream::flush() {
  if (client_.hasOutgoing()) {
    lower_->write(client_.takeOutgoing());
  }
}

void TlsStream::onStreamData(std::string_view bytes) {
  const bool handshaking = client_.state() == TlsClient::State::kHandshaking;
  if (!client_.receive(bytes.data(), bytes.size())) {
    if (handshaking) {
      failHandshake({TlsHandshakeFailure::Kind::kOverflow, 0, client_.error().text, 0,
                     client_.bytesReceived()});
    } else {
      end({StreamEnd::Kind::kTlsOverflow, 0, client_.error().text});
    }
    return;
  }
  if (handshaking) {
    advanceHandshake();
  } else {
    drainPlaintext();
  }
}

void TlsStream::onStreamEnd(const StreamEnd& how) {
  const bool handshaking = client_.state() == TlsClient::State::kHandshaking;
  if (how.kind == StreamEnd::Kind::kEof) {
    client_.markPeerClosed();  // wolfSSL sees a closed transport once the bytes are consumed
    if (handshaking) {
      advanceHandshake();  // completes with wolfSSL's account of the half-finished handshake
    } else {
      drainPlaintext();  // decrypted bytes first, then the close
    }
    return;
  }
  if (!handshaking) {
    end(how);
    return;
  }
  if (how.kind == StreamEnd::Kind::kWriteError) {
    failHandshake(
        {TlsHandshakeFailure::Kind::kWriteFailed, 0, {}, how.uv_error, client_.bytesReceived()});
  } else {
    failHandshake(
        {TlsHandshakeFailure::Kind::kTransportBroke, 0, {}, how.uv_error, client_.bytesReceived()});
  }
}

void TlsStream::read(StreamReceiver* receiver) {
  receiver_ = receiver;
  if (unread_end_) {
    receiver_->onStreamEnd(*unread_end_);
    return;
  }
  drainPlaintext();
}

void TlsStream::write(std::string bytes) {
  if (ended_) {
    return;
  }
  if (!client_.writePlain(bytes)) {
    end({StreamEnd::Kind::kTlsWriteError, 0, client_.error().text});
    return;
  }
  flush();
}

void TlsStream::drainPlaintext() {
  if (receiver_ == nullptr || ended_) {
    return;
  }
  std::string plain;
  while (!ended_) {
    plain.clear();
    TlsClient::ReadStatus status = client_.readPlain(plain, kPlaintextChunk);
    if (!plain.empty()) {
      receiver_->onStreamData(plain);
      continue;
    }
    if (status == TlsClient::ReadStatus::kClosed) {
      end({StreamEnd::Kind::kEof, 0, {}});
    } else if (status == TlsClient::ReadStatus::kError) {
      end({StreamEnd::Kind::kTlsError, 0, client_.error().text, client_.error().alert,
           client_.clientCertificateRequested(), client_.presentsClientCertificate()});
    }
    return;
  }
}

void TlsStream::end(StreamEnd how) {
  if (ended_) {
    return;
  }
  ended_ = true;
  if (receiver_ == nullptr) {
    unread_end_ = std::move(how);
    return;
  }
  receiver_->onStreamEnd(how);
}

}  // namespace bhe
