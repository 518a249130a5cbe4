#include "probe/tls/chain_analysis.h"

#include "common/time_format.h"

#include <algorithm>
#include <memory>

#include "probe/tls/host_match.h"

namespace bhe {
namespace {

// One step of the trust path: a presented certificate, or (last) the anchor that ended it.
struct PathEntry {
  const Certificate* cert;
  int position;  // -1 for an anchor that was not presented
};

enum class PathEnd {
  kTrusted,        // reached an anchor
  kUntrustedRoot,  // reached a self-signed certificate that is no anchor
  kIssuerMissing,  // the last certificate's issuer is neither presented nor an anchor
};

struct TrustPath {
  std::vector<PathEntry> entries;
  PathEnd end = PathEnd::kIssuerMissing;
  // kIssuerMissing: presented certificates with the right name whose key did not sign.
  std::vector<int> name_only_matches;
};

std::string at(int position, const Certificate& cert) {
  return "position " + std::to_string(position) + " (" + cert.subject() + ")";
}

std::string describeEntry(const PathEntry& e) {
  if (e.position < 0) {
    return "trusted root " + e.cert->subject() + " (from the trust store, not presented)";
  }
  return "certificate at " + at(e.position, *e.cert);
}

TrustPath buildPath(const std::vector<std::unique_ptr<const Certificate>>& certs,
                    const TrustAnchors* anchors) {
  TrustPath path;
  std::vector<bool> used(certs.size(), false);
  used[0] = true;
  path.entries.push_back({certs[0].get(), 0});
  while (true) {
    const Certificate& current = *path.entries.back().cert;
    if (anchors != nullptr && anchors->contains(current)) {
      path.end = PathEnd::kTrusted;
      return path;
    }
    if (const Certificate* anchor = anchors ? anchors->findIssuerOf(current) : nullptr) {
      // When the server also sent that very anchor, show it at its position.
      PathEntry entry{anchor, -1};
      for (std::size_t i = 0; i < certs.size(); ++i) {
        if (!used[i] && certs[i]->der() == anchor->der()) {
          entry = {certs[i].get(), static_cast<int>(i)};
          break;
        }
      }
      path.entries.push_back(entry);
      path.end = PathEnd::kTrusted;
      return path;
    }
    if (current.isSelfSigned()) {
      path.end = PathEnd::kUntrustedRoot;
      return path;
    }
    int next = -1;
    for (std::size_t i = 0; i < certs.size() && next < 0; ++i) {
      if (!used[i] && current.isIssuedBy(*certs[i])) {
        next = static_cast<int>(i);
      }
    }
    if (next < 0) {
      for (std::size_t i = 0; i < certs.size(); ++i) {
        if (i != static_cast<std::size_t>(path.entries.back().position) &&
            current.issuerNameIs(*certs[i]) && !current.signatureVerifiesWith(*certs[i])) {
          path.name_only_matches.push_back(static_cast<int>(i));
        }
      }
      path.end = PathEnd::kIssuerMissing;
      return path;
    }
    used[static_cast<std::size_t>(next)] = true;
    path.entries.push_back({certs[static_cast<std::size_t>(next)].get(), next});
  }
}

std::string pathText(const TrustPath& path) {
  std::string out;
  for (const auto& e : path.entries) {
    if (!out.empty()) {
      out += " <- ";
    }
    if (e.position < 0) {
      out += "trusted root " + e.cert->subject();
    } else {
      out += "[" + std::to_string(e.position) + "] " + e.cert->subject();
    }
  }
  return out;
}

std::string anchorsText(const TrustAnchors* anchors, TrustMode mode) {
  if (mode == TrustMode::kWellKnown) {
    return "the well-known CA bundle";
  }
  const std::size_t n = anchors ? anchors->size() : 0;
  std::string out =
      "the " + std::to_string(n) + " uploaded trusted root certificate" + (n == 1 ? "" : "s");
  if (n > 0 && n <= 3) {
    out += " (";
    for (std::size_t i = 0; i < n; ++i) {
      out += (i ? "; " : "") + anchors->at(i).subject();
    }
    out += ")";
  }
  return out;
}

// "; uploaded root CN=X has that name but a different key" and the like, so the operator sees
// a re-keyed root or intermediate instead of a bare "not found".
std::string nameOnlyHints(const Certificate& cert, const TrustPath& path,
                          const TrustAnchors* anchors) {
  std::string out;
  for (int i : path.name_only_matches) {
    out += "; the certificate at position " + std::to_string(i) +
           " has that name but its key did not sign it";
  }
  if (anchors != nullptr) {
    for (const Certificate* a : anchors->withSubjectNamedAsIssuerOf(cert)) {
      out += "; trusted root " + a->subject() + " has that name but a different key";
    }
  }
  return out;
}

ChainVerdict fail(ChainVerdict v, Reason reason, std::string details) {
  v.reason = reason;
  v.details = std::move(details);
  return v;
}

std::string nameMismatch(std::string_view host, const Certificate& leaf) {
  return "expected host " + std::string(host) + " does not match the leaf at " + at(0, leaf) +
         ": " + describeCertificateNames(leaf);
}

}  // namespace

ChainVerdict analyzeChain(const ChainAnalysisInput& in) {
  ChainVerdict v;
  const TrustAnchors* anchors = in.anchors;

  std::vector<std::unique_ptr<const Certificate>> certs;
  certs.reserve(in.presented.size());
  int unparsable = -1;
  for (std::size_t i = 0; i < in.presented.size(); ++i) {
    auto cert = Certificate::parse(in.presented[i]);
    if (cert == nullptr) {
      if (unparsable < 0) {
        unparsable = static_cast<int>(i);
      }
      continue;
    }
    ChainCertificate summary;
    summary.position = static_cast<int>(i);
    summary.subject = cert->subject();
    summary.issuer = cert->issuer();
    summary.not_before = cert->notBefore();
    summary.not_after = cert->notAfter();
    summary.is_ca = cert->isCa();
    if (!v.chain_earliest_not_after || summary.not_after < *v.chain_earliest_not_after) {
      v.chain_earliest_not_after = summary.not_after;
    }
    if (!summary.is_ca && !v.leaf_not_after) {
      v.leaf_not_after = summary.not_after;
    }
    v.chain.push_back(std::move(summary));
    certs.push_back(std::move(cert));
  }

  if (!in.judge_chain_and_expiry) {
    // Only the name is judged, on the first certificate presented.
    if (!certs.empty() && !in.expected_host.empty() &&
        !certificateMatchesHost(*certs[0], in.expected_host)) {
      return fail(std::move(v), Reason::kTlsCnMismatch, nameMismatch(in.expected_host, *certs[0]));
    }
    v.details = "chain, trust and validity not judged";
    return v;
  }
  if (unparsable >= 0) {
    return fail(std::move(v), Reason::kTlsCertVerificationFailed,
                "the certificate at position " + std::to_string(unparsable) +
                    " of the presented chain is not a parsable X.509 certificate");
  }
  if (certs.empty()) {
    return fail(std::move(v), Reason::kTlsLeafMissing, "the server presented no certificate");
  }

  // Leaf detection, on the presented order.
  const auto first_leaf =
      std::find_if(certs.begin(), certs.end(), [](const auto& c) { return !c->isCa(); });
  if (first_leaf == certs.end()) {
    std::string list;
    for (std::size_t i = 0; i < certs.size(); ++i) {
      list += (i ? "; " : "") + std::string("[") + std::to_string(i) + "] " + certs[i]->subject();
    }
    return fail(std::move(v), Reason::kTlsLeafMissing,
                "no end-entity (leaf) certificate among the " + std::to_string(certs.size()) +
                    " presented, all are CA certificates: " + list);
  }
  if (first_leaf != certs.begin()) {
    const int leaf_pos = static_cast<int>(first_leaf - certs.begin());
    return fail(std::move(v), Reason::kTlsLeafNotTopmost,
                "the leaf certificate " + (*first_leaf)->subject() + " is at position " +
                    std::to_string(leaf_pos) + ", not 0; position 0 holds CA certificate " +
                    certs[0]->subject());
  }

  const TrustPath path = buildPath(certs, anchors);
  if (path.end == PathEnd::kTrusted) {
    for (const auto& e : path.entries) {
      v.trusted_path.push_back({e.position, e.cert->der()});
    }
  }

  // Validity of everything the path relies on, leaf first.
  for (const auto& e : path.entries) {
    const Certificate& c = *e.cert;
    auto window = [&c] {
      return " (valid " + formatUtc(c.notBefore()) + " to " + formatUtc(c.notAfter()) + ")";
    };
    if (in.now > c.notAfter()) {
      v.holds_from = std::max(v.holds_from, c.notAfter() + 1);
      return fail(std::move(v), Reason::kTlsCertExpired,
                  describeEntry(e) + " expired at " + formatUtc(c.notAfter()) + window());
    }
    if (in.now < c.notBefore()) {
      v.holds_until = std::min(v.holds_until, c.notBefore() - 1);
      return fail(std::move(v), Reason::kTlsCertExpired,
                  describeEntry(e) + " is not valid before " + formatUtc(c.notBefore()) +
                      " (not yet valid)" + window());
    }
    v.holds_from = std::max(v.holds_from, c.notBefore());
    v.holds_until = std::min(v.holds_until, c.notAfter());
  }

  const PathEntry& top = path.entries.back();
  const Certificate& leaf = *certs[0];
  const bool well_known = in.mode == TrustMode::kWellKnown;
  if (path.end != PathEnd::kTrusted && path.entries.size() == 1) {
    if (path.end == PathEnd::kUntrustedRoot) {
      return fail(std::move(v), Reason::kTlsIntermediateMissing,
                  "the leaf at " + at(0, leaf) +
                      " is self-signed but not a CA certificate, so it needs an issuer; none is "
                      "presented or trusted (" +
                      anchorsText(anchors, in.mode) + ")");
    }
    return fail(std::move(v), Reason::kTlsIntermediateMissing,
                "the issuer of the leaf at " + at(0, leaf) + ", " + leaf.issuer() +
                    ", is neither presented by the server nor in " + anchorsText(anchors, in.mode) +
                    nameOnlyHints(leaf, path, anchors));
  }
  if (path.end == PathEnd::kUntrustedRoot) {
    return fail(std::move(v),
                well_known ? Reason::kTlsCertNotPublicCa : Reason::kTlsTrustedRootMismatch,
                "the server presents root " + top.cert->subject() + " at position " +
                    std::to_string(top.position) + ", which is not in " +
                    anchorsText(anchors, in.mode) + "; chain: " + pathText(path));
  }
  if (path.end == PathEnd::kIssuerMissing) {
    return fail(
        std::move(v),
        well_known ? Reason::kTlsIntermediateNotPublicCa : Reason::kTlsTrustedRootMismatchNoRoot,
        "the top intermediate at " + at(top.position, *top.cert) + " is issued by " +
            top.cert->issuer() + ", which is not in " + anchorsText(anchors, in.mode) +
            " (no root presented); chain: " + pathText(path) +
            nameOnlyHints(*top.cert, path, anchors));
  }

  if (!in.expected_host.empty() && !certificateMatchesHost(leaf, in.expected_host)) {
    return fail(std::move(v), Reason::kTlsCnMismatch, nameMismatch(in.expected_host, leaf));
  }

  // Everything the path used as an issuer must be allowed to issue.
  for (std::size_t i = 1; i < path.entries.size(); ++i) {
    const PathEntry& e = path.entries[i];
    if (!e.cert->isCa()) {
      return fail(std::move(v), Reason::kTlsCertVerificationFailed,
                  "error 24 (" + verifyErrorText(24) + "): the " + describeEntry(e) + " signed " +
                      path.entries[i - 1].cert->subject() +
                      " but is not a CA certificate (basicConstraints CA:FALSE)");
    }
  }

  for (const VerifyError& error : in.library_errors) {
    if (error.code == 0 || isJudgedByChainAnalysis(error.code)) {
      continue;
    }
    std::string where = "position " + std::to_string(error.depth);
    if (error.depth >= 0 && static_cast<std::size_t>(error.depth) < certs.size()) {
      where = at(error.depth, *certs[static_cast<std::size_t>(error.depth)]);
    }
    return fail(std::move(v), Reason::kTlsCertVerificationFailed,
                "the TLS library reported error " + std::to_string(error.code) + " (" +
                    (error.text.empty() ? verifyErrorText(error.code) : error.text) +
                    ") for the certificate at " + where);
  }

  v.details = "verified: " + pathText(path);
  return v;
}

std::string describeChain(std::span<const ChainCertificate> chain) {
  std::string out;
  for (const auto& c : chain) {
    if (!out.empty()) {
      out += "; ";
    }
    out += "[" + std::to_string(c.position) + "] " + c.subject + " (" + (c.is_ca ? "CA, " : "") +
           "issuer " + c.issuer + ", valid " + formatUtc(c.not_before) + " to " +
           formatUtc(c.not_after) + ")";
  }
  return out;
}

ChainVerdict judgeChain(const ChainAnalysisInput& input, const TlsSwitches& switches,
                        const std::function<ChainVerdict(const ChainAnalysisInput&)>& analyze) {
  ChainVerdict full = analyze(input);
  if (full.ok() || (switches.validate_cert_chain_and_expiry && switches.validate_sni)) {
    return full;
  }
  ChainAnalysisInput relaxed = input;
  std::string waived_by;
  if (!switches.validate_sni && !input.expected_host.empty()) {
    relaxed.expected_host = {};
    waived_by = "validate_sni = false";
  }
  if (!switches.validate_cert_chain_and_expiry) {
    relaxed.judge_chain_and_expiry = false;
    waived_by +=
        std::string(waived_by.empty() ? "" : ", ") + "validate_cert_chain_and_expiry = false";
  }
  ChainVerdict verdict = analyze(relaxed);
  if (verdict.ok()) {
    verdict.details += "; waived (" + waived_by + "): " + full.details;
  }
  return verdict;
}

}  // namespace bhe
