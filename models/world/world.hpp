// dbpoolsim world: one replication's simulated world, wired from its components.
//
//   client.hpp    requests, the transaction mix, retries and backoff, circuit breakers
//   database.hpp  backends, incarnation and node, login rules, accept throttle, login CPU,
//                 the CPU that runs queries (cpu_model.hpp: processor sharing and USL)
//   network.hpp   the far end of every connection (link table), NAT, dead-use delays
//   faults.hpp    fault windows and what each fault does
//   fleet.hpp     application instances, routing, drain and stop
//   metrics.hpp   counters, warm-up, sampling and collection (metric names, series columns)
//
// The world owns the event loop: `handle` is the one switch over event kinds, and the world
// is the `pool_host` of every pool policy (models/pool/pool.hpp). world.cpp holds the wiring
// (construction, the pool host, faults and fleet applied, the run loop); requests.cpp holds a
// request's path (arrival, attempts, queries, release, outcome).
#pragma once

#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <vector>

#include "models/arrivals.hpp"
#include "models/run.hpp"
#include "models/world/client.hpp"
#include "models/world/conn_ref.hpp"
#include "models/world/database.hpp"
#include "models/world/faults.hpp"
#include "models/world/fleet.hpp"
#include "models/world/metrics.hpp"
#include "models/world/network.hpp"
#include "sim/random.hpp"
#include "sim/simulation.hpp"

namespace dbpoolsim::models::world_parts {

enum ev : std::uint32_t {
    ev_arrival,          // next arrival of the arrival process
    ev_burst,            // a burst of arrivals
    ev_user_next,        // a closed-loop user finished thinking (target = user)
    ev_db_done,          // a query's CPU work finished (target = request, or npos: ask the cpu)
    ev_response,         // a query's response reached the client after the round trip
    ev_app_done,         // app work after a query finished
    ev_connect_done,     // a login finished (target = conn_ref)
    ev_round_trip_done,  // a pool round trip finished (target = conn_ref)
    ev_sample,           // time-series sample
    ev_warmup_end,
    ev_retry,            // a failed attempt's backoff ended (target = request)
    ev_deadline,         // the client's request deadline (target = request)
    ev_breaker,          // an open circuit breaker turns half-open (target = instance)
    ev_query_error,      // a query's error reaches the client (target = request)
    ev_round_trip_failed,  // a pool round trip on a dead connection failed (target as above)
    ev_stmt_timeout,     // statement_timeout of the running query (target = request)
    ev_idle_session,     // the server's idle_session_timeout closes a backend (conn_ref)
    ev_leak_return,      // a leaked connection is returned late, or one granted to a request that gave up (conn_ref)
    ev_backend_reaped,   // TCP keepalive reaps an orphaned backend (target unused)
    ev_fault_start,      // a scheduled fault begins (target = fault index)
    ev_fault_end,        // ... and ends
    ev_fleet,            // a fleet event starts (target = index)
    ev_deploy_step,      // the next step of a rolling deploy (target = fleet event index)
    ev_instance_ready,   // a new instance takes traffic (target = instance)
    ev_instance_stop,    // a drained instance exits (target = instance)
    ev_login_timeout,    // a login reached its bound (login_bounds::login_s; conn_ref)
    ev_server_closed,    // the server's close of an idle connection reaches its pool (conn_ref)
    ev_patience,         // the caller's patience for a connection ran out (target = request)
    ev_pool_timer = 32,  // + policy timer kind (< 32); target = conn_ref {pool, arg}
};

/// Event kinds' names (for the event trace), indexed by kind below ev_pool_timer.
inline constexpr const char* ev_names[] = {
    "arrival",       "burst",           "user_next",       "db_done",        "response",
    "app_done",      "connect_done",    "round_trip_done", "sample",         "warmup_end",
    "retry",         "deadline",        "breaker",         "query_error",    "round_trip_failed",
    "stmt_timeout",  "idle_session",    "leak_return",     "backend_reaped", "fault_start",
    "fault_end",     "fleet",           "deploy_step",     "instance_ready", "instance_stop",
    "login_timeout", "server_closed", "patience"};
static_assert(std::size(ev_names) == ev_patience + 1);


class world final : public pool_host {
public:
    /// `trace`: if not null, every event handled is appended to it.
    world(const scenario& s, int rep, run_control* ctl, std::vector<trace_entry>* trace = nullptr);
    replication_result run();

    // ---- pool_host (world.cpp) -----------------------------------------------------------
    sim::simulation& simulation() override { return sim_; }
    void grant(std::uint32_t pool, std::uint32_t id, std::uint32_t conn) override;
    void fail(std::uint32_t pool, std::uint32_t id, fail_reason why) override;
    void open_connection(std::uint32_t pool, std::uint32_t conn, login_bounds b) override;
    void abandon_login(std::uint32_t pool, std::uint32_t conn) override;
    void round_trip(std::uint32_t pool, std::uint32_t conn, double timeout_s) override;
    double round_trip_answer_at(std::uint32_t pool, std::uint32_t conn) override;
    void close_connection(std::uint32_t pool, std::uint32_t conn) override;
    sim::timer_handle pool_timer(std::uint32_t pool, double at, std::uint32_t kind, std::uint32_t arg) override;
    void pool_now(std::uint32_t pool, std::uint32_t kind, std::uint32_t arg) override;
    sim::rearmable_handle pool_rearmable_timer(std::uint32_t pool, double at, std::uint32_t kind, std::uint32_t arg) override;

private:
    void handle(const sim::event& e);

    // ---- a request's path (requests.cpp) ------------------------------------------------
    // A request arrives: arrive is the entry point of bursts and closed-loop users, admit its
    // body, inline into on_arrival with start_attempt (requests.cpp says why).
    void arrive(std::uint32_t user = npos32, int cls = -1, double duration = NAN);
    void admit(std::uint32_t user, int cls, double duration);
    void start_attempt(std::uint32_t id);
    void attempt_failed(std::uint32_t id, fail_reason why);
    void outcome_failed(std::uint32_t id, fail_reason why);
    void on_deadline(std::uint32_t id);
    void on_retry(std::uint32_t id);
    void on_patience(std::uint32_t id);
    // Inline: every request ends here, and only a closed-loop user has a next request.
    void user_moves_on(const request& r) {
        if (r.user != npos32) schedule_user_next(r.user);
    }
    void schedule_user_next(std::uint32_t user);
    void record(const request& r, std::uint8_t outcome);  // run.record_requests
    void free_slot(std::uint32_t id);
    void release_slot(std::uint32_t id);  // free_slot's body, inline into query_done
    // Inline: once per attempt, and without a breaker (the usual case) nothing to do.
    void breaker_result(std::uint32_t inst, bool ok) {
        if (breakers_.enabled()) breaker_record(inst, ok);
    }
    void breaker_record(std::uint32_t inst, bool ok);
    void start_query(std::uint32_t id);
    void query_error_after(std::uint32_t id, double delay, fail_reason why, std::uint8_t broken);
    void dead_use(std::uint32_t id, const link& l, std::uint8_t broken);
    void on_db_done(const sim::event& e);
    void on_query_cpu_done(std::uint32_t id);  // only from on_db_done: inline there
    void on_stmt_timeout(std::uint32_t id);
    void on_query_error(std::uint32_t id);
    // A query's response and what follows: on_response and after_query are the entry points
    // of ev_response and ev_app_done; response and query_done their bodies, inline into
    // on_db_done (requests.cpp says why).
    void on_response(std::uint32_t id);
    void after_query(std::uint32_t id);
    void response(std::uint32_t id);
    void query_done(std::uint32_t id);
    // Three times per request: no integer division in the usual case of one pool per instance.
    std::uint32_t instance_of(const request& r) const { return per_instance_ == 1 ? r.pool : r.pool / per_instance_; }

    // ---- connections and their far ends (world.cpp) ------------------------------------
    /// The connection whose far end is the database: the pooler's server, or the app's own.
    link& db_link(const request& r) { return pooler_ ? net_.at(apps_, r.server) : net_.at(r.pool, r.conn); }
    bool db_facing(std::uint32_t pool) const { return pool >= db_facing_from_ && pool <= apps_; }
    bool nat_check(link& l, std::uint32_t pool);
    void broken_in_use(std::uint32_t pool, std::uint32_t conn);
    void arm_idle_session(std::uint32_t pool, std::uint32_t conn);
    void release_conn(std::uint32_t pool, std::uint32_t conn, std::uint32_t queries, bool after_error = false);
    void release_server(std::uint32_t server);
    void hold_server(std::uint32_t server);
    std::uint32_t unlink_server(link& client);
    void on_connect_done(std::uint32_t p, std::uint32_t c);
    void deliver_login(std::uint32_t p, std::uint32_t c);
    void drop_login(std::uint32_t p, link& l);
    void on_login_timeout(std::uint32_t p, std::uint32_t c);
    void server_closed(std::uint32_t p, link& l, std::uint32_t c);
    void on_server_closed(std::uint32_t p, std::uint32_t c);
    // Inline (speed: twice per request for sqlx, once for asyncpg, straight from the event
    // switch). last_used (the NAT's and the orphan reaper's clock) and the idle-session timer
    // only matter with faults, a NAT or idle sessions (track_): then round_trip_traffic.
    void on_round_trip_done(std::uint32_t p, std::uint32_t c) {
        if (track_) round_trip_traffic(p, c);
        pools_[p]->on_round_trip_done(c, true);
    }
    void round_trip_traffic(std::uint32_t p, std::uint32_t c);
    void on_idle_session(std::uint32_t p, std::uint32_t c);
    void release_backend() { db_.release_backend(sim_.now()); }

    // ---- faults, fleet, measurement (world.cpp) -----------------------------------------
    void fault_start(std::uint32_t i);
    void break_backends(double fraction, bool silent);
    void fleet_event_start(std::uint32_t i);
    void deploy_step(std::uint32_t i);
    void instance_start(std::uint32_t inst, double ready_after, std::uint32_t replaces);
    void instance_ready(std::uint32_t inst);
    void instance_drain(std::uint32_t inst);
    void instance_stop(std::uint32_t inst);
    void on_burst();
    void on_arrival();  // requests.cpp
    void end_warmup();
    void sample();
    world_view view() const;
    bool stopped(conn_ref c) const { return stopped_[c.pool] != 0; }

    const scenario& s_;
    int rep_;
    run_control* ctl_;
    std::vector<trace_entry>* trace_;
    sim::simulation sim_;
    sim::random_stream arrivals_, think_;
    std::uint64_t query_seed_, app_seed_, leak_seed_, patience_seed_;
    std::uint64_t first_query_seed_;  // query_seed_ ^ mix64(0): a transaction's first query
    std::optional<arrival_process> arrival_proc_;  // poisson (with a profile), mmpp, trace
    static constexpr std::uint32_t deadline_lane = 1000;  // FIFO timer lane (pools use 0..255)
    static constexpr std::uint32_t arrival_lane = 1001;   // FIFO lane of the open arrival process

    world_metrics m_;  // declared before pools_, which record into it
    request_table reqs_;
    retry_policy retry_;
    fault_schedule faults_;
    database db_;
    fleet fleet_;
    breakers breakers_;
    std::vector<std::uint32_t> cls_pool_;  // transaction class -> named pool index
    std::uint32_t per_instance_ = 1;       // pools per application instance
    pooler_policy* pooler_ = nullptr;      // owned by pools_ (its last element), or none
    bool session_ = false;                 // the pooler links a server per client connection
    std::uint32_t apps_ = 0;               // application pools: pools_[0, apps_)
    std::vector<std::unique_ptr<pool_policy>> pools_;
    network net_;
    std::vector<std::uint8_t> stopped_;  // per pool: its instance has exited
    std::uint32_t db_facing_from_ = 0;   // pools whose connections reach the database: [from, apps_]
    bool track_ = false;  // faults, NAT or idle-session timeout: links are followed per use
};

}  // namespace dbpoolsim::models::world_parts
