// clang-format off
#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/ssl.h>
#include <wolfssl/openssl/evp.h>
#include <wolfssl/openssl/x509v3.h>
#include <wolfssl/wolfcrypt/asn_public.h>
// clang-format on

#include "pki/client_identity.h"

#include <string.h>

#include <memory>
#include <optional>

#include "pki/certificate_file.h"
#include "pki/wolfssl_ptr.h"

namespace bhe {
namespace {

struct PemBlock {
  std::string label;      // "PRIVATE KEY"
  std::string_view text;  // from "-----BEGIN" to the end of the END line
};

// The labelled blocks of a PEM text, in order; a block without an END line ends the scan (the
// decoder then reports it).
std::vector<PemBlock> pemBlocks(std::string_view pem) {
  constexpr std::string_view kBegin = "-----BEGIN ";
  std::vector<PemBlock> blocks;
  std::size_t pos = 0;
  while ((pos = pem.find(kBegin, pos)) != std::string_view::npos) {
    const std::size_t label_start = pos + kBegin.size();
    const std::size_t label_end = pem.find("-----", label_start);
    if (label_end == std::string_view::npos) {
      break;
    }
    std::string label(pem.substr(label_start, label_end - label_start));
    const std::string end_line = "-----END " + label + "-----";
    const std::size_t end = pem.find(end_line, label_end);
    if (end == std::string_view::npos) {
      blocks.push_back({std::move(label), pem.substr(pos)});
      break;
    }
    blocks.push_back({std::move(label), pem.substr(pos, end + end_line.size() - pos)});
    pos = end + end_line.size();
  }
  return blocks;
}

bool isPrivateKeyLabel(std::string_view label) {
  return label == "PRIVATE KEY" || label == "EC PRIVATE KEY" || label == "RSA PRIVATE KEY" ||
         label == "ENCRYPTED PRIVATE KEY";
}

bool isEncrypted(const PemBlock& block) {
  // PKCS#8 says so in its label, the traditional OpenSSL format in a header line.
  return block.label == "ENCRYPTED PRIVATE KEY" ||
         block.text.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos;
}

std::string labelList(const std::vector<PemBlock>& blocks) {
  std::string out;
  for (const auto& block : blocks) {
    out += (out.empty() ? "" : ", ") + block.label;
  }
  return out;
}

using X509Ptr = WolfPtr<WOLFSSL_X509, wolfSSL_X509_free>;
using PkeyPtr = WolfPtr<WOLFSSL_EVP_PKEY, wolfSSL_EVP_PKEY_free>;
using MdCtxPtr = WolfPtr<WOLFSSL_EVP_MD_CTX, wolfSSL_EVP_MD_CTX_free>;

// "" when the certificate may authenticate a TLS client: no extendedKeyUsage at all (any
// purpose), or one that lists clientAuth or anyExtendedKeyUsage (RFC 5280 §4.2.1.12).
std::string checkClientAuthUsage(const Der& der, const std::string& subject) {
  X509Ptr x509(wolfSSL_X509_d2i(nullptr, der.data(), static_cast<int>(der.size())));
  if (x509 == nullptr) {
    return "the certificate (" + subject + ") cannot be parsed";
  }
  if (wolfSSL_X509_ext_isSet_by_NID(x509.get(), NID_ext_key_usage) != 1) {
    return "";
  }
  const unsigned int usage = wolfSSL_X509_get_extended_key_usage(x509.get());
  if ((usage & (XKU_SSL_CLIENT | XKU_ANYEKU)) != 0) {
    return "";
  }
  static constexpr std::pair<unsigned int, std::string_view> kNames[] = {
      {XKU_SSL_SERVER, "serverAuth"},  {XKU_SMIME, "emailProtection"},
      {XKU_CODE_SIGN, "codeSigning"},  {XKU_OCSP_SIGN, "OCSPSigning"},
      {XKU_TIMESTAMP, "timeStamping"},
  };
  std::string listed;
  for (const auto& [bit, name] : kNames) {
    if ((usage & bit) != 0) {
      listed += (listed.empty() ? "" : ", ") + std::string(name);
    }
  }
  return "the certificate (" + subject + ") has an extendedKeyUsage without clientAuth (" +
         (listed.empty() ? std::string("other purposes only") : listed) +
         "): TLS servers refuse it as a client certificate";
}

std::string keyTypeName(int type) {
  switch (type) {
    case EVP_PKEY_RSA:
      return "an RSA key";
    case EVP_PKEY_EC:
      return "an EC key";
    default:
      return "a key of type " + std::to_string(type);
  }
}

// A signature made with `key` verifies with `certificate_key`: the key is the certificate's.
bool signatureVerifies(WOLFSSL_EVP_PKEY* key, WOLFSSL_EVP_PKEY* certificate_key) {
  static constexpr unsigned char kMessage[] = "backend-health-exporter client key check";
  MdCtxPtr sign(wolfSSL_EVP_MD_CTX_new());
  std::size_t length = 0;
  if (sign == nullptr ||
      wolfSSL_EVP_DigestSignInit(sign.get(), nullptr, wolfSSL_EVP_sha256(), nullptr, key) != 1 ||
      wolfSSL_EVP_DigestSignUpdate(sign.get(), kMessage, sizeof(kMessage)) != 1 ||
      wolfSSL_EVP_DigestSignFinal(sign.get(), nullptr, &length) != 1) {
    return false;
  }
  std::vector<unsigned char> signature(length);
  if (wolfSSL_EVP_DigestSignFinal(sign.get(), signature.data(), &length) != 1) {
    return false;
  }
  signature.resize(length);
  MdCtxPtr verify(wolfSSL_EVP_MD_CTX_new());
  return verify != nullptr &&
         wolfSSL_EVP_DigestVerifyInit(verify.get(), nullptr, wolfSSL_EVP_sha256(), nullptr,
                                      certificate_key) == 1 &&
         wolfSSL_EVP_DigestVerifyUpdate(verify.get(), kMessage, sizeof(kMessage)) == 1 &&
         wolfSSL_EVP_DigestVerifyFinal(verify.get(), signature.data(), signature.size()) == 1;
}

struct KeyRead {
  Der der;
  PkeyPtr key;  // parsed from der
  std::string error;
};

KeyRead readPrivateKey(std::string_view pem) {
  auto failure = [](std::string why) { return KeyRead{{}, nullptr, std::move(why)}; };
  if (pem.empty()) {
    return failure("empty file");
  }
  const std::vector<PemBlock> blocks = pemBlocks(pem);
  if (blocks.empty()) {
    return failure("not PEM (expected -----BEGIN PRIVATE KEY-----)");
  }
  std::vector<std::size_t> keys;
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    if (isPrivateKeyLabel(blocks[i].label)) {
      keys.push_back(i);
    }
  }
  if (keys.empty()) {
    return failure("not a private key (PEM holds " + labelList(blocks) + ", no PRIVATE KEY)");
  }
  if (keys.size() > 1) {
    return failure("holds " + std::to_string(keys.size()) +
                   " private keys; keep only the one of the client certificate");
  }
  const PemBlock& block = blocks[keys.front()];
  const std::string which =
      "PEM block " + std::to_string(keys.front() + 1) + " (" + block.label + ")";
  if (isEncrypted(block)) {
    return failure(which +
                   " is encrypted; there is no passphrase setting: store the key unencrypted, "
                   "readable only by the exporter");
  }
  Der der(block.text.size());
  const int size = wc_KeyPemToDer(reinterpret_cast<const unsigned char*>(block.text.data()),
                                  static_cast<int>(block.text.size()), der.data(),
                                  static_cast<int>(der.size()), nullptr);
  PkeyPtr key;
  if (size > 0) {
    der.resize(static_cast<std::size_t>(size));
    const unsigned char* p = der.data();
    key.reset(wolfSSL_d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(der.size())));
  }
  if (key == nullptr) {
    explicit_bzero(der.data(), der.size());
    return failure(which + " is not a private key wolfSSL can use");
  }
  return {std::move(der), std::move(key), ""};
}

}  // namespace

ClientIdentity::~ClientIdentity() {
  if (!private_key.empty()) {  // data() of an empty vector may be null, which bzero must not get
    explicit_bzero(private_key.data(), private_key.size());
  }
}

ClientIdentityParse parseClientIdentity(std::string_view certificate_pem,
                                        std::string_view key_pem) {
  ensureWolfSslInitialized();
  ClientIdentityParse out;
  auto identity = std::make_shared<ClientIdentity>();

  if (!certificate_pem.empty() && certificate_pem.find("-----BEGIN ") == std::string_view::npos) {
    out.certificate_error = "not PEM (expected -----BEGIN CERTIFICATE-----)";
  } else if (CertificateFile file = parseCertificateBytes(certificate_pem); !file.ok()) {
    out.certificate_error = file.error;
  } else {
    // parseCertificateBytes() has parsed every certificate it returns.
    auto leaf = Certificate::parse(file.certificates.front());
    identity->subject = leaf->subject();
    identity->not_after = leaf->notAfter();
    out.certificate_error = checkClientAuthUsage(file.certificates.front(), leaf->subject());
    identity->certificates = std::move(file.certificates);
  }

  KeyRead key = readPrivateKey(key_pem);
  identity->private_key = std::move(key.der);
  out.key_error = std::move(key.error);
  PkeyPtr private_key = std::move(key.key);

  if (out.ok()) {
    X509Ptr x509(wolfSSL_X509_d2i(nullptr, identity->certificates.front().data(),
                                  static_cast<int>(identity->certificates.front().size())));
    PkeyPtr certificate_key(x509 != nullptr ? wolfSSL_X509_get_pubkey(x509.get()) : nullptr);
    const std::string certificate = "the certificate (" + identity->subject + ")";
    if (certificate_key == nullptr) {
      out.certificate_error = certificate + " has a public key wolfSSL cannot use";
    } else if (wolfSSL_EVP_PKEY_id(private_key.get()) !=
               wolfSSL_EVP_PKEY_id(certificate_key.get())) {
      out.key_error = "does not match " + certificate + ": this is " +
                      keyTypeName(wolfSSL_EVP_PKEY_id(private_key.get())) +
                      ", the certificate holds " +
                      keyTypeName(wolfSSL_EVP_PKEY_id(certificate_key.get()));
    } else if (!signatureVerifies(private_key.get(), certificate_key.get())) {
      out.key_error = "does not match " + certificate +
                      ": a signature made with this key does not verify with the certificate's "
                      "public key";
    }
  }
  if (out.ok()) {
    WolfPtr<WOLFSSL_CTX, wolfSSL_CTX_free> ctx(wolfSSL_CTX_new(wolfTLS_client_method()));
    if (std::string refused = ctx ? useClientIdentity(ctx.get(), *identity) : "no TLS context";
        !refused.empty()) {
      out.key_error = refused;
    }
  }
  if (out.ok()) {
    out.identity = std::move(identity);
  }
  return out;
}

std::string useClientIdentity(WOLFSSL_CTX* ctx, const ClientIdentity& identity) {
  ensureWolfSslInitialized();
  Der chain;
  for (const Der& der : identity.certificates) {
    chain.insert(chain.end(), der.begin(), der.end());
  }
  if (int rc = wolfSSL_CTX_use_certificate_chain_buffer_format(
          ctx, chain.data(), static_cast<long>(chain.size()), WOLFSSL_FILETYPE_ASN1);
      rc != WOLFSSL_SUCCESS) {
    return "wolfSSL refuses the client certificate chain (error " + std::to_string(rc) + ")";
  }
  if (int rc = wolfSSL_CTX_use_PrivateKey_buffer(ctx, identity.private_key.data(),
                                                 static_cast<long>(identity.private_key.size()),
                                                 WOLFSSL_FILETYPE_ASN1);
      rc != WOLFSSL_SUCCESS) {
    return "wolfSSL refuses the client key (error " + std::to_string(rc) + ")";
  }
  return "";
}

}  // namespace bhe
