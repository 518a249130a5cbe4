#include "exporter/exposition.h"

#include <charconv>
#include <cmath>

namespace bhe {
namespace {

void escapeInto(std::string& out, std::string_view value) {
  if (value.find_first_of("\\\"\n") == std::string_view::npos) {
    out += value;  // the usual case: nothing to escape
    return;
  }
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

}  // namespace

RenderedLabels escapedLabels(
    std::initializer_list<std::pair<std::string_view, std::string_view>> labels) {
  RenderedLabels rendered;
  for (const auto& [name, value] : labels) {
    if (!rendered.text.empty()) {
      rendered.text += ',';
    }
    rendered.text += name;
    rendered.text += "=\"";
    escapeInto(rendered.text, value);
    rendered.text += '"';
  }
  return rendered;
}

void Exposition::family(std::string_view name, std::string_view help, std::string_view type) {
  name_ = name;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  // HELP text escapes only backslash and newline.
  for (char c : help) {
    out_ += c == '\\' ? "\\\\" : (c == '\n' ? "\\n" : std::string_view(&c, 1));
  }
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void Exposition::series(const RenderedLabels& common, std::initializer_list<Label> extra,
                        double value) {
  out_ += name_;
  if (!common.text.empty() || extra.size() > 0) {
    out_ += '{';
    out_ += common.text;
    bool first = common.text.empty();
    for (const auto& [name, label_value] : extra) {
      if (!first) {
        out_ += ',';
      }
      first = false;
      out_ += name;
      out_ += "=\"";
      escapeInto(out_, label_value);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
  appendValue(value);
  out_ += '\n';
}

void Exposition::appendValue(double value) {
  if (std::isnan(value)) {
    out_ += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out_ += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buffer[32];
  // Counts and timestamps are integers: print them as such, the rest with 16 significant digits
  // (what prometheus-cpp prints).
  std::to_chars_result written;
  if (value == std::floor(value) && std::fabs(value) < 1e15) {
    written = std::to_chars(buffer, buffer + sizeof buffer, static_cast<long long>(value));
  } else {
    written = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general, 16);
  }
  out_.append(buffer, written.ptr);
}

}  // namespace bhe
