// HikariCP test support: timeline scenarios and a small fake world that drives the policy
// directly (tests/cpp/models/test_hikaricp*.cpp).
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

namespace dbpoolsim::test::hikaricp {


inline models::scenario scenario(const std::string& arrivals, const std::string& pool,
                          const std::string& database, double query_s, double horizon_s,
                          double sample_s = 0.01) {
    return test::timeline_scenario(arrivals, pool, database, query_s, horizon_s, sample_s);
}

/// A database with constant connection set-up and round-trip times.
inline std::string db(double connect_s, double rtt_s, int max_connections = 1000) {
    return test::constant_db(connect_s, rtt_s, max_connections);
}

using test::at;

/// The pool's jitter stream in the world for seed 1, replication 0 (models/world/world.cpp: "pool/0").
inline sim::random_stream pool_stream() { return sim::random_stream(1, 0, "pool/0"); }

/// Drives the policy directly: logins take connect_s (a refused one rtt_s), round trips
/// rtt_s, a granted request holds its connection for hold(req) and then returns it (or
/// reports it broken). Everything the pool does is logged with its time.
struct fake_world final : models::pool_host {
    enum : std::uint32_t { ev_connect = 1, ev_round_trip, ev_done, ev_arrive, ev_timer = 32 };
    struct entry {
        double t;
        std::uint32_t id;   // request or connection
        std::uint32_t arg;  // connection granted / fail_reason / login ok
    };

    sim::simulation sim;
    models::pool_metrics metrics;
    std::unique_ptr<models::pool_policy> pool;
    double connect_s = 0.1, rtt_s = 0.001;
    std::function<bool(int)> login_ok = [](int) { return true; };  // by login number, from 0
    std::function<bool(int)> check_ok = [](int) { return true; };  // by round trip number
    std::function<double(std::uint32_t)> hold = [](std::uint32_t) { return 1.0; };
    std::set<std::uint32_t> breaks;  // requests whose connection breaks in use
    int logins = 0, checks = 0;
    std::vector<entry> grants, fails, opens, closes;
    std::vector<models::login_bounds> bounds;  // of each login, in order

    explicit fake_world(const models::hikaricp_params& p, double connect = 0.1, double rtt = 0.001)
        : connect_s(connect), rtt_s(rtt) {
        pool = models::make_hikaricp_pool(p, *this, 0, metrics, pool_stream());
    }
    void start() { pool->start(); }
    void arrive_at(double t, std::uint32_t req) { sim.schedule_at(t, ev_arrive, req); }
    models::pool_counts counts() const { return pool->counts(); }

    void run_until(double t) {
        sim.run_until(t, [this](const sim::event& e) {
            switch (e.kind) {
                case ev_connect:
                    if (login_[e.target] == 2) break;  // abandoned
                    pool->on_connect_done(e.target, login_[e.target] ? models::login_outcome::ok
                                                                     : models::login_outcome::starting_up);
                    break;
                case ev_round_trip:
                    pool->on_round_trip_done(e.target & 0xffffff, (e.target >> 31) == 0);
                    break;
                case ev_done:
                    if (breaks.count(holder_[e.target])) pool->on_broken_in_use(e.target);
                    else pool->release(e.target);
                    break;
                case ev_arrive: pool->acquire(e.target); break;
                default: pool->on_timer(e.kind - ev_timer, e.target);
            }
        });
    }

    // ---- pool_host ----
    sim::simulation& simulation() override { return sim; }
    void grant(std::uint32_t, std::uint32_t req, std::uint32_t c) override {
        grants.push_back({sim.now(), req, c});
        if (c >= holder_.size()) holder_.resize(c + 1);
        holder_[c] = req;
        sim.schedule_after(hold(req), ev_done, c);
    }
    void fail(std::uint32_t, std::uint32_t req, models::fail_reason why) override {
        fails.push_back({sim.now(), req, static_cast<std::uint32_t>(why)});
    }
    void open_connection(std::uint32_t, std::uint32_t c, models::login_bounds b) override {
        if (c >= login_.size()) login_.resize(c + 1);
        const bool ok = login_ok(logins++);
        login_[c] = ok;
        opens.push_back({sim.now(), c, ok});
        bounds.push_back(b);
        sim.schedule_after(ok ? connect_s : rtt_s, ev_connect, c);
    }
    void abandon_login(std::uint32_t, std::uint32_t c) override { login_[c] = 2; }
    void round_trip(std::uint32_t, std::uint32_t c, double) override {
        sim.schedule_after(rtt_s, ev_round_trip, c | (check_ok(checks++) ? 0u : 1u << 31));
    }
    void close_connection(std::uint32_t, std::uint32_t c) override {
        closes.push_back({sim.now(), c, 0});
    }
    sim::timer_handle pool_timer(std::uint32_t, double t, std::uint32_t kind,
                                 std::uint32_t arg) override {
        return sim.timer_at(t, ev_timer + kind, arg);
    }

private:
    std::vector<std::uint8_t> login_;
    std::vector<std::uint32_t> holder_;
};

inline models::hikaricp_params fixed(int n) {
    models::hikaricp_params p;
    p.maximumPoolSize = p.minimumIdle = n;
    return p;
}

inline std::size_t closed(const models::pool_metrics& m, models::close_reason why) {
    return m.closed[static_cast<std::size_t>(why)];
}

constexpr auto acquire_timeout = static_cast<std::uint32_t>(models::fail_reason::acquire_timeout);
constexpr auto connect_error = static_cast<std::uint32_t>(models::fail_reason::connect_error);


}  // namespace dbpoolsim::test::hikaricp
