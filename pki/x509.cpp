// clang-format off
#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>
#include <wolfssl/openssl/x509v3.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/ecc.h>
// clang-format on

#include "pki/x509.h"

#include <arpa/inet.h>

#include <algorithm>
#include <cstdio>
#include <mutex>
#include <optional>

#include "pki/der.h"
#include "pki/wolfssl_ptr.h"

namespace bhe {
namespace {

std::optional<std::int64_t> parseAsn1Time(const WOLFSSL_ASN1_TIME* t) {
  if (t == nullptr || t->length <= 0 || t->length > static_cast<int>(sizeof(t->data))) {
    return std::nullopt;
  }
  return derTimeToUnix(std::string_view(reinterpret_cast<const char*>(t->data),
                                        static_cast<std::size_t>(t->length)));
}

std::string_view asn1Bytes(WOLFSSL_ASN1_STRING* s) {
  if (s == nullptr) {
    return {};
  }
  const int len = wolfSSL_ASN1_STRING_length(s);
  const unsigned char* data = wolfSSL_ASN1_STRING_get0_data(s);
  if (data == nullptr || len <= 0) {
    return {};
  }
  return {reinterpret_cast<const char*>(data), static_cast<std::size_t>(len)};
}

// RFC 4514 escaping of one attribute value; control bytes become \XX so a hostile certificate
// cannot put line breaks into logs or the status page.
void appendEscaped(std::string& out, std::string_view value) {
  for (std::size_t i = 0; i < value.size(); ++i) {
    const auto c = static_cast<unsigned char>(value[i]);
    const bool edge_space = c == ' ' && (i == 0 || i + 1 == value.size());
    if (c == ',' || c == '+' || c == '"' || c == '\\' || c == '<' || c == '>' || c == ';' ||
        (c == '#' && i == 0) || edge_space) {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c == 0x7f) {
      char hex[4];
      std::snprintf(hex, sizeof(hex), "\\%02X", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
}

std::string formatName(WOLFSSL_X509_NAME* name) {
  std::string out;
  if (name == nullptr) {
    return out;
  }
  // wolfSSL keeps the encoding order (least specific first); RFC 4514 prints it reversed.
  for (int i = wolfSSL_X509_NAME_entry_count(name) - 1; i >= 0; --i) {
    WOLFSSL_X509_NAME_ENTRY* entry = wolfSSL_X509_NAME_get_entry(name, i);
    if (entry == nullptr) {
      continue;
    }
    WOLFSSL_ASN1_OBJECT* object = wolfSSL_X509_NAME_ENTRY_get_object(entry);
    const int nid = wolfSSL_OBJ_obj2nid(object);
    const char* short_name = nid > 0 ? wolfSSL_OBJ_nid2sn(nid) : nullptr;
    char oid[80] = {};
    if (short_name == nullptr || *short_name == '\0') {
      wolfSSL_OBJ_obj2txt(oid, sizeof(oid), object, 1);
      short_name = oid;
    }
    if (!out.empty()) {
      out += ',';
    }
    out += short_name;
    out += '=';
    appendEscaped(out, asn1Bytes(wolfSSL_X509_NAME_ENTRY_get_data(entry)));
  }
  return out;
}

// wolfSSL_i2d_X509_NAME_canon (wolfSSL 5.5) leaks its UTF-8 copy of a countryName that is not
// two characters long, once per call (found by fuzzing): a server presenting such a certificate
// would grow the exporter with every probe. Such names, invalid anyway, get the printed form.
bool canonicalFormLeaks(WOLFSSL_X509_NAME* name) {
  for (int i = 0; i < wolfSSL_X509_NAME_entry_count(name); ++i) {
    WOLFSSL_X509_NAME_ENTRY* entry = wolfSSL_X509_NAME_get_entry(name, i);
    if (entry != nullptr &&
        wolfSSL_OBJ_obj2nid(wolfSSL_X509_NAME_ENTRY_get_object(entry)) == NID_countryName &&
        asn1Bytes(wolfSSL_X509_NAME_ENTRY_get_data(entry)).size() != 2) {
      return true;
    }
  }
  return false;
}

// Canonical encoding (RFC 5280 §7.1 style folding) so names that differ only in case or string
// type still chain, as OpenSSL's X509_NAME_cmp does; falls back to the printed form.
std::string nameKey(WOLFSSL_X509_NAME* name, const std::string& printed) {
  unsigned char* canon = nullptr;
  const int len =
      name != nullptr && !canonicalFormLeaks(name) ? wolfSSL_i2d_X509_NAME_canon(name, &canon) : -1;
  if (len <= 0 || canon == nullptr) {
    // A name of attributes wolfSSL does not canonicalize still gets a buffer (found by fuzzing).
    wolfSSL_OPENSSL_free(canon);
    return "printed:" + printed;
  }
  std::string key(reinterpret_cast<const char*>(canon), static_cast<std::size_t>(len));
  wolfSSL_OPENSSL_free(canon);
  return key;
}

// The SubjectPublicKeyInfo field of a certificate's tbsCertificate (RFC 5280 §4.1): after the
// optional [0] version, serial, signature algorithm, issuer, validity and subject.
std::optional<std::span<const std::uint8_t>> findSubjectPublicKeyInfo(
    std::span<const std::uint8_t> der) {
  auto certificate = readDerTlv(der);
  if (!certificate || certificate->tag != 0x30) {
    return std::nullopt;
  }
  auto tbs = readDerTlv(certificate->value);
  if (!tbs || tbs->tag != 0x30) {
    return std::nullopt;
  }
  std::span<const std::uint8_t> rest = tbs->value;
  auto field = readDerTlv(rest);
  if (field && field->tag == 0xa0) {
    rest = rest.subspan(field->size);
  }
  for (int skip = 0; skip < 5; ++skip) {  // serial, signature, issuer, validity, subject
    field = readDerTlv(rest);
    if (!field) {
      return std::nullopt;
    }
    rest = rest.subspan(field->size);
  }
  field = readDerTlv(rest);
  if (!field || field->tag != 0x30) {
    return std::nullopt;
  }
  return rest.first(field->size);
}

}  // namespace

// subjectAltName straight from the DER: wolfSSL_X509_get_ext_d2i() leaks the X509_NAME of a
// directoryName entry (wolfSSL 5.5.4; e.g. the Izenpe root of the system bundle), and this walk
// also keeps the certificate's own order of the names.
void Certificate::readSubjectAltName(std::span<const std::uint8_t> der, Certificate& cert) {
  static constexpr std::uint8_t kSanOid[] = {0x55, 0x1d, 0x11};  // 2.5.29.17
  auto certificate = readDerTlv(der);
  if (!certificate || certificate->tag != 0x30) {
    return;
  }
  auto tbs = readDerTlv(certificate->value);
  if (!tbs || tbs->tag != 0x30) {
    return;
  }
  std::span<const std::uint8_t> rest = tbs->value;
  std::optional<DerTlv> extensions;
  while (!rest.empty()) {
    auto field = readDerTlv(rest);
    if (!field) {
      return;
    }
    if (field->tag == 0xa3) {  // [3] EXPLICIT Extensions
      extensions = readDerTlv(field->value);
      break;
    }
    rest = rest.subspan(field->size);
  }
  if (!extensions || extensions->tag != 0x30) {
    return;
  }
  for (rest = extensions->value; !rest.empty();) {
    auto extension = readDerTlv(rest);
    if (!extension || extension->tag != 0x30) {
      return;
    }
    rest = rest.subspan(extension->size);
    auto oid = readDerTlv(extension->value);
    if (!oid || oid->tag != 0x06 || !std::ranges::equal(oid->value, kSanOid)) {
      continue;
    }
    std::span<const std::uint8_t> body = extension->value.subspan(oid->size);
    auto value = readDerTlv(body);
    if (value && value->tag == 0x01) {  // critical BOOLEAN
      value = readDerTlv(body.subspan(value->size));
    }
    if (!value || value->tag != 0x04) {  // OCTET STRING wrapping GeneralNames
      return;
    }
    cert.has_san_ = true;
    auto names = readDerTlv(value->value);
    if (!names || names->tag != 0x30) {
      return;
    }
    for (auto list = names->value; !list.empty();) {
      auto name = readDerTlv(list);
      if (!name) {
        return;
      }
      list = list.subspan(name->size);
      if (name->tag == 0x82) {  // [2] IMPLICIT IA5String dNSName
        cert.dns_names_.emplace_back(name->value.begin(), name->value.end());
      } else if (name->tag == 0x87) {  // [7] IMPLICIT OCTET STRING iPAddress
        cert.ip_addresses_.emplace_back(name->value.begin(), name->value.end());
      }
    }
    return;
  }
}

void ensureWolfSslInitialized() {
  static std::once_flag once;
  std::call_once(once, [] { wolfSSL_Init(); });
}

void releaseWolfSslThreadCaches() {
#ifdef FP_ECC
  wc_ecc_fp_free();
#endif
}

std::string formatIpAddress(std::span<const std::uint8_t> bytes) {
  char buf[INET6_ADDRSTRLEN] = {};
  if (bytes.size() == 4 && inet_ntop(AF_INET, bytes.data(), buf, sizeof(buf)) != nullptr) {
    return buf;
  }
  if (bytes.size() == 16 && inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf)) != nullptr) {
    return buf;
  }
  std::string hex = "0x";
  for (auto b : bytes) {
    char h[3];
    std::snprintf(h, sizeof(h), "%02x", b);
    hex += h;
  }
  return hex;
}

std::size_t derSequenceSize(std::span<const std::uint8_t> bytes) {
  auto tlv = readDerTlv(bytes);
  return tlv && tlv->tag == 0x30 ? tlv->size : 0;
}

std::unique_ptr<const Certificate> Certificate::parse(std::span<const std::uint8_t> der) {
  ensureWolfSslInitialized();
  if (der.empty() || der.size() > 1024 * 1024 || derSequenceSize(der) != der.size()) {
    return nullptr;
  }
  std::unique_ptr<Certificate> cert(new Certificate());
  cert->der_.assign(der.begin(), der.end());
  // Only needed while the fields are read: every later check works on der_.
  WolfPtr<WOLFSSL_X509, wolfSSL_X509_free> x509(
      wolfSSL_X509_d2i(nullptr, cert->der_.data(), static_cast<int>(cert->der_.size())));
  if (x509 == nullptr) {
    return nullptr;
  }
  WOLFSSL_X509* x = x509.get();
  auto not_before = parseAsn1Time(wolfSSL_X509_get_notBefore(x));
  auto not_after = parseAsn1Time(wolfSSL_X509_get_notAfter(x));
  if (!not_before || !not_after) {
    return nullptr;
  }
  cert->not_before_ = *not_before;
  cert->not_after_ = *not_after;
  if (auto spki = findSubjectPublicKeyInfo(cert->der_)) {
    cert->spki_offset_ = static_cast<std::size_t>(spki->data() - cert->der_.data());
    cert->spki_size_ = spki->size();
  }
  cert->key_type_ = wolfSSL_X509_get_pubkey_type(x);
  WOLFSSL_X509_NAME* subject = wolfSSL_X509_get_subject_name(x);
  WOLFSSL_X509_NAME* issuer = wolfSSL_X509_get_issuer_name(x);
  cert->subject_ = formatName(subject);
  cert->issuer_ = formatName(issuer);
  cert->subject_key_ = nameKey(subject, cert->subject_);
  cert->issuer_key_ = nameKey(issuer, cert->issuer_);
  cert->is_ca_ = wolfSSL_X509_get_isCA(x) != 0;

  if (subject != nullptr) {
    for (int i = 0; i < wolfSSL_X509_NAME_entry_count(subject); ++i) {
      WOLFSSL_X509_NAME_ENTRY* entry = wolfSSL_X509_NAME_get_entry(subject, i);
      if (entry != nullptr &&
          wolfSSL_OBJ_obj2nid(wolfSSL_X509_NAME_ENTRY_get_object(entry)) == NID_commonName) {
        cert->common_names_.emplace_back(asn1Bytes(wolfSSL_X509_NAME_ENTRY_get_data(entry)));
      }
    }
  }

  readSubjectAltName(cert->der_, *cert);
  return cert;
}

bool Certificate::signatureVerifiesWith(const Certificate& issuer) const {
  const auto key = issuer.subjectPublicKeyInfo();
  if (key.empty()) {
    return false;
  }
  // The key types wolfSSL_X509_verify() distinguishes (it treats every other key as EC), so
  // the verdicts stay those of the compatibility layer this replaces.
  const int type = issuer.key_type_ == RSAk || issuer.key_type_ == DSAk ? issuer.key_type_ : ECDSAk;
  return wc_CheckCertSigPubKey(der_.data(), static_cast<word32>(der_.size()), nullptr, key.data(),
                               static_cast<word32>(key.size()), type) == 0;
}

}  // namespace bhe
