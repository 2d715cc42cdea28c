// The world of one replication: arrivals, requests, the pool policy, the database, metrics.
#include "models/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <exception>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "models/arrivals.hpp"
#include "models/database.hpp"
#include "sim/random.hpp"
#include "sim/simulation.hpp"
#include "sim/stats/accumulator.hpp"

namespace dbpoolsim::models {
namespace {

enum ev : std::uint32_t {
    ev_arrival,          // next Poisson arrival
    ev_burst,            // a burst of arrivals
    ev_user_next,        // a closed-loop user finished thinking (target = user)
    ev_db_done,          // a query's CPU work finished (target = request, or npos: ask cpu_model)
    ev_response,         // a query's response reached the client after the round trip
    ev_app_done,         // app work after a query finished
    ev_connect_done,     // a login finished (target = pool << 24 | connection)
    ev_round_trip_done,  // a pool round trip finished (target = pool << 24 | connection)
    ev_sample,           // time-series sample
    ev_warmup_end,
    ev_retry,            // a failed attempt's backoff ended (target = request)
    ev_deadline,         // the client's request deadline (target = request)
    ev_breaker,          // an open circuit breaker turns half-open (target = instance)
    ev_query_error,      // a query's error reaches the client (target = request)
    ev_round_trip_failed,  // a pool round trip on a dead connection failed (target as above)
    ev_stmt_timeout,     // statement_timeout of the running query (target = request)
    ev_idle_session,     // the server's idle_session_timeout closes a backend (pool << 24 | conn)
    ev_leak_return,      // a leaked connection is returned late (pool << 24 | conn)
    ev_backend_reaped,   // TCP keepalive reaps an orphaned backend (target unused)
    ev_fault_start,      // a scheduled fault begins (target = fault index)
    ev_fault_end,        // ... and ends
    ev_fleet,            // a fleet event starts (target = index)
    ev_deploy_step,      // the next step of a rolling deploy (target = fleet event index)
    ev_instance_ready,   // a new instance takes traffic (target = instance)
    ev_instance_stop,    // a drained instance exits (target = instance)
    ev_pool_timer = 32,  // + policy timer kind (< 32); target = pool << 24 | arg
};

constexpr std::uint32_t pack(std::uint32_t pool, std::uint32_t x) { return pool << 24 | x; }

struct request {
    double arrival = 0;
    double acquire_start = 0;
    std::uint64_t seqno = 0;
    std::uint32_t conn = npos32;    // application pool connection
    std::uint32_t server = npos32;  // pooler server connection (with a pooler tier)
    double pooler_start = 0;
    std::uint32_t user = npos32;
    std::uint32_t query_index = 0;
    std::uint16_t cls = 0;
    std::uint8_t pool = 0;  // application instance
    std::uint16_t attempt = 0;  // attempts started (retries = attempt - 1)
    bool done = false;          // the outcome is recorded (an abandoned attempt may still run)
    sim::timer_handle deadline, retry, stmt;
    bool counted = false;
    // A query error on its way to the client (ev_query_error).
    fail_reason err = fail_reason::query_error;
    std::uint8_t err_broken = 0;  // 1: the app's connection is gone, 2: the pooler's server is
    double query_start = 0;
    double duration = NAN;  // trace replay: database time of the whole transaction
};

/// The world's view of one connection's far end (per pool, per connection slot): which
/// database incarnation and node it reached, whether its backend still exists, whether the
/// path to it is dead (faults, NAT) and how a use then fails.
struct link {
    std::uint32_t epoch = 0;  // database incarnation (restart, failover) at login
    std::uint32_t node = 0;   // server node (failover, read-only demotion) at login
    std::uint32_t busy = npos32;  // request whose query runs on it
    double last_used = 0;     // last traffic (NAT idle timer)
    sim::timer_handle idle_timer;  // server idle_session_timeout
    bool login_ok = false;
    std::uint8_t login_phase = 0;  // 1: network part done, CPU part next
    bool backend = false;     // holds a backend slot on the database (counted in backends_)
    bool open = false;        // login delivered and not closed
    bool dead = false;        // the far end is gone: the next use fails
    bool silent = false;      // ... without a reset: it hangs until socket_timeout_s
    bool orphan = false;      // NAT-dropped silently: the backend outlives the client's close
    bool held = false;        // held by a request
    bool pooler_client = false;  // counted as a client by the pooler (admitted, not yet closed)
};

const std::vector<std::string> series_columns = {
    "t_s",           "total_connections", "active_connections", "idle_connections",
    "creating_connections", "waiters",     "arrivals",           "completions",
    "timeouts",      "failures",          "wait_p50_ms",        "wait_p99_ms",
    "wait_max_ms",   "db_backends",       "db_active_queries",  "requests_in_system",
    "pooler_servers", "pooler_waiting",    "logins",             "instances"};

class world final : public pool_host {
public:
    world(const scenario& s, int rep, run_control* ctl)
        : s_(s),
          rep_(rep),
          ctl_(ctl),
          arrivals_(s.run.seed, rep, "arrivals"),
          think_(s.run.seed, rep, "think_time"),
          connect_(s.run.seed, rep, "connect_time"),
          mix_seed_(sim::stream_seed(s.run.seed, rep, "transaction_mix")),
          query_seed_(sim::stream_seed(s.run.seed, rep, "query_time")),
          app_seed_(sim::stream_seed(s.run.seed, rep, "app_time")),
          route_seed_(sim::stream_seed(s.run.seed, rep, "instance_routing")),
          retry_seed_(sim::stream_seed(s.run.seed, rep, "retry_jitter")),
          leak_seed_(sim::stream_seed(s.run.seed, rep, "leaks")),
          faults_rng_(s.run.seed, rep, "faults"),
          cpu_(sim_, s.database.cores, ev_db_done, s.database.usl,
               !s.faults.empty() || s.client.statement_timeout_s > 0),
          rtt_(s.database.network_rtt_s),
          series_(series_columns) {
        double acc = 0, total = 0;
        for (const auto& c : s.workload.transactions) total += c.weight;
        for (const auto& c : s.workload.transactions) mix_cdf_.push_back(acc += c.weight / total);
        mix_cdf_.back() = 1.0;
        // All pools share pm_ (they record deltas), so pm_ holds fleet totals. With named
        // pools, instance i runs one of each: pool index i * per_instance_ + j, and each also
        // records into pm_named_[j].
        per_instance_ = s.pools.empty() ? 1 : static_cast<std::uint32_t>(s.pools.size());
        pm_named_.resize(s.pools.size());
        wait_named_.resize(s.pools.size());
        timeouts_named_.assign(s.pools.size(), 0);
        const int instances = fleet_instances_needed(s);
        for (int i = 0; i < instances; ++i) {
            if (s.pools.empty()) {
                pools_.push_back(make_pool(s.pool, *this, static_cast<std::uint32_t>(i), pm_,
                                           sim::random_stream(s.run.seed, rep, "pool/" + std::to_string(i))));
                continue;
            }
            for (std::size_t j = 0; j < s.pools.size(); ++j) {
                const auto index = static_cast<std::uint32_t>(pools_.size());
                pools_.push_back(make_pool(s.pools[j].settings, *this, index, pm_,
                                           sim::random_stream(s.run.seed, rep,
                                                              "pool/" + s.pools[j].name + "/" + std::to_string(i))));
                pools_.back()->set_secondary_metrics(&pm_named_[j]);
            }
        }
        for (const auto& c : s.workload.transactions) {
            std::uint32_t j = 0;
            while (j < s.pools.size() && s.pools[j].name != c.pool) ++j;
            cls_pool_.push_back(s.pools.empty() ? 0 : j);
        }
        apps_ = static_cast<std::uint32_t>(pools_.size());
        if (s.client.circuit_breaker_threshold > 0) breakers_.resize(static_cast<std::size_t>(instances));
        inst_state_.assign(static_cast<std::size_t>(instances), inst_pending);
        inst_inflight_.assign(static_cast<std::size_t>(instances), 0);
        drain_on_ready_.assign(static_cast<std::size_t>(instances), npos32);
        deploy_.resize(s.fleet.size());
        for (const auto& f : s.faults) {
            slow_queries_ = slow_queries_ || f.kind == fault_kind::slow_queries;
            connect_faults_ = connect_faults_ || f.kind == fault_kind::slow_connects ||
                              f.kind == fault_kind::connect_errors;
        }
        db_facing_from_ = 0;  // pools whose connections reach the database: [from, to)
        // Follow every connection's far end only when something can break it.
        fleet_ = !s.fleet.empty();
        track_ = !s.faults.empty() || s.network.nat_idle_timeout_s > 0 || s.database.idle_session_timeout_s > 0;
        if (!s.pooler.kind.empty()) {
            auto p = make_pooler(s.pooler, *this, apps_, pm_pooler_,
                                 sim::random_stream(s.run.seed, rep, "pooler"));
            pooler_ = p.get();
            pools_.push_back(std::move(p));
            db_facing_from_ = apps_;
        }
        links_.resize(pools_.size());
        stopped_.assign(pools_.size(), 0);
        counting_ = s.run.warmup_s <= 0;
    }

    replication_result run();

    // ---- pool_host ----------------------------------------------------------------------
    sim::simulation& simulation() override { return sim_; }

    void grant(std::uint32_t pool, std::uint32_t id, std::uint32_t conn) override {
        request& r = reqs_[id];
        if (track_) {
            link& l = link_at(pool, conn);
            l.held = true;
            sim_.cancel(l.idle_timer);
        }
        if (pooler_ && pool == apps_) {
            // PgBouncer linked a server to this client for the transaction.
            r.server = conn;
            if (r.counted) pooler_wait_.add(sim_.now() - r.pooler_start);
            start_query(id);
            return;
        }
        r.conn = conn;
        if (r.counted) {
            const double w = sim_.now() - r.acquire_start;
            wait_.add(w);
            wait_all_.add(w);
            iv_wait_.add(w);
            if (!wait_named_.empty()) wait_named_[r.pool % per_instance_].add(w);
        }
        if (pooler_) {
            // The transaction's first query goes to PgBouncer, which needs a server for it.
            r.pooler_start = sim_.now();
            pooler_->acquire(id);
            return;
        }
        start_query(id);
    }

    void fail(std::uint32_t pool, std::uint32_t id, fail_reason why) override {
        request& r = reqs_[id];
        // PgBouncer disconnects the client: the application's connection to it is gone.
        if (pooler_ && pool == apps_) broken_in_use(r.pool, r.conn);
        if (r.counted && !r.done && why == fail_reason::acquire_timeout) {
            if (!timeouts_named_.empty() && pool < apps_) ++timeouts_named_[pool % per_instance_];
            wait_all_.add(sim_.now() - r.acquire_start);
        }
        attempt_failed(id, why);
    }

    void open_connection(std::uint32_t pool, std::uint32_t conn) override {
        if (stopped_[pool]) return;
        link& l = link_at(pool, conn);
        sim_.cancel(l.idle_timer);
        l = link{};
        l.last_used = sim_.now();
        ++iv_logins_;
        if (counting_) ++logins_;
        if (pooler_ && pool != apps_) {
            // An application connection logs in to PgBouncer, not to the database.
            l.login_ok = l.pooler_client = pooler_->admit_client();
            sim_.schedule_after(l.login_ok ? pooler_->client_connect_time().sample(connect_.engine()) : rtt_,
                                ev_connect_done, pack(pool, conn));
            return;
        }
        const double t = sim_.now();
        if (t < unreachable_until_) {
            // Failover: the old primary's address does not answer; the SYN retries time out.
            sim_.schedule_after(s_.network.connect_timeout_s, ev_connect_done, pack(pool, conn));
            return;
        }
        if (t < refuse_until_) {
            // Restart: "the database system is starting up" (or connection refused).
            sim_.schedule_after(rtt_, ev_connect_done, pack(pool, conn));
            return;
        }
        if (backends_ >= static_cast<std::uint32_t>(s_.database.max_connections)) {
            // PostgreSQL answers 53300 too_many_connections after the startup packet.
            if (counting_) ++rejected_logins_;
            sim_.schedule_after(rtt_, ev_connect_done, pack(pool, conn));
            return;
        }
        l.login_ok = true;
        l.backend = true;
        l.epoch = epoch_;
        l.node = node_;
        set_backends(backends_ + 1);
        double delay = s_.database.connect_time.sample(connect_.engine());
        if (connect_faults_) {
            for (const auto& f : s_.faults) {
                if (t < f.at_s || t >= f.at_s + f.duration_s) continue;
                if (f.kind == fault_kind::slow_connects) delay *= f.factor;
                if (f.kind == fault_kind::connect_errors && faults_rng_.uniform() < f.probability) l.login_ok = false;
            }
        }
        if (s_.database.accept_rate_per_s > 0) {
            // The postmaster accepts (forks) one login at a time.
            const double start = std::max(t, accept_free_);
            accept_free_ = start + 1 / s_.database.accept_rate_per_s;
            delay += start - t;
        }
        if (l.login_ok && s_.database.connect_cpu_s > 0) l.login_phase = 1;
        sim_.schedule_after(delay, ev_connect_done, pack(pool, conn));
    }

    void round_trip(std::uint32_t pool, std::uint32_t conn, double timeout_s) override {
        link& l = link_at(pool, conn);
        sim_.cancel(l.idle_timer);
        if (pool < apps_) nat_check(l, pool);
        if (l.dead) {
            sim_.schedule_after(l.silent ? std::min(timeout_s, s_.network.socket_timeout_s) : rtt_,
                                ev_round_trip_failed, pack(pool, conn));
            return;
        }
        l.last_used = sim_.now();
        sim_.schedule_after(rtt_, ev_round_trip_done, pack(pool, conn));
    }

    void close_connection(std::uint32_t pool, std::uint32_t conn) override {
        if (stopped_[pool]) return;
        link& l = link_at(pool, conn);
        sim_.cancel(l.idle_timer);
        l.open = l.held = false;
        if (pooler_ && pool != apps_) {
            l.pooler_client = false;
            pooler_->client_left();
            return;
        }
        if (!l.backend) return;
        l.backend = false;
        if (l.orphan) {
            // The close never reaches the server (the NAT forgot the flow): the backend lives
            // until TCP keepalive (or the server's idle_session_timeout) reaps it.
            double reap = s_.database.tcp_keepalive_s;
            if (s_.database.idle_session_timeout_s > 0)
                reap = std::min(reap, std::max(0.0, l.last_used + s_.database.idle_session_timeout_s - sim_.now()));
            sim_.schedule_after(reap, ev_backend_reaped, 0);
            return;
        }
        set_backends(backends_ - 1);
    }

    sim::timer_handle pool_timer(std::uint32_t pool, double at, std::uint32_t kind,
                                 std::uint32_t arg) override {
        DBPOOLSIM_ASSERT(kind < 32 && arg < (1u << 24), "pool timer kind/arg out of range");
        // Kind 0 is the acquire timeout (pool_base): a constant delay per pool, so its times
        // never decrease and a FIFO lane per pool holds them (see sim/event_queue.hpp).
        if (kind == 0) return sim_.fifo_timer_at(pool, at, ev_pool_timer, pack(pool, arg));
        return sim_.timer_at(at, ev_pool_timer + kind, pack(pool, arg));
    }

private:
    // ---- requests -----------------------------------------------------------------------
    std::uint32_t new_request(std::uint32_t user, int cls = -1, double duration = NAN) {
        std::uint32_t id;
        if (!free_reqs_.empty()) {
            id = free_reqs_.back();
            free_reqs_.pop_back();
        } else {
            id = static_cast<std::uint32_t>(reqs_.size());
            DBPOOLSIM_ASSERT(id < (1u << 24), "more than 2^24 requests in flight");
            reqs_.emplace_back();
        }
        request& r = reqs_[id];
        r = request{};
        r.arrival = r.acquire_start = sim_.now();
        r.seqno = next_seqno_++;
        r.user = user;
        r.counted = counting_;
        r.duration = duration;
        if (cls >= 0) {
            r.cls = static_cast<std::uint16_t>(cls);
        } else if (mix_cdf_.size() > 1) {
            sim::keyed_engine eng(mix_seed_, r.seqno);
            const double u = static_cast<double>(eng() >> 11) * 0x1.0p-53;
            std::uint16_t c = 0;
            while (c + 1u < mix_cdf_.size() && u >= mix_cdf_[c]) ++c;
            r.cls = c;
        }
        // Instances taking traffic (the fleet changes it); the same keyed draw under any pool.
        const auto instances = static_cast<std::uint32_t>(active_.size());
        std::uint32_t k = 0;
        if (instances > 1) {
            if (user != npos32) {
                k = user % instances;
            } else {
                sim::keyed_engine eng(route_seed_, r.seqno);
                k = static_cast<std::uint32_t>((static_cast<double>(eng() >> 11) * 0x1.0p-53) * instances);
            }
        }
        const std::uint32_t instance = active_[k];
        if (fleet_) ++inst_inflight_[instance];
        r.pool = static_cast<std::uint8_t>(instance * per_instance_ + cls_pool_[r.cls]);
        if (r.counted) {
            ++offered_;
            ++iv_arrivals_;
        }
        in_system_.set(sim_.now(), static_cast<double>(++live_));
        return id;
    }

    void arrive(std::uint32_t user = npos32, int cls = -1, double duration = NAN) {
        const std::uint32_t id = new_request(user, cls, duration);
        if (s_.client.deadline_s > 0)  // constant delay: a FIFO lane of its own
            reqs_[id].deadline = sim_.fifo_timer_at(deadline_lane, sim_.now() + s_.client.deadline_s, ev_deadline, id);
        start_attempt(id);
    }

    // ---- attempts, retries, circuit breaker (client layer) ------------------------------
    std::uint32_t instance_of(const request& r) const { return r.pool / per_instance_; }

    void start_attempt(std::uint32_t id) {
        request& r = reqs_[id];
        ++r.attempt;
        if (r.counted) ++attempts_;
        r.acquire_start = sim_.now();
        r.query_index = 0;
        r.conn = r.server = npos32;
        if (!breakers_.empty() && breakers_[instance_of(r)].st == breaker::open) {
            attempt_failed(id, fail_reason::circuit_open);  // fail fast, not retried
            return;
        }
        pools_[r.pool]->acquire(id);
    }

    void attempt_failed(std::uint32_t id, fail_reason why) {
        request& r = reqs_[id];
        if (why != fail_reason::circuit_open) breaker_result(instance_of(r), false);
        if (r.counted) ++attempt_failures_;
        if (r.done) {  // abandoned at its deadline: its work is over now
            free_slot(id);
            return;
        }
        const auto& c = s_.client;
        const bool retryable = why != fail_reason::circuit_open && why != fail_reason::deadline_exceeded;
        if (retryable && r.attempt <= c.retry_attempts) {
            // seeds/001: exponential backoff from initial_retry_delay, capped at
            // max_retry_delay, with +-retry_jitter_factor jitter (keyed: common random numbers).
            double delay = std::min(c.max_retry_delay,
                                    c.initial_retry_delay * std::pow(c.retry_multiplier, r.attempt - 1));
            sim::keyed_engine eng(retry_seed_ ^ sim::mix64(r.attempt), r.seqno);
            const double u = static_cast<double>(eng() >> 11) * 0x1.0p-53;
            delay *= 1 + c.retry_jitter_factor * (2 * u - 1);
            r.retry = sim_.timer_after(delay, ev_retry, id);
            return;
        }
        outcome_failed(id, why);
        free_slot(id);
    }

    void outcome_failed(std::uint32_t id, fail_reason why) {
        request& r = reqs_[id];
        r.done = true;
        sim_.cancel(r.deadline);
        if (r.counted) {
            ++failed_[static_cast<std::size_t>(why)];
            ++iv_failures_;
            if (why == fail_reason::acquire_timeout) ++iv_timeouts_;
            sojourn_.add(sim_.now() - r.arrival);
        }
        user_moves_on(r);
    }

    void on_deadline(std::uint32_t id) {
        request& r = reqs_[id];
        r.deadline = {};
        if (r.done) return;
        const bool between_attempts = sim_.pending(r.retry);
        sim_.cancel(r.retry);
        outcome_failed(id, fail_reason::deadline_exceeded);
        // Waiting in a backoff: nothing runs. Otherwise the attempt in progress goes on
        // (waiting for or holding a connection) and frees the slot when it ends.
        if (between_attempts) free_slot(id);
    }

    void user_moves_on(const request& r) {
        if (r.user != npos32)
            sim_.schedule_after(s_.workload.arrivals.think_time.sample(think_.engine()), ev_user_next, r.user);
    }

    void free_slot(std::uint32_t id) {
        free_reqs_.push_back(id);
        in_system_.set(sim_.now(), static_cast<double>(--live_));
        if (!fleet_) return;
        const std::uint32_t inst = instance_of(reqs_[id]);
        if (--inst_inflight_[inst] == 0 && inst_state_[inst] == inst_draining)
            sim_.schedule_after(0, ev_instance_stop, inst);
    }

    struct breaker {
        enum state_t : std::uint8_t { closed, open, half_open } st = closed;
        int failures = 0, successes = 0;
    };

    void breaker_result(std::uint32_t inst, bool ok) {
        if (breakers_.empty()) return;
        breaker& b = breakers_[inst];
        const auto& c = s_.client;
        if (b.st == breaker::closed) {
            b.failures = ok ? 0 : b.failures + 1;
            if (b.failures >= c.circuit_breaker_threshold) breaker_open(inst);
        } else if (b.st == breaker::half_open) {
            if (!ok) breaker_open(inst);
            else if (++b.successes >= c.circuit_breaker_reset) breaker_set(inst, breaker::closed);
        }
        // open: results of attempts started before it opened change nothing
    }

    void breaker_open(std::uint32_t inst) {
        breaker_set(inst, breaker::open);
        ++breaker_opens_;
        sim_.schedule_after(s_.client.circuit_breaker_timeout, ev_breaker, inst);
    }

    void breaker_set(std::uint32_t inst, breaker::state_t st) {
        breaker& b = breakers_[inst];
        const double t = sim_.now();
        if (b.st == breaker::open) breaker_in_open_.add(t, -1);
        if (b.st == breaker::half_open) breaker_in_half_open_.add(t, -1);
        b.st = st;
        b.failures = b.successes = 0;
        if (st == breaker::open) breaker_in_open_.add(t, 1);
        if (st == breaker::half_open) breaker_in_half_open_.add(t, 1);
    }

    // ---- queries ------------------------------------------------------------------------
    link& link_at(std::uint32_t pool, std::uint32_t conn) {
        auto& v = links_[pool];
        if (conn >= v.size()) v.resize(std::max<std::size_t>(conn + 1, 2 * v.size()));
        return v[conn];
    }
    /// The connection whose far end is the database: the pooler's server, or the app's own.
    link& db_link(const request& r) { return pooler_ ? links_[apps_][r.server] : links_[r.pool][r.conn]; }
    bool db_facing(std::uint32_t pool) const { return pool >= db_facing_from_ && pool <= apps_; }

    /// A NAT between the application and its peer forgets flows idle longer than
    /// nat_idle_timeout_s: the connection is dead from now on (true if it just died).
    bool nat_check(link& l, std::uint32_t pool) {
        const double nat = s_.network.nat_idle_timeout_s;
        if (nat <= 0 || l.dead || sim_.now() - l.last_used <= nat) return false;
        l.dead = true;
        l.silent = s_.network.nat_drop == nat_drop_mode::silent;
        // A silent drop leaves the server's backend in place (its close will not arrive).
        l.orphan = l.silent && l.backend && db_facing(pool);
        if (counting_) ++nat_drops_;
        return true;
    }

    /// The query of request id fails; the client hears of it after `delay`.
    void query_error_after(std::uint32_t id, double delay, fail_reason why, std::uint8_t broken) {
        request& r = reqs_[id];
        r.err = why;
        r.err_broken = broken;
        sim_.schedule_after(delay, ev_query_error, id);
    }

    /// How a use of dead link l fails: at once (reset) or after the socket timeout (silent).
    void dead_use(std::uint32_t id, const link& l, std::uint8_t broken) {
        if (l.silent) query_error_after(id, s_.network.socket_timeout_s, fail_reason::socket_timeout, broken);
        else query_error_after(id, rtt_, fail_reason::query_error, broken);
    }

    void start_query(std::uint32_t id) {
        request& r = reqs_[id];
        const auto& tc = s_.workload.transactions[r.cls];
        link* d = nullptr;
        if (track_) {
            link& a = links_[r.pool][r.conn];
            nat_check(a, r.pool);
            if (a.dead) return dead_use(id, a, 1);
            a.last_used = sim_.now();
            d = &db_link(r);
            if (pooler_ && d->dead) return dead_use(id, *d, 2);
            if (!tc.read_only && d->node < node_read_only_.size() && node_read_only_[d->node])
                // SQLSTATE 25006: cannot execute in a read-only transaction.
                return query_error_after(id, rtt_, fail_reason::read_only, 0);
        }
        sim::keyed_engine eng(query_seed_ ^ sim::mix64(r.query_index), r.seqno);
        double work = std::isnan(r.duration) ? tc.query_time.sample(eng) : r.duration / tc.queries;
        if (slow_queries_) {
            const double t = sim_.now();
            for (const auto& f : s_.faults)
                if (f.kind == fault_kind::slow_queries && t >= f.at_s && t < f.at_s + f.duration_s) work *= f.factor;
        }
        if (d) {
            d->busy = id;
            r.query_start = sim_.now();
        }
        cpu_.submit(id, work);
        if (s_.client.statement_timeout_s > 0)
            r.stmt = sim_.timer_after(s_.client.statement_timeout_s, ev_stmt_timeout, id);
    }

    void on_query_cpu_done(std::uint32_t id) {
        request& r = reqs_[id];
        if (track_) db_link(r).busy = npos32;
        if (s_.client.statement_timeout_s > 0) sim_.cancel(r.stmt);
        if (rtt_ > 0) sim_.schedule_after(rtt_, ev_response, id);
        else on_response(id);
    }

    void on_stmt_timeout(std::uint32_t id) {
        // The server cancels the statement (57014); the session survives.
        request& r = reqs_[id];
        r.stmt = {};
        cpu_.cancel(id);
        if (track_) db_link(r).busy = npos32;
        query_error_after(id, rtt_, fail_reason::statement_timeout, 0);
    }

    void on_query_error(std::uint32_t id) {
        request& r = reqs_[id];
        std::uint8_t broken = r.err_broken;
        if (pooler_) {
            // A server that dies under a linked client makes PgBouncer drop the client too.
            if (broken & 2) {
                links_[apps_][r.server].held = false;
                pooler_->on_broken_in_use(r.server);
                broken |= 1;
            } else {
                release_server(r.server);
            }
        }
        if (broken & 1) broken_in_use(r.pool, r.conn);
        else release_conn(r.pool, r.conn);
        attempt_failed(id, r.err);
    }

    void broken_in_use(std::uint32_t pool, std::uint32_t conn) {
        link& l = link_at(pool, conn);
        l.held = false;
        l.dead = true;
        pools_[pool]->on_broken_in_use(conn);
    }

    void arm_idle_session(std::uint32_t pool, std::uint32_t conn) {
        if (s_.database.idle_session_timeout_s <= 0 || !db_facing(pool)) return;
        link& l = link_at(pool, conn);
        if (l.dead || !l.backend) return;
        sim_.cancel(l.idle_timer);
        l.idle_timer = sim_.timer_after(s_.database.idle_session_timeout_s, ev_idle_session, pack(pool, conn));
    }

    void release_conn(std::uint32_t pool, std::uint32_t conn) {
        if (track_) {
            link_at(pool, conn).held = false;
            arm_idle_session(pool, conn);
        }
        pools_[pool]->release(conn);
    }

    void release_server(std::uint32_t server) {
        if (track_) {
            links_[apps_][server].held = false;
            arm_idle_session(apps_, server);
        }
        pooler_->release(server);
    }

    void on_response(std::uint32_t id) {
        request& r = reqs_[id];
        const auto& tc = s_.workload.transactions[r.cls];
        if (track_) links_[r.pool][r.conn].last_used = sim_.now();
        ++r.query_index;
        if (tc.app_time) {
            sim::keyed_engine eng(app_seed_ ^ sim::mix64(r.query_index), r.seqno);
            sim_.schedule_after(tc.app_time->sample(eng), ev_app_done, id);
            return;
        }
        after_query(id);
    }

    void after_query(std::uint32_t id) {
        request& r = reqs_[id];
        const auto& tc = s_.workload.transactions[r.cls];
        if (r.query_index < static_cast<std::uint32_t>(tc.queries)) {
            start_query(id);
            return;
        }
        if (pooler_) release_server(r.server);  // transaction end: the server goes back first
        bool leaked = false;
        if (tc.leak_probability > 0) {
            sim::keyed_engine eng(leak_seed_, r.seqno);
            leaked = static_cast<double>(eng() >> 11) * 0x1.0p-53 < tc.leak_probability;
        }
        if (leaked) {
            // The application forgets to return the connection (seeds/000 scenario 4).
            if (counting_) ++leaked_;
            if (tc.leak_hold_time) {
                sim::keyed_engine eng(leak_seed_ ^ 0x9e3779b97f4a7c15ULL, r.seqno);
                sim_.schedule_after(tc.leak_hold_time->sample(eng), ev_leak_return, pack(r.pool, r.conn));
            }
        } else {
            release_conn(r.pool, r.conn);
        }
        breaker_result(instance_of(r), true);
        if (r.done) {  // abandoned at its deadline: its work is over now
            free_slot(id);
            return;
        }
        r.done = true;
        sim_.cancel(r.deadline);
        if (r.counted) {
            ++completed_;
            ++iv_completions_;
            const double l = sim_.now() - r.arrival;
            latency_.add(l);
            sojourn_.add(l);
        }
        user_moves_on(r);
        free_slot(id);
    }

    // ---- login completion ---------------------------------------------------------------
    void on_connect_done(std::uint32_t p, std::uint32_t c) {
        link& l = links_[p][c];
        if (l.login_phase == 1 && !l.dead && l.epoch == epoch_) {
            // The backend's start-up work (fork, authentication) on the database CPU.
            l.login_phase = 2;
            std::uint32_t j;
            if (free_login_jobs_.empty()) {
                j = static_cast<std::uint32_t>(login_jobs_.size());
                login_jobs_.push_back(pack(p, c));
            } else {
                j = free_login_jobs_.back();
                free_login_jobs_.pop_back();
                login_jobs_[j] = pack(p, c);
            }
            cpu_.submit(0x80000000u | j, s_.database.connect_cpu_s);
            return;
        }
        deliver_login(p, c);
    }

    void deliver_login(std::uint32_t p, std::uint32_t c) {
        link& l = links_[p][c];
        l.login_phase = 0;
        const bool ok = l.login_ok && !l.dead && (!db_facing(p) || l.epoch == epoch_);
        if (!ok && l.backend) {
            l.backend = false;
            set_backends(backends_ - 1);
        }
        if (ok) {
            l.open = true;
            l.last_used = sim_.now();
        }
        pools_[p]->on_connect_done(c, ok);
    }

    void set_backends(std::uint32_t n) {
        backends_ = n;
        backends_avg_.set(sim_.now(), n);
    }

    // ---- events -------------------------------------------------------------------------
    void handle(const sim::event& e) {
        switch (e.kind) {
            case ev_arrival: {
                if (const trace_record* rec = arrival_proc_->record()) arrive(npos32, rec->cls, rec->duration_s);
                else arrive();
                const double next = arrival_proc_->next();
                if (std::isfinite(next)) sim_.schedule_at(next, ev_arrival, 0);
                break;
            }
            case ev_db_done:
                if (cpu_.contended()) {
                    const std::uint32_t id = cpu_.complete();
                    if (id & 0x80000000u) {  // a login's CPU part
                        const std::uint32_t j = id & 0x7fffffffu, t = login_jobs_[j];
                        free_login_jobs_.push_back(j);
                        if (!stopped_[t >> 24]) deliver_login(t >> 24, t & 0xffffff);
                    } else {
                        on_query_cpu_done(id);
                    }
                } else {
                    cpu_.complete_direct();
                    on_query_cpu_done(e.target);
                }
                break;
            case ev_response: on_response(e.target); break;
            case ev_app_done: after_query(e.target); break;
            case ev_connect_done:
                if (!stopped_[e.target >> 24]) on_connect_done(e.target >> 24, e.target & 0xffffff);
                break;
            case ev_round_trip_done: {
                const std::uint32_t p = e.target >> 24, c = e.target & 0xffffff;
                if (stopped_[p]) break;
                link& l = links_[p][c];
                l.last_used = sim_.now();
                if (!l.held) arm_idle_session(p, c);
                pools_[p]->on_round_trip_done(c, true);
                break;
            }
            case ev_round_trip_failed:
                if (!stopped_[e.target >> 24]) pools_[e.target >> 24]->on_round_trip_done(e.target & 0xffffff, false);
                break;
            case ev_query_error: on_query_error(e.target); break;
            case ev_stmt_timeout: on_stmt_timeout(e.target); break;
            case ev_idle_session: on_idle_session(e.target >> 24, e.target & 0xffffff); break;
            case ev_leak_return:
                if (!stopped_[e.target >> 24]) release_conn(e.target >> 24, e.target & 0xffffff);
                break;
            case ev_backend_reaped: set_backends(backends_ - 1); break;
            case ev_fault_start: fault_start(e.target); break;
            case ev_fault_end: fault_end(e.target); break;
            case ev_fleet: fleet_event_start(e.target); break;
            case ev_deploy_step: deploy_step(e.target); break;
            case ev_instance_ready: instance_ready(e.target); break;
            case ev_instance_stop: instance_stop(e.target); break;
            case ev_user_next: arrive(e.target); break;
            case ev_burst: {
                const auto& a = s_.workload.arrivals;
                for (int i = 0; i < a.count; ++i) arrive();
                if (a.every_s > 0) sim_.schedule_after(a.every_s, ev_burst, 0);
                break;
            }
            case ev_sample: sample(); break;
            case ev_retry: reqs_[e.target].retry = {}; start_attempt(e.target); break;
            case ev_deadline: on_deadline(e.target); break;
            case ev_breaker: breaker_set(e.target, breaker::half_open); break;
            case ev_warmup_end: end_warmup(); break;
            default:
                DBPOOLSIM_ASSERT(e.kind >= ev_pool_timer, "unknown event kind");
                if (!stopped_[e.target >> 24]) pools_[e.target >> 24]->on_timer(e.kind - ev_pool_timer, e.target & 0xffffff);
        }
    }

    // ---- faults -------------------------------------------------------------------------
    void fault_start(std::uint32_t i) {
        const fault& f = s_.faults[i];
        const double t = sim_.now();
        if (counting_) ++faults_seen_;
        switch (f.kind) {
            case fault_kind::restart:
                ++epoch_;
                refuse_until_ = std::max(refuse_until_, t + f.duration_s);
                break_backends(1.0, false);
                break;
            case fault_kind::failover:
                ++epoch_;
                unreachable_until_ = std::max(unreachable_until_, t + f.duration_s);
                break_backends(1.0, true);
                sim_.schedule_after(f.duration_s, ev_fault_end, i);
                break;
            case fault_kind::read_only:
                if (node_read_only_.size() <= node_) node_read_only_.resize(node_ + 1, 0);
                node_read_only_[node_] = 1;
                sim_.schedule_after(f.duration_s, ev_fault_end, i);
                break;
            case fault_kind::kill_connections: break_backends(f.fraction, false); break;
            default: break;  // windows checked where logins and queries start
        }
    }

    void fault_end(std::uint32_t i) {
        // failover and read_only: DNS now names a new primary; new logins reach it.
        (void)i;
        ++node_;
    }

    /// The database side of connections goes away: every backend (or a random fraction of
    /// them), with a reset (the client learns at its next use, or at once for a running
    /// query) or silently (host gone: uses hang until the socket timeout).
    void break_backends(double fraction, bool silent) {
        for (std::uint32_t p = db_facing_from_; p < links_.size(); ++p) {
            if (!db_facing(p) || stopped_[p]) continue;
            for (std::uint32_t c = 0; c < links_[p].size(); ++c) {
                link& l = links_[p][c];
                if (!l.backend) continue;
                if (fraction < 1 && faults_rng_.uniform() >= fraction) continue;
                l.backend = false;
                l.dead = true;
                l.silent = silent;
                sim_.cancel(l.idle_timer);
                set_backends(backends_ - 1);
                if (counting_) ++connections_broken_;
                if (l.busy != npos32) {
                    // The query running on it dies with it.
                    const std::uint32_t id = l.busy;
                    l.busy = npos32;
                    request& r = reqs_[id];
                    cpu_.cancel(id);
                    sim_.cancel(r.stmt);
                    const std::uint8_t broken = pooler_ ? 2 : 1;
                    if (silent)
                        query_error_after(id, std::max(0.0, r.query_start + s_.network.socket_timeout_s - sim_.now()),
                                          fail_reason::socket_timeout, broken);
                    else
                        query_error_after(id, rtt_, fail_reason::query_error, broken);
                }
            }
        }
    }

    void on_idle_session(std::uint32_t p, std::uint32_t c) {
        // FATAL 57P05 "terminating connection due to idle-session timeout": the server closes
        // it; the pool learns at the next use (a reset).
        link& l = links_[p][c];
        l.idle_timer = {};
        if (stopped_[p] || l.held || !l.backend || l.dead) return;
        l.backend = false;
        l.dead = true;
        l.silent = false;
        set_backends(backends_ - 1);
        if (counting_) ++idle_session_closes_;
    }

    // ---- fleet --------------------------------------------------------------------------
    enum inst_state_t : std::uint8_t { inst_pending, inst_starting, inst_active, inst_draining, inst_stopped };

    void instance_start(std::uint32_t inst, double ready_after, std::uint32_t replaces) {
        inst_state_[inst] = inst_starting;
        instances_running_.add(sim_.now(), 1);
        for (std::uint32_t j = 0; j < per_instance_; ++j) pools_[inst * per_instance_ + j]->start();
        drain_on_ready_[inst] = replaces;
        sim_.schedule_after(ready_after, ev_instance_ready, inst);
    }

    std::uint32_t next_new_instance() {
        DBPOOLSIM_ASSERT(next_instance_ < inst_state_.size(), "fleet ran out of instances");
        return next_instance_++;
    }

    void instance_ready(std::uint32_t inst) {
        inst_state_[inst] = inst_active;
        active_.push_back(inst);
        if (drain_on_ready_[inst] != npos32) instance_drain(drain_on_ready_[inst]);
    }

    void instance_drain(std::uint32_t inst) {
        if (inst_state_[inst] != inst_active) return;
        inst_state_[inst] = inst_draining;
        active_.erase(std::find(active_.begin(), active_.end(), inst));
        if (inst_inflight_[inst] == 0) sim_.schedule_after(0, ev_instance_stop, inst);
    }

    void instance_stop(std::uint32_t inst) {
        if (inst_state_[inst] != inst_draining || inst_inflight_[inst] != 0) return;
        // The process exits: its connections close, the database frees their backends.
        inst_state_[inst] = inst_stopped;
        const double t = sim_.now();
        instances_running_.add(t, -1);
        for (std::uint32_t j = 0; j < per_instance_; ++j) {
            const std::uint32_t p = inst * per_instance_ + j;
            const pool_counts k = pools_[p]->counts();
            auto drop = [&](pool_metrics& m) {
                m.total.add(t, -double(k.total));
                m.active.add(t, -double(k.in_use));
                m.idle.add(t, -double(k.idle));
                m.creating.add(t, -double(k.creating));
                m.waiters.add(t, -double(k.waiters));
            };
            drop(pm_);
            if (!pm_named_.empty()) drop(pm_named_[j]);
            for (auto& l : links_[p]) {
                sim_.cancel(l.idle_timer);
                if (pooler_) {
                    if (l.pooler_client) pooler_->client_left();  // logins in progress included
                    l.pooler_client = false;
                } else if (l.backend) {
                    set_backends(backends_ - 1);
                }
                l.backend = l.open = false;
            }
            stopped_[p] = 1;
        }
    }

    void fleet_event_start(std::uint32_t i) {
        const fleet_event& e = s_.fleet[i];
        if (e.kind == fleet_event_kind::rolling_deploy) {
            deploy_[i].old = active_;
            deploy_[i].next = 0;
            deploy_step(i);
            return;
        }
        const auto n = static_cast<std::uint32_t>(e.instances);
        std::uint32_t live = 0;  // active or starting
        for (auto st : inst_state_) live += st == inst_active || st == inst_starting;
        if (n > live) {
            for (std::uint32_t k = live; k < n; ++k) instance_start(next_new_instance(), e.ready_after_s, npos32);
        } else {
            // Scale in: the newest active instances drain.
            for (std::uint32_t k = n; k < live && !active_.empty(); ++k) {
                const std::uint32_t newest = *std::max_element(active_.begin(), active_.end());
                instance_drain(newest);
            }
        }
    }

    void deploy_step(std::uint32_t i) {
        const fleet_event& e = s_.fleet[i];
        auto& d = deploy_[i];
        for (int b = 0; b < e.batch && d.next < d.old.size(); ++b)
            instance_start(next_new_instance(), e.ready_after_s, d.old[d.next++]);
        if (d.next < d.old.size()) sim_.schedule_after(e.interval_s, ev_deploy_step, i);
    }

    void end_warmup() {
        const double t = sim_.now();
        counting_ = true;
        pm_.reset(t);
        pm_pooler_.reset(t);
        attempts_ = attempt_failures_ = breaker_opens_ = 0;
        breaker_in_open_.reset(t);
        breaker_in_half_open_.reset(t);
        for (auto& m : pm_named_) m.reset(t);
        in_system_.reset(t);
        backends_avg_.reset(t);
        cpu_.busy_cores().reset(t);
        cpu_.active_queries().reset(t);
        instances_running_.reset(t);
        rejected_logins_ = logins_ = nat_drops_ = leaked_ = connections_broken_ = idle_session_closes_ = 0;
    }

    void sample() {
        const double t = sim_.now();
        pool_counts c;
        for (std::uint32_t i = 0; i < apps_; ++i) {
            if (stopped_[i]) continue;
            const pool_counts k = pools_[i]->counts();
            c.total += k.total, c.creating += k.creating, c.idle += k.idle, c.in_use += k.in_use,
                c.checking += k.checking, c.waiters += k.waiters;
        }
        series_.append({t, double(c.total), double(c.in_use), double(c.idle), double(c.creating),
                        double(c.waiters), double(iv_arrivals_), double(iv_completions_),
                        double(iv_timeouts_), double(iv_failures_), iv_wait_.quantile(0.5) * 1e3,
                        iv_wait_.quantile(0.99) * 1e3, iv_wait_.max() * 1e3, double(backends_),
                        double(cpu_.active()), double(live_),
                        pooler_ ? double(pooler_->counts().total) : 0.0,
                        pooler_ ? double(pooler_->counts().waiters) : 0.0, double(iv_logins_),
                        instances_running_.value()});
        iv_wait_.reset();
        iv_arrivals_ = iv_completions_ = iv_timeouts_ = iv_failures_ = iv_logins_ = 0;
        sim_.schedule_after(s_.run.sample_interval_s, ev_sample, 0);
    }

    replication_result collect(double wall);
    double peak_series_rate(const char* column) const;
    double time_to_recover() const;

    const scenario& s_;
    int rep_;
    run_control* ctl_;
    sim::simulation sim_;
    sim::random_stream arrivals_, think_, connect_;
    std::uint64_t mix_seed_, query_seed_, app_seed_, route_seed_, retry_seed_, leak_seed_;
    sim::random_stream faults_rng_;
    std::optional<arrival_process> arrival_proc_;  // poisson (with a profile), mmpp, trace
    static constexpr std::uint32_t deadline_lane = 1000;  // FIFO timer lane (pools use 0..255)
    std::vector<breaker> breakers_;  // one per instance, when client.circuit_breaker_threshold > 0
    std::uint64_t attempts_ = 0, attempt_failures_ = 0, breaker_opens_ = 0;
    sim::stats::time_average breaker_in_open_, breaker_in_half_open_;
    std::vector<double> mix_cdf_;
    cpu_model cpu_;
    double rtt_;
    pool_metrics pm_;         // app pools (fleet totals); declared before pools_, which refer to it
    pool_metrics pm_pooler_;  // the pooler tier
    std::vector<pool_metrics> pm_named_;  // per named pool (seeds/000 read/write split), if any
    std::vector<sim::stats::log_histogram> wait_named_;
    std::vector<std::uint64_t> timeouts_named_;
    std::vector<std::uint32_t> cls_pool_;  // transaction class -> named pool index
    std::uint32_t per_instance_ = 1;       // pools per application instance
    pooler_policy* pooler_ = nullptr;  // owned by pools_ (its last element), or none
    std::uint32_t apps_ = 0;           // application pools: pools_[0, apps_)
    std::vector<std::unique_ptr<pool_policy>> pools_;

    std::vector<request> reqs_;
    std::vector<std::uint32_t> free_reqs_;
    std::uint64_t next_seqno_ = 0;
    std::uint32_t live_ = 0;
    std::vector<std::vector<link>> links_;  // per pool, per connection slot
    std::vector<std::uint8_t> stopped_;     // per pool: its instance has exited
    std::uint32_t db_facing_from_ = 0;
    bool track_ = false;
    bool fleet_ = false;  // fleet events: requests in flight are counted per instance  // faults, NAT or idle-session timeout: links are followed per use
    std::vector<std::uint32_t> login_jobs_, free_login_jobs_;  // logins' CPU parts
    std::uint32_t backends_ = 0;
    // database state under faults
    std::uint32_t epoch_ = 0, node_ = 0;
    std::vector<std::uint8_t> node_read_only_;
    double refuse_until_ = -1, unreachable_until_ = -1, accept_free_ = 0;
    bool slow_queries_ = false, connect_faults_ = false;
    // fleet
    std::vector<std::uint8_t> inst_state_;
    std::vector<std::uint32_t> inst_inflight_, drain_on_ready_, active_;
    std::uint32_t next_instance_ = 0;
    struct deploy_progress {
        std::vector<std::uint32_t> old;
        std::size_t next = 0;
    };
    std::vector<deploy_progress> deploy_;
    sim::stats::time_average instances_running_;
    bool counting_ = false;

    // measurements (counted requests only, after warm-up)
    std::uint64_t offered_ = 0, completed_ = 0, rejected_logins_ = 0;
    std::array<std::uint64_t, static_cast<std::size_t>(fail_reason::count_)> failed_{};
    sim::stats::log_histogram wait_, latency_, iv_wait_, pooler_wait_;
    sim::stats::accumulator wait_all_, sojourn_;
    sim::stats::time_average in_system_, backends_avg_;
    std::uint64_t iv_arrivals_ = 0, iv_completions_ = 0, iv_timeouts_ = 0, iv_failures_ = 0, iv_logins_ = 0;
    std::uint64_t logins_ = 0, nat_drops_ = 0, leaked_ = 0, connections_broken_ = 0,
                  idle_session_closes_ = 0, faults_seen_ = 0;
    sim::stats::time_series series_;
};

replication_result world::run() {
    const auto t0 = std::chrono::steady_clock::now();
    const double horizon = s_.run.horizon_s;
    // The initial fleet; fleet events start more instances later.
    for (int i = 0; i < s_.client.instances; ++i) {
        const std::uint32_t inst = next_new_instance();
        inst_state_[inst] = inst_active;
        active_.push_back(inst);
        instances_running_.add(0, 1);
        for (std::uint32_t j = 0; j < per_instance_; ++j) pools_[inst * per_instance_ + j]->start();
    }
    if (pooler_) pooler_->start();
    for (std::uint32_t i = 0; i < s_.faults.size(); ++i) sim_.schedule_at(s_.faults[i].at_s, ev_fault_start, i);
    for (std::uint32_t i = 0; i < s_.fleet.size(); ++i) sim_.schedule_at(s_.fleet[i].at_s, ev_fleet, i);
    const auto& a = s_.workload.arrivals;
    switch (a.kind) {
        case arrival_kind::poisson:
        case arrival_kind::mmpp:
        case arrival_kind::trace: {
            arrival_proc_.emplace(a, arrivals_);
            const double first = arrival_proc_->next();
            if (std::isfinite(first)) sim_.schedule_at(first, ev_arrival, 0);
            break;
        }
        case arrival_kind::burst: sim_.schedule_at(a.at_s, ev_burst, 0); break;
        case arrival_kind::closed_loop:
            for (int u = 0; u < a.users; ++u)
                sim_.schedule_at(a.think_time.sample(think_.engine()), ev_user_next, static_cast<std::uint32_t>(u));
            break;
    }
    if (s_.run.warmup_s > 0) sim_.schedule_at(s_.run.warmup_s, ev_warmup_end, 0);
    sim_.schedule_at(s_.run.sample_interval_s, ev_sample, 0);

    // Run in chunks so that progress is visible and a cancel is honoured promptly.
    const double chunk = std::max(horizon / 256, 1e-9);
    // A cancel is also checked every 65536 events, so Ctrl-C is prompt whatever the horizon.
    std::uint32_t countdown = 1u << 16;
    auto handler = [this, &countdown](const sim::event& e) {
        handle(e);
        if (--countdown == 0) {
            countdown = 1u << 16;
            if (ctl_ && ctl_->cancel.load(std::memory_order_relaxed)) sim_.stop();
        }
    };
    for (double t = 0; t < horizon;) {
        const double next = std::min(horizon, t + chunk);
        const bool finished = sim_.run_until(next, handler);
        if (ctl_) {
            if (!finished || ctl_->cancel.load(std::memory_order_relaxed)) throw cancelled();
            ctl_->simulated_s.fetch_add(next - t);
        }
        t = next;
    }
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return collect(wall);
}

std::size_t series_column(const sim::stats::time_series& ts, const char* name) {
    const auto& cols = ts.columns();
    const auto it = std::find(cols.begin(), cols.end(), name);
    DBPOOLSIM_ASSERT(it != cols.end(), "unknown series column");
    return static_cast<std::size_t>(it - cols.begin());
}

double world::peak_series_rate(const char* column) const {
    const std::size_t k = series_column(series_, column);
    double peak = 0;
    for (std::size_t i = 0; i < series_.rows(); ++i)
        if (series_.at(i, 0) > s_.run.warmup_s) peak = std::max(peak, series_.at(i, k));
    return peak / s_.run.sample_interval_s;
}

// Time from the first fault (after warm-up) until the start of the first run of 5 healthy
// sample intervals (or every remaining one, if fewer), healthy meaning failures <= 1 % of
// the requests that ended in it and requests flowing (see below): a stall whose requests
// have not timed out yet is not healthy.
double world::time_to_recover() const {
    double at = NAN;
    for (const auto& f : s_.faults)
        if (f.at_s >= s_.run.warmup_s && !(f.at_s >= at)) at = f.at_s;
    if (std::isnan(at)) return NAN;
    const std::size_t kc = series_column(series_, "completions"), kf = series_column(series_, "failures"),
                      ka = series_column(series_, "arrivals");
    const double dt = s_.run.sample_interval_s;
    std::vector<std::size_t> rows;  // intervals that end after the fault
    for (std::size_t i = 0; i < series_.rows(); ++i)
        if (series_.at(i, 0) > at) rows.push_back(i);
    auto healthy = [&](std::size_t i) {
        // Few failures, and requests flow: those that ended keep up with arrivals (80 %, less
        // three Poisson standard deviations of the arrival count for noise).
        const double c = series_.at(i, kc), f = series_.at(i, kf), a = series_.at(i, ka);
        if (c == 0 && a > 0) return false;
        return f <= 0.01 * (c + f) && c + f >= 0.8 * a - 3 * std::sqrt(a);
    };
    constexpr std::size_t need = 5;
    for (std::size_t k = 0; k < rows.size(); ++k) {
        std::size_t run = 0;
        while (k + run < rows.size() && run < need && healthy(rows[k + run])) ++run;
        if (run == need || (run > 0 && k + run == rows.size()))
            return std::max(0.0, series_.at(rows[k], 0) - dt - at);
    }
    return NAN;
}

replication_result world::collect(double wall) {
    const double t = sim_.now();
    const double window = s_.run.horizon_s - std::max(0.0, s_.run.warmup_s);
    replication_result out;
    out.replication = rep_;
    auto& m = out.metrics;
    auto put = [&](const char* name, double v) { m.emplace_back(name, v); };
    std::uint64_t in_flight = 0;
    {
        std::vector<bool> is_free(reqs_.size(), false);
        for (auto id : free_reqs_) is_free[id] = true;
        for (std::size_t i = 0; i < reqs_.size(); ++i)
            if (!is_free[i] && reqs_[i].counted && !reqs_[i].done) ++in_flight;
    }
    std::uint64_t failed = 0;
    for (auto f : failed_) failed += f;
    const double timeouts = double(failed_[0]);
    const double ms = 1e3;

    put("offered", double(offered_));
    put("completed", double(completed_));
    put("failed", double(failed));
    for (std::size_t i = 0; i < failed_.size(); ++i)
        m.emplace_back(std::string("failed_") + fail_reason_names[i], double(failed_[i]));
    put("in_flight", double(in_flight));
    const double ended = double(completed_ + failed);
    put("success_rate", ended > 0 ? completed_ / ended : NAN);
    put("throughput_per_s", completed_ / window);
    put("offered_per_s", offered_ / window);
    put("timeouts", timeouts);
    // Client layer: attempts (retries included), the breaker's opens and time in each state.
    put("attempts", double(attempts_));
    put("retries", double(attempts_) - double(offered_) > 0 ? double(attempts_) - double(offered_) : 0);
    put("retry_amplification", offered_ ? double(attempts_) / double(offered_) : NAN);
    put("attempt_failures", double(attempt_failures_));
    const double inst = double(s_.client.instances);
    put("breaker_opens", breakers_.empty() ? NAN : double(breaker_opens_));
    put("breaker_open_fraction", breakers_.empty() ? NAN : breaker_in_open_.mean(t) / inst);
    put("breaker_half_open_fraction", breakers_.empty() ? NAN : breaker_in_half_open_.mean(t) / inst);
    put("breaker_closed_fraction", breakers_.empty() ? NAN
                                                     : 1 - (breaker_in_open_.mean(t) + breaker_in_half_open_.mean(t)) / inst);
    put("timeout_rate", offered_ ? timeouts / offered_ : NAN);

    put("wait_time_avg_ms", wait_.mean() * ms);
    put("wait_time_p50_ms", wait_.quantile(0.50) * ms);
    put("wait_time_p95_ms", wait_.quantile(0.95) * ms);
    put("wait_time_p99_ms", wait_.quantile(0.99) * ms);
    put("wait_time_max_ms", wait_.max() * ms);
    put("wait_time_all_avg_ms", wait_all_.mean() * ms);
    put("p_wait", wait_.count() + timeouts > 0
                      ? (double(wait_.count() - wait_.zeros()) + timeouts) / double(wait_.count() + timeouts)
                      : NAN);
    put("latency_avg_ms", latency_.mean() * ms);
    put("latency_p50_ms", latency_.quantile(0.50) * ms);
    put("latency_p95_ms", latency_.quantile(0.95) * ms);
    put("latency_p99_ms", latency_.quantile(0.99) * ms);
    put("latency_max_ms", latency_.max() * ms);

    const double total = pm_.total.mean(t), active = pm_.active.mean(t);
    put("total_connections", total);
    put("active_connections", active);
    put("idle_connections", pm_.idle.mean(t));
    put("creating_connections", pm_.creating.mean(t));
    put("utilization_percent", total > 0 ? 100 * active / total : 0);
    // The configured maximum of the running fleet (instances are alike).
    double max_per_instance = 0;
    for (std::uint32_t j = 0; j < per_instance_; ++j) max_per_instance += pools_[j]->max_size();
    const double running = instances_running_.mean(t);
    put("utilization_of_max_percent", 100 * active / (max_per_instance * running));
    put("instances", running);
    put("instances_max", instances_running_.max());
    put("peak_connections", pm_.total.max());
    put("waiters_avg", pm_.waiters.mean(t));
    put("waiters_max", pm_.waiters.max());
    put("connection_errors", double(pm_.connection_errors));
    put("connections_created", double(pm_.created));
    std::uint64_t closed = 0;
    for (std::size_t i = 0; i < pm_.closed.size(); ++i) {
        m.emplace_back(std::string("connections_closed_") + close_reason_names[i], double(pm_.closed[i]));
        closed += pm_.closed[i];
    }
    put("connections_closed", double(closed));
    put("churn_per_min", pm_.created / window * 60);
    put("round_trips", double(pm_.round_trips));

    put("db_cpu_utilization_percent",
        s_.database.cores > 0 ? 100 * cpu_.busy_cores().mean(t) / s_.database.cores : NAN);
    put("db_active_queries_avg", cpu_.active_queries().mean(t));
    put("db_backends_avg", backends_avg_.mean(t));
    put("peak_backend_connections", backends_avg_.max());
    put("rejected_logins", double(rejected_logins_));
    // Faults, network, leaks; logins per second and recovery come from the time series.
    put("logins", double(logins_));
    put("logins_per_s_peak", peak_series_rate("logins"));
    put("connections_broken", double(connections_broken_));
    put("nat_drops", double(nat_drops_));
    put("idle_session_closes", double(idle_session_closes_));
    put("leaked_connections", double(leaked_));
    put("goodput_ratio", offered_ ? double(completed_) / double(offered_) : NAN);
    put("time_to_recover_s", time_to_recover());

    // Per named pool (only with "pools"): the seeds' metrics of each, e.g. pool_read_*.
    for (std::size_t j = 0; j < pm_named_.size(); ++j) {
        const auto& pmj = pm_named_[j];
        const std::string pre = "pool_" + s_.pools[j].name + "_";
        const double tot = pmj.total.mean(t), act = pmj.active.mean(t);
        m.emplace_back(pre + "total_connections", tot);
        m.emplace_back(pre + "active_connections", act);
        m.emplace_back(pre + "idle_connections", pmj.idle.mean(t));
        m.emplace_back(pre + "utilization_percent", tot > 0 ? 100 * act / tot : 0);
        m.emplace_back(pre + "peak_connections", pmj.total.max());
        m.emplace_back(pre + "waiters_avg", pmj.waiters.mean(t));
        m.emplace_back(pre + "wait_time_avg_ms", wait_named_[j].mean() * ms);
        m.emplace_back(pre + "wait_time_p99_ms", wait_named_[j].quantile(0.99) * ms);
        m.emplace_back(pre + "timeouts", double(timeouts_named_[j]));
        m.emplace_back(pre + "connections_created", double(pmj.created));
        m.emplace_back(pre + "connection_errors", double(pmj.connection_errors));
    }
    {
        // The pooler tier (NaN without one: not applicable).
        const bool on = pooler_ != nullptr;
        auto pv = [&](double v) { return on ? v : NAN; };
        put("pooler_servers_avg", pv(pm_pooler_.total.mean(t)));
        put("pooler_active_avg", pv(pm_pooler_.active.mean(t)));
        put("pooler_idle_avg", pv(pm_pooler_.idle.mean(t)));
        put("pooler_peak_servers", pv(pm_pooler_.total.max()));
        put("pooler_waiting_avg", pv(pm_pooler_.waiters.mean(t)));
        put("pooler_waiting_max", pv(pm_pooler_.waiters.max()));
        put("pooler_wait_avg_ms", pv(pooler_wait_.mean() * ms));
        put("pooler_wait_p50_ms", pv(pooler_wait_.quantile(0.5) * ms));
        put("pooler_wait_p99_ms", pv(pooler_wait_.quantile(0.99) * ms));
        put("pooler_wait_max_ms", pv(pooler_wait_.max() * ms));
        put("pooler_servers_created", pv(double(pm_pooler_.created)));
        put("pooler_login_errors", pv(double(pm_pooler_.connection_errors)));
        put("pooler_servers_closed_idle", pv(double(pm_pooler_.closed[0])));
        put("pooler_servers_closed_lifetime", pv(double(pm_pooler_.closed[1])));
        put("pooler_server_checks", pv(double(pm_pooler_.round_trips)));
        put("pooler_peak_clients", pv(on ? double(pooler_->peak_clients()) : 0));
        put("pooler_rejected_clients", pv(on ? double(pooler_->rejected_clients()) : 0));
    }
    put("requests_in_system_avg", in_system_.mean(t));
    put("sojourn_avg_ms", sojourn_.mean() * ms);
    put("measured_s", window);
    put("events", double(sim_.events_processed()));
    put("wall_seconds", wall);

    out.wait = wait_;
    out.latency = latency_;
    out.series = std::move(series_);
    return out;
}

}  // namespace

double replication_result::metric(const std::string& name) const {
    for (const auto& [k, v] : metrics)
        if (k == name) return v;
    throw error("unknown metric \"" + name + "\"");
}

replication_result run_replication(const scenario& s, int replication, run_control* ctl) {
    world w(s, replication, ctl);
    return w.run();
}

run_result run(const scenario& s, int threads, run_control* ctl) {
    validate(s);  // a scenario built in C++ is checked like one read from JSON
    const auto t0 = std::chrono::steady_clock::now();
    const int reps = s.run.replications;
    if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    threads = std::min(threads, reps);
    run_result out;
    out.resolved = s;
    out.threads = threads;
    out.replications.resize(static_cast<std::size_t>(reps));
    std::atomic<int> next{0};
    std::exception_ptr first_error;
    std::mutex mu;
    run_control local;
    run_control* c = ctl ? ctl : &local;
    auto worker = [&] {
        for (;;) {
            const int i = next.fetch_add(1);
            if (i >= reps || c->cancel.load()) return;
            try {
                out.replications[static_cast<std::size_t>(i)] = run_replication(s, i, c);
            } catch (...) {
                std::lock_guard lock(mu);
                if (!first_error) first_error = std::current_exception();
                c->cancel = true;
                return;
            }
        }
    };
    if (threads == 1) {
        worker();
    } else {
        std::vector<std::thread> pool;
        for (int i = 0; i < threads; ++i) pool.emplace_back(worker);
        for (auto& th : pool) th.join();
    }
    if (first_error) std::rethrow_exception(first_error);
    if (c->cancel.load()) throw cancelled();
    out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return out;
}

std::string result_to_json(const run_result& r) {
    using json = nlohmann::ordered_json;
    json j;
    j["scenario"] = json::parse(scenario_to_json(r.resolved));
    j["wall_seconds"] = r.wall_seconds;
    j["threads"] = r.threads;
    json reps = json::array();
    sim::stats::log_histogram wait, latency;
    for (const auto& rep : r.replications) {
        json o;
        o["replication"] = rep.replication;
        for (const auto& [k, v] : rep.metrics) o[k] = v;  // NaN becomes null
        reps.push_back(o);
        wait.merge(rep.wait);
        latency.merge(rep.latency);
    }
    j["replications"] = reps;
    // Percentiles over all replications' values pooled (exact merge of the histograms).
    j["pooled"] = {{"wait_time_p50_ms", wait.quantile(0.5) * 1e3},
                   {"wait_time_p95_ms", wait.quantile(0.95) * 1e3},
                   {"wait_time_p99_ms", wait.quantile(0.99) * 1e3},
                   {"wait_time_max_ms", wait.max() * 1e3},
                   {"latency_p50_ms", latency.quantile(0.5) * 1e3},
                   {"latency_p95_ms", latency.quantile(0.95) * 1e3},
                   {"latency_p99_ms", latency.quantile(0.99) * 1e3},
                   {"latency_max_ms", latency.max() * 1e3},
                   {"histogram_relative_error", sim::stats::log_histogram::relative_error}};
    json cols = json::array({"replication"});
    json rows = json::array();
    if (!r.replications.empty()) {
        for (const auto& c : r.replications.front().series.columns()) cols.push_back(c);
        for (const auto& rep : r.replications) {
            const auto& ts = rep.series;
            for (std::size_t i = 0; i < ts.rows(); ++i) {
                json row = json::array({rep.replication});
                for (std::size_t k = 0; k < ts.columns().size(); ++k) row.push_back(ts.at(i, k));
                rows.push_back(std::move(row));
            }
        }
    }
    j["series"] = {{"columns", cols}, {"rows", rows}};
    return j.dump();
}

}  // namespace dbpoolsim::models
