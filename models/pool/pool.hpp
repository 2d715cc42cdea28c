// dbpoolsim models: the pool-policy interface and the shared pool vocabulary.
//
// See docs/design/pool-policy.md. In short: the world (models/world/) owns requests, the
// database and the event loop; a pool policy owns its connections and its waiters and decides
// everything a real pool library decides: who opens connections and when, which idle
// connection a borrower gets, who waits and in what order, what is validated, reset, retired.
// The world talks to a policy through the virtual hooks of `pool_policy`; the policy talks to
// the world through `pool_host`. `pool_base` gives every policy the common machinery
// (connection table, idle list with FIFO or LIFO order, FIFO waiter list with acquire
// timeouts, per-request acquire deadlines, state counters feeding the metrics), so a policy
// file holds only its algorithm.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "models/distribution.hpp"
#include "models/metrics.hpp"
#include "sim/random.hpp"
#include "sim/simulation.hpp"
#include "sim/slot_table.hpp"

namespace dbpoolsim::models {

inline constexpr std::uint32_t npos32 = std::numeric_limits<std::uint32_t>::max();

/// Parameters of one pool policy (each policy derives its own struct, with the library's
/// parameter names and defaults).
struct pool_params {
    virtual ~pool_params() = default;
};

enum class conn_state : std::uint8_t {
    free,      // slot unused
    creating,  // login in progress (counts toward the pool's size)
    idle,      // open, in the idle list
    in_use,    // handed to a request
    checking,  // validation / ping / reset round trip in progress (not borrowable)
};

struct connection {
    conn_state state = conn_state::free;
    bool broken = false;          // the server side is gone (faults); next use fails
    bool evict = false;           // marked for closing at return (e.g. lifetime reached in use)
    std::uint32_t holder = npos32;  // request holding it, or waiting on its check
    std::uint32_t prev = npos32, next = npos32;  // idle-list links
    std::uint32_t check_tag = 0;  // policy's meaning of the round trip in flight
    double created_at = 0;        // login finished
    double last_returned_at = 0;  // last return (or creation)
    double expires_at = std::numeric_limits<double>::infinity();
    std::uint64_t uses = 0;
    sim::timer_handle timer;      // per-connection timer (lifetime, inactivity...), if any
};

/// How a login ended (pool_policy::on_connect_done). The kinds are those a real pool can tell
/// apart (docs/design/fidelity-review.md section 9): PgBouncer, for one, disconnects its
/// waiting clients only on a server ErrorResponse other than 57P03.
enum class login_outcome : std::uint8_t {
    ok,            // a usable session
    refused,       // TCP connection refused (nothing listens)
    timed_out,     // no answer within a bound of open_connection, or the network's connect timeout
    starting_up,   // ErrorResponse 57P03 cannot_connect_now (starting up, shutting down, recovery)
    too_many,      // ErrorResponse 53300 too_many_connections
    server_error,  // any other ErrorResponse (authentication, a connect_errors fault, a pooler's refusal)
    lost,          // the connection was reset during the login (a restart or failover hit it)
};

/// Bounds on one login attempt (open_connection), in seconds; infinite = the network's own.
/// `connect_s` bounds the TCP connect (a driver's connect timeout: it matters only when the
/// address does not answer), `login_s` the whole login (a login timeout). A login that hits a
/// bound ends with login_outcome::timed_out and is abandoned (the database frees its slot).
struct login_bounds {
    double connect_s = std::numeric_limits<double>::infinity();
    double login_s = std::numeric_limits<double>::infinity();
};

/// What a pool can ask of the world. Completions come back through pool_policy hooks.
class pool_host {
public:
    virtual ~pool_host() = default;
    virtual sim::simulation& simulation() = 0;
    /// The request now holds the connection: the world starts its transaction.
    virtual void grant(std::uint32_t pool, std::uint32_t req, std::uint32_t conn) = 0;
    /// The request ends without a connection.
    virtual void fail(std::uint32_t pool, std::uint32_t req, fail_reason why) = 0;
    /// Start a login to the database; answers with pool_policy::on_connect_done, at the latest
    /// when a bound of `b` is reached.
    virtual void open_connection(std::uint32_t pool, std::uint32_t conn, login_bounds b) = 0;
    /// Give up a login in progress (its socket is closed: the database frees its slot at once);
    /// no on_connect_done follows.
    virtual void abandon_login(std::uint32_t pool, std::uint32_t conn) = 0;
    /// One network round trip on an open connection (validation, ping, reset query);
    /// answers with pool_policy::on_round_trip_done. On a silently dead connection (no
    /// answer ever comes) it fails after `timeout_s` or the network's socket timeout,
    /// whichever is shorter (the library's own check timeout, e.g. HikariCP's validationTimeout).
    virtual void round_trip(std::uint32_t pool, std::uint32_t conn,
                            double timeout_s = std::numeric_limits<double>::infinity()) = 0;
    /// The time the answer to a round trip started now on `conn` arrives, when it is sure to
    /// be a success (nothing can break the connection before it); infinity when it is not
    /// sure. For speed only (sqlx arms no acquire deadline its ping is sure to beat); the
    /// default, never sure, is always correct.
    virtual double round_trip_answer_at(std::uint32_t pool, std::uint32_t conn) {
        (void)pool;
        (void)conn;
        return std::numeric_limits<double>::infinity();
    }
    /// The connection is gone: the database frees its backend.
    virtual void close_connection(std::uint32_t pool, std::uint32_t conn) = 0;
    /// Schedule pool timer `kind` (< 32) with argument `arg` (< 2^24).
    virtual sim::timer_handle pool_timer(std::uint32_t pool, double at, std::uint32_t kind,
                                         std::uint32_t arg) = 0;
    /// Pool timer `kind` at once, after everything already scheduled for this instant (a
    /// zero-delay task: asyncio's call_soon, process.nextTick). Not cancellable; no heap
    /// operation (sim/simulation.hpp, "Zero-delay events"). Same order as pool_timer(now()).
    virtual void pool_now(std::uint32_t pool, std::uint32_t kind, std::uint32_t arg) = 0;
    /// The same as pool_timer, for a timer the policy disarms and re-arms (sim/event_queue.hpp, "Re-armable
    /// timers"; kind != 0: the acquire timeout's lane timers cannot be re-armed).
    virtual sim::rearmable_handle pool_rearmable_timer(std::uint32_t pool, double at, std::uint32_t kind,
                                                       std::uint32_t arg) = 0;
};

/// The hooks a pool policy implements. All calls happen inside the event loop.
class pool_policy {
public:
    virtual ~pool_policy() = default;
    /// Called once at t = 0: initial fill, background timers.
    virtual void start() = 0;
    /// A request asks for a connection.
    virtual void acquire(std::uint32_t req) = 0;
    /// The request no longer wants a connection: its caller gave up (client patience, a
    /// cancelled context). Returns true when the pool let go of it: it will neither grant
    /// nor fail it, and whatever the acquire had started (a login, a timer) goes on without
    /// it as the library's own cancellation does. Returns false when the pool cannot drop it
    /// now (e.g. a check round trip on the connection meant for it is in flight, or it is
    /// not acquiring): the acquire then ends as usual, with grant or fail.
    virtual bool cancel_acquire(std::uint32_t req) = 0;
    /// The caller's own deadline (client.deadline_s) cancels its acquire, as a cancelled
    /// context does (Go database/sql: DB.conn returns ctx.Err()). Then the world calls
    /// cancel_acquire at the deadline. Default: no, the wait goes on (a Java or Python pool
    /// knows nothing of the caller's deadline).
    virtual bool caller_deadline_cancels_acquire() const { return false; }
    /// The request holding `conn` is done with it.
    virtual void release(std::uint32_t conn) = 0;
    /// The same, with the number of queries the checkout sent on `conn` (the world calls this
    /// form). Only a policy that counts queries (asyncpg's max_queries) overrides it.
    virtual void release(std::uint32_t conn, std::uint32_t queries) {
        (void)queries;
        release(conn);
    }
    /// The request holding `conn` is done with it after an SQL error on it (a statement
    /// timeout, a write in a read-only transaction): the connection itself is sound. Default:
    /// an ordinary release. node-postgres with release_with_error removes the client.
    virtual void release_after_error(std::uint32_t conn, std::uint32_t queries) { release(conn, queries); }
    /// A login started with open_connection finished (`how` == ok: a usable connection).
    virtual void on_connect_done(std::uint32_t conn, login_outcome how) = 0;
    /// A round trip started with round_trip finished (ok = the server answered).
    virtual void on_round_trip_done(std::uint32_t conn, bool ok) = 0;
    /// A timer scheduled with pool_host::pool_timer fired.
    virtual void on_timer(std::uint32_t kind, std::uint32_t arg) = 0;
    /// The request holding `conn` found it broken (query error): it will not return it.
    virtual void on_broken_in_use(std::uint32_t conn) = 0;
    /// The server closed `conn` (a reset or a FATAL: restart, kill_connections,
    /// idle_session_timeout) while no request held it; delivered half a round trip later, as
    /// a client that reads its idle sockets sees it (asyncpg, node-postgres, PgBouncer). A
    /// silent death (NAT drop, failover) sends nothing. The connection is dead: its next use
    /// fails. Default (pool_base): ignore it, as libraries that do not read idle sockets do.
    virtual void on_server_closed(std::uint32_t conn) = 0;
    /// Snapshot for the time series.
    virtual pool_counts counts() const = 0;
    /// The acquire timeout in seconds (infinity if none), for reports and theory.
    virtual double acquire_timeout() const = 0;
    /// The configured maximum number of connections (for utilisation of the maximum).
    virtual double max_size() const = 0;
    /// Also record this pool's measurements into `m` (per-named-pool metrics); may be null.
    virtual void set_secondary_metrics(pool_metrics* m) = 0;
};

/// Common machinery for policies. Timer kind 0 is reserved for acquire timeouts.
class pool_base : public pool_policy {
public:
    pool_base(pool_host& host, std::uint32_t index, pool_metrics& metrics, sim::random_stream rng)
        : host_(host), sim_(host.simulation()), index_(index), m_(metrics), rng_(std::move(rng)) {}

    void on_timer(std::uint32_t kind, std::uint32_t arg) override;
    /// Removes a request from the waiter queue (and cancels its acquire timeout); false if
    /// it is not queued. A policy that keeps more per-request state extends it.
    bool cancel_acquire(std::uint32_t req) override;
    void on_server_closed(std::uint32_t) override {}
    pool_counts counts() const override { return n_; }
    void set_secondary_metrics(pool_metrics* m) override { m2_ = m; }

protected:
    static constexpr std::uint32_t timer_wait_timeout = 0;
    enum class idle_order : std::uint8_t { fifo, lifo };

    /// Policy timers other than the acquire timeout.
    virtual void on_policy_timer(std::uint32_t kind, std::uint32_t arg) = 0;
    /// The acquire timeout of a waiter fired (it was already removed from the queue).
    virtual void on_waiter_timeout(std::uint32_t req) { fail(req, fail_reason::acquire_timeout); }

    double now() const { return sim_.now(); }

    // ---- connections -------------------------------------------------------------------
    /// Allocate a slot in state `creating` and start its login (bounded by `b`).
    std::uint32_t open_connection(login_bounds b = {});
    /// Give up login c in progress: the world closes its socket, the slot is freed (not
    /// counted as a connection error: the pool chose to stop waiting).
    void abandon_login(std::uint32_t c);
    /// Mark a login as finished successfully (state becomes in_use-less "limbo": the caller
    /// immediately hands it out or makes it idle).
    void connection_opened(std::uint32_t c);
    /// A login failed: release the slot (counts a connection error).
    void connection_failed(std::uint32_t c);
    /// Close an open connection (any state but free/creating) for `why`.
    void close(std::uint32_t c, close_reason why);
    /// Hand connection c to request req (state in_use).
    void grant(std::uint32_t req, std::uint32_t c);
    void fail(std::uint32_t req, fail_reason why) { host_.fail(index_, req, why); }
    /// Start a round trip on c; `tag` is remembered in connection.check_tag.
    void start_round_trip(std::uint32_t c, std::uint32_t tag, std::uint32_t holder = npos32,
                          double timeout_s = std::numeric_limits<double>::infinity());
    connection& conn(std::uint32_t c) { return conns_[c]; }

    // ---- idle list ---------------------------------------------------------------------
    /// Make c idle: at the front (popped next) or at the back.
    void push_idle_front(std::uint32_t c);
    void push_idle_back(std::uint32_t c);
    /// Remove and return the front idle connection (npos32 if none).
    std::uint32_t pop_idle_front();
    std::uint32_t pop_idle_back();
    /// Remove a specific idle connection from the list (state becomes `to`).
    void unlink_idle(std::uint32_t c, conn_state to);
    std::uint32_t idle_front() const { return idle_head_; }
    std::uint32_t idle_back() const { return idle_tail_; }
    std::uint32_t idle_next(std::uint32_t c) const { return conns_[c].next; }

    // ---- waiters (FIFO, O(1) removal) ----------------------------------------------------
    /// Append req to the waiter queue with an acquire timeout (infinite = none).
    void enqueue_waiter(std::uint32_t req, double timeout_s);
    /// Put a request back at the head (it keeps its existing deadline).
    void requeue_waiter_front(std::uint32_t req);
    /// Remove and return the head waiter (npos32 if none); its timeout is cancelled.
    std::uint32_t pop_waiter();
    /// Remove and return the head waiter but keep its timeout running.
    std::uint32_t pop_waiter_keep_timer();
    /// Cancel a waiter's deadline timer (after it got a connection).
    void cancel_wait_timer(std::uint32_t req) {
        if (req < w_.size()) sim_.cancel(w_[req].timer);
    }
    std::uint32_t waiter_count() const { return n_.waiters; }
    /// The head (longest-waiting) waiter, npos32 if none; the next one after req.
    std::uint32_t waiter_front() const { return w_head_; }
    std::uint32_t waiter_next(std::uint32_t req) const { return w_[req].next; }
    /// The request's acquire deadline, kept per request id for the policy (which sets it when
    /// the request asks and reads it while the request waits or retries).
    double& deadline_of(std::uint32_t req) {
        ensure_waiter_capacity(req);
        return w_[req].deadline;
    }

    /// Apply f to every metrics object this pool records into (fleet totals, named pool).
    template <class F>
    void record_metrics(F&& f) {
        f(m_);
        if (m2_) f(*m2_);
    }

    pool_host& host_;
    sim::simulation& sim_;  // the host's (asked once: no virtual call per use)
    std::uint32_t index_;
    pool_metrics& m_;
    pool_metrics* m2_ = nullptr;
    sim::random_stream rng_;
    pool_counts n_;

private:
    void set_state(connection& k, conn_state to);
    // Inline: every acquire asks (deadline_of); the table grows out of line, rarely.
    void ensure_waiter_capacity(std::uint32_t req) {
        if (req >= w_.size()) [[unlikely]] grow_waiters(req);
    }
    void grow_waiters(std::uint32_t req);
    void unlink_waiter(std::uint32_t req);

    sim::slot_table<connection> conns_{1u << 24, "more than 2^24 connections in one pool"};
    std::uint32_t idle_head_ = npos32, idle_tail_ = npos32;
    struct waiter_links {
        std::uint32_t prev = npos32, next = npos32;
        bool queued = false;
        sim::timer_handle timer;
        double deadline = 0;  // deadline_of
    };
    std::vector<waiter_links> w_;
    std::uint32_t w_head_ = npos32, w_tail_ = npos32;
};

/// A pooler tier (PgBouncer) between the application pools and the database. Its clients are
/// the application pools' connections: their logins go to the pooler, and every transaction
/// needs one of the pooler's server connections for its duration (transaction pooling), or
/// every client connection one for its life (session pooling).
class pooler_policy : public pool_base {
public:
    using pool_base::pool_base;
    /// Application pool `app_pool` belongs to instance `instance` and is the named pool
    /// `named_pool` ("" without named pools): the pooler picks the pool its connections log in
    /// to (PgBouncer: a (database, user) pair). Called once per application pool, before start.
    virtual void route(std::uint32_t app_pool, int instance, const std::string& named_pool) = 0;
    /// An application connection of `app_pool` logs in to the pooler: false = refused
    /// (max_client_conn).
    virtual bool admit_client(std::uint32_t app_pool) = 0;
    /// An application connection of `app_pool` to the pooler closed; `server` is the server
    /// linked to it (session pooling), npos32 if none.
    virtual void client_left(std::uint32_t app_pool, std::uint32_t server) = 0;
    /// A transaction on a connection of `app_pool` needs a server (then as acquire).
    virtual void acquire_from(std::uint32_t app_pool, std::uint32_t req) = 0;
    /// Session pooling: a server stays linked to a client connection from its first query
    /// until that connection closes; the world keeps the link and skips the pooler for the
    /// connection's later transactions.
    virtual bool session_pooling() const = 0;
    /// How long an application connection's login to the pooler takes.
    virtual const distribution& client_connect_time() const = 0;
    virtual std::uint32_t clients() const = 0;
    virtual std::uint32_t peak_clients() const = 0;
    virtual std::uint64_t rejected_clients() const = 0;
};

}  // namespace dbpoolsim::models
