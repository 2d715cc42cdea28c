// A scripted world around one psycopg_pool, shared by its test files: logins take 0.1 s,
// round trips 10 ms, a granted request holds its connection 1 s (scripted_host.hpp).
// psycopg_pool's workers wait for every login, so an abandoned login fails the test.
#pragma once

#include "models/pool/psycopg_pool.hpp"
#include "support/scripted_host.hpp"

namespace dbpoolsim::test {

struct psycopg_world : scripted_host {
    explicit psycopg_world(const models::psycopg_pool_params& p)
        : scripted_host([&p](models::pool_host& h, models::pool_metrics& m) {
              return models::make_psycopg_pool(p, h, 0, m, sim::random_stream(7, 0, "pool/0"));
          }) {
        rtt_s = 0.01;
        may_abandon_login = false;
    }
    void run(double until) {
        start();
        run_until(until);
    }
};

}  // namespace dbpoolsim::test
