// The sqlx 0.8 pool. Source read: launchbadge/sqlx sqlx-core/src/pool/{inner.rs, connection.rs,
// options.rs} of the 0.8 line (the permit-based `PoolInner` with `AsyncSemaphore`, `pop_idle`,
// `try_increment_size`, `check_idle_conn` without a lifetime check, `spawn_maintenance_tasks`
// iterating over `num_idle()`), which spec section 5 says is the logic of v0.8.6.
//
// How the world is mapped:
//   - every acquire is one "acquirer": a request, or the startup test acquire of
//     `PoolOptions::connect_with` (which is not a request: it only costs a ping or a login);
//   - `min_connections_maintenance` runs are "fill tasks": sequential logins, each holding a
//     permit and a size slot while it connects (inner.rs try_min_connections);
//   - the acquire deadline of requests is the pool's kind-0 timer (the FIFO lane: the delay is
//     the constant acquire_timeout). It covers waiting, pinging and connecting, so this policy
//     handles kind 0 itself (on_timer) instead of using pool_base's waiter timeout, which only
//     covers the wait.
//
// Deviations (the world cannot express them, or they do not arise in it):
//   - every failed login is retried with backoff, as sqlx does for 53300 too_many_connections
//     (sqlx-postgres error.rs is_transient_in_connect_phase). The world now also says when a
//     login was refused otherwise (57P03 during a restart, a timeout during a failover, a
//     connect_errors fault: pool.hpp login_outcome); which of those sqlx returns at once (the
//     "other errors surface at once" branch of PoolInner::connect) is not checked here;
//   - when an acquire times out during a ping, sqlx drops that future at once (the permit and
//     the size slot are freed; the socket is dropped). Here the permit and size are freed at
//     once too, but the connection-table slot stays until the world answers the ping (a round
//     trip cannot be cancelled), then the connection is closed, counted under
//     connections_closed_broken (there is no "abandoned" close reason). A login dropped the
//     same way is abandoned at once (pool_host::abandon_login): the database frees its slot;
//   - requests can arrive while `connect()` is still opening min_connections (a real application
//     would not serve before `connect().await` returns); they are served normally meanwhile. If
//     the startup fails (PoolTimedOut) the pool simply continues, lazily;
//   - reaper passes: tokio's sleep wakes up at or after its deadline (millisecond timer wheel),
//     so a connection whose idle time (or age) equals idle_timeout (max_lifetime) exactly at a
//     pass counts as beyond it (>=). Without this, a connection touched by the previous pass
//     would be idle for exactly one period and, with the default period = idle_timeout, would
//     never be closed; in the library it is (see the reaper test).
#include "models/pool/sqlx.hpp"

#include <algorithm>

#include "models/pool/registry.hpp"

namespace dbpoolsim::models {
namespace {

constexpr double first_backoff_s = 0.010;           // inner.rs PoolInner::connect: 10 ms
constexpr double maintenance_deadline_s = 300;      // min_connections_maintenance(None): now + 300 s
constexpr std::uint32_t startup_id = npos32 - 1;    // the acquirer id of connect_with's test acquire

class sqlx_pool final : public pool_base {
public:
    sqlx_pool(const sqlx_pool_params& p, pool_host& host, std::uint32_t index, pool_metrics& metrics,
              sim::random_stream rng)
        : pool_base(host, index, metrics, std::move(rng)),
          p_(p),
          max_(static_cast<std::uint32_t>(p.max_connections)),
          // options.rs min_connections: "clamped internally to not exceed max_connections".
          min_(static_cast<std::uint32_t>(std::min(p.min_connections, p.max_connections))),
          timeout_(p.acquire_timeout),
          idle_(p.idle_timeout > 0 ? p.idle_timeout : sim::infinity),
          lifetime_(p.max_lifetime > 0 ? p.max_lifetime : sim::infinity),
          // spawn_maintenance_tasks: period = min(max_lifetime, idle_timeout) of those set.
          period_(std::min(idle_, lifetime_)),
          permits_(max_) {}

    void start() override {
        // PoolOptions::connect_with: try_min_connections(now + acquire_timeout), sequential, then
        // one acquire + PoolInner::release. connect_lazy_with: nothing synchronous.
        if (!p_.connect_lazy) {
            const std::uint32_t t = new_task(then::startup, now() + timeout_);
            fill_step(t);
        }
        // spawn_maintenance_tasks: the reaper's first pass runs at spawn, before any connection
        // is idle (connect_with is still opening them), so it does nothing; the next pass is
        // one period later. With neither limit set it only runs one min_connections fill.
        if (period_ < sim::infinity)
            host_.pool_timer(index_, now() + period_, timer_reaper, 0);
        else
            maintain_min();
    }

    void acquire(std::uint32_t req) override {
        acquirer& a = acq(req);
        a = acquirer{};
        // inner.rs PoolInner::acquire: the whole loop runs under timeout(acquire_timeout).
        a.deadline = now() + timeout_;
        // acquire_permit: the tokio semaphore hands released permits to queued waiters first,
        // so a free permit means nobody waits (invariant kept by release_permit).
        if (permits_ > 0) {
            --permits_;
            // Speed: no deadline timer when this acquire is sure to end before it (`acquired`
            // would cancel it): the same events in the same order; later events' sequence
            // numbers move down by one.
            if (!ends_before_deadline(a.deadline))
                a.deadline_timer = host_.pool_timer(index_, a.deadline, timer_wait_timeout, req);
            with_permit(req);
            return;
        }
        a.deadline_timer = host_.pool_timer(index_, a.deadline, timer_wait_timeout, req);
        a.ph = phase::waiting;
        a.wait_seq = ++wait_seq_;
        enqueue_waiter(req, sim::infinity);  // the deadline is ours (kind 0), not pool_base's
    }

    void release(std::uint32_t c) override {
        connection& k = conn(c);
        // connection.rs Floating<Live>::return_to_pool (spawned task, permit held throughout):
        // 2. beyond max_lifetime (strictly) -> close, then min_connections_maintenance(None).
        if (lifetime_ < sim::infinity && now() - k.created_at > lifetime_) {
            close(c, close_reason::lifetime);
            drop_guard();
            maintain_min();
            return;
        }
        // 4. ping the connection, always (1 round trip); the permit is released after it.
        start_round_trip(c, tag_release_ping);
    }

    void on_connect_done(std::uint32_t c, login_outcome how) override {
        const bool ok = how == login_outcome::ok;
        const slot s = slots_[c];
        switch (s.who) {
            case owner::acquirer: {
                acquirer& a = acq(s.id);
                a.cs.conn = npos32;
                if (ok) {
                    connection_opened(c);
                    acquired(s.id, c);  // a fresh connection is not pinged
                } else {
                    connection_failed(c);
                    schedule_retry(a.cs, s.id == startup_id ? timer_startup_retry : timer_req_retry,
                                   s.id == startup_id ? 0 : s.id);
                }
                return;
            }
            case owner::task: {
                task& t = tasks_[s.id];
                t.cs.conn = npos32;
                if (ok) {
                    connection_opened(c);
                    sim_.cancel(t.deadline_timer);
                    // try_min_connections: self.release(conn) -> PoolInner::release: push to
                    // the idle queue (idle_since = now), then release the permit.
                    push_idle_back(c);
                    release_permit();
                    fill_step(s.id);
                } else {
                    connection_failed(c);
                    schedule_retry(t.cs, timer_task_retry, s.id);
                }
                return;
            }
        }
    }

    void on_round_trip_done(std::uint32_t c, bool ok) override {
        connection& k = conn(c);
        ok = ok && !k.broken;
        switch (k.check_tag) {
            case tag_ghost:
                close(c, close_reason::broken);
                return;
            case tag_acquire_ping: {
                const std::uint32_t id = k.holder;
                acquirer& a = acq(id);
                a.conn = npos32;
                if (ok) {
                    acquired(id, c);
                    return;
                }
                // check_idle_conn: a failed ping -> close_hard, and the DecrementSizeGuard it
                // returns (permit + size slot) is used to open a new connection, within this
                // acquire (PoolInner::acquire: `return self.connect(deadline, guard)`).
                close(c, close_reason::broken);
                start_connect(id);
                return;
            }
            case tag_release_ping:
                if (ok) {
                    // PoolInner::release: push to the idle queue with idle_since = now, then
                    // release the permit (which the FIFO head waiter gets).
                    k.last_returned_at = now();
                    push_idle_back(c);
                    release_permit();
                } else {
                    close(c, close_reason::broken);  // close_hard, not returned
                    drop_guard();
                    maintain_min();
                }
                return;
            default: DBPOOLSIM_ASSERT(false, "sqlx: round trip with an unknown tag");
        }
    }

    void on_broken_in_use(std::uint32_t c) override {
        // The PoolConnection is dropped: return_to_pool's ping fails at once on the dead socket
        // -> close_hard, permit and size released, min_connections_maintenance.
        close(c, close_reason::broken);
        drop_guard();
        maintain_min();
    }

    /// Kind 0 is the request's acquire deadline (armed in acquire for the whole acquire).
    void on_timer(std::uint32_t kind, std::uint32_t arg) override {
        if (kind == timer_wait_timeout) {
            request_deadline(arg);
            return;
        }
        pool_base::on_timer(kind, arg);
    }

    double acquire_timeout() const override { return timeout_; }
    double max_size() const override { return p_.max_connections; }

private:
    static constexpr std::uint32_t timer_req_retry = 1, timer_task_retry = 2, timer_task_deadline = 3,
                                   timer_reaper = 4, timer_startup_deadline = 5,
                                   timer_startup_retry = 6;
    static constexpr std::uint32_t tag_acquire_ping = 1, tag_release_ping = 2, tag_ghost = 3;

    enum class phase : std::uint8_t { none, waiting, pinging, connecting };
    enum class then : std::uint8_t { nothing, reaper, startup };
    enum class owner : std::uint8_t { acquirer, task };

    /// State of one `PoolInner::connect(deadline, guard)` loop.
    struct connect_state {
        double backoff = 0, max_backoff = 0;
        std::uint32_t conn = npos32;  // login in flight, or npos32 while sleeping
        sim::timer_handle retry;      // backoff sleep
    };
    struct acquirer {
        phase ph = phase::none;
        double deadline = 0;
        std::uint64_t wait_seq = 0;   // FIFO position (for the startup acquirer's turn)
        std::uint32_t conn = npos32;  // connection being pinged
        sim::timer_handle deadline_timer;
        connect_state cs;
    };
    /// One min_connections_maintenance / try_min_connections run.
    struct task {
        bool live = false;
        then next = then::nothing;
        double deadline = 0;
        connect_state cs;
        sim::timer_handle deadline_timer;
    };
    struct slot {
        owner who = owner::acquirer;
        std::uint32_t id = 0;
    };

    // Inline (speed: several calls per request); the table grows out of line, rarely.
    acquirer& acq(std::uint32_t id) {
        if (id < reqs_.size()) [[likely]] return reqs_[id];
        return acq_slow(id);
    }
    [[gnu::noinline]] acquirer& acq_slow(std::uint32_t id) {
        if (id == startup_id) return startup_;
        reqs_.resize(std::max<std::size_t>(id + 1, reqs_.size() * 2));
        return reqs_[id];
    }

    slot& slot_of(std::uint32_t c) {
        if (c >= slots_.size()) slots_.resize(std::max<std::size_t>(c + 1, slots_.size() * 2));
        return slots_[c];
    }

    // ---- permits ------------------------------------------------------------------------
    /// A permit is released: the FIFO head (the startup acquirer if its turn has come) gets it.
    void release_permit() {
        if (startup_.ph == phase::waiting && startup_ahead_ == 0) {
            with_permit(startup_id);
            return;
        }
        const std::uint32_t req = pop_waiter();
        if (req != npos32) {
            if (startup_.ph == phase::waiting && acq(req).wait_seq < startup_.wait_seq) --startup_ahead_;
            with_permit(req);
            return;
        }
        ++permits_;
    }

    /// DecrementSizeGuard dropped: size decremented and the permit released.
    void drop_guard() {
        --size_;
        release_permit();
    }

    // ---- acquire ------------------------------------------------------------------------
    /// inner.rs PoolInner::acquire after acquire_permit: pop_idle (FIFO: the oldest idle
    /// connection), check_idle_conn (ping if test_before_acquire), or try_increment_size and
    /// connect inline.
    void with_permit(std::uint32_t id) {
        acquirer& a = acq(id);
        const std::uint32_t c = pop_idle_front();
        if (c != npos32) {
            if (p_.test_before_acquire) {
                a.ph = phase::pinging;
                a.conn = c;
                start_round_trip(c, tag_acquire_ping, id);
            } else {
                acquired(id, c);
            }
            return;
        }
        // try_increment_size cannot fail here: with no idle connection, size counts only
        // connections holding permits, and this acquirer holds a permit without one.
        DBPOOLSIM_ASSERT(size_ < max_, "sqlx: permit without room to open a connection");
        ++size_;
        start_connect(id);
    }

    /// True if with_permit, called now, surely gets a connection before `deadline`: the idle
    /// connection it takes is not pinged, or its ping's success is sure to arrive before.
    bool ends_before_deadline(double deadline) {
        const std::uint32_t c = idle_front();
        if (c == npos32) return false;  // it connects: that can take any time
        return !p_.test_before_acquire || host_.round_trip_answer_at(index_, c) < deadline;
    }

    /// PoolInner::connect(deadline, guard) for an acquirer that holds a permit and a size slot.
    void start_connect(std::uint32_t id) {
        acquirer& a = acq(id);
        a.ph = phase::connecting;
        // `deadline_as_timeout(deadline)? / 5`: a deadline already reached is PoolTimedOut.
        const double remaining = a.deadline - now();
        if (remaining <= 0) {
            give_up(id);
            return;
        }
        a.cs.backoff = first_backoff_s;
        a.cs.max_backoff = remaining / 5;
        attempt(id);
    }

    void attempt(std::uint32_t id) {
        acquirer& a = acq(id);
        a.cs.retry = {};
        const std::uint32_t c = open_connection();
        slot_of(c) = slot{owner::acquirer, id};
        a.cs.conn = c;
    }

    /// A refused login (53300): sleep `backoff`, then `backoff = min(backoff * 2, max_backoff)`.
    void schedule_retry(connect_state& cs, std::uint32_t kind, std::uint32_t arg) {
        cs.retry = host_.pool_timer(index_, now() + cs.backoff, kind, arg);
        cs.backoff = std::min(cs.backoff * 2, cs.max_backoff);
    }

    /// The acquire got its connection (fresh, pinged, or unchecked).
    void acquired(std::uint32_t id, std::uint32_t c) {
        acquirer& a = acq(id);
        a.ph = phase::none;
        sim_.cancel(a.deadline_timer);
        if (id == startup_id) {
            // connect_with: `inner.release(conn)`: straight back to the idle queue (no ping,
            // no lifetime check), idle_since = now, permit released.
            conn(c).last_returned_at = now();
            push_idle_back(c);
            release_permit();
            return;
        }
        grant(id, c);
    }

    /// The deadline passed when a connect loop (re)started: PoolTimedOut.
    void give_up(std::uint32_t id) {
        acquirer& a = acq(id);
        a.ph = phase::none;
        sim_.cancel(a.deadline_timer);
        drop_guard();
        if (id != startup_id) fail(id, fail_reason::acquire_timeout);
    }

    /// The timeout around the whole acquire fired (kind 0 for requests, or the startup's).
    void request_deadline(std::uint32_t id) {
        acquirer& a = acq(id);
        a.deadline_timer = {};
        if (id == startup_id && a.ph == phase::waiting) {
            a.ph = phase::none;
            return;
        }
        drop_acquire(id);
        if (id != startup_id) fail(id, fail_reason::acquire_timeout);  // PoolTimedOut
    }

    /// The caller dropped its acquire future (a cancelled task): as the timeout, without the
    /// error.
    bool cancel_acquire(std::uint32_t id) override {
        if (id == startup_id || id >= reqs_.size() || reqs_[id].ph == phase::none) return false;
        sim_.cancel(reqs_[id].deadline_timer);
        drop_acquire(id);
        return true;
    }

    /// The acquire future is dropped, in whatever phase it is.
    void drop_acquire(std::uint32_t id) {
        acquirer& a = acq(id);
        switch (a.ph) {
            case phase::waiting:
                if (startup_.ph == phase::waiting && a.wait_seq < startup_.wait_seq) --startup_ahead_;
                pool_base::cancel_acquire(id);  // it holds no permit yet
                a.ph = phase::none;
                return;
            case phase::pinging:
                // The check_idle_conn future is dropped with its Floating<Idle>: the guard
                // frees the permit and the size slot, the connection is dropped.
                conn(a.conn).check_tag = tag_ghost;
                conn(a.conn).holder = npos32;
                a.conn = npos32;
                break;
            case phase::connecting:
                if (a.cs.conn != npos32) {
                    abandon_login(a.cs.conn);  // the connect future is dropped: its socket closes
                    a.cs.conn = npos32;
                } else {
                    sim_.cancel(a.cs.retry);
                }
                break;
            case phase::none: DBPOOLSIM_ASSERT(false, "sqlx: deadline of an acquire that is not running");
        }
        a.ph = phase::none;
        drop_guard();
    }

    // ---- startup (PoolOptions::connect_with) ------------------------------------------------
    void startup_acquire() {
        startup_ = acquirer{};
        startup_.deadline = now() + timeout_;  // PoolInner::acquire has its own acquire_timeout
        startup_.deadline_timer = host_.pool_timer(index_, startup_.deadline, timer_startup_deadline, 0);
        if (permits_ > 0) {
            --permits_;
            with_permit(startup_id);
            return;
        }
        // Queue behind everybody already waiting for a permit.
        startup_.ph = phase::waiting;
        startup_.wait_seq = ++wait_seq_;
        startup_ahead_ = waiter_count();
    }

    // ---- min_connections maintenance -----------------------------------------------------------
    std::uint32_t new_task(then next, double deadline) {
        const std::uint32_t t = tasks_.allocate();
        tasks_[t].live = true;
        tasks_[t].next = next;
        tasks_[t].deadline = deadline;
        return t;
    }

    /// inner.rs try_min_connections, one iteration: while size < min_connections, take a permit
    /// without waiting (semaphore.try_acquire) and a size slot, connect (with backoff, until the
    /// deadline), release the connection to the idle queue; one connection at a time.
    void fill_step(std::uint32_t t) {
        if (size_ >= min_ || permits_ == 0) {
            finish_task(t, true);
            return;
        }
        --permits_;
        ++size_;
        task& k = tasks_[t];
        const double remaining = k.deadline - now();
        if (remaining <= 0) {  // connect: deadline_as_timeout(deadline)? -> PoolTimedOut
            drop_guard();
            finish_task(t, false);
            return;
        }
        k.cs.backoff = first_backoff_s;
        k.cs.max_backoff = remaining / 5;
        k.deadline_timer = host_.pool_timer(index_, k.deadline, timer_task_deadline, t);
        task_attempt(t);
    }

    void task_attempt(std::uint32_t t) {
        task& k = tasks_[t];
        k.cs.retry = {};
        const std::uint32_t c = open_connection();
        slot_of(c) = slot{owner::task, t};
        k.cs.conn = c;
    }

    void task_deadline(std::uint32_t t) {
        task& k = tasks_[t];
        k.deadline_timer = {};
        if (k.cs.conn != npos32) {
            abandon_login(k.cs.conn);
            k.cs.conn = npos32;
        } else {
            sim_.cancel(k.cs.retry);
        }
        drop_guard();
        finish_task(t, false);
    }

    void finish_task(std::uint32_t t, bool ok) {
        const then next = tasks_[t].next;
        tasks_[t].live = false;
        tasks_.release(t);
        switch (next) {
            case then::nothing: break;
            case then::reaper: reaper_continue(); break;  // errors are only logged there
            case then::startup:
                if (ok) startup_acquire();  // an error makes connect_with return it: no test acquire
                break;
        }
    }

    /// min_connections_maintenance(None), spawned after a connection was closed instead of
    /// returned (connection.rs PoolConnection::return_to_pool).
    void maintain_min() {
        if (min_ == 0 || size_ >= min_ || permits_ == 0) return;  // the loop would not start
        fill_step(new_task(then::nothing, now() + maintenance_deadline_s));
    }

    // ---- the reaper (spawn_maintenance_tasks) -------------------------------------------------
    void reaper_pass() {
        reaper_next_run_ = now() + period_;
        reaper_left_ = n_.idle;  // `for _ in 0..pool.num_idle()`
        reaper_continue();
    }

    void reaper_continue() {
        while (reaper_left_ > 0) {
            --reaper_left_;
            // pool.try_acquire(): a permit without waiting, then pop_idle (the oldest).
            if (permits_ == 0) continue;
            const std::uint32_t c = pop_idle_front();
            if (c == npos32) continue;
            connection& k = conn(c);
            const bool idle_expired = now() - k.last_returned_at >= idle_;  // see header: >=
            const bool life_expired = now() - k.created_at >= lifetime_;
            if (idle_expired || life_expired) {
                // Closed regardless of min_connections (#3051 / PR #3065), then
                // min_connections_maintenance(Some(next_run)) inline: the reaper waits for it.
                close(c, idle_expired ? close_reason::idle : close_reason::lifetime);
                --size_;  // the guard: size decremented; the permit it frees was ours
                if (min_ > 0 && size_ < min_ && permits_ > 0) {
                    fill_step(new_task(then::reaper, reaper_next_run_));
                    return;  // resumed by finish_task
                }
                continue;
            }
            // Kept: pool.release(conn.into_live()) -> back at the tail with idle_since = now
            // (the reaper's touch), permit released.
            k.last_returned_at = now();
            push_idle_back(c);
        }
        host_.pool_timer(index_, std::max(now(), reaper_next_run_), timer_reaper, 0);
    }

    void on_policy_timer(std::uint32_t kind, std::uint32_t arg) override {
        switch (kind) {
            case timer_req_retry: attempt(arg); break;
            case timer_startup_retry: attempt(startup_id); break;
            case timer_startup_deadline: request_deadline(startup_id); break;
            case timer_task_retry: task_attempt(arg); break;
            case timer_task_deadline: task_deadline(arg); break;
            case timer_reaper: reaper_pass(); break;
            default: DBPOOLSIM_ASSERT(false, "sqlx: unknown timer kind");
        }
    }

    sqlx_pool_params p_;
    std::uint32_t max_, min_;
    double timeout_, idle_, lifetime_, period_;
    std::uint32_t permits_;
    std::uint32_t size_ = 0;  // PoolInner::size: idle + checked out + being opened (not ghosts)
    std::vector<acquirer> reqs_;
    acquirer startup_;
    std::uint64_t wait_seq_ = 0;
    std::uint32_t startup_ahead_ = 0;  // waiters queued before the startup acquirer
    sim::slot_table<task> tasks_;
    std::vector<slot> slots_;
    double reaper_next_run_ = 0;
    std::uint32_t reaper_left_ = 0;
};

// ---- registry entry ---------------------------------------------------------------------------

/// A duration where JSON null is Rust's None (0 internally: off), written back as null.
template <double sqlx_pool_params::*M>
detail::field<sqlx_pool_params> seconds_or_none(const char* name) {
    using P = sqlx_pool_params;
    auto f = detail::make_field<M>(name, detail::at_least(0));
    f.type = "number or null";
    f.read = [](detail::object_reader& r, const std::string& key, const detail::field<P>& fd, P& p) {
        if (const detail::json* v = r.raw(key); v && v->is_null()) p.*M = 0;
        else r.number(key, p.*M, fd.limits.min);
    };
    f.write = [](const detail::field<P>& fd, const P& p, detail::json& o) {
        o[fd.name] = p.*M > 0 ? detail::json(p.*M) : detail::json(nullptr);
    };
    return f;
}

const detail::field_table<sqlx_pool_params>& sqlx_fields() {
    using P = sqlx_pool_params;
    using namespace detail;
    static const field_table<P> t = {
        make_field<&P::max_connections>("max_connections", between(1, 1 << 24)),
        // options.rs: min_connections is clamped to max_connections, not rejected.
        make_field<&P::min_connections>("min_connections", between(0, 1 << 24)),
        make_field<&P::acquire_timeout>("acquire_timeout", above(0)),
        seconds_or_none<&P::idle_timeout>("idle_timeout"),
        seconds_or_none<&P::max_lifetime>("max_lifetime"),
        make_field<&P::test_before_acquire>("test_before_acquire"),
        make_field<&P::connect_lazy>("connect_lazy"),
    };
    return t;
}

}  // namespace

std::unique_ptr<pool_policy> make_sqlx_pool(const sqlx_pool_params& p, pool_host& host,
                                            std::uint32_t index, pool_metrics& metrics,
                                            sim::random_stream rng) {
    return std::make_unique<sqlx_pool>(p, host, index, metrics, std::move(rng));
}

namespace detail {
const pool_kind& sqlx_pool_kind() {
    static const pool_kind k = table_pool_kind<sqlx_pool_params, sqlx_fields, make_sqlx_pool>(
        "sqlx",
        "sqlx 0.8 Pool: FIFO permits, inline parallel connects with 53300 backoff, ping on "
        "acquire and on release, reaper (spec section 5)");
    return k;
}
}  // namespace detail

}  // namespace dbpoolsim::models
