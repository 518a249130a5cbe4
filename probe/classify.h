// Pure classification of what went wrong in a probe phase into the contract's reasons, with the
// human details string. No I/O: the session hands in the raw facts (status codes, errno values).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "config/config.h"
#include "probe/reason.h"

namespace bhe {

struct Failure {
  Reason reason;
  std::string details;
};

enum class ProbePhase { kDns, kConnect, kTls, kHttp };
std::string_view phaseName(ProbePhase phase);

// c-ares status of a failed lookup (ARES_E*). NXDOMAIN and "no address" are authoritative
// answers (dns_resolution_error); timeouts, refusals, SERVFAIL and unreachable resolvers mean
// the exporter could not learn anything (dns_server_unreachable).
Failure classifyDnsFailure(int ares_status, std::string_view name, std::string_view servers);

// libuv error (negative errno) of a failed TCP connect.
Failure classifyConnectFailure(int uv_error, std::string_view address);

// The probe timeout fired while `phase` was still running.
Failure classifyTimeout(ProbePhase phase, std::string_view timeout_text, std::string_view address);

// The connection broke (reset, EOF, read error) after connect, before a complete response.
Failure classifyBrokenResponse(std::string_view what, std::size_t bytes_received);

// The response parser rejected the bytes.
Failure classifyInvalidResponse(std::string_view parser_error, std::size_t bytes_received);

// Status first, then the body, per CONTRACT §3. Returns nothing when the response matches.
std::optional<Failure> classifyResponse(int status, std::string_view body, const ProbeMatch& match);

// "200-399,404" as Azure prints the expected codes.
std::string formatStatusRanges(const std::vector<StatusRange>& ranges);

}  // namespace bhe
