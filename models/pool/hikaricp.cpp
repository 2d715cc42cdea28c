// HikariCP 6.x as a dbpoolsim pool policy. Every rule cites ../shared/spec/pool-algorithms.md
// ("§1.x") and the HikariCP function it paraphrases (brettwooldridge/HikariCP,
// src/main/java/com/zaxxer/hikari/...). No HikariCP code is copied.
//
// What is modelled, in the simulator's vocabulary:
//
// * The bag (util/ConcurrentBag): the open connections, each with a creation sequence number.
//   Idle connections (NOT_IN_USE) live in pool_base's idle list *and* in `idle_` ordered by
//   creation, because HikariCP's sharedList is scanned in creation order (§1.2, §1.3 step 2.3)
//   and the housekeeper walks it newest first (§1.6). RESERVED (keepalive) and the IN_USE time
//   a borrower spends in isValid() (its round trip, then `validation_latency`) are the
//   `checking` state.
// * Waiters: pool_base's FIFO queue is the fair SynchronousQueue (§1.2, §1.8). A connection that
//   becomes NOT_IN_USE (return, new connection, keepalive done) goes to the head waiter at
//   once; an arriving request scans the idle connections before it queues (barging, §1.8).
//   By default the hand-off takes no simulated time, so an idle connection and a queued waiter
//   never coexist. With `wakeup_latency_s` > 0 the barging window of the real pool (issue
//   #1909) appears: ConcurrentBag.requite sets the entry NOT_IN_USE and offers it to the waiter
//   through the handoffQueue, and the waiting thread runs `wakeup_latency_s` later. Meanwhile
//   the entry stays in the shared list, where a new borrower's scan can take it; the waiter's
//   compareAndSet(NOT_IN_USE, IN_USE) then fails and it polls again, at the tail of the fair
//   queue, with what is left of its timeout (borrow's do/while, > 10 µs).
// * The thread-local list (§1.3 step 2.1): the world's requests carry no thread identity. By
//   default (`threads` 0) every borrow is the shared-list scan in creation order: it takes the
//   oldest-created idle connection, where a real thread that borrows again takes the one it
//   returned last (when no one waited at its return). With `threads` N the requests run on a
//   fixed pool of N application threads, each with its own list (hikaricp_threads.hpp).
// * The connection adder (HikariPool constructor, PoolEntryCreator): one thread, a task queue
//   bounded at maximumPoolSize (extra submits discarded). `adder_busy_` is the thread,
//   `queued_` the queue length. A task loops while shouldContinueCreating(); each success adds
//   one connection and sleeps 30 ms; each failure sleeps 10 ms doubling to 5 s (§1.4).
//   With `version` "2.7.9" (the release Debian ships, HikariPool.java at tag HikariCP-2.7.9,
//   PoolEntryCreator.call): no pause after a success, and each failure sleeps 250 ms, then
//   1.5 times longer, at most min(10 s, connectionTimeout). Its other differences are not
//   modelled: shouldCreateAnotherConnection (waiters > 0 instead of waiters > idle) and
//   addBagItem (waiting >= queued instead of >). 2.7.9's lastAccessed is the proxy's lastAccess
//   (ProxyConnection.close → PoolEntry.recycle(lastAccess)): the borrow, here (`borrowed_at_`).
// * The closer thread: after every closeConnection it runs fillPool (§1.4, §1.6). That is a
//   zero-delay timer here, so it runs after the code that closed (another thread in Java).
// * Per-connection timers: MaxLifetimeTask in pool_base's `connection.timer`, KeepaliveTask in
//   `keepalive_`. Jitter comes from the policy's `rng_` stream, drawn as createPoolEntry draws
//   (lifetime first, then keepalive) with Java's integer-millisecond nextLong(bound).
// * Durations compare as HikariCP's elapsedMillis does: whole milliseconds.
//
// Not modelled (no effect in today's world or not a pool decision): autoCommit/rollback and
// state reset on return (a well-behaved application leaves nothing dirty), leak detection
// (logs only, §1.6), the housekeeper's clock-jump checks, the blockUntilFilled system property,
// the housekeeping thread's serialization of keepalive round trips (each keepalive runs on its
// own). validationTimeout bounds isValid() and keepalive checks on a silently dead connection
// (failover, silent NAT drop), as HikariCP's setNetworkTimeout does.
#include "models/pool/hikaricp.hpp"

#include <algorithm>
#include <climits>
#include <cmath>
#include <set>
#include <utility>
#include <vector>

#include "models/pool/hikaricp_threads.hpp"

namespace dbpoolsim::models {
namespace {

constexpr double ms = 1e-3;

class hikaricp_pool final : public pool_base {
public:
    hikaricp_pool(const hikaricp_params& p, pool_host& host, std::uint32_t index,
                  pool_metrics& metrics, sim::random_stream rng)
        : pool_base(host, index, metrics, std::move(rng)),
          p_(p),
          max_(static_cast<std::uint32_t>(p.maximumPoolSize)),
          min_idle_(static_cast<std::uint32_t>(p.minimumIdle)),
          timeout_s_(static_cast<double>(p.connectionTimeout) * ms),
          bounds_(hikaricp_login_bounds(p)),
          v2_(p.version == "2.7.9"),
          threads_(static_cast<std::uint32_t>(p.threads), p.version != "2.7.9"),
          validation_latency_(!(p.validation_latency.is_constant() && p.validation_latency.mean() == 0)) {}

    // §1.4 "Startup" (HikariPool constructor → checkFailFast). The constructor is synchronous:
    // requests that arrive before it returns wait for it (as callers of a lazily initialised
    // HikariDataSource block on its monitor), then borrow with their full connectionTimeout.
    void start() override {
        if (p_.initializationFailTimeout < 0) {  // checkFailFast: < 0 skips the check
            constructed();
            return;
        }
        init_started_ = now();
        startup_conn_ = open_connection(bounds_);
    }

    void acquire(std::uint32_t req) override {
        threads_.start(req);  // the application thread that runs the request
        switch (state_) {
            case pool_state::constructing: enqueue_waiter(req, sim::infinity); return;
            case pool_state::failed: fail(req, fail_reason::connect_error); return;
            case pool_state::normal:
                deadline_of(req) = now() + timeout_s_;  // getConnection: one hardTimeout
                borrow(req);
                return;
        }
    }

    // §1.5 (ProxyConnection.close → PoolEntry.recycle → HikariPool.recycle → requite).
    void release(std::uint32_t c) override {
        connection& k = conn(c);
        const std::uint32_t req = k.holder;
        // PoolEntry.recycle: 6.0.0 sets lastAccessed = now; 2.7.9's recycle(lastAccess) takes
        // the proxy's lastAccess (ProxyConnection.close), which is getConnection's `now` and
        // moves to the start of each statement in auto-commit mode (markCommitStateDirty).
        // The policy sees no statements: 2.7.9's lastAccessed is the borrow's time here.
        k.last_returned_at = v2_ ? borrowed_at_[c] : now();
        if (k.evict) {
            // 6.0.0 (#2157): an entry marked evicted while in use is closed at return.
            close_conn(c, close_reason::lifetime);
            threads_.end(req);
            return;
        }
        make_available(c, req);
        threads_.end(req);  // the request is done: its thread goes back to the executor
    }

    void on_connect_done(std::uint32_t c, login_outcome how) override {
        const bool ok = how == login_outcome::ok;
        if (c == startup_conn_) {
            startup_conn_ = npos32;
            startup_done(c, ok);
            return;
        }
        DBPOOLSIM_ASSERT(c == adder_conn_, "login done for a connection the adder did not open");
        adder_conn_ = npos32;
        if (!ok) {
            // PoolEntryCreator.call: createPoolEntry returned null → sleep backoffMs and loop;
            // backoffMs starts at 10 and doubles up to 5 s (≥ 5.0.0, §1.4).
            // `failed_attempt_s`: the driver's failed connect and newConnection's catch path
            // (PoolBase.newConnection) run before the sleep starts.
            connection_failed(c);
            host_.pool_timer(index_, now() + p_.failed_attempt_s + static_cast<double>(backoff_ms_) * ms,
                             timer_adder_backoff, 0);
            backoff_ms_ = v2_ ? std::min<long long>(std::min<long long>(10000, p_.connectionTimeout),
                                                    static_cast<long long>(static_cast<double>(backoff_ms_) * 1.5))
                              : std::min<long long>(5000, backoff_ms_ * 2);
            return;
        }
        // `setup_s`: PoolBase.newConnection's setupConnection after the driver's connect, then
        // createPoolEntry, on the adder thread; the connection reaches the bag after it.
        if (p_.setup_s > 0) {
            host_.pool_timer(index_, now() + p_.setup_s, timer_setup_done, c);
            return;
        }
        setup_done(c);
    }

    void setup_done(std::uint32_t c) {
        created(c);
        make_available(c);  // ConcurrentBag.add: offered to waiters, else NOT_IN_USE
        // ... then quietlySleep(30 ms) and the task ends (one connection per task, §1.4);
        // 2.7.9 returns at once (a zero-delay timer: the adder thread's next task runs after
        // the hand-off, as in Java).
        host_.pool_timer(index_, now() + (v2_ ? 0.0 : 30 * ms), timer_adder_pause, 0);
    }

    void on_round_trip_done(std::uint32_t c, bool ok) override {
        connection& k = conn(c);
        const bool alive = ok && !k.broken;
        if (!alive) record_metrics([](pool_metrics& m) { ++m.round_trip_failures; });
        if (k.check_tag == tag_validate) {
            // §1.3 step 4: isConnectionDead on borrow.
            const std::uint32_t req = k.holder;
            if (alive && validation_latency_) {
                // The borrowing thread returns from isValid() that much later (pgJDBC, the
                // thread's wake-up): the connection stays IN_USE, its request waits.
                const auto& d = p_.validation_latency;
                host_.pool_timer(index_, now() + (d.is_constant() ? d.mean() : d.sample(rng_.engine())),
                                 timer_validated, c);
                return;
            }
            if (alive) {
                grant(req, c);
                return;
            }
            close_conn(c, close_reason::validation);  // "(connection is dead)"
            retry(req);                                // within the same hardTimeout
            return;
        }
        DBPOOLSIM_ASSERT(k.check_tag == tag_keepalive, "unknown round trip");
        // §1.6 KeepaliveTask, after isConnectionDead.
        if (!alive) {
            k.evict = true;  // softEvictConnection(owner = true): closed now
            close_conn(c, close_reason::broken);
            add_bag_item(waiter_count());
            return;
        }
        // Fixed delay: the next run is one period after this one ended.
        keepalive(c) = host_.pool_timer(index_, now() + keepalive_period_[c], timer_keepalive, c);
        make_available(c);  // ConcurrentBag.unreserve: hands it to a waiter, else NOT_IN_USE
    }

    // §1.5 step 6: a connection that breaks in use is closed at once (removed from the bag).
    void on_broken_in_use(std::uint32_t c) override {
        threads_.end(conn(c).holder);  // the request fails with its query
        close_conn(c, close_reason::broken);
    }

    bool cancel_acquire(std::uint32_t req) override {
        if (!pool_base::cancel_acquire(req)) return false;
        threads_.end(req);
        return true;
    }

    double acquire_timeout() const override { return timeout_s_; }
    double max_size() const override { return p_.maximumPoolSize; }

private:
    enum class pool_state : std::uint8_t { constructing, normal, failed };
    static constexpr std::uint32_t timer_housekeeper = 1, timer_adder_pause = 2,
                                   timer_adder_backoff = 3, timer_lifetime = 4,
                                   timer_keepalive = 5, timer_closer_fill = 6,
                                   timer_init_retry = 7, timer_wakeup = 8, timer_validated = 9,
                                   timer_setup_done = 10;
    static constexpr std::uint32_t tag_validate = 1, tag_keepalive = 2;

    /// elapsedMillis(since, now): whole milliseconds (the epsilon absorbs binary rounding of
    /// decimal times such as 1.015 - 0.015).
    long long elapsed_ms(double since) { return static_cast<long long>(std::floor((now() - since) * 1e3 + 1e-6)); }
    sim::timer_handle& keepalive(std::uint32_t c) { return keepalive_[c]; }
    std::pair<std::uint64_t, std::uint32_t> key(std::uint32_t c) const { return {seq_[c], c}; }

    // ---- start-up (checkFailFast, §1.4) --------------------------------------------------

    void startup_done(std::uint32_t c, bool ok) {
        if (ok) {
            created(c);
            push_idle_back(c);  // ConcurrentBag.add: nobody can be waiting in the bag yet
            if (p_.minimumIdle > 0) {
                idle_.insert(key(c));
            } else {
                // "(initialization check complete and minimumIdle is zero)": closed directly,
                // not through closeConnection, so no fillPool follows.
                close_conn(c, close_reason::overflow, false);
            }
            constructed();
            return;
        }
        // A refused login is an ordinary SQLException (not a ConnectionSetupException): sleep
        // 1 s, then try again while elapsed < initializationFailTimeout.
        connection_failed(c);
        host_.pool_timer(index_, now() + 1.0, timer_init_retry, 0);
    }

    void init_retry() {
        if (elapsed_ms(init_started_) < p_.initializationFailTimeout) {
            startup_conn_ = open_connection(bounds_);
            return;
        }
        if (p_.initializationFailTimeout > 0) {
            // throwPoolInitializationException: the pool (and the application) never starts;
            // every request fails with the connection error.
            state_ = pool_state::failed;
            for (std::uint32_t req = pop_waiter(); req != npos32; req = pop_waiter())
                fail(req, fail_reason::connect_error);
            return;
        }
        constructed();  // initializationFailTimeout = 0: start anyway, empty
    }

    void constructed() {
        state_ = pool_state::normal;
        // houseKeepingExecutorService.scheduleWithFixedDelay(HouseKeeper, 100 ms, period).
        host_.pool_timer(index_, now() + 0.1, timer_housekeeper, 0);
        std::vector<std::uint32_t> held;
        for (std::uint32_t req = pop_waiter(); req != npos32; req = pop_waiter()) held.push_back(req);
        for (const std::uint32_t req : held) {
            deadline_of(req) = now() + timeout_s_;
            borrow(req);
        }
    }

    // ---- checkout (§1.3) -------------------------------------------------------------------

    /// A request that fails ends on its thread too.
    void fail(std::uint32_t req, fail_reason why) {
        threads_.end(req);
        pool_base::fail(req, why);
    }
    void on_waiter_timeout(std::uint32_t req) override { fail(req, fail_reason::acquire_timeout); }

    /// ConcurrentBag.borrow.
    void borrow(std::uint32_t req) {
        if (auto* list = threads_.list_of(req)) {
            // "Try the thread-local list first": newest first, removing every entry passed; an
            // entry closed meanwhile (its slot reused or gone from idle_) fails compareAndSet.
            while (!list->empty()) {
                const auto [c, seq] = list->back();
                list->pop_back();
                if (seq_[c] == seq && idle_.erase(key(c)) == 1) {
                    hand_out(req, c);
                    return;
                }
            }
        }
        // waiters.incrementAndGet(): the threads in borrow, woken ones included.
        const std::uint32_t waiting = waiter_count() + waking_ + 1;
        if (!idle_.empty()) {
            // Shared-list scan in creation order: the oldest-created NOT_IN_USE entry.
            const std::uint32_t c = idle_.begin()->second;
            idle_.erase(idle_.begin());
            if (waiting > 1) add_bag_item(waiting - 1);  // "may have stolen a waiter's entry"
            hand_out(req, c);
            return;
        }
        // Nothing idle: block on the fair hand-off queue for the rest of the timeout, after
        // addBagItem(waiting) (queued first, so the adder sees this waiter).
        enqueue_waiter(req, deadline_of(req) - now());
        add_bag_item(waiting);
    }

    /// HikariPool.getConnection after borrow returned c: evicted, or idle longer than
    /// aliveBypassWindowMs since its last return and dead → close and borrow again.
    void hand_out(std::uint32_t req, std::uint32_t c) {
        connection& k = conn(c);
        if (k.evict) {
            close_conn(c, close_reason::lifetime);  // "(connection was evicted)"
            retry(req);
            return;
        }
        if (v2_) borrowed_at_[c] = now();  // HikariCP 2.7.9: createProxyConnection(..., now)
        if (elapsed_ms(k.last_returned_at) > p_.aliveBypassWindowMs) {
            // isValid(): one round trip, bounded by validationTimeout (setNetworkTimeout).
            start_round_trip(c, tag_validate, req, p_.validationTimeout / 1000.0);
            return;
        }
        grant(req, c);
    }

    /// The do/while of getConnection: timeout = hardTimeout - elapsed; loop while > 0.
    void retry(std::uint32_t req) {
        if (deadline_of(req) - now() <= 0) {
            fail(req, fail_reason::acquire_timeout);
            return;
        }
        borrow(req);
    }

    /// A connection became NOT_IN_USE (requite, add, unreserve): the longest-waiting blocked
    /// borrower gets it (fair SynchronousQueue); with nobody waiting it stays in the bag.
    /// `returner`: the request whose thread returned c (requite), which keeps it in its
    /// thread's list when nobody waits.
    void make_available(std::uint32_t c, std::uint32_t returner = npos32) {
        const std::uint32_t req = pop_waiter();
        if (req != npos32 && p_.wakeup_latency_s <= 0) {
            hand_out(req, c);
            return;
        }
        push_idle_back(c);
        idle_.insert(key(c));
        if (req == npos32) {
            if (returner != npos32) threads_.keep(returner, {c, seq_[c]});
            return;
        }
        // handoffQueue.offer: the waiter runs later; the entry stays NOT_IN_USE meanwhile.
        if (req >= offered_.size()) offered_.resize(req + 1);
        offered_[req] = {c, seq_[c]};
        ++waking_;
        host_.pool_timer(index_, now() + p_.wakeup_latency_s, timer_wakeup, req);
    }

    /// isValid() returns true `validation_latency` after its round trip: the borrower gets
    /// the connection (nothing closes an IN_USE entry meanwhile: maxLifetime only marks it).
    void validated(std::uint32_t c) {
        const connection& k = conn(c);
        DBPOOLSIM_ASSERT(k.state == conn_state::checking && k.check_tag == tag_validate,
                         "a connection in isValid() changed state");
        grant(k.holder, c);
    }

    /// The woken waiter's compareAndSet on the entry it was offered: it succeeds if nobody
    /// took (or closed) the connection meanwhile; otherwise the thread polls again.
    void woken(std::uint32_t req) {
        --waking_;
        const auto [c, seq] = offered_[req];
        if (seq_[c] == seq && idle_.erase(key(c)) == 1) {
            hand_out(req, c);
            return;
        }
        const double left = deadline_of(req) - now();
        if (left <= 10e-6) {
            fail(req, fail_reason::acquire_timeout);
            return;
        }
        enqueue_waiter(req, left);
    }

    // ---- creation (§1.4) -------------------------------------------------------------------

    /// HikariPool.addBagItem (5.x/6.x): submit a creator if waiting > tasks queued.
    void add_bag_item(std::uint32_t waiting) {
        if (waiting > queued_) submit();
    }

    /// addConnectionExecutor.submit: one thread; a LinkedBlockingQueue(maximumPoolSize);
    /// submits to a full queue are discarded (CustomDiscardPolicy).
    void submit() {
        if (!adder_busy_) {
            start_task();
            return;
        }
        if (queued_ < max_) ++queued_;
    }

    void start_task() {
        adder_busy_ = true;
        backoff_ms_ = v2_ ? 250 : 10;
        if (!task_step()) adder_busy_ = false;
    }

    /// One turn of PoolEntryCreator.call's loop. Returns false when the task ends.
    bool task_step() {
        if (!should_continue_creating()) return false;
        adder_conn_ = open_connection(bounds_);
        return true;
    }

    /// The task ended: the adder thread takes the next queued task (which may end at once).
    void task_done() {
        adder_busy_ = false;
        while (!adder_busy_ && queued_ > 0) {
            --queued_;
            start_task();
        }
    }

    /// Connections in the bag: the one being created is not in it yet.
    std::uint32_t bag_size() const { return n_.total - n_.creating; }

    /// PoolEntryCreator.shouldContinueCreating.
    bool should_continue_creating() const {
        return state_ == pool_state::normal && bag_size() < max_ &&
               (n_.idle < min_idle_ || n_.waiters + waking_ > n_.idle);
    }

    /// HikariPool.fillPool: with total < max and idle < minIdle, submit (minIdle - idle)
    /// creators; the extras are discarded by the full queue or end at once.
    void fill_pool() {
        if (state_ != pool_state::normal) return;
        if (bag_size() < max_ && n_.idle < min_idle_) {
            const std::uint32_t count = min_idle_ - n_.idle;
            for (std::uint32_t i = 0; i < count; ++i) submit();
        }
    }

    /// createPoolEntry succeeded: schedule MaxLifetimeTask, then KeepaliveTask.
    void created(std::uint32_t c) {
        connection_opened(c);
        if (c >= seq_.size()) {
            seq_.resize(c + 1);
            keepalive_.resize(c + 1);
            keepalive_period_.resize(c + 1);
            borrowed_at_.resize(c + 1);
        }
        seq_[c] = next_seq_++;
        keepalive_[c] = {};
        connection& k = conn(c);
        if (p_.maxLifetime > 0) {
            // Up to 2.5 % earlier (maxLifetime / 40), only when maxLifetime > 10 s.
            const long long bound = p_.maxLifetime / 40;
            const long long variance =
                p_.maxLifetime > 10000 && bound > 0 ? static_cast<long long>(rng_.below(static_cast<std::uint64_t>(bound))) : 0;
            k.expires_at = now() + static_cast<double>(p_.maxLifetime - variance) * ms;
            k.timer = host_.pool_timer(index_, k.expires_at, timer_lifetime, c);
        }
        if (p_.keepaliveTime > 0) {
            // Up to 10 % earlier; the same period between all later runs (fixed delay).
            const long long bound = p_.keepaliveTime / 10;
            const long long variance = bound > 0 ? static_cast<long long>(rng_.below(static_cast<std::uint64_t>(bound))) : 0;
            keepalive_period_[c] = static_cast<double>(p_.keepaliveTime - variance) * ms;
            keepalive_[c] = host_.pool_timer(index_, now() + keepalive_period_[c], timer_keepalive, c);
        }
    }

    // ---- closing ---------------------------------------------------------------------------

    /// HikariPool.closeConnection: out of the bag now; the closer thread then runs fillPool
    /// (a zero-delay timer: it follows whatever the closing code does next).
    void close_conn(std::uint32_t c, close_reason why, bool refill = true) {
        idle_.erase(key(c));
        sim_.cancel(keepalive_[c]);
        close(c, why);
        if (refill && state_ == pool_state::normal)
            host_.pool_now(index_, timer_closer_fill, 0);
    }

    // ---- timers ----------------------------------------------------------------------------

    void on_policy_timer(std::uint32_t kind, std::uint32_t arg) override {
        switch (kind) {
            case timer_housekeeper: housekeeper(); break;
            case timer_adder_pause: task_done(); break;
            case timer_adder_backoff:
                if (!task_step()) task_done();
                break;
            case timer_lifetime: lifetime_reached(arg); break;
            case timer_keepalive: keepalive_due(arg); break;
            case timer_closer_fill: fill_pool(); break;
            case timer_init_retry: init_retry(); break;
            case timer_wakeup: woken(arg); break;
            case timer_validated: validated(arg); break;
            case timer_setup_done: setup_done(arg); break;
            default: DBPOOLSIM_ASSERT(false, "unknown HikariCP timer");
        }
    }

    /// §1.6 HouseKeeper.run (fixed delay housekeepingPeriodMs, first run 100 ms after start).
    void housekeeper() {
        if (p_.idleTimeout > 0 && p_.minimumIdle < p_.maximumPoolSize) {
            // values(NOT_IN_USE): newest-created first; keep at least minimumIdle idle.
            std::vector<std::uint32_t> not_in_use;
            not_in_use.reserve(idle_.size());
            for (auto it = idle_.rbegin(); it != idle_.rend(); ++it) not_in_use.push_back(it->second);
            long long max_to_remove = static_cast<long long>(not_in_use.size()) - p_.minimumIdle;
            for (const std::uint32_t c : not_in_use) {
                if (max_to_remove > 0 && elapsed_ms(conn(c).last_returned_at) > p_.idleTimeout &&
                    conn(c).state == conn_state::idle) {  // connectionBag.reserve succeeds
                    close_conn(c, close_reason::idle);   // "(connection has passed idleTimeout)"
                    --max_to_remove;
                }
            }
        }
        fill_pool();  // fillPool(true)
        host_.pool_timer(index_, now() + static_cast<double>(p_.housekeepingPeriodMs) * ms,
                         timer_housekeeper, 0);
    }

    /// §1.6 MaxLifetimeTask: softEvictConnection(owner = false).
    void lifetime_reached(std::uint32_t c) {
        connection& k = conn(c);
        k.timer = {};
        k.evict = true;  // markEvicted: in use → closed at return (6.0), reserved → at borrow
        if (k.state == conn_state::idle) {  // connectionBag.reserve succeeds
            close_conn(c, close_reason::lifetime);  // "(connection has passed maxLifetime)"
            add_bag_item(waiter_count());
        }
    }

    /// §1.6 KeepaliveTask: reserve an idle connection for one isConnectionDead round trip;
    /// connections not idle are skipped until the next period.
    void keepalive_due(std::uint32_t c) {
        keepalive_[c] = {};
        if (conn(c).state == conn_state::idle) {
            idle_.erase(key(c));
            start_round_trip(c, tag_keepalive, npos32, p_.validationTimeout / 1000.0);
            return;
        }
        keepalive_[c] = host_.pool_timer(index_, now() + keepalive_period_[c], timer_keepalive, c);
    }

    hikaricp_params p_;
    std::uint32_t max_, min_idle_;
    double timeout_s_;
    login_bounds bounds_;
    pool_state state_ = pool_state::constructing;
    double init_started_ = 0;
    std::uint32_t startup_conn_ = npos32;

    // the adder thread
    bool adder_busy_ = false;
    std::uint32_t queued_ = 0;
    std::uint32_t adder_conn_ = npos32;
    long long backoff_ms_ = 10;
    const bool v2_;  // version "2.7.9"
    hikaricp_detail::thread_lists threads_;  // `threads`: the application's threads and their lists
    const bool validation_latency_;  // validation_latency is not constant 0

    // waiting threads offered a connection, not yet running (wakeup_latency_s)
    std::uint32_t waking_ = 0;
    std::vector<std::pair<std::uint32_t, std::uint64_t>> offered_;  // per request: (conn, seq)

    // the bag
    std::uint64_t next_seq_ = 0;
    std::vector<std::uint64_t> seq_;                          // creation order, per slot
    std::set<std::pair<std::uint64_t, std::uint32_t>> idle_;  // NOT_IN_USE, by creation
    std::vector<sim::timer_handle> keepalive_;
    std::vector<double> keepalive_period_;
    std::vector<double> borrowed_at_;  // 2.7.9: the last borrow's time (the proxy's lastAccess)
};

}  // namespace

login_bounds hikaricp_login_bounds(const hikaricp_params& p) {
    login_bounds b;
    // pgJDBC's connectTimeout: socket.connect(address, timeout); 0 leaves it to the OS.
    if (p.connectTimeout > 0) b.connect_s = p.connectTimeout;
    if (!p.dataSourceClassName.empty()) {
        // PoolBase.initializeDataSource: setLoginTimeout(max(1 s, connectionTimeout + 500 ms)
        // in whole seconds), unless connectionTimeout is infinite; the data source passes it on.
        if (p.connectionTimeout != INT_MAX) b.login_s = static_cast<double>(std::max(1000LL, p.connectionTimeout + 500) / 1000);
    } else if (p.loginTimeout > 0) {
        b.login_s = p.loginTimeout;  // DriverManager's value is never read: pgJDBC's own comes first
    }
    return b;
}

std::unique_ptr<pool_policy> make_hikaricp_pool(const hikaricp_params& p, pool_host& host,
                                                std::uint32_t index, pool_metrics& metrics,
                                                sim::random_stream rng) {
    return std::make_unique<hikaricp_pool>(p, host, index, metrics, std::move(rng));
}

}  // namespace dbpoolsim::models
