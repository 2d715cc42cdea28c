// dbpoolsim models (private to .cpp files): strict JSON object reading with path errors.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/distribution.hpp"

namespace dbpoolsim::models::detail {

using json = nlohmann::ordered_json;

/// Collects every problem as "/json/path: message".
struct problems {
    std::vector<std::string> list;
    void add(const std::string& path, const std::string& msg) {
        list.push_back((path.empty() ? std::string("/") : path) + ": " + msg);
    }
};

/// A value for messages: strings quoted, long values shortened.
std::string show(const json& v);

/// The rule a number breaks, as "must be >= 0" ("" when it keeps it): the JSON reader and
/// validate(const scenario&) word a broken rule the same way.
std::string number_rule_broken(double x, double min, bool min_inclusive, double max);
std::string integer_rule_broken(long long x, long long min, long long max);

/// Reads the members of one JSON object; `finish()` reports every key not read.
class object_reader {
public:
    object_reader(const json& j, std::string path, problems& out);
    bool ok() const { return obj_ != nullptr; }
    const std::string& path() const { return path_; }
    std::string at(const std::string& key) const { return path_ + "/" + key; }
    bool has(const std::string& key) const;
    const json* raw(const std::string& key);  // marks the key as read
    /// Declare keys that are valid here though not read (for suggestions).
    void know(std::initializer_list<const char*> keys) { for (auto k : keys) known_.insert(k); }

    /// Numbers: `rule` checks the value; on failure the message is "must be <rule text>".
    void number(const std::string& key, double& out, double min, bool min_inclusive = true,
                double max = 1e300);
    void integer(const std::string& key, int& out, long long min, long long max = 2147483647LL);
    /// A 64-bit integer (a JSON integer, or an integral number such as 20.0).
    void int64(const std::string& key, long long& out, long long min, long long max);
    /// A whole number of milliseconds in [-2^53, 2^53] (a Java long duration, e.g. HikariCP's
    /// connectionTimeout); 20.0 counts as 20. True when present and valid (`out` is set).
    bool milliseconds(const std::string& key, long long& out);
    void uint64(const std::string& key, std::uint64_t& out);
    void boolean(const std::string& key, bool& out);
    void string(const std::string& key, std::string& out,
                const std::vector<std::string>& allowed = {});
    problems& sink() { return out_; }
    /// `alias` is `source`'s name for `canonical` (e.g. seeds/001's connection_timeout for
    /// acquisition_timeout). True when only the alias is given: read it into the canonical
    /// field. Both given is a problem ("is <source>'s name for <canonical>; give only one").
    bool use_alias(const std::string& alias, const std::string& canonical, const std::string& source);
    /// Reports unknown keys (with a "did you mean" suggestion when one is close).
    void finish();

private:
    const json* obj_ = nullptr;
    std::string path_;
    problems& out_;
    std::set<std::string> read_;
    std::set<std::string> known_;  // every key asked for (for suggestions)
};

/// A distribution object ({"kind": ..., params}); nullopt with problems recorded if invalid.
std::optional<distribution> parse_distribution_at(const json& j, const std::string& path, problems& out);
/// The resolved JSON of a distribution.
json distribution_to_json(const distribution& d);

}  // namespace dbpoolsim::models::detail
