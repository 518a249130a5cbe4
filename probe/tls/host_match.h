// Does a certificate carry the host name the probe expects? RFC 6125 §6, as Application
// Gateway applies it:
//  - host names are compared case-insensitively (ASCII), ignoring one trailing dot;
//  - subjectAltName dNSName entries are the identity; the subject CN is consulted only when the
//    certificate has no dNSName entry at all (RFC 6125 §6.4.4; a SAN holding only IP addresses
//    therefore still lets the CN count, as OpenSSL does);
//  - a wildcard is accepted only as the complete left-most label ("*.example.com"), matches
//    exactly one non-empty label, and needs at least two labels after it ("*.com" never
//    matches); partial wildcards ("f*.example.com") never match;
//  - an IP-literal host ("10.0.0.5", "::1", "[::1]") matches only iPAddress SAN entries,
//    byte for byte, never a CN or dNSName.
#pragma once

#include <string>
#include <string_view>

#include "pki/x509.h"

namespace bhe {

// An IP literal, IPv6 possibly in brackets ("[fe80::1]"): such hosts match iPAddress SANs.
bool isIpHost(std::string_view host);

// One presented name (pattern) against one host, both as written; the rules above.
bool dnsNameMatches(std::string_view pattern, std::string_view host);

bool certificateMatchesHost(const Certificate& cert, std::string_view host);

// The names the check looked at, for details: "SAN DNS:a.test, DNS:b.test, IP:127.0.0.1" or
// "no DNS SAN, CN=a.test" or "no SAN, no CN".
std::string describeCertificateNames(const Certificate& cert);

}  // namespace bhe
