// HikariCP test support: timeline scenarios and a small fake world that drives the policy
// directly, on scripted_host.hpp (tests/cpp/models/test_hikaricp*.cpp).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "models/pool/hikaricp.hpp"
#include "sim/random.hpp"
#include "support/scenarios.hpp"
#include "support/scripted_host.hpp"

namespace dbpoolsim::test::hikaricp {


constexpr test::timeline_with scenario{0.01};

using test::db;

using test::at;
using test::pool_stream;

/// Drives the policy directly (test::scripted_host): logins take connect_s (a refused one
/// rtt_s, answered as a database still starting up), round trips rtt_s, a granted request holds
/// its connection for hold(req) and then returns it (or reports it broken).
struct fake_world : test::scripted_host {
    explicit fake_world(const models::hikaricp_params& p, double connect = 0.1, double rtt = 0.001)
        : scripted_host([&p](models::pool_host& h, models::pool_metrics& m) {
              return models::make_hikaricp_pool(p, h, 0, m, pool_stream());
          }) {
        connect_s = connect;
        rtt_s = rtt;
        refused_as = models::login_outcome::starting_up;
    }
};

inline models::hikaricp_params fixed(int n) {
    models::hikaricp_params p;
    p.maximumPoolSize = p.minimumIdle = n;
    return p;
}

inline std::size_t closed(const models::pool_metrics& m, models::close_reason why) {
    return m.closed[static_cast<std::size_t>(why)];
}

constexpr auto acquire_timeout = models::fail_reason::acquire_timeout;
constexpr auto connect_error = models::fail_reason::connect_error;


}  // namespace dbpoolsim::test::hikaricp
