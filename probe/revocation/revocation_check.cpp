// clang-format off
#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>
#include <wolfssl/ocsp.h>
#include <wolfssl/error-ssl.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/openssl/x509v3.h>
// clang-format on

#include "probe/revocation/revocation_check.h"

#include <cstring>
#include <ctime>
#include <memory>

#include "pki/wolfssl_ptr.h"
#include "probe/revocation/der_reader.h"

namespace bhe {
namespace {

using X509Ptr = WolfPtr<WOLFSSL_X509, wolfSSL_X509_free>;
using CertManagerPtr = WolfPtr<WOLFSSL_CERT_MANAGER, wolfSSL_CertManagerFree>;
using OcspResponsePtr = WolfPtr<OcspResponse, wolfSSL_OCSP_RESPONSE_free>;
using OcspCertIdPtr = WolfPtr<WOLFSSL_OCSP_CERTID, wolfSSL_OCSP_CERTID_free>;
using OcspRequestPtr = WolfPtr<OcspRequest, wolfSSL_OCSP_REQUEST_free>;
using CrlPtr = WolfPtr<WOLFSSL_X509_CRL, wolfSSL_X509_CRL_free>;

X509Ptr parse(const Der& der) {
  ensureWolfSslInitialized();
  const unsigned char* p = der.data();
  return X509Ptr(wolfSSL_X509_d2i(nullptr, p, static_cast<int>(der.size())));
}

std::span<const std::uint8_t> bytesOf(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

std::optional<std::int64_t> unixTime(const WOLFSSL_ASN1_TIME* time) {
  if (time == nullptr || time->length == 0) {
    return std::nullopt;
  }
  std::tm tm{};
  if (wolfSSL_ASN1_TIME_to_tm(time, &tm) != WOLFSSL_SUCCESS) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(timegm(&tm));
}

Der serialOf(WOLFSSL_X509* x) {
  unsigned char buffer[64];
  int size = sizeof(buffer);
  if (wolfSSL_X509_get_serial_number(x, buffer, &size) != WOLFSSL_SUCCESS || size <= 0) {
    return {};
  }
  return Der(buffer, buffer + size);
}

CheckedAnswer failure(SourceFailure how, std::string detail = {}) {
  CheckedAnswer out;
  out.answer.outcome = SourceAnswer::Outcome::kFailed;
  out.answer.failure = how;
  out.answer.failure_detail = std::move(detail);
  return out;
}

CheckedAnswer revokedAnswer(const RevocationDetailsFound& found, std::optional<std::int64_t> next) {
  CheckedAnswer out;
  out.answer.outcome = SourceAnswer::Outcome::kRevoked;
  out.answer.revoked_at = found.revoked_at;
  if (found.reason_code) {
    out.answer.reason_code = static_cast<RevocationReasonCode>(*found.reason_code);
  }
  out.next_update = next;
  return out;
}

CertManagerPtr certManagerWith(std::span<const Der> cas) {
  CertManagerPtr cm(wolfSSL_CertManagerNew());
  if (!cm) {
    return cm;
  }
  for (const Der& ca : cas) {
    wolfSSL_CertManagerLoadCABuffer(cm.get(), ca.data(), static_cast<long>(ca.size()),
                                    WOLFSSL_FILETYPE_ASN1);
  }
  return cm;
}

// RFC 6960 4.2.2.2: the issuer itself, or a certificate the issuer issued for OCSP signing.
// wolfSSL 5.5.4 accepts a response signed by any CA it was given, so this is checked here.
std::optional<std::string> unauthorizedSigner(const OcspResponse& response, const Der& issuer) {
  if (response.cert == nullptr || response.certSz == 0) {
    return std::nullopt;  // no certificate included: only the issuer can have signed (see below)
  }
  const Der signer_der(response.cert, response.cert + response.certSz);
  if (signer_der == issuer) {
    return std::nullopt;
  }
  auto signer = Certificate::parse(signer_der);
  auto issuer_cert = Certificate::parse(issuer);
  if (signer == nullptr || issuer_cert == nullptr) {
    return "the responder certificate in the response does not parse";
  }
  X509Ptr x = parse(signer_der);
  const bool ocsp_signing =
      x != nullptr && (wolfSSL_X509_get_extended_key_usage(x.get()) & XKU_OCSP_SIGN) != 0;
  if (!signer->isIssuedBy(*issuer_cert) || !ocsp_signing) {
    return "signed by " + signer->subject() + ", which is neither the issuer (" +
           issuer_cert->subject() + ") nor an OCSP responder it authorized";
  }
  return std::nullopt;
}

}  // namespace

RevocationEndpoints readRevocationEndpoints(const Der& certificate) {
  RevocationEndpoints out;
  X509Ptr x = parse(certificate);
  if (!x) {
    return out;
  }
  if (WOLF_STACK_OF(WOLFSSL_STRING)* urls = wolfSSL_X509_get1_ocsp(x.get())) {
    for (int i = 0; i < wolfSSL_sk_num(urls); ++i) {
      if (const char* url = static_cast<const char*>(wolfSSL_sk_value(urls, i))) {
        out.ocsp_urls.emplace_back(url);
      }
    }
    wolfSSL_X509_email_free(urls);
  }
  auto* points = static_cast<WOLFSSL_STACK*>(
      wolfSSL_X509_get_ext_d2i(x.get(), NID_crl_distribution_points, nullptr, nullptr));
  if (points != nullptr) {
    for (int i = 0; i < wolfSSL_sk_num(points); ++i) {
      auto* point = static_cast<WOLFSSL_DIST_POINT*>(wolfSSL_sk_value(points, i));
      if (point == nullptr || point->distpoint == nullptr ||
          point->distpoint->name.fullname == nullptr) {
        continue;
      }
      WOLFSSL_GENERAL_NAMES* names = point->distpoint->name.fullname;
      for (int j = 0; j < wolfSSL_sk_num(names); ++j) {
        auto* name = static_cast<WOLFSSL_GENERAL_NAME*>(wolfSSL_sk_value(names, j));
        if (name != nullptr && name->type == GEN_URI && name->d.uniformResourceIdentifier) {
          const WOLFSSL_ASN1_STRING* uri = name->d.uniformResourceIdentifier;
          out.crl_urls.emplace_back(reinterpret_cast<const char*>(uri->data),
                                    static_cast<std::size_t>(uri->length));
        }
      }
    }
    wolfSSL_sk_DIST_POINT_pop_free(points, wolfSSL_DIST_POINT_free);
  }
  return out;
}

std::string buildOcspRequest(const Der& certificate, const Der& issuer) {
  X509Ptr cert = parse(certificate);
  X509Ptr ca = parse(issuer);
  if (!cert || !ca) {
    return {};
  }
  OcspCertIdPtr id(wolfSSL_OCSP_cert_to_id(nullptr, cert.get(), ca.get()));
  OcspRequestPtr request(wolfSSL_OCSP_REQUEST_new());
  if (!id || !request) {
    return {};
  }
  // Despite its name, wolfSSL 5.5.4's add0 copies the id's fields and keeps no reference to it.
  if (wolfSSL_OCSP_request_add0_id(request.get(), id.get()) == nullptr) {
    return {};
  }
  // wolfSSL 5.5.4 never allocates here: a null buffer asks for the size, then it writes into
  // ours without moving the pointer.
  const int size = wolfSSL_i2d_OCSP_REQUEST(request.get(), nullptr);
  if (size <= 0) {
    return {};
  }
  std::string out(static_cast<std::size_t>(size), '\0');
  unsigned char* der = reinterpret_cast<unsigned char*>(out.data());
  if (wolfSSL_i2d_OCSP_REQUEST(request.get(), &der) != size) {
    return {};
  }
  return out;
}

CheckedAnswer checkOcspResponse(std::string_view response, const Der& certificate,
                                std::span<const Der> ca_path, std::int64_t now) {
  if (ca_path.empty()) {
    return failure(SourceFailure::kBadSignature, "the issuer is not known");
  }
  const Der& issuer = ca_path.front();
  X509Ptr cert = parse(certificate);
  X509Ptr ca = parse(issuer);
  if (!cert || !ca) {
    return failure(SourceFailure::kUnparsable, "certificate or issuer does not parse");
  }
  // First without verification, to say precisely what is wrong; wolfSSL then verifies.
  const unsigned char* p = reinterpret_cast<const unsigned char*>(response.data());
  OcspResponsePtr parsed(wolfSSL_d2i_OCSP_RESPONSE(nullptr, &p, static_cast<int>(response.size())));
  if (!parsed) {
    return failure(SourceFailure::kUnparsable, "not a DER OCSP response");
  }
  const int status = wolfSSL_OCSP_response_status(parsed.get());
  if (status != OCSP_SUCCESSFUL) {
    return failure(SourceFailure::kResponderStatus, wolfSSL_OCSP_response_status_str(status));
  }
  OcspCertIdPtr id(wolfSSL_OCSP_cert_to_id(nullptr, cert.get(), ca.get()));
  if (!id) {
    return failure(SourceFailure::kUnparsable, "cannot derive the certificate's OCSP id");
  }
  int cert_status = -1;
  int reason = 0;
  WOLFSSL_ASN1_TIME* revoked_at = nullptr;
  WOLFSSL_ASN1_TIME* this_update = nullptr;
  WOLFSSL_ASN1_TIME* next_update = nullptr;
  if (wolfSSL_OCSP_resp_find_status(parsed.get(), id.get(), &cert_status, &reason, &revoked_at,
                                    &this_update, &next_update) != WOLFSSL_SUCCESS) {
    return failure(SourceFailure::kNoStatus, "the response is about other certificates");
  }
  if (cert_status == CERT_UNKNOWN) {
    return failure(SourceFailure::kNoStatus, "the responder does not know this certificate");
  }
  const std::optional<std::int64_t> next = unixTime(next_update);
  if (next && *next < now) {
    return failure(SourceFailure::kStale, "its nextUpdate has passed");
  }
  if (auto why = unauthorizedSigner(*parsed, issuer)) {
    return failure(SourceFailure::kBadSignature, *why);
  }

  // Verification proper. A responder certificate in the response is checked against the path
  // above it; without one, only the issuer may have signed, so only the issuer is loaded.
  const bool includes_signer = parsed->cert != nullptr && parsed->certSz > 0;
  CertManagerPtr cm = certManagerWith(includes_signer ? ca_path : ca_path.first(1));
  OcspRequestPtr request(wolfSSL_OCSP_REQUEST_new());
  if (!cm || !request || wolfSSL_CertManagerEnableOCSP(cm.get(), 0) != WOLFSSL_SUCCESS ||
      wolfSSL_OCSP_request_add0_id(request.get(), id.get()) == nullptr) {  // copies, see above
    return failure(SourceFailure::kUnparsable, "wolfSSL could not set up the check");
  }
  std::string copy(response);  // wolfSSL takes a non-const buffer
  CertStatus checked;
  std::memset(&checked, 0, sizeof(checked));
  const int rc = wolfSSL_CertManagerCheckOCSPResponse(
      cm.get(), reinterpret_cast<byte*>(copy.data()), static_cast<int>(copy.size()), nullptr,
      &checked, nullptr, request.get());
  if (rc == WOLFSSL_SUCCESS) {
    CheckedAnswer out;
    out.answer.outcome = SourceAnswer::Outcome::kGood;
    out.next_update = next;
    return out;
  }
  if (rc == OCSP_CERT_REVOKED) {
    return revokedAnswer(findOcspRevocation(bytesOf(response), serialOf(cert.get())), next);
  }
  return failure(SourceFailure::kBadSignature,
                 includes_signer ? "its signature does not verify with the key of the responder "
                                   "certificate it includes, or that certificate with the issuer's"
                                 : "its signature does not verify with the issuer's key");
}

std::optional<std::int64_t> crlNextUpdate(std::string_view crl) {
  ensureWolfSslInitialized();
  const unsigned char* p = reinterpret_cast<const unsigned char*>(crl.data());
  CrlPtr parsed(wolfSSL_d2i_X509_CRL(nullptr, p, static_cast<int>(crl.size())));
  if (!parsed) {
    return std::nullopt;
  }
  return unixTime(wolfSSL_X509_CRL_get_nextUpdate(parsed.get()));
}

CheckedAnswer checkCrl(std::string_view crl, const Der& certificate, const Der& issuer,
                       std::int64_t now) {
  ensureWolfSslInitialized();
  const unsigned char* p = reinterpret_cast<const unsigned char*>(crl.data());
  CrlPtr parsed(wolfSSL_d2i_X509_CRL(nullptr, p, static_cast<int>(crl.size())));
  if (!parsed) {
    return failure(SourceFailure::kUnparsable, "not a DER CRL");
  }
  const std::optional<std::int64_t> next = unixTime(wolfSSL_X509_CRL_get_nextUpdate(parsed.get()));
  if (next && *next < now) {
    return failure(SourceFailure::kStale, "its nextUpdate has passed");
  }
  const Der issuers[] = {issuer};
  CertManagerPtr cm = certManagerWith(issuers);
  if (!cm || wolfSSL_CertManagerEnableCRL(cm.get(), 0) != WOLFSSL_SUCCESS) {
    return failure(SourceFailure::kUnparsable, "wolfSSL could not set up the check");
  }
  const int loaded =
      wolfSSL_CertManagerLoadCRLBuffer(cm.get(), reinterpret_cast<const unsigned char*>(crl.data()),
                                       static_cast<long>(crl.size()), WOLFSSL_FILETYPE_ASN1);
  if (loaded != WOLFSSL_SUCCESS) {
    return failure(SourceFailure::kBadSignature, "not signed by the certificate's issuer");
  }
  Der cert_der = certificate;  // wolfSSL takes a non-const buffer
  const int rc =
      wolfSSL_CertManagerCheckCRL(cm.get(), cert_der.data(), static_cast<int>(cert_der.size()));
  if (rc == WOLFSSL_SUCCESS) {
    CheckedAnswer out;
    out.answer.outcome = SourceAnswer::Outcome::kGood;
    out.next_update = next;
    return out;
  }
  if (rc == CRL_CERT_REVOKED) {
    X509Ptr cert = parse(certificate);
    return revokedAnswer(findCrlRevocation(bytesOf(crl), cert ? serialOf(cert.get()) : Der{}),
                         next);
  }
  if (rc == CRL_MISSING) {
    return failure(SourceFailure::kBadSignature, "the CRL is not the certificate issuer's");
  }
  return failure(SourceFailure::kUnparsable, "wolfSSL error " + std::to_string(rc));
}

}  // namespace bhe
