// psycopg_pool 3.3.x ConnectionPool: see psycopg_pool.hpp for the summary. Citations are
// ../shared/spec/pool-algorithms.md sections and psycopg/psycopg
// psycopg_pool/psycopg_pool/{pool_async.py,base.py} functions (pool.py is generated from
// pool_async.py).
#include "models/pool/psycopg_pool.hpp"

#include <algorithm>
#include <deque>
#include <string>
#include <vector>

#include "models/json_reader.hpp"
#include "models/pool/registry.hpp"
#include "sim/error.hpp"

namespace dbpoolsim::models {
namespace {

/// base.py BasePool._jitter: value * (1 + U[min_pc, max_pc)).
double jitter(double value, double min_pc, double max_pc, sim::random_stream& rng) {
    return value * (1.0 + ((max_pc - min_pc) * rng.uniform()) + min_pc);
}

/// base.py AttemptWithBackoff (ConnectionAttempt before 3.2.1): used for reconnection
/// (timeout = reconnect_timeout) and for the getconn check loop (timeout = time left).
struct attempt_with_backoff {
    static constexpr double initial_delay = 1.0, delay_jitter = 0.1, delay_backoff = 2.0;

    double timeout = 0;
    double delay = 0;
    double give_up_at = 0;
    // The library tests `give_up_at > 0.0` for "set": monotonic() is never 0 there, but the
    // simulated clock starts at 0, so "set" is an explicit flag here.
    bool give_up_set = false;

    /// update_delay: the first call fixes the give-up time (now + timeout) and draws 1 s +-10 %;
    /// later calls double the delay; the delay never reaches past the give-up time.
    void update_delay(double now, sim::random_stream& rng) {
        if (delay == 0.0) {
            give_up_at = now + timeout;
            give_up_set = true;
            delay = jitter(initial_delay, -delay_jitter, delay_jitter, rng);
        } else {
            delay *= delay_backoff;
        }
        if (delay + now > give_up_at) delay = std::max(0.0, give_up_at - now);
    }
    bool time_to_give_up(double now) const { return give_up_set && now >= give_up_at; }
};

class psycopg_pool final : public pool_base {
public:
    psycopg_pool(const psycopg_pool_params& p, pool_host& host, std::uint32_t index,
                 pool_metrics& metrics, sim::random_stream rng)
        : pool_base(host, index, metrics, std::move(rng)),
          p_(p),
          max_size_(p.resolved_max_size()),
          // BasePool.__init__: _nconns = min_size (counted before they exist), _nconns_min too.
          nconns_(p.min_size),
          nconns_min_(p.min_size) {}

    /// pool_async.py _open → _start_workers, _start_initial_tasks (spec 4.4 "At open").
    void start() override {
        for (int i = 0; i < p_.min_size; ++i) run_task(task{task_kind::add_connection});
        // The first ShrinkPool is scheduled by a Schedule task queued after the
        // AddConnections: it runs when a worker reaches it, and ticks max_idle later.
        run_task(task{task_kind::schedule_shrink});
    }

    /// getconn: deadline = now + timeout, then _getconn_with_check_loop (spec 4.3).
    void acquire(std::uint32_t req) override {
        client& r = client_of(req);
        r = client{};
        r.deadline = now() + p_.timeout;
        getconn_unchecked(req);
    }

    /// putconn → _putconn(from_getconn=False) (spec 4.5).
    void release(std::uint32_t c) override { putconn(c); }

    /// The end of an AddConnection task's login (pool_async.py _add_connection, spec 4.4).
    void on_connect_done(std::uint32_t c, login_outcome how) override {
        const bool ok = how == login_outcome::ok;
        adding add = adding_[c];
        if (!ok) {
            connection_failed(c);
            // `now` in _add_connection is taken before connecting: the attempt's start time.
            if (add.attempt.time_to_give_up(add.started)) {
                // Give up: this slot is no longer being prepared; a growth chain ends, so the
                // next client entering the queue may start a new one. reconnect_failed(pool)
                // is a user callback: nothing to model.
                --nconns_;
                if (add.growing && growing_) growing_ = false;
            } else {
                add.attempt.update_delay(add.started, rng_);
                // schedule_task(AddConnection(attempt, growing), delay): the scheduler's tick
                // queues the task for a worker.
                const std::uint32_t slot = retry_slot();
                retries_[slot] = task{task_kind::add_connection, add.growing, npos32, true, add.attempt};
                host_.pool_timer(index_, now() + add.attempt.delay, timer_retry, slot);
            }
            worker_done();
            return;
        }
        connection_opened(c);
        // _connect → _set_connection_expiry_date: created + max_lifetime * (1 - U[0, 0.05)).
        conn(c).expires_at = now() + jitter(p_.max_lifetime, -0.05, 0.0, rng_);
        add_to_pool(c);
        if (add.growing) {
            // Keep growing, one connection at a time, while below min_size or while clients
            // wait (timed-out ones still in the deque count) and the pool can extend.
            if (nconns_ < p_.min_size || (nconns_ < max_size_ && !waiting_.empty())) {
                ++nconns_;
                run_task(task{task_kind::add_connection, true});
            } else {
                growing_ = false;
            }
        }
        worker_done();
    }

    void on_round_trip_done(std::uint32_t c, bool ok) override {
        connection& k = conn(c);
        ok = ok && !k.broken;
        if (k.check_tag == tag_check) {
            // _getconn_with_check_loop: the check callback ran in the client.
            const std::uint32_t req = k.holder;
            if (ok) {
                grant(req, c);
                return;
            }
            // The built-in check runs an empty query; in the world a check fails only on a
            // connection the server closed or lost, which leaves libpq's status UNKNOWN, so
            // _return_connection discards it and queues a replacement AddConnection instead
            // of putting it back (pool.py _getconn_with_check_loop → _putconn(conn,
            // from_getconn=True) → _return_connection; docs/design/fidelity-review.md item 4).
            conn(c).broken = true;
            putconn(c);
            // The first retry is immediate (asleep(0)); later ones back off (1 s +-10 %, x2)
            // with a give-up time fixed at the second failure: now + the time that was left
            // at the first one. The getconn deadline still applies on every retry.
            client& r = client_of(req);
            const double t = now();
            if (!r.check_attempt_started) {
                r.check_attempt_started = true;
                r.check_attempt = attempt_with_backoff{};
                r.check_attempt.timeout = r.deadline - t;
            } else {
                r.check_attempt.update_delay(t, rng_);
            }
            if (r.check_attempt.time_to_give_up(t)) {
                fail(req, fail_reason::acquire_timeout);
                return;
            }
            host_.pool_timer(index_, t + r.check_attempt.delay, timer_check_retry, req);
            return;
        }
        // tag_reset: ReturnConnection in a worker ran the reset callback (_reset_connection).
        // A failing callback closes the connection, which _return_connection then finds
        // broken (returns_bad) and replaces.
        if (!ok) {
            close(c, close_reason::broken);
            run_task(task{task_kind::add_connection});
        } else {
            return_connection(c);
        }
        worker_done();
    }

    /// The client's query failed: the `connection()` block exits with the error and putconn
    /// finds the connection broken (status UNKNOWN): closed and replaced (spec 4.5 step 3).
    void on_broken_in_use(std::uint32_t c) override {
        conn(c).broken = true;
        putconn(c);
    }

    double acquire_timeout() const override { return p_.timeout; }
    double max_size() const override { return max_size_; }

private:
    static constexpr std::uint32_t timer_retry = 1, timer_shrink = 2, timer_check_retry = 3,
                                   timer_handoff = 4;
    static constexpr std::uint32_t tag_check = 1, tag_reset = 2;

    // ---- the task queue and its workers (pool_async.py run_task, worker) -------------------
    enum class task_kind : std::uint8_t {
        add_connection,     // AddConnection(attempt, growing)
        return_connection,  // ReturnConnection (only with a reset callback)
        shrink_pool,        // ShrinkPool
        schedule_shrink,    // Schedule(ShrinkPool, max_idle), queued once at open
    };
    struct task {
        task_kind kind = task_kind::add_connection;
        bool growing = false;
        std::uint32_t conn = npos32;
        bool has_attempt = false;  // a retry carries its AttemptWithBackoff
        attempt_with_backoff attempt{};
    };

    /// run_task: put a task on the queue; an idle worker takes it at once.
    void run_task(const task& t) {
        tasks_.push_back(t);
        pump();
    }

    /// Workers take tasks in FIFO order, one each, num_workers at a time.
    void pump() {
        if (pumping_) return;
        pumping_ = true;
        while (busy_ < p_.num_workers && !tasks_.empty()) {
            const task t = tasks_.front();
            tasks_.pop_front();
            ++busy_;
            execute(t);
        }
        pumping_ = false;
    }

    /// The task running on a worker finished: the worker takes the next one.
    void worker_done() {
        --busy_;
        pump();
    }

    void execute(const task& t) {
        switch (t.kind) {
            case task_kind::add_connection: {
                // _add_connection: a fresh AttemptWithBackoff(timeout=reconnect_timeout)
                // unless this is a retry; connect (the worker waits for the login).
                adding a{t.attempt, t.growing, now()};
                if (!t.has_attempt) {
                    a.attempt = attempt_with_backoff{};
                    a.attempt.timeout = p_.reconnect_timeout;
                }
                const std::uint32_t c = open_connection();
                if (c >= adding_.size()) adding_.resize(std::max<std::size_t>(c + 1, adding_.size() * 2));
                adding_[c] = a;
                return;
            }
            case task_kind::return_connection:
                // _return_connection → _reset_connection: a broken connection (status
                // UNKNOWN) skips the reset callback and is replaced; without a callback
                // (a cancelled hand-off's return) there is nothing to run.
                if (conn(t.conn).broken || !p_.reset) {
                    return_connection(t.conn);
                    worker_done();
                } else {
                    start_round_trip(t.conn, tag_reset);
                }
                return;
            case task_kind::shrink_pool:
                // ShrinkPool._run: reschedule first (max_idle after this run), then shrink.
                host_.pool_timer(index_, now() + p_.max_idle, timer_shrink, 0);
                shrink_pool();
                worker_done();
                return;
            case task_kind::schedule_shrink:
                host_.pool_timer(index_, now() + p_.max_idle, timer_shrink, 0);
                worker_done();
                return;
        }
    }

    void on_policy_timer(std::uint32_t kind, std::uint32_t arg) override {
        switch (kind) {
            case timer_retry: {
                // MaintenanceTask.tick: the scheduler hands the task to the workers.
                const task t = retries_[arg];
                retries_.release(arg);
                run_task(t);
                break;
            }
            case timer_shrink: run_task(task{task_kind::shrink_pool}); break;
            case timer_check_retry: getconn_unchecked(arg); break;
            case timer_handoff: woken(arg); break;
            default: DBPOOLSIM_ASSERT(false, "unknown psycopg_pool timer");
        }
    }

    std::uint32_t retry_slot() { return retries_.allocate(); }

    // ---- checkout (spec 4.3) -----------------------------------------------------------
    /// _getconn_unchecked → _get_ready_connection.
    void getconn_unchecked(std::uint32_t req) {
        client& r = client_of(req);
        const double remaining = r.deadline - now();
        if (remaining <= 0) {
            fail(req, fail_reason::acquire_timeout);  // PoolTimeout before even looking
            return;
        }
        if (idle_front() != npos32) {
            const std::uint32_t c = pop_idle_front();  // popleft: the oldest returned
            nconns_min_ = std::min(nconns_min_, static_cast<int>(n_.idle));
            checked_out(req, c);
            return;
        }
        if (p_.max_waiting > 0 && waiting_.size() >= static_cast<std::size_t>(p_.max_waiting)) {
            fail(req, fail_reason::pool_rejected);  // TooManyRequests, at once
            return;
        }
        r.waiting_seq = ++seq_;
        waiting_.push_back(waiting_client{req, r.waiting_seq});
        enqueue_waiter(req, remaining);
        maybe_grow_pool();
    }

    /// The client has a connection: run the check callback if any (one round trip).
    void checked_out(std::uint32_t req, std::uint32_t c) {
        if (p_.check) start_round_trip(c, tag_check, req);
        else grant(req, c);
    }

    /// _maybe_grow_pool: one growth connection at a time, only up to max_size.
    void maybe_grow_pool() {
        if (nconns_ >= max_size_ || growing_) return;
        ++nconns_;
        growing_ = true;
        run_task(task{task_kind::add_connection, true});
    }

    /// The waiting client's caller gave up (a cancelled task): like a timeout, the entry
    /// stays in `_waiting` (dead) until _add_to_pool pops and skips it. A client in a check
    /// round trip or its retry back-off is not cancelled (false). A client cancelled after
    /// set() gave it a connection but before it ran (wakeup_latency_s) has `pos.conn`:
    /// getconn's `except CLIENT_EXCEPTIONS: if pos.conn: self.run_task(ReturnConnection(self,
    /// pos.conn, from_getconn=True))` (3.3.3 pool.py lines 272-274) gives it back through a
    /// worker.
    bool cancel_acquire(std::uint32_t req) override {
        client& r = client_of(req);
        if (r.handoff != npos32) {
            sim_.cancel(r.handoff_timer);
            const std::uint32_t c = r.handoff;
            r.handoff = npos32;
            run_task(task{task_kind::return_connection, false, c});
            return true;
        }
        if (!pool_base::cancel_acquire(req)) return false;
        r.waiting_seq = 0;
        return true;
    }

    /// WaitingClient.wait timed out: PoolTimeout. The entry stays in `_waiting` (dead) until
    /// _add_to_pool pops and skips it.
    void on_waiter_timeout(std::uint32_t req) override {
        client_of(req).waiting_seq = 0;
        fail(req, fail_reason::acquire_timeout);
    }

    // ---- return (spec 4.5) -------------------------------------------------------------
    /// _putconn: inline, or through a worker (ReturnConnection) when a reset callback is set.
    void putconn(std::uint32_t c) {
        if (!p_.reset) {
            return_connection(c);
            return;
        }
        park(c);
        run_task(task{task_kind::return_connection, false, c});
    }

    /// Out of the client's hands, waiting for a worker, or given to a client that has not run
    /// yet (hand_off): neither idle nor in use. (pool_base
    /// has no "set state" primitive; passing through the idle list does it in O(1) at the
    /// same instant.)
    void park(std::uint32_t c) {
        push_idle_back(c);
        unlink_idle(c, conn_state::checking);
    }

    /// _return_connection after _reset_connection. The world's transactions end committed,
    /// so the status is IDLE (no rollback) unless the connection broke.
    void return_connection(std::uint32_t c) {
        const connection& k = conn(c);
        if (k.broken) {
            close(c, close_reason::broken);  // returns_bad / connections_lost
            run_task(task{task_kind::add_connection});
            return;
        }
        // The only expiry check: past its best-before date → close, replace in a worker.
        if (k.expires_at <= now()) {
            close(c, close_reason::lifetime);
            run_task(task{task_kind::add_connection});
            return;
        }
        add_to_pool(c);
    }

    /// _add_to_pool: the first waiter still waiting gets it; timed-out entries are popped
    /// and skipped; with no one waiting it goes to the tail of the idle deque.
    void add_to_pool(std::uint32_t c) {
        while (!waiting_.empty()) {
            const waiting_client w = waiting_.front();
            waiting_.pop_front();
            if (client_of(w.req).waiting_seq != w.seq) continue;  // timed out: set() is False
            const std::uint32_t req = pop_waiter();  // set() won: no PoolTimeout any more
            DBPOOLSIM_ASSERT(req == w.req, "psycopg_pool: waiter queues out of step");
            client_of(req).waiting_seq = 0;
            if (p_.wakeup_latency_s > 0) hand_off(req, c);
            else checked_out(req, c);
            return;
        }
        push_idle_back(c);
    }

    /// WaitingClient.set (3.3.3 pool.py lines 900-912) stores the connection in the client
    /// and notify_all()s; the client's thread runs wakeup_latency_s later. Meanwhile the
    /// connection is the client's, neither idle nor in use (parked: nobody else can take it),
    /// and the deadline is moot: threading.Condition.wait(timeout) returns True for a notify
    /// that came in time, however late the thread runs, so WaitingClient.wait (lines
    /// 879-898) returns `self.conn`. (AsyncConnectionPool's asyncio.wait_for can still time
    /// out a woken task that has not run: not modelled.) A pool whose instance stopped drops
    /// the timer, as it does every pool timer; the instance cannot stop while the request
    /// is in flight.
    void hand_off(std::uint32_t req, std::uint32_t c) {
        park(c);
        client& r = client_of(req);
        r.handoff = c;
        r.handoff_timer = host_.pool_timer(index_, now() + p_.wakeup_latency_s, timer_handoff, req);
    }

    /// The woken client runs: the connection goes through its check, or to it.
    void woken(std::uint32_t req) {
        client& r = client_of(req);
        const std::uint32_t c = r.handoff;
        r.handoff = npos32;
        r.handoff_timer = {};
        checked_out(req, c);
    }

    // ---- shrink (spec 4.6, pool_async.py _shrink_pool) ----------------------------------
    void shrink_pool() {
        const int nconns_min = nconns_min_;
        nconns_min_ = static_cast<int>(n_.idle);
        if (nconns_ > p_.min_size && nconns_min > 0 && idle_front() != npos32) {
            close(idle_front(), close_reason::idle);  // popleft: the least recently returned
            --nconns_;
            --nconns_min_;
        }
    }

    // ---- state ---------------------------------------------------------------------------
    struct client {
        double deadline = 0;
        std::uint64_t waiting_seq = 0;  // its live entry in waiting_ (0: not waiting)
        std::uint32_t handoff = npos32;  // set() gave it this connection; it has not run yet
        sim::timer_handle handoff_timer;
        bool check_attempt_started = false;
        attempt_with_backoff check_attempt{};
    };
    struct waiting_client {
        std::uint32_t req;
        std::uint64_t seq;
    };
    struct adding {
        attempt_with_backoff attempt{};
        bool growing = false;
        double started = 0;
    };

    client& client_of(std::uint32_t req) {
        if (req >= clients_.size()) clients_.resize(std::max<std::size_t>(req + 1, clients_.size() * 2));
        return clients_[req];
    }

    psycopg_pool_params p_;
    int max_size_;
    int nconns_;      // _nconns: in the pool + out + being prepared (including backoff waits)
    int nconns_min_;  // _nconns_min: fewest idle seen after a checkout since the last shrink
    bool growing_ = false;
    std::deque<waiting_client> waiting_;  // `_waiting`, dead entries included
    std::uint64_t seq_ = 0;
    std::vector<client> clients_;
    std::deque<task> tasks_;
    int busy_ = 0;
    bool pumping_ = false;
    std::vector<adding> adding_;  // per connection slot: the AddConnection it serves
    sim::slot_table<task> retries_;  // AddConnection tasks waiting in the scheduler
};

}  // namespace

std::unique_ptr<pool_policy> make_psycopg_pool(const psycopg_pool_params& p, pool_host& host,
                                               std::uint32_t index, pool_metrics& metrics,
                                               sim::random_stream rng) {
    return std::make_unique<psycopg_pool>(p, host, index, metrics, std::move(rng));
}

namespace detail {
namespace {

// BasePool._check_size.
void check_size(const psycopg_pool_params& p, const std::string& path, problems& out) {
    const int mx = p.resolved_max_size();
    if (mx < p.min_size)
        out.add(path + "/max_size", "must be >= min_size (" + std::to_string(p.min_size) + "), got " +
                                        std::to_string(mx));
    else if (mx == 0 && p.max_size)
        out.add(path + "/max_size", "must be > 0 when min_size is 0, got 0");
    else if (mx == 0)
        out.add(path + "/min_size", "must be > 0 when max_size is null (max_size defaults to min_size), got 0");
}

/// A problem was already reported at JSON path `at`.
bool reported(const problems& out, const std::string& at) {
    for (const auto& p : out.list)
        if (p.rfind(at + ": ", 0) == 0) return true;
    return false;
}

const field_table<psycopg_pool_params>& psycopg_fields() {
    using P = psycopg_pool_params;
    static const field_table<P> t = {
        make_field<&P::min_size>("min_size", between(0, 1 << 24)),
        // null is None: = min_size. The sizes are checked together once both are read, when
        // both read cleanly (as the library checks the sizes it was given).
        make_field<&P::max_size>("max_size", between(0, 1 << 24))
            .reading([](object_reader& r, const std::string& key, const field<P>& f, P& p) {
                fields_impl::read_value(r, key, f.limits, f.allowed, p.max_size);
                if (!reported(r.sink(), r.at("min_size")) && !reported(r.sink(), r.at(key)))
                    check_size(p, r.path(), r.sink());
            })
            .checking([](const field<P>& f, const P& p, const std::string& at, problems& out) {
                if (auto broken = fields_impl::check_value(f.limits, f.allowed, p.max_size); !broken.empty())
                    out.add(at, broken);
                check_size(p, at.substr(0, at.rfind('/')), out);
            }),
        make_field<&P::timeout>("timeout", at_least(0)),
        make_field<&P::max_waiting>("max_waiting", between(0, 1 << 24)),
        make_field<&P::max_lifetime>("max_lifetime", at_least(0)),
        make_field<&P::max_idle>("max_idle", above(0)),
        make_field<&P::reconnect_timeout>("reconnect_timeout", at_least(0)),
        make_field<&P::num_workers>("num_workers", between(1, 1 << 16)),
        make_field<&P::check>("check"),
        make_field<&P::reset>("reset"),
        make_field<&P::wakeup_latency_s>("wakeup_latency_s", at_least(0)),
    };
    return t;
}

}  // namespace

const pool_kind& psycopg_pool_pool_kind() {
    static const pool_kind k =
        table_pool_kind<psycopg_pool_params, psycopg_fields, make_psycopg_pool>(
            "psycopg_pool",
            "psycopg_pool 3.3 ConnectionPool / AsyncConnectionPool: background workers, growth one "
            "connection at a time, shrink one per max_idle");
    return k;
}

}  // namespace detail
}  // namespace dbpoolsim::models
