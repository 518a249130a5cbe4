// Results of the public-key operations wolfSSL asks for while it verifies a handshake (through
// its verify callbacks), remembered by their complete inputs. A server presents the same chain
// probe after probe, so the signatures in its certificates (leaf by intermediate, intermediate by
// root) are the same bytes checked with the same keys every time; with Debian's generic
// big-integer code each such check costs as much as the rest of the client's work (an ECDSA P-256
// verification about a million instructions). The server's own handshake signature covers a fresh
// transcript every time, so it never matches an earlier one and is always computed.
//
// Sound because both operations are pure functions of what forms the key here: the RSA public
// operation of `sig` under `key`, and the ECDSA verification of `sig` over `hash` under `key`.
// Nothing about names, dates or trust is cached: wolfSSL still parses every certificate, checks
// its dates, finds its issuer and applies its limits on every handshake.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

namespace bhe {

class SignatureCache {
 public:
  explicit SignatureCache(std::size_t capacity = 256) : capacity_(capacity) {}
  SignatureCache(const SignatureCache&) = delete;
  SignatureCache& operator=(const SignatureCache&) = delete;

  // wc_RsaSSL_VerifyInline() of `sig` under the DER public key `key` (RSAPublicKey or
  // SubjectPublicKeyInfo): the recovered block's length with *out pointing at it inside `sig`, or
  // a negative wolfCrypt error.
  int rsaVerifyInline(unsigned char* sig, unsigned sig_size, unsigned char** out,
                      const unsigned char* key, unsigned key_size);
  // wc_ecc_verify_hash() under the DER public key `key`: 0 with *verified 1 or 0, or a negative
  // wolfCrypt error.
  int eccVerify(const unsigned char* sig, unsigned sig_size, const unsigned char* hash,
                unsigned hash_size, const unsigned char* key, unsigned key_size, int* verified);

  std::uint64_t hits() const;
  std::uint64_t misses() const;

 private:
  struct Entry {
    int ret = 0;
    int verified = 0;    // ECDSA
    std::string output;  // RSA: the recovered block
    std::uint64_t hits = 0;
    std::uint64_t inserted = 0;
  };
  const Entry* find(const std::string& key);
  void insert(std::string key, Entry entry);

  const std::size_t capacity_;
  mutable std::mutex mutex_;  // contexts are shared; handshakes may run on several threads
  std::unordered_map<std::string, Entry> entries_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
  std::uint64_t insertions_ = 0;
};

}  // namespace bhe
