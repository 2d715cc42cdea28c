#include "models/json_reader.hpp"

#include <algorithm>
#include <climits>
#include <cmath>

#include "sim/format.hpp"

namespace dbpoolsim::models::detail {
namespace {

std::size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
    for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
    for (std::size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= b.size(); ++j)
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1])});
        std::swap(prev, cur);
    }
    return prev[b.size()];
}

const char* type_name(const json& v) {
    switch (v.type()) {
        case json::value_t::null: return "null";
        case json::value_t::boolean: return "a boolean";
        case json::value_t::string: return "a string";
        case json::value_t::array: return "an array";
        case json::value_t::object: return "an object";
        default: return "a number";
    }
}

}  // namespace

std::string show(const json& v) {
    std::string s = v.is_number_float() ? sim::format_number(v.get<double>()) : v.dump();
    if (s.size() > 60) s = s.substr(0, 57) + "...";
    return s;
}

object_reader::object_reader(const json& j, std::string path, problems& out)
    : path_(std::move(path)), out_(out) {
    if (j.is_object()) obj_ = &j;
    else out_.add(path_, std::string("must be an object, got ") + type_name(j) + " " + show(j));
}

bool object_reader::has(const std::string& key) const { return obj_ && obj_->contains(key); }

const json* object_reader::raw(const std::string& key) {
    known_.insert(key);
    if (!obj_) return nullptr;
    auto it = obj_->find(key);
    if (it == obj_->end()) return nullptr;
    read_.insert(key);
    return &*it;
}

std::string number_rule_broken(double x, double min, bool min_inclusive, double max) {
    const bool low_ok = min_inclusive ? x >= min : x > min;
    if (!low_ok || !std::isfinite(x))
        return std::string("must be ") + (min_inclusive ? ">= " : "> ") + sim::format_number(min);
    if (x > max) return "must be <= " + sim::format_number(max);
    return "";
}

std::string integer_rule_broken(long long x, long long min, long long max) {
    if (x < min) return "must be >= " + std::to_string(min);
    if (x > max) return "must be <= " + std::to_string(max);
    return "";
}

void object_reader::number(const std::string& key, double& out, double min, bool min_inclusive,
                           double max) {
    const json* v = raw(key);
    if (!v) return;
    if (!v->is_number()) {
        out_.add(at(key), std::string("must be a number, got ") + type_name(*v) + " " + show(*v));
        return;
    }
    const double x = v->get<double>();
    if (auto broken = number_rule_broken(x, min, min_inclusive, max); !broken.empty()) {
        out_.add(at(key), broken + ", got " + show(*v));
        return;
    }
    out = x;
}

void object_reader::integer(const std::string& key, int& out, long long min, long long max) {
    long long x = out;
    int64(key, x, min, max);
    out = static_cast<int>(x);
}

void object_reader::int64(const std::string& key, long long& out, long long min, long long max) {
    const json* v = raw(key);
    if (!v) return;
    long long x = 0;
    if (v->is_number_float() && std::isfinite(v->get<double>()) &&
        v->get<double>() == std::floor(v->get<double>()) && std::abs(v->get<double>()) < 9e15) {
        x = static_cast<long long>(v->get<double>());  // 20.0 is the integer 20
    } else if (!v->is_number_integer()) {
        out_.add(at(key), std::string("must be an integer, got ") + type_name(*v) + " " + show(*v));
        return;
    } else if (v->is_number_unsigned() &&
               v->get<unsigned long long>() > static_cast<unsigned long long>(LLONG_MAX)) {
        out_.add(at(key), "must be <= " + std::to_string(max) + ", got " + show(*v));
        return;
    } else {
        x = v->is_number_unsigned() ? static_cast<long long>(v->get<unsigned long long>())
                                    : v->get<long long>();
    }
    if (auto broken = integer_rule_broken(x, min, max); !broken.empty()) {
        out_.add(at(key), broken + ", got " + show(*v));
        return;
    }
    out = x;
}

bool object_reader::milliseconds(const std::string& key, long long& out) {
    constexpr long long max_ms = 1LL << 53;  // exact in a double
    const json* v = raw(key);
    if (!v) return false;
    long long x = 0;
    if (v->is_number_unsigned()) {
        if (v->get<unsigned long long>() > static_cast<unsigned long long>(max_ms)) {
            out_.add(at(key), "must be <= " + std::to_string(max_ms) + " (ms), got " + show(*v));
            return false;
        }
        x = static_cast<long long>(v->get<unsigned long long>());
    } else if (v->is_number_integer()) {
        x = v->get<long long>();
    } else if (v->is_number_float() && std::isfinite(v->get<double>()) &&
               v->get<double>() == std::floor(v->get<double>())) {
        x = std::abs(v->get<double>()) <= static_cast<double>(max_ms)
                ? static_cast<long long>(v->get<double>())
                : max_ms + 1;
    } else {
        out_.add(at(key), std::string("must be an integer number of milliseconds, got ") +
                              type_name(*v) + " " + show(*v));
        return false;
    }
    if (x > max_ms || x < -max_ms) {
        out_.add(at(key), "must be between -" + std::to_string(max_ms) + " and " +
                              std::to_string(max_ms) + " (ms), got " + show(*v));
        return false;
    }
    out = x;
    return true;
}

void object_reader::uint64(const std::string& key, std::uint64_t& out) {
    const json* v = raw(key);
    if (!v) return;
    if (!v->is_number_integer() || (v->is_number_integer() && !v->is_number_unsigned() &&
                                    v->get<long long>() < 0)) {
        out_.add(at(key), std::string("must be a non-negative integer, got ") + type_name(*v) +
                              " " + show(*v));
        return;
    }
    out = v->get<std::uint64_t>();
}

void object_reader::boolean(const std::string& key, bool& out) {
    const json* v = raw(key);
    if (!v) return;
    if (!v->is_boolean()) {
        out_.add(at(key), std::string("must be true or false, got ") + type_name(*v) + " " + show(*v));
        return;
    }
    out = v->get<bool>();
}

void object_reader::string(const std::string& key, std::string& out,
                           const std::vector<std::string>& allowed) {
    const json* v = raw(key);
    if (!v) return;
    if (!v->is_string()) {
        out_.add(at(key), std::string("must be a string, got ") + type_name(*v) + " " + show(*v));
        return;
    }
    const auto s = v->get<std::string>();
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(), s) == allowed.end()) {
        std::string list;
        for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
        out_.add(at(key), "must be one of " + list + ", got " + show(*v));
        return;
    }
    out = s;
}

bool object_reader::use_alias(const std::string& alias, const std::string& canonical,
                              const std::string& source) {
    if (!has(alias)) return false;
    if (!has(canonical)) return true;
    raw(alias);
    out_.add(at(alias), "is " + source + "'s name for " + canonical + "; give only one of them");
    return false;
}

void object_reader::finish() {
    if (!obj_) return;
    for (auto it = obj_->begin(); it != obj_->end(); ++it) {
        if (read_.count(it.key())) continue;
        std::string best;
        std::size_t best_d = 3;
        // Suggest among the keys this reader was asked about.
        for (const auto& k : known_) {
            const std::size_t d = edit_distance(it.key(), k);
            if (d < best_d) best_d = d, best = k;
        }
        out_.add(at(it.key()), "unknown key" + (best.empty() ? "" : " (did you mean " + best + "?)"));
    }
}

}  // namespace dbpoolsim::models::detail
