#include "common/money.h"

#include <cctype>
#include <limits>

namespace dcloud {

std::string formatMicros(Micros amount) {
  const bool negative = amount < 0;
  // Work in unsigned to format INT64_MIN without overflow.
  unsigned long long magnitude = negative ? 0ULL - static_cast<unsigned long long>(amount)
                                          : static_cast<unsigned long long>(amount);
  std::string whole = std::to_string(magnitude / kMicrosPerCredit);
  std::string frac = std::to_string(magnitude % kMicrosPerCredit);
  frac.insert(0, 6 - frac.size(), '0');
  while (frac.size() > 1 && frac.back() == '0') frac.pop_back();
  return (negative ? "-" : "") + whole + "." + frac;
}

Result<Micros> parseMicros(std::string_view text) {
  if (text.empty()) return invalidArgument("amount is empty");
  Micros whole = 0;
  Micros frac = 0;
  int frac_digits = 0;
  bool seen_dot = false;
  bool seen_digit = false;
  constexpr Micros kMaxWhole = std::numeric_limits<Micros>::max() / kMicrosPerCredit - 1;
  for (char c : text) {
    if (c == '.') {
      if (seen_dot) return invalidArgument("amount '" + std::string(text) + "' has two dots");
      seen_dot = true;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c))) {
      return invalidArgument("amount '" + std::string(text) + "' is not a non-negative decimal");
    }
    seen_digit = true;
    if (seen_dot) {
      if (++frac_digits > 6) {
        return invalidArgument("amount '" + std::string(text) + "' has more than six decimals");
      }
      frac = frac * 10 + (c - '0');
    } else {
      whole = whole * 10 + (c - '0');
      if (whole > kMaxWhole)
        return invalidArgument("amount '" + std::string(text) + "' is too large");
    }
  }
  if (!seen_digit) return invalidArgument("amount '" + std::string(text) + "' has no digits");
  for (int i = frac_digits; i < 6; ++i) frac *= 10;
  return whole * kMicrosPerCredit + frac;
}

}  // namespace dcloud
