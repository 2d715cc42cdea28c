// The asyncpg 0.30 pool. Source read: MagicStack/asyncpg asyncpg/pool.py (Pool._initialize,
// Pool._acquire, Pool.release, PoolConnectionHolder.{connect, acquire, release,
// _setup_inactive_callback, _deactivate_inactive_connection, _release}), asyncpg/protocol/
// protocol.pyx (BaseProtocol.query / bind_execute: `queries_count += 1` per query sent,
// BaseProtocol.close: Terminate then transport.abort(), no round trip) and CPython's
// asyncio.Queue (get / put_nowait / _wakeup_next).
//
// How the world is mapped:
//   - the holders are this policy's own array; the LifoQueue is a stack of holder ids. A holder
//     owns a connection-table slot while connected (pool_base counts it idle while the holder
//     is in the queue). A login in flight is a slot in state `creating`;
//   - a woken getter runs "later in the same instant": put_nowait schedules its wake-up as a
//     zero-delay event, so any acquire already scheduled for that instant runs first and barges;
//   - version "0.32" (asyncpg 0.32.0 asyncpg/pool.py): the queue is a
//     _PoolConnectionHolderQueue, whose _get takes the topmost CONNECTED holder and an empty one
//     only when none is connected; and Pool._maintain_min_size, a background task started by
//     _schedule_min_size_maintenance (after create_pool, whenever a holder's connection closes:
//     _release_on_close, and when an acquire fails) while get_size() < min_size, takes the topmost
//     empty holder out of the queue (get_disconnected_nowait), connects it and puts it back, one at
//     a time; after a failed login it sleeps 1 s, doubling to 60 s;
//   - the optional acquire timeout is the pool's kind-0 timer (FIFO lane: constant delay); it
//     covers the wait and the inline connect (compat.wait_for around _acquire_impl), so this
//     policy handles kind 0 itself.
//
// Deviations:
//   - max_queries: the world reports the queries a checkout sent when it releases the
//     connection (pool_policy::release(conn, queries)), and they are added then rather than one
//     by one as they are sent: the count is only read at release, so the outcome is the same.
//     The reset at release is one more (a simple query, counted by BaseProtocol.query): a
//     transaction of N queries counts N + 1. A connection returned without its request (a
//     leak's late return) counts one query for its checkout;
//   - a connection closed after max_queries is counted under connections_closed_lifetime (it
//     is the library's only lifetime limit);
//   - requests arriving while create_pool is still connecting wait (as getters) until it is
//     done: a real application cannot call acquire before `await create_pool` returns. If a
//     login at creation fails (create_pool would raise and the application not start), the
//     pool starts anyway with the holders that did connect;
//   - the reset's timeout budget is not modelled (a round trip on a silently dead connection
//     fails after the network's socket timeout). The per-connect timeout is: each login is
//     bounded by connect_timeout (connection.py connect(timeout=60)).
#include "models/pool/asyncpg.hpp"

#include <algorithm>
#include <deque>

#include "models/pool/registry.hpp"

namespace dbpoolsim::models {
namespace {

class asyncpg_pool final : public pool_base {
public:
    asyncpg_pool(const asyncpg_pool_params& p, pool_host& host, std::uint32_t index,
                 pool_metrics& metrics, sim::random_stream rng)
        : pool_base(host, index, metrics, std::move(rng)),
          p_(p),
          timeout_(p.timeout ? *p.timeout : sim::infinity),
          inactive_(p.max_inactive_connection_lifetime),
          max_queries_(static_cast<std::uint64_t>(p.max_queries)),
          connect_bounds_{p.connect_timeout, p.connect_timeout},
          floor_(p.version == "0.32") {}

    void start() override {
        // Pool._initialize: max_size holders put into the LifoQueue; the last one is on top.
        holders_.resize(static_cast<std::size_t>(p_.max_size));
        for (std::uint32_t h = 0; h < holders_.size(); ++h) stack_.push_back(h);
        if (p_.min_size == 0) {
            initialized_ = true;
            return;
        }
        // Connect the holder at the top of the queue first, alone (to record the working
        // address); the other min_size-1 follow concurrently once it is done.
        init_first_ = true;
        init_connect(static_cast<std::uint32_t>(holders_.size() - 1));
    }

    void acquire(std::uint32_t req) override {
        acquirer& a = acq(req);
        a = acquirer{};
        // Pool._acquire: `compat.wait_for(_acquire_impl(), timeout)` only if a timeout is given.
        // Speed: not armed when a connected holder is taken at once below (the timer would be
        // cancelled in this same call); the event order is the same, later events' sequence
        // numbers just move down by one.
        const bool at_once = initialized_ && !stack_.empty() && holders_[stack_.back()].conn != npos32;
        if (timeout_ < sim::infinity && !at_once)
            a.deadline_timer = host_.pool_timer(index_, now() + timeout_, timer_wait_timeout, req);
        // asyncio.Queue.get: take at once if the queue is not empty, whoever else is waiting.
        if (!initialized_ || stack_.empty()) {
            a.ph = phase::waiting;
            enqueue_waiter(req, sim::infinity);
            return;
        }
        take_top(req);
    }

    void release(std::uint32_t c) override { release(c, 1); }

    void release(std::uint32_t c, std::uint32_t queries) override {
        const std::uint32_t h = slot_of(c).holder;
        holder& H = holders_[h];
        H.queries += queries;  // the checkout's queries (BaseProtocol: +1 per query sent)
        // PoolConnectionHolder.release: queries_count >= max_queries -> Connection.close(),
        // which ends in _release_on_close: the holder goes back to the queue, empty, and no
        // inactivity timer is armed. protocol close() is Terminate + abort: no round trip.
        if (H.queries >= max_queries_) {
            close(c, close_reason::lifetime);
            H.conn = npos32;
            put_nowait(h);
            schedule_maintenance();
            return;
        }
        // Otherwise Connection.reset(): one simple query (1 round trip, counted as a query)
        // BEFORE _release() puts the holder back.
        ++H.queries;
        start_round_trip(c, tag_reset);
    }

    void on_connect_done(std::uint32_t c, login_outcome how) override {
        const bool ok = how == login_outcome::ok;
        const slot s = slot_of(c);
        switch (s.who) {
            case owner::init: init_done(s.holder, c, ok); return;
            case owner::maint: maintenance_done(s.holder, c, ok); return;
            case owner::acquirer: {
                acquirer& a = acq(s.req);
                a.conn = npos32;
                if (ok) {
                    connection_opened(c);
                    attach(s.holder, c);
                    // holder.connect() arms the inactivity timer and holder.acquire() cancels it
                    // at once: nothing to schedule.
                    granted(s.req, c);
                    return;
                }
                // _acquire_impl: any error -> put the holder back (on top, still empty), raise.
                connection_failed(c);
                a.ph = phase::none;
                sim_.cancel(a.deadline_timer);
                put_nowait(s.holder);
                schedule_maintenance();
                fail(s.req, fail_reason::connect_error);
                return;
            }
        }
    }

    void on_round_trip_done(std::uint32_t c, bool ok) override {
        connection& k = conn(c);
        DBPOOLSIM_ASSERT(k.check_tag == tag_reset, "asyncpg: round trip with an unknown tag");
        const std::uint32_t h = slot_of(c).holder;
        if (ok && !k.broken) {
            // _release(): put the holder back on top (wakes the first getter), then
            // _setup_inactive_callback().
            put_nowait(h);
            arm_inactive(h);
            return;
        }
        // A failed reset terminates the connection; _release_on_close puts the holder back empty.
        close(c, close_reason::broken);
        holders_[h].conn = npos32;
        put_nowait(h);
        schedule_maintenance();
    }

    /// The server closed an idle holder's connection: asyncio reads the socket, so
    /// connection_lost marks it closed (protocol.pyx), and PoolConnectionHolder.acquire, seeing
    /// is_closed(), connects inline. Here the dead connection is dropped now and its holder
    /// stays in the queue, empty: the same inline connect at its next acquire.
    void on_server_closed(std::uint32_t c) override {
        if (conn(c).state != conn_state::idle) return;
        const std::uint32_t h = slot_of(c).holder;
        disarm_inactive(h);
        close(c, close_reason::broken);
        holders_[h].conn = npos32;
        schedule_maintenance();
    }

    void on_broken_in_use(std::uint32_t c) override {
        // The lost connection runs Connection._cleanup -> holder._release_on_close: back empty.
        const std::uint32_t h = slot_of(c).holder;
        close(c, close_reason::broken);
        holders_[h].conn = npos32;
        put_nowait(h);
        schedule_maintenance();
    }

    /// Kind 0 is the acquire timeout (armed only when `timeout` is given).
    void on_timer(std::uint32_t kind, std::uint32_t arg) override {
        if (kind == timer_wait_timeout) {
            request_deadline(arg);
            return;
        }
        on_policy_timer(kind, arg);  // what pool_base::on_timer does for kind != 0; direct: the class is final
    }

    double acquire_timeout() const override { return timeout_; }
    double max_size() const override { return p_.max_size; }

private:
    static constexpr std::uint32_t timer_wake = 1, timer_inactive = 2, timer_maintain = 3;
    static constexpr std::uint32_t tag_reset = 1;

    enum class phase : std::uint8_t { none, waiting, woken, connecting };
    enum class owner : std::uint8_t { acquirer, init, maint };

    struct holder {
        std::uint32_t conn = npos32;  // PoolConnectionHolder._con (npos32 = None)
        std::uint64_t queries = 0;    // _con._protocol.queries_count
        sim::rearmable_handle inactive;  // the inactivity timer (see arm_inactive)
        double inactive_due = 0;      // the time it was last armed for
    };
    struct acquirer {
        phase ph = phase::none;
        std::uint32_t holder = npos32;  // holder being connected
        std::uint32_t conn = npos32;    // its login
        sim::timer_handle deadline_timer;
    };
    struct slot {
        owner who = owner::acquirer;
        std::uint32_t req = 0;
        std::uint32_t holder = 0;
    };

    acquirer& acq(std::uint32_t req) {
        if (req >= reqs_.size()) reqs_.resize(std::max<std::size_t>(req + 1, reqs_.size() * 2));
        return reqs_[req];
    }

    slot& slot_of(std::uint32_t c) {
        if (c >= slots_.size()) slots_.resize(std::max<std::size_t>(c + 1, slots_.size() * 2));
        return slots_[c];
    }

    // ---- the LifoQueue ------------------------------------------------------------------
    /// asyncio.Queue.put_nowait: push on top, then wake the first getter (_wakeup_next). The
    /// getter only runs later, so anyone who calls get() first takes the holder.
    void put_nowait(std::uint32_t h) {
        stack_.push_back(h);
        if (holders_[h].conn != npos32) push_idle_front(holders_[h].conn);
        wakeup_next();
    }

    void wakeup_next() {
        const std::uint32_t req = pop_waiter();
        if (req == npos32) return;
        acquirer& a = acq(req);
        a.ph = phase::woken;
        wakes_.push_back(req);
        host_.pool_now(index_, timer_wake, req);
    }

    /// A wake-up event: the oldest scheduled one (they run in the order scheduled), unless its
    /// getter was cancelled meanwhile (the event then does nothing, as a cancelled timer).
    /// Why a queue of its own: the zero-delay event cannot be cancelled, and a request's slot
    /// may be reused within the instant.
    void wake_event(std::uint32_t arg) {
        DBPOOLSIM_ASSERT(!wakes_.empty(), "asyncpg: a wake-up event without its entry");
        const std::uint32_t req = wakes_.front();
        wakes_.pop_front();
        if (req == npos32) return;
        DBPOOLSIM_ASSERT(req == arg, "asyncpg: wake-up events out of order");
        on_wake(req);
    }

    /// A woken getter's task was cancelled before it ran: its wake-up does nothing.
    void cancel_wake(std::uint32_t req) {
        const auto it = std::find(wakes_.begin(), wakes_.end(), req);
        DBPOOLSIM_ASSERT(it != wakes_.end(), "asyncpg: a woken getter without its wake-up");
        *it = npos32;
    }

    /// The woken getter runs: `while self.empty()` -> append a new getter at the TAIL and wait
    /// again (asyncpg #1247); otherwise get_nowait() takes the top holder.
    void on_wake(std::uint32_t req) {
        acquirer& a = acq(req);
        if (stack_.empty()) {
            a.ph = phase::waiting;
            enqueue_waiter(req, sim::infinity);
            return;
        }
        take_top(req);
    }

    /// get_nowait (LIFO: the most recently put holder; in 0.32 the topmost connected one, an
    /// empty one only if none is: _PoolConnectionHolderQueue._get), then
    /// PoolConnectionHolder.acquire.
    void take_top(std::uint32_t req) {
        std::size_t pos = stack_.size() - 1;
        if (floor_)
            for (std::size_t i = stack_.size(); i-- > 0;)
                if (holders_[stack_[i]].conn != npos32) {
                    pos = i;
                    break;
                }
        const std::uint32_t h = stack_[pos];
        stack_.erase(stack_.begin() + static_cast<std::ptrdiff_t>(pos));
        holder& H = holders_[h];
        acquirer& a = acq(req);
        if (H.conn == npos32) {
            // No connection: connect inline; this acquirer pays the login.
            a.ph = phase::connecting;
            a.holder = h;
            const std::uint32_t c = open_connection(connect_bounds_);
            slot_of(c) = slot{owner::acquirer, req, h};
            a.conn = c;
            return;
        }
        // _maybe_cancel_inactive_callback(), then hand out the proxy.
        disarm_inactive(h);
        granted(req, H.conn);
    }

    void granted(std::uint32_t req, std::uint32_t c) {
        acquirer& a = acq(req);
        a.ph = phase::none;
        sim_.cancel(a.deadline_timer);
        grant(req, c);  // its queries are counted at release
    }

    void attach(std::uint32_t h, std::uint32_t c) {
        holders_[h].conn = c;
        holders_[h].queries = 0;  // a new Connection, a new protocol counter
        slot_of(c).holder = h;
    }

    // ---- inactivity ---------------------------------------------------------------------
    // For speed, the timer is re-armable (sim/event_queue.hpp): an acquire disarms it and the
    // next release arms it again on the same heap entry, instead of a cancel and a new timer
    // each time, which left one stale heap entry per checkout (300 s of them: the heap's
    // compactions were 10 % of this policy's instructions). It fires at the same instants.
    void arm_inactive(std::uint32_t h) {
        if (inactive_ <= 0) return;  // _setup_inactive_callback: `if self._max_inactive_time`
        holder& H = holders_[h];
        H.inactive_due = now() + inactive_;
        if (!sim_.rearm(H.inactive, H.inactive_due))
            H.inactive = host_.pool_rearmable_timer(index_, H.inactive_due, timer_inactive, h);
    }

    void disarm_inactive(std::uint32_t h) { sim_.disarm(holders_[h].inactive, holders_[h].inactive_due); }

    /// _deactivate_inactive_connection: terminate the idle connection; the holder keeps its
    /// place in the queue, empty. min_size is not consulted, except in 0.32: a floor
    /// connection (get_size() <= get_min_size()) is kept, with no new timer until its next
    /// release.
    void on_inactive(std::uint32_t h) {
        const std::uint32_t c = holders_[h].conn;
        DBPOOLSIM_ASSERT(c != npos32 && conn(c).state == conn_state::idle,
                         "asyncpg: inactivity timer of a holder that is not idle");
        holders_[h].inactive = {};
        if (floor_ && connected() <= static_cast<std::uint32_t>(p_.min_size)) return;
        close(c, close_reason::idle);
        holders_[h].conn = npos32;
        schedule_maintenance();
    }

    /// get_size(): the holders whose connection is open (a login in flight is not one yet).
    std::uint32_t connected() const { return counts().total - counts().creating; }

    // ---- 0.32: Pool._maintain_min_size ------------------------------------------------------
    /// _schedule_min_size_maintenance: start the task (create_task: it runs later in the same
    /// instant) if the pool is initialized, min_size > 0, no task runs and get_size() < min_size.
    void schedule_maintenance() {
        if (!floor_ || !initialized_ || p_.min_size == 0 || maintaining_) return;
        if (connected() >= static_cast<std::uint32_t>(p_.min_size)) return;
        maintaining_ = true;
        retry_delay_ = 1.0;  // a new task's retry_delay
        host_.pool_now(index_, timer_maintain, 0);
    }

    /// One turn of the task's loop: while get_size() < min_size, take the topmost empty holder
    /// out of the queue (get_disconnected_nowait; none: the acquirers are connecting them, the
    /// task ends) and connect it.
    void maintain() {
        if (connected() >= static_cast<std::uint32_t>(p_.min_size)) {
            maintaining_ = false;
            return;
        }
        for (std::size_t i = stack_.size(); i-- > 0;) {
            const std::uint32_t h = stack_[i];
            if (holders_[h].conn != npos32) continue;
            stack_.erase(stack_.begin() + static_cast<std::ptrdiff_t>(i));
            const std::uint32_t c = open_connection(connect_bounds_);
            slot_of(c) = slot{owner::maint, 0, h};
            return;
        }
        maintaining_ = false;
    }

    /// holder.connect() done (it arms the inactivity timer); `finally: put_nowait(holder)`.
    /// Success: the loop goes on at once with the delay back at 1 s; failure: sleep, then double.
    void maintenance_done(std::uint32_t h, std::uint32_t c, bool ok) {
        if (ok) {
            connection_opened(c);
            attach(h, c);
            arm_inactive(h);
            put_nowait(h);
            retry_delay_ = 1.0;
            maintain();
            return;
        }
        connection_failed(c);
        put_nowait(h);
        host_.pool_timer(index_, now() + retry_delay_, timer_maintain, 0);
        retry_delay_ = std::min(retry_delay_ * 2, 60.0);
    }

    // ---- initialization (Pool._initialize) -------------------------------------------------
    void init_connect(std::uint32_t h) {
        const std::uint32_t c = open_connection(connect_bounds_);
        slot_of(c) = slot{owner::init, 0, h};
        ++init_pending_;
    }

    void init_done(std::uint32_t h, std::uint32_t c, bool ok) {
        --init_pending_;
        if (ok) {
            connection_opened(c);
            attach(h, c);
            push_idle_front(c);  // the holder never left the queue
            arm_inactive(h);     // holder.connect() arms the timer
        } else {
            connection_failed(c);  // create_pool raises; the pool goes on (see header)
        }
        if (init_first_) {
            init_first_ = false;
            if (ok) {
                // `for i, ch in enumerate(reversed(self._holders[:-1]))`, the first min_size-1:
                // the next holders from the top, connected concurrently (asyncio.gather).
                const auto top = static_cast<std::uint32_t>(holders_.size() - 1);
                for (std::uint32_t i = 1; i < static_cast<std::uint32_t>(p_.min_size); ++i)
                    init_connect(top - i);
            }
        }
        if (init_pending_ == 0) finish_init();
    }

    void finish_init() {
        initialized_ = true;
        // The requests that arrived meanwhile call acquire now, in arrival order.
        while (!stack_.empty()) {
            const std::uint32_t req = pop_waiter();
            if (req == npos32) break;
            take_top(req);
        }
        schedule_maintenance();
    }

    // ---- acquire timeout ----------------------------------------------------------------------
    void request_deadline(std::uint32_t req) {
        acq(req).deadline_timer = {};
        drop_acquire(req, true);
    }

    /// The caller's task was cancelled while acquiring: as the timeout, without the error.
    bool cancel_acquire(std::uint32_t req) override {
        if (req >= reqs_.size() || reqs_[req].ph == phase::none) return false;
        sim_.cancel(reqs_[req].deadline_timer);
        drop_acquire(req, false);
        return true;
    }

    /// CancelledError in _acquire_impl, raised by wait_for's timeout (then the request fails
    /// with acquire_timeout) or by the caller.
    void drop_acquire(std::uint32_t req, bool timed_out) {
        acquirer& a = acq(req);
        switch (a.ph) {
            case phase::waiting:
                a.ph = phase::none;
                pool_base::cancel_acquire(req);
                if (timed_out) on_waiter_timeout(req);
                return;
            case phase::woken:
                // Cancelled after being woken: asyncio.Queue.get's except-branch passes the
                // wake-up on if the queue is not empty.
                cancel_wake(req);
                a.ph = phase::none;
                if (timed_out) fail(req, fail_reason::acquire_timeout);
                if (!stack_.empty()) wakeup_next();
                return;
            case phase::connecting: {
                // CancelledError inside holder.acquire(): _acquire_impl puts the holder back.
                abandon_login(a.conn);  // the connect task is cancelled: its socket closes
                a.conn = npos32;
                const std::uint32_t h = a.holder;
                a.ph = phase::none;
                if (timed_out) fail(req, fail_reason::acquire_timeout);
                put_nowait(h);
                schedule_maintenance();
                return;
            }
            case phase::none: DBPOOLSIM_ASSERT(false, "asyncpg: deadline of an acquire that is not running");
        }
    }

    void on_policy_timer(std::uint32_t kind, std::uint32_t arg) override {
        switch (kind) {
            case timer_wake: wake_event(arg); break;
            case timer_inactive: on_inactive(arg); break;
            case timer_maintain: maintain(); break;
            default: DBPOOLSIM_ASSERT(false, "asyncpg: unknown timer kind");
        }
    }

    asyncpg_pool_params p_;
    double timeout_;
    double inactive_;
    std::uint64_t max_queries_;
    login_bounds connect_bounds_;  // connect(timeout=...): the whole connect, TCP included
    const bool floor_;             // version "0.32": min_size is a floor (inactivity timer, maintenance)
    std::vector<holder> holders_;
    std::vector<std::uint32_t> stack_;  // the LifoQueue: back() is the top
    std::vector<acquirer> reqs_;
    std::deque<std::uint32_t> wakes_;  // the pending wake-up events' getters, oldest first (npos32: cancelled)
    std::vector<slot> slots_;
    bool initialized_ = false;
    bool init_first_ = false;
    std::uint32_t init_pending_ = 0;
    bool maintaining_ = false;  // 0.32: Pool._maintenance_task is not None
    double retry_delay_ = 1.0;  // 0.32: _maintain_min_size's retry_delay
};

// ---- registry entry ---------------------------------------------------------------------------

const detail::field_table<asyncpg_pool_params>& asyncpg_fields() {
    using P = asyncpg_pool_params;
    using namespace detail;
    static const field_table<P> t = {
        make_field<&P::min_size>("min_size", between(0, 1 << 20)),
        make_field<&P::max_size>("max_size", between(1, 1 << 20)),
        make_field<&P::max_queries>("max_queries", at_least(1).at_most(2147483647)),
        make_field<&P::max_inactive_connection_lifetime>("max_inactive_connection_lifetime", at_least(0)),
        make_field<&P::timeout>("timeout", above(0)),  // null: wait forever
        make_field<&P::connect_timeout>("connect_timeout", above(0)),
        make_field<&P::version>("version").one_of({"0.30", "0.32"}),
    };
    return t;
}

// Pool.__init__'s check, with its message.
void asyncpg_cross(const asyncpg_pool_params& p, const std::string& path, detail::problems& out) {
    if (p.min_size > p.max_size)
        out.add(path + "/min_size", "min_size is greater than max_size (" + std::to_string(p.max_size) +
                                        "), got " + std::to_string(p.min_size));
}

}  // namespace

std::unique_ptr<pool_policy> make_asyncpg_pool(const asyncpg_pool_params& p, pool_host& host,
                                               std::uint32_t index, pool_metrics& metrics,
                                               sim::random_stream rng) {
    return std::make_unique<asyncpg_pool>(p, host, index, metrics, std::move(rng));
}

namespace detail {
const pool_kind& asyncpg_pool_kind() {
    static const pool_kind k =
        table_pool_kind<asyncpg_pool_params, asyncpg_fields, make_asyncpg_pool, asyncpg_cross, nullptr, true>(
                             "asyncpg",
                             "asyncpg 0.30 Pool: LIFO holders connected lazily by the acquirer, "
                             "no acquire timeout by default, reset on release, 300 s inactivity "
                             "close (spec section 6)");
    return k;
}
}  // namespace detail

}  // namespace dbpoolsim::models
