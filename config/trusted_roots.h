// Certificate files named by the config: trusted roots (private-CA mode) and the well-known CA
// bundle. Both are checked when the config is loaded, so that a broken file is a config error
// with its position instead of a failing probe.
#pragma once

#include <string>

#include "config/config.h"

namespace bhe {

// Reads root.path into root.der; returns an empty string, or what is wrong with the file.
std::string loadTrustedRoot(TrustedRootCertificate& root);

// Returns an empty string when the bundle holds at least one certificate, else the problem.
std::string checkWellKnownBundle(const std::string& path);

}  // namespace bhe
