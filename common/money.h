#pragma once
// Amounts of credits as integer micro-credits: exact sums, no floating point in the ledger.
// "1.5" credits == 1'500'000 micros. Prices are micro-credits per unit-hour.

#include <cstdint>
#include <string>
#include <string_view>

#include "common/result.h"

namespace dcloud {

using Micros = std::int64_t;
constexpr Micros kMicrosPerCredit = 1'000'000;

// "12.345678" (always six decimals trimmed of trailing zeros, at least one decimal: "3.0").
std::string formatMicros(Micros amount);
// Parses a non-negative decimal with at most six decimals, e.g. "0.5", "12", "3.000001".
Result<Micros> parseMicros(std::string_view text);

}  // namespace dcloud
