// clang-format off
#include <wolfssl/options.h>  // must precede every other wolfSSL header
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/rsa.h>
// clang-format on

#include "probe/tls/signature_cache.h"

#include <cstring>

namespace bhe {
namespace {

// Length-prefixed fields, so no two different inputs make the same key.
void appendField(std::string& key, const unsigned char* data, unsigned size) {
  key.append(reinterpret_cast<const char*>(&size), sizeof(size));
  key.append(reinterpret_cast<const char*>(data), size);
}

}  // namespace

std::uint64_t SignatureCache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

std::uint64_t SignatureCache::misses() const {
  std::lock_guard lock(mutex_);
  return misses_;
}

const SignatureCache::Entry* SignatureCache::find(const std::string& key) {
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    ++misses_;
    return nullptr;
  }
  ++hits_;
  ++it->second.hits;
  return &it->second;
}

void SignatureCache::insert(std::string key, Entry entry) {
  if (capacity_ == 0) {
    return;
  }
  if (entries_.size() >= capacity_) {
    // Evict the least used, oldest first: the server signatures every handshake adds are never
    // used again and go before the certificate signatures that are.
    auto victim = entries_.begin();
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
      if (it->second.hits < victim->second.hits ||
          (it->second.hits == victim->second.hits &&
           it->second.inserted < victim->second.inserted)) {
        victim = it;
      }
    }
    entries_.erase(victim);
  }
  entry.inserted = ++insertions_;
  entries_.emplace(std::move(key), std::move(entry));
}

int SignatureCache::rsaVerifyInline(unsigned char* sig, unsigned sig_size, unsigned char** out,
                                    const unsigned char* key, unsigned key_size) {
  std::string cache_key = "rsa";
  appendField(cache_key, sig, sig_size);
  appendField(cache_key, key, key_size);
  {
    std::lock_guard lock(mutex_);
    if (const Entry* hit = find(cache_key)) {
      if (hit->ret > 0) {
        std::memcpy(sig, hit->output.data(), hit->output.size());
        *out = sig;
      }
      return hit->ret;
    }
  }
  RsaKey rsa;
  int ret = wc_InitRsaKey(&rsa, nullptr);
  if (ret == 0) {
    word32 index = 0;
    ret = wc_RsaPublicKeyDecode(key, &index, &rsa, key_size);
    if (ret == 0) {
      ret = wc_RsaSSL_VerifyInline(sig, sig_size, out, &rsa);
    }
    wc_FreeRsaKey(&rsa);
  }
  Entry entry;
  entry.ret = ret;
  if (ret > 0) {
    entry.output.assign(reinterpret_cast<const char*>(*out), static_cast<std::size_t>(ret));
  }
  std::lock_guard lock(mutex_);
  insert(std::move(cache_key), std::move(entry));
  return ret;
}

int SignatureCache::eccVerify(const unsigned char* sig, unsigned sig_size,
                              const unsigned char* hash, unsigned hash_size,
                              const unsigned char* key, unsigned key_size, int* verified) {
  std::string cache_key = "ecc";
  appendField(cache_key, sig, sig_size);
  appendField(cache_key, hash, hash_size);
  appendField(cache_key, key, key_size);
  {
    std::lock_guard lock(mutex_);
    if (const Entry* hit = find(cache_key)) {
      *verified = hit->verified;
      return hit->ret;
    }
  }
  *verified = 0;
  ecc_key ecc;
  int ret = wc_ecc_init(&ecc);
  if (ret == 0) {
    word32 index = 0;
    ret = wc_EccPublicKeyDecode(key, &index, &ecc, key_size);
    if (ret == 0) {
      ret = wc_ecc_verify_hash(sig, sig_size, hash, hash_size, verified, &ecc);
    }
    wc_ecc_free(&ecc);
  }
  Entry entry;
  entry.ret = ret;
  entry.verified = *verified;
  std::lock_guard lock(mutex_);
  insert(std::move(cache_key), std::move(entry));
  return ret;
}

}  // namespace bhe
