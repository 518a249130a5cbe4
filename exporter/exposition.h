// The Prometheus text exposition format (0.0.4), written straight into one string: a scrape of
// 10,000 servers is ~150,000 series, and building them as prometheus-cpp MetricFamily objects
// first (a vector of label pairs per series) cost more time and memory than the text itself.
// prometheus-cpp still owns the exporter's own metrics (its registry serializes those).
//
//   Exposition out(text);
//   out.family("backend_health_probe_success", "Whether ...", "gauge");
//   out.series(labels_of_target, {}, 1);           // name{pool="a",...} 1
//   out.series(labels_of_target, {{"phase", "dns"}}, 0.002);
#pragma once

#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace bhe {

// `name="value"` pairs, already escaped and joined with commas (see escapedLabels()).
struct RenderedLabels {
  std::string text;
};

// `pool="a",settings="b"` for these pairs, values escaped (\\, \", \n).
RenderedLabels escapedLabels(std::initializer_list<std::pair<std::string_view, std::string_view>>);

class Exposition {
 public:
  using Label = std::pair<std::string_view, std::string_view>;

  explicit Exposition(std::string& out) : out_(out) {}

  // The # HELP and # TYPE lines; the series that follow belong to this family.
  void family(std::string_view name, std::string_view help, std::string_view type);
  // Goes on with a family whose lines were begun by an earlier Exposition (a text written in
  // pieces): the series that follow belong to it, and no # lines are written.
  void resumeFamily(std::string_view name) { name_ = name; }
  // One series of the current family: the common labels, then `extra` (escaped here).
  void series(const RenderedLabels& common, std::initializer_list<Label> extra, double value);
  // One series named after the family plus `suffix` (a summary's _sum and _count).
  void suffixedSeries(std::string_view suffix, const RenderedLabels& common,
                      std::initializer_list<Label> extra, double value);

 private:
  // "-1.234567890123457e-308" is 24 characters.
  static constexpr std::size_t kMaxValueChars = 32;
  static char* writeValue(char* out, double value);

  std::string& out_;
  std::string name_;
};

}  // namespace bhe
