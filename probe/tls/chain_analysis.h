// The verdict on a certificate chain as the server presented it: pure (no I/O, the time is an
// input), so every certificate-chain reason is decided here and unit-testable on DER fixtures.
//
// Terms. "Presented" = the certificates the server sent, in wire order, position 0 first.
// A certificate is a CA when basicConstraints says CA:TRUE, else it is an end-entity (leaf).
// "A signed by B" = B's subject equals A's issuer name (canonical comparison) AND B's public key
// verifies A's signature (a name match alone never counts). "Self-signed" = signed by itself.
// "Anchor" = a certificate of the trust anchors: the well-known CA bundle in kWellKnown mode,
// the uploaded `trusted_root_certificates` in kPrivate mode.
//
// The trust path. The leaf is the certificate at position 0. From it the analyser walks up:
//   1. the current certificate is itself an anchor (byte-identical)  -> trusted, stop;
//   2. an anchor signed the current certificate                     -> trusted via that anchor;
//   3. the current certificate is self-signed                       -> ends at an untrusted root;
//   4. a presented, not yet used certificate signed it             -> append it, continue;
//   5. otherwise                                                    -> ends: issuer not found.
// Anchors are preferred over presented certificates (OpenSSL's "trusted first"), so a server
// that also sends an old cross-signed or expired copy of a root still verifies. Presented
// certificates that are not on the path are extra and ignored (except for leaf detection and
// the expiry metrics).
//
// The reasons, in the contract's precedence order (the first that applies wins):
//   tls_leaf_missing            no presented certificate is an end-entity (or none presented)
//   tls_leaf_not_topmost        position 0 is a CA, but an end-entity is presented later
//   tls_cert_expired            a certificate on the trust path (leaf, presented certificates the
//                               path used, and the anchor that ended it) is outside
//                               [notBefore, notAfter] at `now`; the first one on the path wins
//   tls_intermediate_missing    the path ends at the leaf itself: the leaf's issuer is neither
//                               presented nor an anchor, or the leaf is self-signed (a self-signed
//                               certificate that is not a CA is a leaf looking for its issuer)
//   tls_cert_not_public_ca      kWellKnown; the path ends at a presented self-signed CA that is
//                               not in the bundle
//   tls_intermediate_not_public_ca  kWellKnown; the path ends at a presented intermediate (not
//                               self-signed) whose issuer is not in the bundle
//   tls_trusted_root_mismatch_no_root  kPrivate; the path ends at a presented intermediate whose
//                               issuer is none of the uploaded roots (no root on the path)
//   tls_trusted_root_mismatch   kPrivate; the path ends at a presented self-signed CA that is
//                               not one of the uploaded roots
//   tls_cn_mismatch             `expected_host` is not empty and the leaf does not carry it
//                               (host_match.h: RFC 6125, SAN first, IP hosts vs iPAddress SANs)
//   tls_cert_verification_failed  a certificate the path used as an issuer is not a CA (code 24),
//                               or the library reported an error the analyser does not judge
//                               itself (verify_error.h: isJudgedByChainAnalysis; the first one
//                               reported wins). Details carry the code and its text.
//                               Also, checked before everything else because nothing else can be
//                               judged then: a presented certificate that does not parse.
// So, by construction: a leaf signed directly by an anchor is healthy; a presented root that is an
// anchor is healthy; in kPrivate mode a leaf+intermediate chain whose intermediate an uploaded
// root signed is healthy; extra unrelated certificates do not matter; a chain whose leaf is last
// is tls_leaf_not_topmost.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "pki/trust_anchors.h"
#include "pki/x509.h"
#include "probe/classify/reason.h"
#include "probe/tls/verify_error.h"

namespace bhe {

enum class TrustMode {
  kWellKnown,  // the well-known CA bundle (`well_known_ca_bundle`)
  kPrivate,    // only the backend settings' `trusted_root_certificates`
};

struct ChainCertificate {
  int position = 0;     // in the chain as presented, 0 = first
  std::string subject;  // RFC 4514: "CN=good.test,O=BHE Test"
  std::string issuer;
  std::int64_t not_before = 0;  // unix seconds
  std::int64_t not_after = 0;
  bool is_ca = false;
};

struct ChainAnalysisInput {
  std::span<const Der> presented;         // wire order
  const TrustAnchors* anchors = nullptr;  // null = no anchors at all
  TrustMode mode = TrustMode::kWellKnown;
  std::string_view expected_host;               // empty = no name check
  std::int64_t now = 0;                         // unix seconds
  std::span<const VerifyError> library_errors;  // from the handshake's verify callback
  // false: the chain's structure, trust and validity are not judged, only the name (the
  // settings' validate_cert_chain_and_expiry = false); the chain view and expiries still are.
  bool judge_chain_and_expiry = true;
};

// One certificate of the trust path as the analyser built it.
struct TrustPathEntry {
  int position = -1;  // in the presented chain; -1 for an anchor the server did not present
  Der der;
};

struct ChainVerdict {
  std::optional<Reason> reason;  // nullopt = the chain is acceptable
  // Failure: what is wrong, with subject, position and dates. Success: the verified path,
  // e.g. "verified: [0] CN=good.test <- [1] CN=Int <- trusted root CN=Root".
  std::string details;
  std::vector<ChainCertificate> chain;         // every parsable presented certificate, in order
  std::optional<std::int64_t> leaf_not_after;  // first end-entity in presented order
  std::optional<std::int64_t> chain_earliest_not_after;  // over all presented certificates
  // `now` enters the verdict only through the validity windows of the certificates it judged,
  // so the same input gives this same verdict for every `now` in [holds_from, holds_until]; the
  // bounds are where one of those certificates expires or becomes valid.
  std::int64_t holds_from = std::numeric_limits<std::int64_t>::min();
  std::int64_t holds_until = std::numeric_limits<std::int64_t>::max();
  // The path from the leaf to the trust anchor that ends it (last), whenever the path reached an
  // anchor, whatever the verdict; empty when it did not (or nothing could be parsed). Revocation
  // is checked on it.
  std::vector<TrustPathEntry> trusted_path;

  bool ok() const { return !reason.has_value(); }
};

ChainVerdict analyzeChain(const ChainAnalysisInput& input);

// Application Gateway's TLS switches of a backend settings.
struct TlsSwitches {
  bool validate_cert_chain_and_expiry = true;  // false: chain and expiry faults do not fail
  bool validate_sni = true;                    // false: a name mismatch does not fail
};

// The verdict as the switches want it: `analyze` (analyzeChain, or a per-target memo) judges the
// chain in full; when that fails for a fault a switch waives, it judges again without that check,
// and a verdict that then passes says in its details what was waived and why, e.g.
//   "chain, trust and validity not judged; waived (validate_cert_chain_and_expiry = false):
//    certificate at position 0 (CN=...) expired at ..."
ChainVerdict judgeChain(const ChainAnalysisInput& input, const TlsSwitches& switches,
                        const std::function<ChainVerdict(const ChainAnalysisInput&)>& analyze);

// "[0] CN=good.test (issuer CN=Int, valid 2024-01-01T00:00:00Z..2026-01-01T00:00:00Z);
// [1] CN=Int (CA, issuer ...)" for the details of a healthy HTTPS server.
std::string describeChain(std::span<const ChainCertificate> chain);

}  // namespace bhe
