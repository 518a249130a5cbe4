// The per-server families of /metrics, written from a snapshot: every family, in order, with the
// series each kind of target contributes (unprobed, healthy HTTP, unhealthy HTTPS with a chain,
// a draining FQDN server of two addresses), and /probe's subset without the schedule's families.
#include <gtest/gtest.h>

#include <array>
#include <string>
#include <tuple>

#include "exporter/metrics.h"

namespace bhe {
namespace {

std::shared_ptr<TargetStatus> status(const std::string& server, std::size_t order) {
  auto target = std::make_shared<ProbeTarget>();
  target->key = {"web", "http", server};
  target->server_is_ip = true;
  auto s = std::make_shared<TargetStatus>();
  s->target = target;
  s->order = order;
  return s;
}

std::shared_ptr<ProbeResult> result(bool success, int http_status, PhaseSeconds seconds) {
  auto r = std::make_shared<ProbeResult>();
  r->success = success;
  r->reason = success ? Reason::kNotYetProbed : Reason::kTlsCertExpired;
  r->http_status = http_status;
  r->seconds = seconds;
  return r;
}

AddressStatus member(const std::string& address, HealthState state) {
  AddressStatus m;
  m.address = address;
  m.state = state;
  return m;
}

StatusSnapshot snapshot() {
  auto unprobed = status("10.0.0.1", 0);

  auto healthy = status("10.0.0.2", 1);
  healthy->state = HealthState::kHealthy;
  healthy->last = result(true, 200, {0, 0.0005, 0, 0.00125, 0.00175});
  healthy->probes.success = 41;
  healthy->state_changes = 1;
  healthy->addresses.push_back(member("10.0.0.2", HealthState::kHealthy));

  auto expired = status("10.0.0.3", 2);
  std::const_pointer_cast<ProbeTarget>(expired->target)->protocol = Protocol::kHttps;
  expired->state = HealthState::kUnhealthy;
  expired->reason = Reason::kTlsCertExpired;
  auto tls_result = result(false, 0, {0, 0.001, 0.004, 0, 0.005});
  tls_result->tls.emplace();
  tls_result->tls->leaf_not_after = 1700000000;
  tls_result->tls->chain_earliest_not_after = 1690000000;
  expired->last = tls_result;
  expired->probes.failures[static_cast<std::size_t>(Reason::kTlsCertExpired)] = 3;
  expired->probes.success = 2;
  expired->state_changes = 2;
  expired->addresses.push_back(member("10.0.0.3", HealthState::kUnhealthy));

  auto named = status("api.test", 3);
  auto named_target = std::const_pointer_cast<ProbeTarget>(named->target);
  named_target->server_is_ip = false;
  named_target->draining = true;
  named->state = HealthState::kHealthy;
  auto stale_result = result(true, 204, {0.0002, 0.0003, 0, 0.0004, 0.0009});
  stale_result->dns_stale = true;
  named->last = stale_result;
  named->probes.success = 9;
  named->addresses.push_back(member("10.1.0.1", HealthState::kHealthy));
  named->addresses.push_back(member("10.1.0.2", HealthState::kUnknown));
  named->addresses.push_back({});  // a stand-in: never a series of its own

  return {unprobed, healthy, expired, named};
}

TEST(TargetFamilies, EveryFamilyWithTheSeriesOfEachKindOfTarget) {
  std::string text;
  writeTargetFamilies(snapshot(), text);
  const std::string u = R"(pool="web",settings="http",server="10.0.0.1")";
  const std::string h = R"(pool="web",settings="http",server="10.0.0.2")";
  const std::string x = R"(pool="web",settings="http",server="10.0.0.3")";
  const std::string n = R"(pool="web",settings="http",server="api.test")";
  std::string expected;
  auto family = [&](const std::string& name, const std::string& type) {
    const auto help_end = text.find('\n', text.find("# HELP " + name + " "));
    ASSERT_NE(help_end, std::string::npos) << name;
    const auto help_start = text.rfind("# HELP ", help_end);
    expected += text.substr(help_start, help_end + 1 - help_start);
    expected += "# TYPE " + name + " " + type + "\n";
  };
  auto line = [&](const std::string& name, const std::string& labels, const std::string& value) {
    expected += name + "{" + labels + "} " + value + "\n";
  };
  const std::string state = "backend_health_server_state";
  family(state, "gauge");
  for (const auto& [labels, current] :
       {std::pair{u, "unknown"}, {h, "healthy"}, {x, "unhealthy"}, {n, "healthy"}}) {
    for (const char* s : {"healthy", "unhealthy", "unknown"}) {
      line(state, labels + ",state=\"" + s + "\"", current == std::string(s) ? "1" : "0");
    }
  }
  const std::string reason = "backend_health_server_failure_reason";
  family(reason, "gauge");
  line(reason, u + R"(,category="unknown",reason="not_yet_probed")", "1");
  line(reason, x + R"(,category="tls",reason="tls_cert_expired")", "1");
  const std::string success = "backend_health_probe_success";
  family(success, "gauge");
  line(success, h, "1");
  line(success, x, "0");
  line(success, n, "1");
  // Values print as the shortest text that reads back as the same double (5e-04 for 0.0005).
  const std::string duration = "backend_health_probe_duration_seconds";
  family(duration, "gauge");
  for (const auto& [labels, phases] :
       {std::pair<std::string, std::vector<std::pair<const char*, const char*>>>{
            h, {{"dns", "0"}, {"connect", "5e-04"}, {"http", "0.00125"}, {"total", "0.00175"}}},
        {x,
         {{"dns", "0"}, {"connect", "0.001"}, {"tls", "0.004"}, {"http", "0"}, {"total", "0.005"}}},
        {n, {{"dns", "2e-04"}, {"connect", "3e-04"}, {"http", "4e-04"}, {"total", "9e-04"}}}}) {
    for (const auto& [phase, value] : phases) {
      line(duration, labels + ",phase=\"" + phase + "\"", value);
    }
  }
  const std::string code = "backend_health_probe_http_status_code";
  family(code, "gauge");
  line(code, h, "200");
  line(code, x, "0");
  line(code, n, "204");
  const std::string probes = "backend_health_probes_total";
  family(probes, "counter");
  line(probes, h + R"(,result="success")", "41");
  line(probes, x + R"(,result="success")", "2");
  line(probes, x + R"(,result="tls_cert_expired")", "3");
  line(probes, n + R"(,result="success")", "9");
  const std::string changes = "backend_health_state_changes_total";
  family(changes, "counter");
  line(changes, u, "0");
  line(changes, h, "1");
  line(changes, x, "2");
  line(changes, n, "0");
  const std::string not_after = "backend_health_tls_cert_not_after_timestamp_seconds";
  family(not_after, "gauge");
  line(not_after, x + R"(,position="leaf")", "1700000000");
  line(not_after, x + R"(,position="chain_earliest")", "1690000000");
  const std::string stale = "backend_health_dns_stale";
  family(stale, "gauge");
  line(stale, h, "0");
  line(stale, x, "0");
  line(stale, n, "1");
  const std::string address_state = "backend_health_address_state";
  family(address_state, "gauge");
  for (const auto& [address, current] :
       {std::pair{"10.1.0.1", "healthy"}, {"10.1.0.2", "unknown"}}) {
    for (const char* s : {"healthy", "unhealthy", "unknown"}) {
      line(address_state, n + ",address=\"" + address + "\",state=\"" + s + "\"",
           current == std::string(s) ? "1" : "0");
    }
  }
  const std::string addresses = "backend_health_server_addresses";
  family(addresses, "gauge");
  for (const auto& [labels, counts] : {std::pair{u, std::array{0, 0, 0}},
                                       {h, std::array{1, 0, 0}},
                                       {x, std::array{0, 1, 0}},
                                       {n, std::array{1, 0, 1}}}) {
    const char* states[] = {"healthy", "unhealthy", "unknown"};
    for (int i = 0; i < 3; ++i) {
      line(addresses, labels + ",state=\"" + states[i] + "\"", std::to_string(counts[i]));
    }
  }
  const std::string draining = "backend_health_server_draining";
  family(draining, "gauge");
  line(draining, u, "0");
  line(draining, h, "0");
  line(draining, x, "0");
  line(draining, n, "1");
  const std::string pool = "backend_health_pool_servers";
  family(pool, "gauge");
  line(pool, R"(pool="web",settings="http",state="healthy")", "2");
  line(pool, R"(pool="web",settings="http",state="unhealthy")", "1");
  line(pool, R"(pool="web",settings="http",state="unknown")", "1");
  EXPECT_EQ(text, expected);
}

TEST(TargetFamilies, PoolServersCountEachPoolAndSettingsOnceInNameOrderWhereverItsServersStand) {
  // Runs of one (pool, settings), split apart and out of name order: as after a reload, before
  // the board's next sort.
  StatusSnapshot targets;
  auto add = [&](const char* pool, const char* settings, HealthState state) {
    auto s = status("10.0.0." + std::to_string(targets.size() + 1), targets.size());
    std::const_pointer_cast<ProbeTarget>(s->target)->key.pool = pool;
    std::const_pointer_cast<ProbeTarget>(s->target)->key.settings = settings;
    s->state = state;
    targets.push_back(s);
  };
  add("web", "http", HealthState::kHealthy);
  add("web", "http", HealthState::kHealthy);
  add("api", "tls", HealthState::kUnhealthy);
  add("web", "http", HealthState::kUnknown);
  add("api", "http", HealthState::kHealthy);
  add("api", "tls", HealthState::kUnhealthy);
  std::string text;
  writeTargetFamilies(targets, text);
  const std::string name = "backend_health_pool_servers";
  const auto begin = text.find('\n', text.find("# TYPE " + name)) + 1;
  std::string expected;
  for (const auto& [pool, settings, counts] : {std::tuple{"api", "http", std::array{1, 0, 0}},
                                               {"api", "tls", std::array{0, 2, 0}},
                                               {"web", "http", std::array{2, 0, 1}}}) {
    const char* states[] = {"healthy", "unhealthy", "unknown"};
    for (int i = 0; i < 3; ++i) {
      expected += name + "{pool=\"" + pool + "\",settings=\"" + settings + "\",state=\"" +
                  states[i] + "\"} " + std::to_string(counts[i]) + "\n";
    }
  }
  EXPECT_EQ(text.substr(begin), expected);
}

TEST(TargetFamilies, ProbeOutputLeavesOutTheSchedulesFamilies) {
  std::string text;
  writeTargetFamilies(snapshot(), text, false);
  EXPECT_NE(text.find("# TYPE backend_health_probe_success gauge"), std::string::npos);
  for (const char* name : {"backend_health_probes_total", "backend_health_state_changes_total",
                           "backend_health_pool_servers"}) {
    EXPECT_EQ(text.find(name), std::string::npos) << name;
  }
}

TEST(TargetFamilies, WrittenInPiecesTheTextIsTheSameAndEachPieceStopsAtItsMark) {
  std::string whole;
  writeTargetFamilies(snapshot(), whole);
  for (std::size_t piece : {1u, 7u, 100u, 4096u}) {
    TargetFamiliesWriter writer(snapshot());
    std::string text;
    int pieces = 0;
    bool more = true;
    while (more) {
      const std::size_t until = text.size() + piece;
      more = writer.write(text, until);
      ++pieces;
      if (more) {
        // A piece ends at the first series (or family head and series) past its mark.
        EXPECT_GE(text.size(), until) << piece;
        EXPECT_LT(text.size(), until + 2000) << piece;
      }
      ASSERT_LT(pieces, 100000) << "no progress";
    }
    EXPECT_EQ(text, whole) << "in pieces of " << piece;
    if (piece < 1000) {
      EXPECT_GT(pieces, 10) << piece;
    }
  }
}

}  // namespace
}  // namespace bhe
