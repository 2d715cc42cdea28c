// A scripted host: one pool policy driven directly, without the world, for the policy tests
// (tests/cpp/models/test_<pool>.cpp). The test says how the world answers (login and round-trip
// times and outcomes, how long each request holds its connection, which connections break)
// and when requests arrive, cancel or release; the host logs everything the pool asks of it,
// with the simulated time, so a test can assert an exact timeline.
#pragma once

#include <catch2/catch.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "models/pool/pool.hpp"
#include "models/pool/registry.hpp"
#include "models/scenario.hpp"
#include "sim/random.hpp"
#include "sim/simulation.hpp"

namespace dbpoolsim::test {

/// The pool's jitter stream in the world for seed 1, replication 0 (models/world/world.cpp: "pool/0").
inline sim::random_stream pool_stream() { return sim::random_stream(1, 0, "pool/0"); }

/// Not final: a test file may derive a host with its pool's defaults (see test_psycopg_pool.cpp).
struct scripted_host : models::pool_host {
    using make_fn = std::function<std::unique_ptr<models::pool_policy>(models::pool_host&, models::pool_metrics&)>;
    struct grant_rec { double t; std::uint32_t req, conn; };
    struct fail_rec { double t; std::uint32_t req; models::fail_reason why; };
    struct open_rec { double t; std::uint32_t conn; bool ok; };
    struct conn_rec { double t; std::uint32_t conn; };
    /// What became of one request (the first grant or failure; a second one fails the test).
    struct outcome {
        bool granted = false, failed = false;
        double t = -1;
        std::uint32_t conn = models::npos32;
        models::fail_reason why = models::fail_reason::count_;
    };
    static constexpr double held = -1;  // a hold() answer: kept until the test's release_at

    // ---- how the world answers ----
    double connect_s = 0.1, rtt_s = 0.001;
    /// By login number, from 0. A refused login answers `refused_as` after rtt_s.
    std::function<bool(int)> login_ok = [](int) { return true; };
    models::login_outcome refused_as = models::login_outcome::refused;
    /// By connection and round-trip number, from 0.
    std::function<bool(std::uint32_t, int)> check_ok = [](std::uint32_t, int) { return true; };
    /// How long a granted request holds its connection (`held`: until release_at).
    std::function<double(std::uint32_t)> hold = [](std::uint32_t) { return 1.0; };
    std::set<std::uint32_t> breaks;  // requests whose connection breaks in use at hold end
    bool may_abandon_login = true;   // false: abandon_login fails the test (pools that never do)

    // ---- what the pool asked ----
    sim::simulation sim;
    models::scenario scenario;  // the JSON constructor's (the pool keeps a reference to its params)
    models::pool_metrics metrics;
    std::unique_ptr<models::pool_policy> pool;
    std::vector<grant_rec> grants;
    std::vector<fail_rec> fails;
    std::vector<open_rec> opens;
    std::vector<conn_rec> closes, round_trips;
    std::vector<models::login_bounds> bounds;  // of each login, in order
    std::vector<bool> cancelled;               // cancel_acquire's answers, in order
    std::map<std::uint32_t, outcome> out;
    int logins = 0, checks = 0;

    explicit scripted_host(const make_fn& make) { pool = make(*this, metrics); }
    /// The policy of a scenario's `pool` section (JSON), with the world's jitter stream.
    explicit scripted_host(const std::string& pool_json) {
        scenario = models::scenario_from_json(R"({"pool": )" + pool_json + "}");
        pool = models::make_pool(scenario.pool, *this, 0, metrics, pool_stream());
    }

    void start() { pool->start(); }
    models::pool_counts counts() const { return pool->counts(); }
    void arrive_at(double t, std::uint32_t req) { sim.schedule_at(t, ev_arrive, req); }
    void cancel_at(double t, std::uint32_t req) { sim.schedule_at(t, ev_cancel, req); }
    void release_at(double t, std::uint32_t req) { at(t, [this, req] { pool->release(out.at(req).conn); }); }
    /// Runs `fn` at time t (a scripted change of the world, or a direct call on the pool).
    void at(double t, std::function<void()> fn) {
        script_.push_back(std::move(fn));
        sim.schedule_at(t, ev_script, static_cast<std::uint32_t>(script_.size() - 1));
    }
    /// Requests in the order they were granted.
    std::vector<std::uint32_t> granted() const {
        std::vector<std::uint32_t> v;
        for (const auto& g : grants) v.push_back(g.req);
        return v;
    }
    std::uint64_t closed(models::close_reason why) const { return metrics.closed[static_cast<std::size_t>(why)]; }

    void run_until(double t) {
        sim.run_until(t, [this](const sim::event& e) {
            switch (e.kind) {
                case ev_connect:
                    pool->on_connect_done(e.target, login_ok_[e.target] ? models::login_outcome::ok : refused_as);
                    break;
                case ev_round_trip: pool->on_round_trip_done(e.target & 0x7fffffffu, (e.target >> 31) == 0); break;
                case ev_done:
                    if (breaks.count(holder_[e.target])) pool->on_broken_in_use(e.target);
                    else pool->release(e.target);
                    break;
                case ev_arrive: pool->acquire(e.target); break;
                case ev_cancel: cancelled.push_back(pool->cancel_acquire(e.target)); break;
                case ev_script: script_[e.target](); break;
                default: pool->on_timer(e.kind - ev_timer, e.target);
            }
        });
    }

    // ---- pool_host ----
    sim::simulation& simulation() override { return sim; }
    void grant(std::uint32_t, std::uint32_t req, std::uint32_t c) override {
        outcome& o = first_outcome(req);
        o.granted = true, o.conn = c;
        grants.push_back({sim.now(), req, c});
        if (c >= holder_.size()) holder_.resize(c + 1);
        holder_[c] = req;
        const double h = hold(req);
        if (h >= 0) sim.schedule_after(h, ev_done, c);
    }
    void fail(std::uint32_t, std::uint32_t req, models::fail_reason why) override {
        outcome& o = first_outcome(req);
        o.failed = true, o.why = why;
        fails.push_back({sim.now(), req, why});
    }
    void open_connection(std::uint32_t, std::uint32_t c, models::login_bounds b) override {
        if (c >= login_ok_.size()) login_ok_.resize(c + 1), login_timer_.resize(c + 1);
        const bool ok = login_ok(logins++);
        login_ok_[c] = ok;
        opens.push_back({sim.now(), c, ok});
        bounds.push_back(b);
        login_timer_[c] = sim.timer_after(ok ? connect_s : rtt_s, ev_connect, c);
    }
    void abandon_login(std::uint32_t, std::uint32_t c) override {
        if (!may_abandon_login) FAIL("this pool never abandons a login");
        sim.cancel(login_timer_[c]);  // the slot may be reused before the login would have ended
    }
    void round_trip(std::uint32_t, std::uint32_t c, double) override {
        round_trips.push_back({sim.now(), c});
        sim.schedule_after(rtt_s, ev_round_trip, c | (check_ok(c, checks++) ? 0u : 1u << 31));
    }
    void close_connection(std::uint32_t, std::uint32_t c) override { closes.push_back({sim.now(), c}); }
    sim::timer_handle pool_timer(std::uint32_t, double t, std::uint32_t kind, std::uint32_t arg) override {
        return sim.timer_at(t, ev_timer + kind, arg);
    }
    void pool_now(std::uint32_t, std::uint32_t kind, std::uint32_t arg) override {
        sim.schedule_now(ev_timer + kind, arg);
    }
    sim::rearmable_handle pool_rearmable_timer(std::uint32_t, double t, std::uint32_t kind, std::uint32_t arg) override {
        return sim.rearmable_timer_at(t, ev_timer + kind, arg);
    }

private:
    /// The request's outcome record, checked to be its first grant or failure, stamped now.
    outcome& first_outcome(std::uint32_t req) {
        outcome& o = out[req];
        REQUIRE(!o.granted);
        REQUIRE(!o.failed);
        o.t = sim.now();
        return o;
    }

    enum : std::uint32_t { ev_connect = 1, ev_round_trip, ev_done, ev_arrive, ev_cancel, ev_script, ev_timer = 32 };
    std::vector<bool> login_ok_;                   // per connection: its login in flight succeeds
    std::vector<sim::timer_handle> login_timer_;   // per connection: its login in flight
    std::vector<std::uint32_t> holder_;        // per connection: the request holding it
    std::vector<std::function<void()>> script_;
};

}  // namespace dbpoolsim::test
