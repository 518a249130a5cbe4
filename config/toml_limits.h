// Limits on the configuration text, checked before toml++ sees it. toml++ builds and walks nested
// tables recursively: a file of tens of thousands of nested `[a.a.a...]` headers, `[[...]]`
// headers or dotted keys overflows the stack and kills the process (check-config, and a running
// exporter on reload). Refusing such a text up front turns that into an ordinary config error.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <toml++/toml.h>

#include "config/config.h"

namespace bhe {

// Far above any real configuration (a few KiB per hundred servers), far below what would make a
// reload costly.
inline constexpr std::size_t kMaxConfigFileBytes = 4 * 1024 * 1024;

// Every part of a table header (`[a.b]`: 2), every part of a dotted key, and every array and
// inline table opens one level; levels add up (`[a.b]` then `c.d = [[1]]`: 5). The exporter's own
// schema needs 3 (`[probe.match]` status_codes = [...]).
inline constexpr int kMaxTomlNestingDepth = 32;

// Every key's value, every array element and every table header is one value. A configuration
// of 10,000 servers has 20,000 to 60,000, depending on how it groups them. toml++ needs about
// 80 bytes per value and 130 per table, so this also bounds what parsing a reload costs in
// memory (4 MiB of short array elements are 2 million values: 150 MiB).
inline constexpr std::size_t kMaxTomlValues = 500000;

// The first structure nested deeper than kMaxTomlNestingDepth, as
// "FILE:LINE:COL: table header nested more than 32 levels deep ...", or the value past
// kMaxTomlValues ("FILE:LINE:COL: more than 500000 values ..."), or nothing. The scan knows
// TOML's lexical rules (the four kinds of strings, comments, the BOM) so that brackets, dots and
// braces inside strings do not count. It does not judge syntax: invalid TOML that is not too deep
// passes, and toml++ reports it.
std::optional<ConfigError> checkTomlStructure(std::string_view text, const std::string& file);

// A TOML document read the safe way, for every TOML file the exporter reads (the config, the web
// config): a regular file of at most kMaxConfigFileBytes, its structure checked, then parsed.
// Either the table or the one error ("FILE: cannot read the <what>: ...",
// "FILE:LINE:COL: ...").
struct TomlDocument {
  std::optional<toml::table> table;
  std::optional<ConfigError> error;
};
TomlDocument parseTomlText(std::string_view text, const std::string& file);
TomlDocument readTomlFile(const std::string& path, std::string_view what);

}  // namespace bhe
