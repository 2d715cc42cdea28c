// HikariCP's scenario fields (the "hikaricp" pool kind): HikariConfig's names, units
// (milliseconds) and the checks its setters make, its silent resets (validateNumerics), and
// dbpoolsim's own fields (docs/pools.md). The policy itself is in hikaricp.cpp.
#include <climits>
#include <string>

#include "models/json_reader.hpp"
#include "models/pool/hikaricp.hpp"
#include "models/pool/registry.hpp"

namespace dbpoolsim::models {
namespace detail {
namespace {

using P = hikaricp_params;

// HikariConfig setters throw IllegalArgumentException: these are errors, worded with HikariCP's
// message. Each returns what the value breaks ("" when valid).
std::string connection_timeout_rule(long long v) {
    return v < 250 ? "must be 0 (no timeout) or >= 250: HikariCP rejects it (\"connectionTimeout "
                     "cannot be less than 250ms\")"
                   : "";
}
std::string validation_timeout_rule(long long v) {
    return v < 250 ? "must be >= 250: HikariCP rejects it (\"validationTimeout cannot be less than 250ms\")" : "";
}
std::string idle_timeout_rule(long long v) {
    return v < 0 ? "must be >= 0: HikariCP rejects it (\"idleTimeout cannot be negative\")" : "";
}
std::string housekeeping_rule(long long v) {
    return v <= 0 ? "must be > 0 (the housekeeper's fixed delay)" : "";
}

/// A duration in milliseconds that HikariCP's setter checks with `Rule`.
template <long long P::*M, std::string (*Rule)(long long)>
field<P> checked_ms(const char* name) {
    auto f = make_ms_field<M>(name);
    f.read = [](object_reader& r, const std::string& key, const field<P>&, P& p) {
        long long v = 0;
        if (!r.milliseconds(key, v)) return;
        // setConnectionTimeout(0) means Integer.MAX_VALUE.
        if (M == &P::connectionTimeout && v == 0) v = INT_MAX;
        if (auto broken = Rule(v); !broken.empty()) r.sink().add(r.at(key), broken + ", got " + std::to_string(v));
        else p.*M = v;
    };
    f.check = [](const field<P>& fd, const P& p, const std::string& at, problems& out) {
        if (auto broken = Rule(p.*M); !broken.empty()) out.add(at, broken + ", got " + std::to_string(p.*M));
        (void)fd;
    };
    return f;
}

const field_table<P>& hikaricp_fields() {
    static const field_table<P> t = {
        make_field<&P::maximumPoolSize>("maximumPoolSize", between(1, 1 << 24)),  // "maxPoolSize cannot be less than 1"
        // "minimumIdle cannot be negative". Read as given (-1: not set) and resolved by
        // validate_numerics below (default: maximumPoolSize).
        make_field<&P::minimumIdle>("minimumIdle", between(0, 1 << 24)).reading(
            [](object_reader& r, const std::string& key, const field<P>&, P& p) {
                int v = -1;  // HikariConfig's "not set"
                r.integer(key, v, 0, 1 << 24);
                p.minimumIdle = v;
            }),
        checked_ms<&P::connectionTimeout, connection_timeout_rule>("connectionTimeout"),
        checked_ms<&P::validationTimeout, validation_timeout_rule>("validationTimeout"),
        checked_ms<&P::idleTimeout, idle_timeout_rule>("idleTimeout"),
        make_ms_field<&P::maxLifetime>("maxLifetime"),
        make_ms_field<&P::keepaliveTime>("keepaliveTime"),
        make_ms_field<&P::initializationFailTimeout>("initializationFailTimeout"),
        checked_ms<&P::housekeepingPeriodMs, housekeeping_rule>("housekeepingPeriodMs"),
        make_ms_field<&P::aliveBypassWindowMs>("aliveBypassWindowMs"),
        make_field<&P::connectTimeout>("connectTimeout", at_least(0)),
        make_field<&P::loginTimeout>("loginTimeout", at_least(0)),
        make_field<&P::dataSourceClassName>("dataSourceClassName"),
        make_field<&P::version>("version").one_of({"6.0.0", "2.7.9"}),
        make_field<&P::wakeup_latency_s>("wakeup_latency_s", at_least(0)),
        make_field<&P::validation_latency>("validation_latency"),
        make_field<&P::threads>("threads", between(0, 1 << 20)),
        make_field<&P::setup_s>("setup_s", at_least(0)),
        make_field<&P::failed_attempt_s>("failed_attempt_s", at_least(0)),
    };
    return t;
}

/// HikariConfig.validateNumerics: silent resets (a log warning in HikariCP), in its order.
void validate_numerics(object_reader&, P& p) {
    if (p.maxLifetime != 0 && p.maxLifetime < 30000) p.maxLifetime = 1800000;
    if (p.keepaliveTime != 0 && p.keepaliveTime < 30000) p.keepaliveTime = 0;
    if (p.keepaliveTime != 0 && p.maxLifetime != 0 && p.keepaliveTime >= p.maxLifetime) p.keepaliveTime = 0;
    if (p.minimumIdle < 0 || p.minimumIdle > p.maximumPoolSize) p.minimumIdle = p.maximumPoolSize;
    const bool variable = p.minimumIdle < p.maximumPoolSize;
    if (p.idleTimeout + 1000 > p.maxLifetime && p.maxLifetime > 0 && variable)
        p.idleTimeout = 0;  // "idleTimeout is close to or more than maxLifetime, disabling it"
    else if (p.idleTimeout != 0 && p.idleTimeout < 10000 && variable)
        p.idleTimeout = 600000;  // "idleTimeout is less than 10000ms, setting to default"
}

/// A pool built in C++ holds resolved values: minimumIdle is at most maximumPoolSize.
void hikaricp_cross(const P& p, const std::string& path, problems& out) {
    if (p.minimumIdle > p.maximumPoolSize)
        out.add(path + "/minimumIdle", "must be <= maximumPoolSize (" + std::to_string(p.maximumPoolSize) +
                                           ": HikariCP resets a larger value to it), got " +
                                           std::to_string(p.minimumIdle));
}

}  // namespace

const pool_kind& hikaricp_pool_kind() {
    static const pool_kind k = table_pool_kind<P, hikaricp_fields, make_hikaricp_pool, hikaricp_cross, validate_numerics>(
        "hikaricp",
        "HikariCP 6.x (or 2.7.9 with version): one serialized connection adder (+30 ms per connection), FIFO hand-off, "
        "housekeeper every 30 s, parameters in ms as in HikariConfig");
    return k;
}

}  // namespace detail
}  // namespace dbpoolsim::models
