#include "pki/der.h"

namespace bhe {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil): exact for
// every year a certificate can carry, unlike timegm() on a 32-bit time_t.
std::int64_t daysFromCivil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::optional<int> digits(std::string_view s, std::size_t pos, std::size_t count) {
  if (pos + count > s.size()) {
    return std::nullopt;
  }
  int value = 0;
  for (std::size_t i = pos; i < pos + count; ++i) {
    if (s[i] < '0' || s[i] > '9') {
      return std::nullopt;
    }
    value = value * 10 + (s[i] - '0');
  }
  return value;
}

constexpr std::uint8_t kUtcTime = 0x17;
constexpr std::uint8_t kGeneralizedTime = 0x18;

}  // namespace

std::optional<DerTlv> readDerTlv(std::span<const std::uint8_t> in) {
  if (in.size() < 2 || (in[0] & 0x1f) == 0x1f) {
    return std::nullopt;
  }
  std::size_t header = 2;
  std::size_t length = in[1];
  if (length & 0x80) {
    const std::size_t count = length & 0x7f;
    if (count == 0 || count > 4 || in.size() < 2 + count) {
      return std::nullopt;
    }
    length = 0;
    for (std::size_t i = 0; i < count; ++i) {
      length = (length << 8) | in[2 + i];
    }
    header += count;
  }
  if (length > in.size() - header) {
    return std::nullopt;
  }
  return DerTlv{in[0], in.subspan(header, length), header + length};
}

std::optional<std::int64_t> derTimeToUnix(std::string_view s) {
  std::optional<int> year;
  std::size_t pos = 0;
  if (s.size() == 13) {
    year = digits(s, 0, 2);
    if (year) {
      *year += *year >= 50 ? 1900 : 2000;
    }
    pos = 2;
  } else if (s.size() == 15) {
    year = digits(s, 0, 4);
    pos = 4;
  } else {
    return std::nullopt;
  }
  auto month = digits(s, pos, 2);
  auto day = digits(s, pos + 2, 2);
  auto hour = digits(s, pos + 4, 2);
  auto minute = digits(s, pos + 6, 2);
  auto second = digits(s, pos + 8, 2);
  if (!year || !month || !day || !hour || !minute || !second || s.back() != 'Z' || *month < 1 ||
      *month > 12 || *day < 1 || *day > 31 || *hour > 23 || *minute > 59 || *second > 60) {
    return std::nullopt;
  }
  return daysFromCivil(*year, static_cast<unsigned>(*month), static_cast<unsigned>(*day)) * 86400 +
         *hour * 3600 + *minute * 60 + *second;
}

std::optional<std::int64_t> derTimeToUnix(const DerTlv& time) {
  const std::size_t expected = time.tag == kUtcTime ? 13 : time.tag == kGeneralizedTime ? 15 : 0;
  if (time.value.size() != expected) {
    return std::nullopt;
  }
  return derTimeToUnix(
      std::string_view(reinterpret_cast<const char*>(time.value.data()), time.value.size()));
}

}  // namespace bhe
