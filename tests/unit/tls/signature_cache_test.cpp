// The signature cache on its own: results come back for identical inputs only, and a full cache
// gives up its least used entry (the handshake signatures that never repeat) first. Real
// verifications are covered through handshakes in tls_client_test.cpp.
#include "probe/tls/signature_cache.h"

#include <gtest/gtest.h>

#include <string>

namespace bhe {
namespace {

// Not a key: wolfCrypt refuses to decode it, which is as deterministic a result as any.
const std::string kNotAKey = "not a key";

int eccCheck(SignatureCache& cache, const std::string& sig, const std::string& hash) {
  int verified = -1;
  const int ret = cache.eccVerify(
      reinterpret_cast<const unsigned char*>(sig.data()), static_cast<unsigned>(sig.size()),
      reinterpret_cast<const unsigned char*>(hash.data()), static_cast<unsigned>(hash.size()),
      reinterpret_cast<const unsigned char*>(kNotAKey.data()),
      static_cast<unsigned>(kNotAKey.size()), &verified);
  EXPECT_EQ(verified, 0);
  return ret;
}

TEST(SignatureCache, OnlyIdenticalInputsHit) {
  SignatureCache cache;
  const int first = eccCheck(cache, "sig", "hash");
  EXPECT_LT(first, 0);
  EXPECT_EQ(cache.misses(), 1u);
  EXPECT_EQ(eccCheck(cache, "sig", "hash"), first);
  EXPECT_EQ(cache.hits(), 1u);
  eccCheck(cache, "sig", "hasH");
  eccCheck(cache, "sig2", "hash");
  eccCheck(cache, "sigh", "ash");  // the same bytes split differently
  EXPECT_EQ(cache.hits(), 1u);
  EXPECT_EQ(cache.misses(), 4u);
}

TEST(SignatureCache, RsaAndEcdsaResultsAreKeptApart) {
  SignatureCache cache;
  eccCheck(cache, "sig", "");
  std::string sig = "sig";
  unsigned char* out = nullptr;
  cache.rsaVerifyInline(reinterpret_cast<unsigned char*>(sig.data()),
                        static_cast<unsigned>(sig.size()), &out,
                        reinterpret_cast<const unsigned char*>(kNotAKey.data()),
                        static_cast<unsigned>(kNotAKey.size()));
  EXPECT_EQ(cache.hits(), 0u);
  EXPECT_EQ(cache.misses(), 2u);
}

TEST(SignatureCache, AFullCacheEvictsTheLeastUsedEntry) {
  SignatureCache cache(2);
  eccCheck(cache, "chain", "h");
  eccCheck(cache, "chain", "h");  // used again, as a certificate signature is
  eccCheck(cache, "handshake-1", "h");
  eccCheck(cache, "handshake-2", "h");  // evicts handshake-1, not chain
  const auto hits = cache.hits();
  eccCheck(cache, "chain", "h");
  EXPECT_EQ(cache.hits(), hits + 1);
  eccCheck(cache, "handshake-1", "h");
  EXPECT_EQ(cache.hits(), hits + 1);
}

}  // namespace
}  // namespace bhe
