// libFuzzer: the certificate-chain analyser on chains as a server could present them.
//
// Input: concatenated DER certificates first (split with derSequenceSize, at most kMaxPresented;
// whatever does not split is left out), then four bytes of parameters at the very end
// (FuzzedDataProvider takes integers from the end): the trust mode and how many presented
// certificates are also anchors, the expected host, the time, and an error the TLS library
// reported. Anchors are the fixed roots of fuzz/chain_anchors.pem (the test PKI the seeds come
// from, see fuzz/make_corpus.py) plus the chosen presented ones.
//
// Checked beyond "no crash": a failure always has details, and every certificate listed in the
// verdict was presented.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "pki/certificate_file.h"
#include "pki/trust_anchors.h"
#include "pki/x509.h"
#include "probe/tls/chain_analysis.h"
#include "probe/tls/verify_error.h"

namespace {

constexpr std::size_t kMaxPresented = 8;

constexpr std::array<std::string_view, 14> kHosts = {
    "",           "good.test",   "localhost",   "127.0.0.1",         "::1",
    "wrong.test", "a.wild.test", "*.wild.test", "sanonly.test",      "mixed.test",
    "10.0.0.1",   "GOOD.TEST.",  "cnonly.test", "xn--bcher-kva.test"};

const std::array<bhe::VerifyError, 9> kLibraryErrors = {{
    {0, 0, ""},
    {10, 0, "certificate has expired"},
    {20, 0, "unable to get local issuer certificate"},
    {-322, 0, "peer subject name mismatch"},
    {24, 1, "invalid CA certificate"},
    {-188, 0, "ASN no signer"},
    {62, 0, "hostname mismatch"},
    {1234, 2, "unknown verification error"},
    {-1, 7, "unknown verification error"},
}};

struct Anchors {
  std::vector<bhe::Der> certificates;
  std::shared_ptr<const bhe::TrustAnchors> set;
  std::int64_t seed_time = 0;  // inside the validity of the PKI's "valid now" certificates
};

const Anchors& anchors() {
  static const Anchors loaded = [] {
    Anchors a;
    bhe::CertificateFile file = bhe::readCertificateFile(BHE_FUZZ_ANCHORS, /*lenient=*/false);
    if (!file.ok()) {
      std::fprintf(stderr, "%s: %s\n", BHE_FUZZ_ANCHORS, file.error.c_str());
      std::abort();
    }
    a.certificates = std::move(file.certificates);
    a.set = bhe::TrustAnchors::fromCertificates(a.certificates);
    // The PKI's "valid now" certificates start a day before it was made; two days after the
    // root's start is inside all of them, before the not-yet-valid ones, after the expired ones.
    a.seed_time = a.set->at(0).notBefore() + 2 * 24 * 3600;
    return a;
  }();
  return loaded;
}

std::int64_t timeFor(std::uint8_t choice) {
  switch (choice) {
    case 0:
      return anchors().seed_time;
    case 1:
      return 0;
    case 2:
      return std::numeric_limits<std::int64_t>::max();
    case 3:
      return std::numeric_limits<std::int64_t>::min();
    default:  // a month per step around the seed time: crosses every validity boundary
      return anchors().seed_time + (static_cast<std::int64_t>(choice) - 128) * 30 * 24 * 3600;
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)anchors();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider input(data, size);
  const std::uint8_t flags = input.ConsumeIntegral<std::uint8_t>();
  const std::string_view host = kHosts[input.ConsumeIntegral<std::uint8_t>() % kHosts.size()];
  const std::int64_t now = timeFor(input.ConsumeIntegral<std::uint8_t>());
  const bhe::VerifyError& library_error =
      kLibraryErrors[input.ConsumeIntegral<std::uint8_t>() % kLibraryErrors.size()];
  const std::vector<std::uint8_t> bytes = input.ConsumeRemainingBytes<std::uint8_t>();

  std::vector<bhe::Der> presented;
  std::span<const std::uint8_t> rest(bytes);
  while (!rest.empty() && presented.size() < kMaxPresented) {
    const std::size_t n = bhe::derSequenceSize(rest);
    if (n == 0 || n > rest.size()) {
      break;
    }
    presented.emplace_back(rest.begin(), rest.begin() + static_cast<std::ptrdiff_t>(n));
    rest = rest.subspan(n);
  }

  // Bits 1-2: the last 0-3 presented certificates are anchors too (an uploaded self-made root).
  std::shared_ptr<const bhe::TrustAnchors> trust = anchors().set;
  const std::size_t extra = std::min<std::size_t>((flags >> 1) & 3, presented.size());
  if (extra > 0) {
    std::vector<bhe::Der> all = anchors().certificates;
    all.insert(all.end(), presented.end() - static_cast<std::ptrdiff_t>(extra), presented.end());
    trust = bhe::TrustAnchors::fromCertificates(all);
  }

  bhe::ChainAnalysisInput analysis;
  analysis.presented = presented;
  analysis.anchors = (flags & 8) ? nullptr : trust.get();
  analysis.mode = (flags & 1) ? bhe::TrustMode::kPrivate : bhe::TrustMode::kWellKnown;
  analysis.expected_host = host;
  analysis.now = now;
  if (library_error.code != 0) {
    analysis.library_errors = std::span(&library_error, 1);
  }
  const bhe::ChainVerdict verdict = bhe::analyzeChain(analysis);

  if (!verdict.ok() && verdict.details.empty()) {
    __builtin_trap();
  }
  if (verdict.chain.size() > presented.size()) {
    __builtin_trap();
  }
  for (const auto& certificate : verdict.chain) {
    if (certificate.position < 0 ||
        static_cast<std::size_t>(certificate.position) >= presented.size()) {
      __builtin_trap();
    }
  }
  (void)bhe::describeChain(verdict.chain);
  return 0;
}
