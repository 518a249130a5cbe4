// libFuzzer: configuration text through everything check-config and a reload run on it: the
// structure pre-check, toml++, validation, and target expansion.
//
// Beyond "no crash, no sanitizer report", two properties are checked:
//  - a load has a config exactly when it has no errors, and every error names the file;
//  - whatever the pre-check lets through really is at most kMaxTomlNestingDepth deep once toml++
//    has parsed it: a lexer slip in the pre-check (a string kind, a comment) would show up here
//    as a tree deeper than the limit, long before it could hide the thousands of levels that
//    crash toml++.
#include <toml++/toml.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "config/config.h"
#include "config/targets.h"
#include "config/toml_limits.h"

namespace {

// Certificate paths in the input are relative to this directory, which does not exist: the
// fuzzer reads no files of its own (absolute paths in the input are read, bounded, like any).
const std::string kFile = "/nonexistent-bhe-fuzz/fuzz.toml";

// Levels as the pre-check counts them: one per key on the path and per array holding a
// container. The tables of an array of tables ([[x]]) sit at the array's own level: the
// pre-check sees only the header's parts. Never more than the pre-check's count for the same
// text, so exceeding the limit here means the pre-check missed something.
int deepestLevel(const toml::node& node, int level) {
  int deepest = level;
  if (const auto* table = node.as_table()) {
    for (auto&& [key, child] : *table) {
      deepest = std::max(deepest, deepestLevel(child, level + 1));
    }
  } else if (const auto* array = node.as_array()) {
    for (const auto& element : *array) {
      if (element.is_table()) {
        deepest = std::max(deepest, deepestLevel(element, level));
      } else if (element.is_array()) {
        deepest = std::max(deepest, deepestLevel(element, level + 1));
      }
    }
  }
  return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  bhe::ConfigLoad load = bhe::parseConfig(text, kFile);
  if (load.config.has_value() == !load.errors.empty()) {
    __builtin_trap();
  }
  for (const auto& error : load.errors) {
    if (error.file != kFile || error.message.empty() || error.position.line < 0) {
      __builtin_trap();
    }
  }
  if (load.config) {
    (void)bhe::expandTargets(*load.config);
  }

  if (!bhe::checkTomlStructure(text, kFile)) {
    try {
      toml::table root = toml::parse(text, std::string_view(kFile));
      if (deepestLevel(root, 0) > bhe::kMaxTomlNestingDepth) {
        __builtin_trap();
      }
    } catch (const toml::parse_error&) {
      // Invalid TOML is toml++'s to report; parseConfig above already did.
    }
  }
  return 0;
}
