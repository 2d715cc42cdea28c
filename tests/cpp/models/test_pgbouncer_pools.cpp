// PgBouncer's pools per (database, user): docs/pools.md, PgBouncer section "Pools per database
// and user" (objects.c launch_new_connection, evict_connection, evict_user_connection;
// janitor.c per_loop_maint; server.c pool_pool_size). Constant times and a trace of classed
// arrivals make every number exact; the comments derive them.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdio>

#include "sim/error.hpp"
#include "support/scenarios.hpp"

using namespace dbpoolsim;

namespace {

// Two named application pools "a" and "b" (one transaction class each, named alike), each a
// grow-on-demand generic pool, so every request opens its own app connection to PgBouncer
// (1 ms). Arrivals come from `trace` (t_s,class,duration_s). Database logins take 10 ms, no
// RTT, no CPU contention.
struct two_pools {
    std::string file;
    models::scenario s;
    two_pools(const std::string& name, const std::string& trace, const std::string& pgbouncer, double horizon_s)
        : file(test::temp_file(name + ".csv", "t_s,class,duration_s\n" + trace)) {
        const std::string pool =
            R"({"kind": "generic", "min_connections": 0, "max_connections": 50, "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0})";
        s = models::scenario_from_json(
            R"({"run": {"horizon_s": )" + std::to_string(horizon_s) +
            R"(, "warmup_s": 0, "replications": 1, "seed": 1, "sample_interval_s": 0.1, "record_requests": true},
                "workload": {"arrivals": {"kind": "trace", "file": ")" + file + R"("},
                             "transactions": [{"name": "a", "pool": "a"}, {"name": "b", "pool": "b"}]},
                "pools": {"a": )" + pool + R"(, "b": )" + pool + R"(},
                "pooler": )" + pgbouncer + R"(,
                "database": {"cores": 0, "max_connections": 1000,
                             "connect_time": {"kind": "constant", "value_s": 0.01}, "network_rtt_s": 0}})");
    }
    ~two_pools() { std::remove(file.c_str()); }
};

/// Latency of the request that arrived `k`-th (0-based), from the per-request records.
double latency(const models::replication_result& r, std::uint64_t k) {
    for (const auto& x : r.requests)
        if (x.request == k) return x.latency_s;
    throw std::runtime_error("no record of request " + std::to_string(k));
}

}  // namespace

TEST_CASE("two pools of one database share max_db_connections; one evicts the other's idle server",
          "[pool][pgbouncer][pgbouncer_pools]") {
    // Pool a logs in as (app, alice), pool b as (app, bob); default_pool_size 5 each but
    // max_db_connections 2 for app. At t = 1: request 0 (a, 0.5 s), 1 and 2 (b, 3 s); their
    // app connections reach PgBouncer at 1.001. alice launches a login (app: 1 server), bob
    // one (app: 2); request 2 waits behind bob's login. At 1.011 both logins finish: 0 and 1
    // run; bob wants a server for 2 but app is full and no server is idle: it waits.
    // At 1.511 request 0 ends and alice's server goes idle; per_loop_maint runs bob's
    // launch_new_connection, which evicts that idle server (evict_connection) and logs in:
    // request 2 is served at 1.521 and ends at 4.521 (latency 3.521). Never 3 backends.
    two_pools t("pgb_db_cap", "1.0,a,0.5\n1.0,b,3\n1.0,b,3\n",
                R"({"kind": "pgbouncer", "default_pool_size": 5, "databases": {"app": {"max_db_connections": 2}},
                    "clients": [{"pool": "a", "database": "app", "user": "alice"},
                                {"pool": "b", "database": "app", "user": "bob"}]})",
                10.0);
    const auto r = models::run_replication(t.s, 0);
    CHECK(r.metric("completed") == 3);
    CHECK(r.metric("peak_backend_connections") == 2);
    CHECK(r.metric("pooler_servers_created") == 3);
    CHECK(latency(r, 0) == Approx(0.511).margin(1e-9));
    CHECK(latency(r, 1) == Approx(3.011).margin(1e-9));
    CHECK(latency(r, 2) == Approx(3.521).margin(1e-9));  // without eviction: 6.011 (bob's own release)
    CHECK(test::at(r, "pooler_servers", 1.3) == 2);
    CHECK(test::at(r, "pooler_waiting", 1.3) == 1);
    CHECK(test::at(r, "pooler_waiting", 1.6) == 0);
}

TEST_CASE("a freed database slot goes to the first pool in (database, user) order",
          "[pool][pgbouncer][pgbouncer_pools]") {
    // max_db_connections 1, server_lifetime 1 s. Pool a is (app, zoe), made first; pool b is
    // (app, adam), first in PgBouncer's pool_list (sorted by database, then user: cmp_pool).
    // Request 0 (a, 2 s) gets zoe's server at 1.011. Request 1 (a) waits from 1.501, request 2
    // (b) from 1.601: app is full. At 3.011 request 0 ends; its server is 2 s old, so
    // release_server closes it (life_over). per_loop_maint walks pool_list: adam launches
    // first and takes the slot although zoe's client waited longer: request 2 is served at
    // 3.021 (ends 4.021, latency 2.421). At 4.021 adam's server (1 s old) is closed at
    // release the same way and zoe's login follows: request 1 ends at 5.031 (latency 3.531).
    two_pools t("pgb_order", "1.0,a,2\n1.5,a,1\n1.6,b,1\n",
                R"({"kind": "pgbouncer", "default_pool_size": 5, "max_db_connections": 1, "server_lifetime": 1,
                    "clients": [{"pool": "a", "database": "app", "user": "zoe"},
                                {"pool": "b", "database": "app", "user": "adam"}]})",
                10.0);
    const auto r = models::run_replication(t.s, 0);
    CHECK(r.metric("completed") == 3);
    CHECK(r.metric("peak_backend_connections") == 1);
    CHECK(latency(r, 0) == Approx(2.011).margin(1e-9));
    CHECK(latency(r, 2) == Approx(2.421).margin(1e-9));  // zoe first instead: 3.431
    CHECK(latency(r, 1) == Approx(3.531).margin(1e-9));  // zoe first instead: 2.521
    // zoe's server, adam's, then zoe's second (1 s old at its release at 5.031).
    CHECK(r.metric("pooler_servers_closed_lifetime") == 3);
}

TEST_CASE("max_user_connections caps one user's servers across databases, evicting the user's idle ones",
          "[pool][pgbouncer][pgbouncer_pools]") {
    // Pool a is (db1, alice), pool b (db2, alice); alice may hold 2 servers in all. The same
    // arrivals as the database test: request 2 waits at the user's cap until alice's db1
    // server goes idle at 1.511, which db2's launch evicts (evict_user_connection).
    two_pools t("pgb_user_cap", "1.0,a,0.5\n1.0,b,3\n1.0,b,3\n",
                R"({"kind": "pgbouncer", "default_pool_size": 5, "users": {"alice": {"max_user_connections": 2}},
                    "clients": [{"pool": "a", "database": "db1", "user": "alice"},
                                {"pool": "b", "database": "db2", "user": "alice"}]})",
                10.0);
    const auto r = models::run_replication(t.s, 0);
    CHECK(r.metric("completed") == 3);
    CHECK(r.metric("peak_backend_connections") == 2);  // without the cap: 3
    CHECK(latency(r, 2) == Approx(3.521).margin(1e-9));  // without the cap: 3.021
    SECTION("the global max_user_connections applies to users without their own") {
        two_pools g("pgb_user_cap_global", "1.0,a,0.5\n1.0,b,3\n1.0,b,3\n",
                    R"({"kind": "pgbouncer", "default_pool_size": 5, "max_user_connections": 2,
                        "clients": [{"pool": "a", "database": "db1", "user": "alice"},
                                    {"pool": "b", "database": "db2", "user": "alice"}]})",
                    10.0);
        const auto q = models::run_replication(g.s, 0);
        CHECK(q.metric("peak_backend_connections") == 2);
        CHECK(latency(q, 2) == Approx(3.521).margin(1e-9));
    }
}

TEST_CASE("pool_size comes from the user, else the database, else default_pool_size",
          "[pool][pgbouncer][pgbouncer_pools]") {
    // Six 5 s transactions of class a at t = 1: the pool grows one login at a time to its size.
    const std::string trace = "1,a,5\n1,a,5\n1,a,5\n1,a,5\n1,a,5\n1,a,5\n";
    const auto peak = [&](const std::string& extra) {
        two_pools t("pgb_size", trace,
                    R"({"kind": "pgbouncer", "default_pool_size": 4,
                        "clients": [{"pool": "a", "database": "app", "user": "alice"}])" + extra + "}",
                    10.0);
        return models::run_replication(t.s, 0).metric("pooler_peak_servers");
    };
    CHECK(peak("") == 4);
    CHECK(peak(R"(, "databases": {"app": {"pool_size": 2}})") == 2);
    CHECK(peak(R"(, "databases": {"app": {"pool_size": 2}}, "users": {"alice": {"pool_size": 3}})") == 3);
    CHECK(peak(R"(, "databases": {"other": {"pool_size": 2}})") == 4);  // another database's
}

TEST_CASE("without routes every application pool shares one PgBouncer pool: numbers unchanged",
          "[pool][pgbouncer][pgbouncer_pools]") {
    // Both named pools (and both classes) go to ("postgres", "postgres"): one pool of 2.
    const std::string trace = "1,a,5\n1,b,5\n1,a,5\n1,b,5\n";
    two_pools plain("pgb_default", trace, R"({"kind": "pgbouncer", "default_pool_size": 2})", 20.0);
    const auto r = models::run_replication(plain.s, 0);
    CHECK(r.metric("pooler_peak_servers") == 2);
    CHECK(r.metric("completed") == 4);
    // The same pair named explicitly (a route for each pool, an empty [databases] entry)
    // changes nothing, to the last metric.
    two_pools named("pgb_default_named", trace,
                    R"({"kind": "pgbouncer", "default_pool_size": 2, "databases": {"postgres": {}},
                        "clients": [{"pool": "a"}, {"pool": "b", "database": "postgres", "user": "postgres"}]})",
                    20.0);
    const auto q = models::run_replication(named.s, 0);
    REQUIRE(q.metrics.size() == r.metrics.size());
    for (std::size_t i = 0; i < r.metrics.size(); ++i) {
        INFO(r.metrics[i].first);
        if (r.metrics[i].first.find("wall") != std::string::npos) continue;  // the host's clock
        if (std::isnan(r.metrics[i].second)) CHECK(std::isnan(q.metrics[i].second));
        else CHECK(q.metrics[i].second == r.metrics[i].second);
    }
}

TEST_CASE("PgBouncer routes by instance", "[pool][pgbouncer][pgbouncer_pools]") {
    // Two instances, no named pools; closed-loop user u runs on instance u % 2. Instance 1
    // logs in as (app, bob) whose pool_size is 1, instance 0 as the default pair (size 5):
    // four users, 1 s transactions: instance 0 holds 2 servers, instance 1 one.
    const auto s = models::scenario_from_json(R"({
        "run": {"horizon_s": 10, "warmup_s": 0, "replications": 1, "seed": 1, "sample_interval_s": 0.1},
        "workload": {"arrivals": {"kind": "closed_loop", "users": 4, "think_time": {"kind": "constant", "value_s": 0.01}},
                     "transactions": [{"query_time": {"kind": "constant", "value_s": 1}}]},
        "client": {"instances": 2},
        "pool": {"kind": "generic", "min_connections": 0, "max_connections": 50, "idle_timeout": 0, "max_lifetime": 0, "health_check_interval": 0},
        "pooler": {"kind": "pgbouncer", "default_pool_size": 5, "users": {"bob": {"pool_size": 1}},
                   "clients": [{"instances": [1], "database": "app", "user": "bob"}]},
        "database": {"cores": 0, "max_connections": 1000, "connect_time": {"kind": "constant", "value_s": 0.01}, "network_rtt_s": 0}})");
    const auto r = models::run_replication(s, 0);
    CHECK(r.metric("pooler_peak_servers") == 3);  // the route for every instance: 1
}

TEST_CASE("pgbouncer pools: bad routes and entries are named by path and value", "[pool][pgbouncer][pgbouncer_pools][scenario]") {
    const auto problems = [](const std::string& pooler, const std::string& extra = "") {
        try {
            models::scenario_from_json(R"({"pools": {"a": {"kind": "generic"}}, "workload": {"transactions": [{"pool": "a"}]},
                                           "pooler": )" + pooler + extra + "}");
        } catch (const config_error& e) {
            std::string all;
            for (const auto& x : e.problems()) all += x + "\n";
            return all;
        }
        return std::string("no error");
    };
    CHECK_THAT(problems(R"({"kind": "pgbouncer", "clients": [{"pool": "reports"}]})"),
               Catch::Contains("/pooler/clients/0/pool: must name one of the scenario's pools (a), got \"reports\""));
    CHECK_THAT(problems(R"({"kind": "pgbouncer", "clients": [{"instances": [3]}]})"),
               Catch::Contains("/pooler/clients/0/instances/0: must be an application instance index below 1"));
    CHECK_THAT(problems(R"({"kind": "pgbouncer", "clients": [{"instances": [-1]}]})"),
               Catch::Contains("/pooler/clients/0/instances/0: must be an array of instance indexes (integers 0..254), got -1"));
    CHECK_THAT(problems(R"({"kind": "pgbouncer", "clients": [{"database": ""}]})"),
               Catch::Contains("/pooler/clients/0/database: must not be empty, got \"\""));
    CHECK_THAT(problems(R"({"kind": "pgbouncer", "clients": {"pool": "a"}})"),
               Catch::Contains("/pooler/clients: must be an array of routes"));
    CHECK_THAT(problems(R"({"kind": "pgbouncer", "databases": {"app": {"max_db_connections": -1}}})"),
               Catch::Contains("/pooler/databases/app/max_db_connections: must be"));
    CHECK_THAT(problems(R"({"kind": "pgbouncer", "databases": {"app": {"pool_sise": 3}}})"),
               Catch::Contains("/pooler/databases/app/pool_sise"));
    CHECK_THAT(problems(R"({"kind": "pgbouncer", "users": [1]})"),
               Catch::Contains("/pooler/users: must be an object of users"));
    CHECK_THAT(problems(R"({"kind": "pgbouncer", "max_user_connections": -2})"),
               Catch::Contains("/pooler/max_user_connections: must be"));
}
