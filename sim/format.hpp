// dbpoolsim kernel: shortest round-trip formatting of numbers for messages ("got 0.05").
#pragma once

#include <charconv>
#include <cmath>
#include <string>

namespace dbpoolsim::sim {

inline std::string format_number(double x) {
    if (std::isnan(x)) return "nan";
    if (std::isinf(x)) return x > 0 ? "inf" : "-inf";
    char buf[64];
    auto r = std::to_chars(buf, buf + sizeof buf, x);
    return std::string(buf, r.ptr);
}

}  // namespace dbpoolsim::sim
