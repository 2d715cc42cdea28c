// dbpoolsim models: the error funnel shared by the exact-theory oracles (theory.cpp, ctmc.cpp).
// Messages name the function, the parameter and the value: "erlang_c: servers must be >= 1, got 0".
#pragma once

#include <charconv>
#include <stdexcept>
#include <string>
#include <string_view>

namespace dbpoolsim::models::theory::detail {

/// Shortest round-trip decimal form of `x` ("12", "0.05", "inf", "nan").
inline std::string fmt(double x) {
    char buf[64];
    const auto res = std::to_chars(buf, buf + sizeof buf, x);
    return std::string(buf, res.ptr);
}

/// Throws std::invalid_argument("<fn>: <what>").
[[noreturn]] inline void fail(std::string_view fn, const std::string& what) {
    throw std::invalid_argument(std::string(fn) + ": " + what);
}

}  // namespace dbpoolsim::models::theory::detail
