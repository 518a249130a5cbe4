#include "pki/certificate_file.h"

#include <algorithm>
#include <optional>

#include "common/bounded_file.h"

namespace bhe {
namespace {

constexpr std::string_view kNotACertificate =
    "not a certificate (no PEM, base64 or DER X.509 found)";

int base64Value(char c) {
  if (c >= 'A' && c <= 'Z') {
    return c - 'A';
  }
  if (c >= 'a' && c <= 'z') {
    return c - 'a' + 26;
  }
  if (c >= '0' && c <= '9') {
    return c - '0' + 52;
  }
  if (c == '+') {
    return 62;
  }
  if (c == '/') {
    return 63;
  }
  return -1;
}

bool isSpace(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// RFC 4648 base64 with line breaks anywhere, as PEM and Windows' "Base-64 encoded X.509 (.CER)"
// export write it. Nothing else is tolerated, so random text is not mistaken for base64.
std::optional<Der> decodeBase64(std::string_view text) {
  Der out;
  out.reserve(text.size() * 3 / 4);
  std::uint32_t accumulator = 0;
  int bits = 0;
  std::size_t padding = 0;
  std::size_t symbols = 0;
  for (char c : text) {
    if (isSpace(c)) {
      continue;
    }
    if (c == '=') {
      ++padding;
      ++symbols;
      continue;
    }
    const int value = base64Value(c);
    if (value < 0 || padding > 0) {
      return std::nullopt;
    }
    ++symbols;
    accumulator = (accumulator << 6) | static_cast<std::uint32_t>(value);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<std::uint8_t>((accumulator >> bits) & 0xff));
    }
  }
  if (symbols == 0 || symbols % 4 != 0 || padding > 2) {
    return std::nullopt;
  }
  return out;
}

// One or more concatenated DER certificates, nothing else (trailing whitespace aside).
std::optional<std::vector<Der>> splitDer(std::span<const std::uint8_t> bytes) {
  std::vector<Der> certs;
  while (!bytes.empty()) {
    const std::size_t size = derSequenceSize(bytes);
    if (size == 0) {
      const bool only_padding =
          !certs.empty() && std::all_of(bytes.begin(), bytes.end(), [](auto b) {
            return b == 0 || isSpace(static_cast<char>(b));
          });
      if (only_padding) {
        break;
      }
      return std::nullopt;
    }
    auto one = bytes.first(size);
    if (Certificate::parse(one) == nullptr) {
      return std::nullopt;
    }
    certs.emplace_back(one.begin(), one.end());
    bytes = bytes.subspan(size);
  }
  if (certs.empty()) {
    return std::nullopt;
  }
  return certs;
}

std::span<const std::uint8_t> asBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

CertificateFile failure(std::string message) {
  CertificateFile file;
  file.error = std::move(message);
  return file;
}

CertificateFile parsePem(std::string_view text, bool lenient) {
  CertificateFile file;
  std::vector<std::string> other_labels;
  std::size_t block = 0;
  std::size_t pos = 0;
  constexpr std::string_view kBegin = "-----BEGIN ";
  while ((pos = text.find(kBegin, pos)) != std::string_view::npos) {
    ++block;
    const std::size_t label_start = pos + kBegin.size();
    const std::size_t label_end = text.find("-----", label_start);
    if (label_end == std::string_view::npos) {
      return failure("PEM block " + std::to_string(block) + " has a malformed BEGIN line");
    }
    const std::string label(text.substr(label_start, label_end - label_start));
    const std::string end_line = "-----END " + label + "-----";
    const std::size_t body_start = label_end + 5;
    const std::size_t body_end = text.find(end_line, body_start);
    if (body_end == std::string_view::npos) {
      return failure("PEM block " + std::to_string(block) + " (" + label + ") has no END line");
    }
    pos = body_end + end_line.size();
    const bool certificate =
        label == "CERTIFICATE" || label == "X509 CERTIFICATE" || label == "TRUSTED CERTIFICATE";
    if (!certificate) {
      other_labels.push_back(label);
      continue;
    }
    const std::string invalid =
        "PEM block " + std::to_string(block) + " (" + label + ") is not a valid X.509 certificate";
    auto der = decodeBase64(text.substr(body_start, body_end - body_start));
    if (!der) {
      if (lenient) {
        ++file.skipped;
        continue;
      }
      return failure(invalid);
    }
    // OpenSSL's TRUSTED CERTIFICATE appends trust settings after the certificate itself.
    std::size_t size = derSequenceSize(*der);
    if (label != "TRUSTED CERTIFICATE" && size != der->size()) {
      size = 0;
    }
    if (size == 0 || Certificate::parse(std::span(*der).first(size)) == nullptr) {
      if (lenient) {
        ++file.skipped;
        continue;
      }
      return failure(invalid);
    }
    der->resize(size);
    file.certificates.push_back(std::move(*der));
  }
  if (file.certificates.empty() && file.skipped > 0) {
    return failure("no valid X.509 certificate among " + std::to_string(file.skipped) +
                   " PEM CERTIFICATE blocks");
  }
  if (file.certificates.empty()) {
    std::string found;
    for (const auto& label : other_labels) {
      found += (found.empty() ? "" : ", ") + label;
    }
    return failure("not a certificate (PEM holds " + found + ", no CERTIFICATE)");
  }
  return file;
}

}  // namespace

CertificateFile parseCertificateBytes(std::string_view bytes, bool lenient) {
  if (bytes.empty()) {
    return failure("empty file");
  }
  if (bytes.find("-----BEGIN ") != std::string_view::npos) {
    return parsePem(bytes, lenient);
  }
  CertificateFile file;
  if (auto der = decodeBase64(bytes)) {
    if (auto certs = splitDer(*der)) {
      file.certificates = std::move(*certs);
      return file;
    }
  }
  if (auto certs = splitDer(asBytes(bytes))) {
    file.certificates = std::move(*certs);
    return file;
  }
  return failure(std::string(kNotACertificate));
}

std::string readFileBytes(const std::string& path, std::string& content) {
  BoundedFile file = readBoundedFile(path, {kMaxCertificateFileBytes, "a certificate file"});
  if (!file.ok()) {
    content.clear();
    return "cannot read: " + file.error;
  }
  content = std::move(file.content);
  return "";
}

CertificateFile readCertificateFile(const std::string& path, bool lenient) {
  const FileSizeLimit limit = lenient
                                  ? FileSizeLimit{kMaxCaBundleBytes, "a CA bundle"}
                                  : FileSizeLimit{kMaxCertificateFileBytes, "a certificate file"};
  BoundedFile file = readBoundedFile(path, limit);
  if (!file.ok()) {
    return failure("cannot read: " + file.error);
  }
  return parseCertificateBytes(file.content, lenient);
}

bool isCaCertificate(std::span<const std::uint8_t> der) {
  auto cert = Certificate::parse(der);
  return cert != nullptr && cert->isCa();
}

std::string checkTrustedRootFile(const CertificateFile& file) {
  for (std::size_t i = 0; i < file.certificates.size(); ++i) {
    auto cert = Certificate::parse(file.certificates[i]);
    if (cert == nullptr || !cert->isCa()) {
      return "certificate " + std::to_string(i + 1) + " of " +
             std::to_string(file.certificates.size()) + " (" +
             (cert ? cert->subject() : std::string("unparsable")) +
             ") is not a CA certificate (basicConstraints CA:FALSE)";
    }
  }
  return {};
}

}  // namespace bhe
