// /backend-health: the Azure Application Gateway BackendHealth response shape
// (backendAddressPools[].backendHttpSettingsCollection[].servers[] {address, health,
// healthProbeLog}) plus our own reason, category, details, hint, since and lastProbe.
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "probe/publish/status_board.h"

namespace bhe {

nlohmann::json backendHealthJson(const StatusSnapshot& targets);

// One server entry of the document (also used by /probe).
nlohmann::json serverHealthJson(const TargetStatus& target);

// One member (address) of a server.
nlohmann::json addressJson(const AddressStatus& address);

// The per-probe part: timings, status, address, TLS chain.
nlohmann::json probeResultJson(const ProbeResult& result);

}  // namespace bhe
