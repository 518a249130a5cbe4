#include "probe/revocation/der_reader.h"

#include <algorithm>
#include <array>

namespace bhe {
namespace {

constexpr std::uint8_t kSequence = 0x30;
constexpr std::uint8_t kInteger = 0x02;
constexpr std::uint8_t kEnumerated = 0x0a;
constexpr std::uint8_t kOctetString = 0x04;
constexpr std::uint8_t kOid = 0x06;
constexpr std::uint8_t kUtcTime = 0x17;
constexpr std::uint8_t kGeneralizedTime = 0x18;
constexpr std::uint8_t kContext0 = 0xa0;  // [0] constructed
constexpr std::uint8_t kContext1 = 0xa1;  // [1] constructed
// id-ce-cRLReasons, 2.5.29.21
constexpr std::array<std::uint8_t, 3> kReasonCodeOid{0x55, 0x1d, 0x15};

bool sameSerial(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  a = derUnsignedDigits(a);
  b = derUnsignedDigits(b);
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

std::optional<int> enumeratedValue(const DerTlv& tlv) {
  if (tlv.tag != kEnumerated || tlv.value.empty() || tlv.value.size() > 2) {
    return std::nullopt;
  }
  int v = 0;
  for (std::uint8_t b : tlv.value) {
    v = (v << 8) | b;
  }
  return v;
}

// SingleResponse: certID, certStatus, ...
std::optional<RevocationDetailsFound> singleResponseFor(std::span<const std::uint8_t> single,
                                                        std::span<const std::uint8_t> serial) {
  DerReader r(single);
  auto cert_id = r.nextIf(kSequence);
  if (!cert_id) {
    return std::nullopt;
  }
  DerReader id(cert_id->value);
  id.next();  // hashAlgorithm
  id.next();  // issuerNameHash
  id.next();  // issuerKeyHash
  auto number = id.nextIf(kInteger);
  if (!number || !sameSerial(number->value, serial)) {
    return std::nullopt;
  }
  RevocationDetailsFound found;
  auto status = r.nextIf(kContext1);  // revoked [1] IMPLICIT RevokedInfo
  if (!status) {
    return found;
  }
  DerReader info(status->value);
  if (auto time = info.next()) {
    found.revoked_at = derTimeToUnix(*time);
  }
  if (auto reason = info.nextIf(kContext0)) {
    DerReader inner(reason->value);
    if (auto e = inner.next()) {
      found.reason_code = enumeratedValue(*e);
    }
  }
  return found;
}

std::optional<int> crlEntryReason(std::span<const std::uint8_t> extensions) {
  DerReader list(extensions);
  while (auto ext = list.nextIf(kSequence)) {
    DerReader e(ext->value);
    auto oid = e.nextIf(kOid);
    if (!oid || !std::equal(oid->value.begin(), oid->value.end(), kReasonCodeOid.begin(),
                            kReasonCodeOid.end())) {
      continue;
    }
    e.nextIf(0x01);  // critical
    if (auto value = e.nextIf(kOctetString)) {
      DerReader inner(value->value);
      if (auto code = inner.next()) {
        return enumeratedValue(*code);
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::optional<DerTlv> DerReader::next() {
  auto tlv = pos_ < bytes_.size() ? readDerTlv(bytes_.subspan(pos_)) : std::nullopt;
  pos_ = tlv ? pos_ + tlv->size : bytes_.size();
  return tlv;
}

std::optional<DerTlv> DerReader::nextIf(std::uint8_t tag) {
  if (pos_ >= bytes_.size() || bytes_[pos_] != tag) {
    return std::nullopt;
  }
  return next();
}

std::span<const std::uint8_t> derUnsignedDigits(std::span<const std::uint8_t> integer) {
  std::size_t i = 0;
  while (i + 1 < integer.size() && integer[i] == 0) {
    ++i;
  }
  return integer.subspan(i);
}

RevocationDetailsFound findOcspRevocation(std::span<const std::uint8_t> response,
                                          std::span<const std::uint8_t> serial) {
  // OCSPResponse { responseStatus, [0] { responseType, response OCTET STRING } }
  DerReader top(response);
  auto outer = top.nextIf(kSequence);
  if (!outer) {
    return {};
  }
  DerReader o(outer->value);
  o.next();  // responseStatus
  auto bytes = o.nextIf(kContext0);
  if (!bytes) {
    return {};
  }
  DerReader rb(bytes->value);
  auto rb_seq = rb.nextIf(kSequence);
  if (!rb_seq) {
    return {};
  }
  DerReader t(rb_seq->value);
  t.next();  // responseType
  auto basic_octets = t.nextIf(kOctetString);
  if (!basic_octets) {
    return {};
  }
  // BasicOCSPResponse { tbsResponseData { [0] version?, responderID, producedAt, responses } }
  DerReader b(basic_octets->value);
  auto basic = b.nextIf(kSequence);
  if (!basic) {
    return {};
  }
  DerReader bb(basic->value);
  auto tbs = bb.nextIf(kSequence);
  if (!tbs) {
    return {};
  }
  DerReader d(tbs->value);
  d.nextIf(kContext0);  // version
  d.next();             // responderID
  d.next();             // producedAt
  auto responses = d.nextIf(kSequence);
  if (!responses) {
    return {};
  }
  DerReader list(responses->value);
  while (auto single = list.nextIf(kSequence)) {
    if (auto found = singleResponseFor(single->value, serial)) {
      return *found;
    }
  }
  return {};
}

RevocationDetailsFound findCrlRevocation(std::span<const std::uint8_t> crl,
                                         std::span<const std::uint8_t> serial) {
  DerReader top(crl);
  auto list = top.nextIf(kSequence);
  if (!list) {
    return {};
  }
  DerReader l(list->value);
  auto tbs = l.nextIf(kSequence);
  if (!tbs) {
    return {};
  }
  DerReader t(tbs->value);
  t.nextIf(kInteger);   // version
  t.nextIf(kSequence);  // signature
  t.nextIf(kSequence);  // issuer
  t.next();             // thisUpdate
  if (!t.nextIf(kUtcTime)) {
    t.nextIf(kGeneralizedTime);  // nextUpdate
  }
  auto revoked = t.nextIf(kSequence);
  if (!revoked) {
    return {};
  }
  DerReader entries(revoked->value);
  while (auto entry = entries.nextIf(kSequence)) {
    DerReader e(entry->value);
    auto number = e.nextIf(kInteger);
    if (!number || !sameSerial(number->value, serial)) {
      continue;
    }
    RevocationDetailsFound found;
    if (auto date = e.next()) {
      found.revoked_at = derTimeToUnix(*date);
    }
    if (auto extensions = e.nextIf(kSequence)) {
      found.reason_code = crlEntryReason(extensions->value);
    }
    return found;
  }
  return {};
}

}  // namespace bhe
