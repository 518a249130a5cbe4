#include "probe/classify/reason.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace bhe {
namespace {

TEST(ReasonTable, NamesAndCategoriesFollowTheContract) {
  // The reason table of the README: name -> (category, state).
  const std::map<std::string, std::pair<std::string, HealthState>> contract{
      {"backend_timeout", {"timeout", HealthState::kUnhealthy}},
      {"dns_resolution_error", {"dns", HealthState::kUnhealthy}},
      {"tcp_connect_error", {"tcp", HealthState::kUnhealthy}},
      {"http_status_mismatch", {"http", HealthState::kUnhealthy}},
      {"http_body_mismatch", {"http", HealthState::kUnhealthy}},
      {"http_invalid_response", {"http", HealthState::kUnhealthy}},
      {"tls_handshake_error", {"tls", HealthState::kUnhealthy}},
      {"tls_cn_mismatch", {"tls", HealthState::kUnhealthy}},
      {"tls_cert_expired", {"tls", HealthState::kUnhealthy}},
      {"tls_intermediate_missing", {"tls", HealthState::kUnhealthy}},
      {"tls_leaf_missing", {"tls", HealthState::kUnhealthy}},
      {"tls_leaf_not_topmost", {"tls", HealthState::kUnhealthy}},
      {"tls_cert_not_public_ca", {"tls", HealthState::kUnhealthy}},
      {"tls_intermediate_not_public_ca", {"tls", HealthState::kUnhealthy}},
      {"tls_trusted_root_mismatch_no_root", {"tls", HealthState::kUnhealthy}},
      {"tls_trusted_root_mismatch", {"tls", HealthState::kUnhealthy}},
      {"tls_cert_verification_failed", {"tls", HealthState::kUnhealthy}},
      {"not_yet_probed", {"unknown", HealthState::kUnknown}},
      {"dns_server_unreachable", {"dns", HealthState::kUnknown}},
      {"network_unreachable", {"network", HealthState::kUnknown}},
      // The second version's extensions.
      {"tls_cert_revoked", {"tls", HealthState::kUnhealthy}},
      {"tls_revocation_unknown", {"tls", HealthState::kUnknown}},
      {"exporter_resource_exhausted", {"exporter", HealthState::kUnknown}},
  };
  ASSERT_EQ(allReasons().size(), contract.size());
  for (const auto& info : allReasons()) {
    auto it = contract.find(std::string(info.name));
    ASSERT_NE(it, contract.end()) << info.name;
    EXPECT_EQ(info.category, it->second.first) << info.name;
    EXPECT_EQ(info.state, it->second.second) << info.name;
    EXPECT_EQ(&describe(info.reason), &info);
    EXPECT_EQ(reasonFromName(info.name), info.reason);
    EXPECT_FALSE(info.message.empty()) << info.name;
    EXPECT_GT(info.hint.size(), 40u) << info.name << " needs a concrete hint";
  }
  EXPECT_EQ(reasonFromName("no_such_reason"), std::nullopt);
}

}  // namespace
}  // namespace bhe
