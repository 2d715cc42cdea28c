// Go's database/sql pool. Source read: golang/go src/database/sql/sql.go at 01988dc5 (Go 1.23+:
// DB.conn, DB.retry, DB.putConn, DB.putConnDBLocked, DB.maybeOpenNewConnections,
// DB.connectionOpener / openNewConnection, DB.startCleanerLocked, DB.connectionCleaner,
// DB.connectionCleanerRunLocked, driverConn.expired / validateConnection / resetSession,
// connRequestSet.Add / Delete / TakeRandom); jackc/pgx v5 stdlib/sql.go (Conn.ResetSession:
// ErrBadConn when closed, a ping when the previous reset is more than 1 s ago; no IsValid);
// lib/pq conn.go (ResetSession and IsValid report the connection's recorded error, no ping).
// docs/pools/go-database-sql.md is the chapter with every rule and the version history.
//
// How the world is mapped:
//   - numOpen is num_open_: open connections, inline logins and the opener's queued logins;
//   - the waiter set is this policy's own array (connRequestSet: append, swap-delete, a
//     uniform pick from the policy's stream `pool/<i>`); pool_base's FIFO list is not used;
//   - the caller's context (context_timeout) is the pool's kind-0 timer, armed at acquire for
//     the whole DB.conn loop: the wait, an inline login (abandoned: its socket closes) and a
//     reset ping;
//   - client.deadline_s is the caller's context deadline too: at it the world calls
//     cancel_acquire (the same exits, counted as deadline_exceeded);
//   - the drivers do not read idle sockets: a server-side close (on_server_closed) is ignored,
//     and the next ResetSession ping (pgx) or query finds it;
//   - a connection the world reports broken in use (on_broken_in_use) is a query that failed
//     after it was sent: putConn with that error. pgx keeps it (no driver.Validator) and its next
//     user's ResetSession finds it closed; lib/pq's IsValid discards it at the return.
//
// Deviations (the world cannot express them yet):
//   - a ping interrupted by the context closes its connection when the world answers (pgx
//     closes it at once);
//   - lib/pq turns a query on a connection the server closed into driver.ErrBadConn, which
//     DB.retry retries on another connection; the world fails that request (query_error);
//   - after the third try a driver.ErrBadConn reaches the caller; it is counted as query_error.
#include "models/pool/go_database_sql.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "models/pool/go_map.hpp"

#include "models/pool/registry.hpp"

namespace dbpoolsim::models {
namespace {

constexpr int max_bad_conn_retries = 2;  // sql.go maxBadConnRetries
constexpr double cleaner_min_interval_s = 1;  // connectionCleaner's minInterval
constexpr double pgx_ping_after_s = 1;  // pgx stdlib ResetSession: ping if the last reset is older

class go_pool final : public pool_base {
public:
    go_pool(const go_database_sql_params& p, pool_host& host, std::uint32_t index,
            pool_metrics& metrics, sim::random_stream rng)
        : pool_base(host, index, metrics, std::move(rng)),
          max_open_(static_cast<std::uint32_t>(p.max_open_conns)),
          max_idle_(static_cast<std::uint32_t>(p.max_idle_conns)),
          lifetime_(p.conn_max_lifetime),
          idle_time_(p.conn_max_idle_time),
          ctx_(p.context_timeout > 0 ? p.context_timeout : sim::infinity),
          random_(p.waiter_order != "fifo"),
          pgx_(p.driver == "pgx") {
        if (p.waiter_order == "map") map_.emplace(rng_);  // sql.OpenDB: make(map[uint64]chan connRequest)
    }

    /// sql.OpenDB starts the opener goroutine and opens nothing.
    void start() override {}

    void acquire(std::uint32_t req) override {
        request& r = rq(req);
        r = request{};
        if (ctx_ < sim::infinity) r.deadline = host_.pool_timer(index_, now() + ctx_, timer_wait_timeout, req);
        try_conn(req);
    }

    /// DB.putConn(dc, nil, true).
    void release(std::uint32_t c) override {
        connection& k = conn(c);
        ext& e = ex(c);
        // validateConnection: needReset for the next user; lib/pq's IsValid reports a dead one.
        e.need_reset = true;
        close_reason bad = close_reason::count_;
        if (!pgx_ && k.broken) bad = close_reason::broken;
        else if (expired(k)) bad = close_reason::lifetime;
        if (bad != close_reason::count_) {
            // ErrBadConn: maybeOpenNewConnections, then dc.Close (finalClose opens again).
            maybe_open();
            close_conn(c, bad);
            return;
        }
        k.last_returned_at = now();
        if (!put_conn_locked(c)) close_conn(c, close_reason::overflow);  // maxIdleClosed
    }

    void on_connect_done(std::uint32_t c, login_outcome how) override {
        const bool ok = how == login_outcome::ok;
        ext& e = ex(c);
        switch (e.who) {
            case owner::request: {
                const std::uint32_t req = e.req;
                request& r = rq(req);
                r.conn = npos32;
                if (ok) {
                    connection_opened(c);
                    e.need_reset = false;
                    granted(req, c);  // a new connection is not reset
                    return;
                }
                // DB.conn: numOpen--, maybeOpenNewConnections, the error to the caller (no retry).
                connection_failed(c);
                --num_open_;
                maybe_open();
                finish(req);
                fail(req, fail_reason::connect_error);
                return;
            }
            case owner::opener:
                opener_busy_ = false;
                if (ok) {
                    // openNewConnection: putConnDBLocked(dc, nil), else numOpen-- and close.
                    connection_opened(c);
                    e.need_reset = false;
                    if (!put_conn_locked(c)) {
                        push_idle_back(c);
                        pool_base::close(c, close_reason::overflow);
                        --num_open_;
                    }
                } else {
                    // numOpen--, putConnDBLocked(nil, err): a random waiter gets the error;
                    // maybeOpenNewConnections: the next login starts at once, no backoff.
                    connection_failed(c);
                    --num_open_;
                    const std::uint32_t req = take_waiter();
                    if (req != npos32) {
                        finish(req);
                        fail(req, fail_reason::connect_error);
                    }
                    maybe_open();
                }
                run_opener();
                return;
        }
    }

    void on_round_trip_done(std::uint32_t c, bool ok) override {
        connection& k = conn(c);
        if (k.check_tag == tag_ghost) {  // the context ended during the ping
            close_conn(c, close_reason::broken);
            return;
        }
        DBPOOLSIM_ASSERT(k.check_tag == tag_reset_ping, "go_database_sql: round trip with an unknown tag");
        const std::uint32_t req = k.holder;
        if (ok && !k.broken) {
            granted(req, c);
            return;
        }
        // pgx ResetSession: a failed ping is driver.ErrBadConn: closed, and DB.retry tries again.
        close_conn(c, close_reason::broken);
        bad_conn(req);
    }

    void on_broken_in_use(std::uint32_t c) override {
        // The query failed after it was sent: putConn with that (non-ErrBadConn) error. pgconn
        // has marked the connection closed.
        conn(c).broken = true;
        release(c);
    }

    /// The caller's context is cancelled (client patience): the same exits as a deadline,
    /// without a failure. False if the request is not acquiring.
    bool cancel_acquire(std::uint32_t req) override { return drop(req); }
    /// The request's context carries the caller's deadline (client.deadline_s): DB.conn's
    /// select on ctx.Done() ends the wait (sql.go DB.conn), like context_timeout.
    bool caller_deadline_cancels_acquire() const override { return true; }

    /// Kind 0 is the caller's context deadline (armed in acquire for the whole DB.conn loop).
    void on_timer(std::uint32_t kind, std::uint32_t arg) override {
        if (kind == timer_wait_timeout) {
            context_done(arg);
            return;
        }
        pool_base::on_timer(kind, arg);
    }

    double acquire_timeout() const override { return ctx_; }
    double max_size() const override { return max_open_ > 0 ? double(max_open_) : sim::infinity; }

private:
    static constexpr std::uint32_t timer_cleaner = 1;
    static constexpr std::uint32_t tag_reset_ping = 1, tag_ghost = 2;

    enum class phase : std::uint8_t { none, waiting, connecting, resetting };
    enum class owner : std::uint8_t { request, opener };

    struct request {
        phase ph = phase::none;
        std::uint8_t tries = 0;        // DB.retry: tries that ended in driver.ErrBadConn
        std::uint32_t pos = npos32;    // index in waiters_ while waiting
        std::uint64_t key = 0;         // its connRequests key (waiter_order "map")
        std::uint32_t conn = npos32;   // inline login or connection being reset
        sim::timer_handle deadline;
    };
    /// driverConn fields beyond pool_base's connection.
    struct ext {
        owner who = owner::request;
        std::uint32_t req = npos32;    // the request logging in inline
        bool need_reset = false;       // driverConn.needReset
        double last_reset = -sim::infinity;  // pgx Conn.lastResetSessionTime
    };

    request& rq(std::uint32_t id) {
        if (id >= reqs_.size()) reqs_.resize(std::max<std::size_t>(id + 1, reqs_.size() * 2));
        return reqs_[id];
    }
    ext& ex(std::uint32_t c) {
        if (c >= exts_.size()) exts_.resize(std::max<std::size_t>(c + 1, exts_.size() * 2));
        return exts_[c];
    }

    /// driverConn.expired: createdAt + maxLifetime before now (strictly).
    bool expired(const connection& k) const { return lifetime_ > 0 && k.created_at + lifetime_ < now(); }

    // ---- DB.conn ------------------------------------------------------------------------------
    void try_conn(std::uint32_t req) {
        request& r = rq(req);
        const bool cached = r.tries < max_bad_conn_retries;  // else alwaysNewConn
        if (cached) {
            // The last element of freeConn: the most recently returned.
            const std::uint32_t c = pop_idle_back();
            if (c != npos32) {
                if (expired(conn(c))) {
                    close_conn(c, close_reason::lifetime);  // maxLifetimeClosed, ErrBadConn
                    bad_conn(req);
                    return;
                }
                reset_session(req, c);
                return;
            }
        }
        if (max_open_ > 0 && num_open_ >= max_open_) {
            add_waiter(req);  // connRequests.Add; waitCount++
            return;
        }
        // Open inline, in the caller's goroutine, under its context: numOpen++ first.
        ++num_open_;
        r.ph = phase::connecting;
        const std::uint32_t c = open_connection();
        ex(c) = ext{owner::request, req};
        r.conn = c;
    }

    /// driverConn.resetSession before a reuse, then the connection is the caller's.
    void reset_session(std::uint32_t req, std::uint32_t c) {
        ext& e = ex(c);
        if (!e.need_reset) {
            granted(req, c);
            return;
        }
        e.need_reset = false;
        if (conn(c).broken) {  // the driver knows it is closed: ErrBadConn, no round trip
            close_conn(c, close_reason::broken);
            bad_conn(req);
            return;
        }
        const bool ping = pgx_ && now() - e.last_reset > pgx_ping_after_s;
        e.last_reset = now();
        if (!ping) {
            granted(req, c);
            return;
        }
        request& r = rq(req);
        r.ph = phase::resetting;
        r.conn = c;
        start_round_trip(c, tag_reset_ping, req);
    }

    /// DB.retry: a try ended in driver.ErrBadConn; the next try starts at once.
    void bad_conn(std::uint32_t req) {
        request& r = rq(req);
        r.ph = phase::none;
        r.conn = npos32;
        if (++r.tries > max_bad_conn_retries) {  // the alwaysNewConn try failed too
            finish(req);
            fail(req, fail_reason::query_error);
            return;
        }
        try_conn(req);
    }

    void granted(std::uint32_t req, std::uint32_t c) {
        finish(req);
        grant(req, c);
    }

    void finish(std::uint32_t req) {
        request& r = rq(req);
        r.ph = phase::none;
        r.conn = npos32;
        sim_.cancel(r.deadline);
    }

    /// A waiter receives a connection (from a return or the opener).
    void deliver(std::uint32_t req, std::uint32_t c) {
        // DB.conn: the lifetime is checked for cachedOrNewConn only.
        if (rq(req).tries < max_bad_conn_retries && expired(conn(c))) {
            close_conn(c, close_reason::lifetime);
            bad_conn(req);
            return;
        }
        reset_session(req, c);
    }

    /// The caller's context ended.
    void context_done(std::uint32_t req) {
        rq(req).deadline = {};
        [[maybe_unused]] const bool acquiring = drop(req);
        DBPOOLSIM_ASSERT(acquiring, "go_database_sql: deadline of a request not acquiring");
        fail(req, fail_reason::acquire_timeout);
    }

    /// DB.conn returns ctx.Err() wherever it is: false if the request is not acquiring.
    bool drop(std::uint32_t req) {
        request& r = rq(req);
        sim_.cancel(r.deadline);
        switch (r.ph) {
            case phase::waiting: remove_waiter(req); break;  // connRequests.Delete
            case phase::connecting:
                // Connect(ctx) returns the context's error (the dial is cancelled, its socket
                // closed): numOpen--, maybeOpenNewConnections.
                abandon_login(r.conn);
                --num_open_;
                maybe_open();
                break;
            case phase::resetting:
                conn(r.conn).check_tag = tag_ghost;
                conn(r.conn).holder = npos32;
                break;
            case phase::none: return false;
        }
        r.ph = phase::none;
        r.conn = npos32;
        return true;
    }

    // ---- return, close, open ---------------------------------------------------------------------
    /// DB.putConnDBLocked(dc, nil): to a waiter, else idle below maxIdle; false = close it.
    bool put_conn_locked(std::uint32_t c) {
        if (max_open_ > 0 && num_open_ > max_open_) return false;
        const std::uint32_t req = take_waiter();
        if (req != npos32) {
            deliver(req, c);
            return true;
        }
        if (n_.idle < max_idle_) {
            push_idle_back(c);  // freeConn = append(freeConn, dc): ordered by returnedAt
            start_cleaner();
            return true;
        }
        return false;
    }

    /// dc.Close -> finalClose: numOpen--, maybeOpenNewConnections.
    void close_conn(std::uint32_t c, close_reason why) {
        pool_base::close(c, why);
        --num_open_;
        maybe_open();
    }

    /// DB.maybeOpenNewConnections: one queued login per waiter, within maxOpen.
    void maybe_open() {
        std::uint32_t n = static_cast<std::uint32_t>(waiters_.size());
        if (max_open_ > 0) n = std::min(n, max_open_ > num_open_ ? max_open_ - num_open_ : 0u);
        num_open_ += n;
        pending_opens_ += n;
        run_opener();
    }

    /// The connectionOpener goroutine: one openNewConnection at a time.
    void run_opener() {
        if (opener_busy_ || pending_opens_ == 0) return;
        --pending_opens_;
        opener_busy_ = true;
        const std::uint32_t c = open_connection();
        ex(c) = ext{owner::opener};
    }

    // ---- the waiter set (connRequestSet) ---------------------------------------------------------
    void add_waiter(std::uint32_t req) {
        request& r = rq(req);
        r.ph = phase::waiting;
        r.pos = static_cast<std::uint32_t>(waiters_.size());
        waiters_.push_back(req);
        if (map_) map_->insert(r.key = next_key_++, req);  // db.nextRequestKeyLocked()
        waiters_changed(+1);
    }

    /// TakeRandom (uniform; Go >= 1.23), the first key of a range over the map (Go 1.7-1.22,
    /// go_map.hpp), or the head (Go 1.6's slice). npos32 if none.
    std::uint32_t take_waiter() {
        if (waiters_.empty()) return npos32;
        const std::uint32_t i = map_      ? rq(map_->first(rng_)).pos
                                : random_ ? static_cast<std::uint32_t>(rng_.below(waiters_.size()))
                                          : 0;
        const std::uint32_t req = waiters_[i];
        remove_at(i);
        rq(req).ph = phase::none;
        return req;
    }

    void remove_waiter(std::uint32_t req) { remove_at(rq(req).pos); }

    /// connRequestSet.deleteIndex: the last element moves into the hole (random order); the
    /// FIFO order of Go 1.6 keeps the slice in order instead.
    void remove_at(std::uint32_t i) {
        rq(waiters_[i]).pos = npos32;
        if (map_) map_->erase(rq(waiters_[i]).key, rng_);  // delete(db.connRequests, reqKey)
        if (random_) {
            if (i + 1 < waiters_.size()) {
                waiters_[i] = waiters_.back();
                rq(waiters_[i]).pos = i;
            }
            waiters_.pop_back();
        } else {
            waiters_.erase(waiters_.begin() + i);
            for (std::size_t j = i; j < waiters_.size(); ++j) rq(waiters_[j]).pos = static_cast<std::uint32_t>(j);
        }
        waiters_changed(-1);
    }

    void waiters_changed(int d) {
        n_.waiters = static_cast<std::uint32_t>(waiters_.size());
        record_metrics([t = now(), d](pool_metrics& m) { m.waiters.add(t, d); });
    }

    // ---- the cleaner -------------------------------------------------------------------------
    double shortest_idle_time() const {
        if (idle_time_ <= 0) return lifetime_;
        if (lifetime_ <= 0) return idle_time_;
        return std::min(idle_time_, lifetime_);
    }

    /// DB.startCleanerLocked.
    void start_cleaner() {
        if (cleaner_running_ || (lifetime_ <= 0 && idle_time_ <= 0) || num_open_ == 0) return;
        cleaner_running_ = true;
        host_.pool_timer(index_, now() + std::max(shortest_idle_time(), cleaner_min_interval_s), timer_cleaner, 0);
    }

    /// One wake-up of DB.connectionCleaner: connectionCleanerRunLocked, then the closes.
    void cleaner_run() {
        if (num_open_ == 0) {
            cleaner_running_ = false;  // the goroutine exits; the next return to freeConn restarts it
            return;
        }
        double d = shortest_idle_time();
        closing_.clear();
        // Go compares strictly at a timer set to the exact expiry, which fires a little late in
        // real time: "reached" (<=) here (chapter section 7).
        if (idle_time_ > 0) {
            for (std::uint32_t c = idle_front(); c != npos32 && conn(c).last_returned_at + idle_time_ <= now();
                 c = idle_next(c))
                closing_.push_back({c, close_reason::idle});
            const std::size_t skip = closing_.size();
            std::uint32_t first = idle_front();
            for (std::size_t i = 0; i < skip; ++i) first = idle_next(first);
            if (first != npos32) d = std::min(d, conn(first).last_returned_at + idle_time_ - now());
        }
        if (lifetime_ > 0) {
            std::uint32_t c = idle_front();
            for (std::size_t i = 0; i < closing_.size(); ++i) c = idle_next(c);  // the idle prefix
            for (; c != npos32; c = idle_next(c)) {
                if (conn(c).created_at + lifetime_ <= now()) closing_.push_back({c, close_reason::lifetime});
                else d = std::min(d, conn(c).created_at + lifetime_ - now());
            }
        }
        for (const auto& [c, why] : closing_) close_conn(c, why);
        host_.pool_timer(index_, now() + std::max(d, cleaner_min_interval_s), timer_cleaner, 0);
    }

    void on_policy_timer(std::uint32_t kind, std::uint32_t) override {
        DBPOOLSIM_ASSERT(kind == timer_cleaner, "go_database_sql: unknown timer kind");
        cleaner_run();
    }

    std::uint32_t max_open_, max_idle_;
    double lifetime_, idle_time_, ctx_;
    bool random_, pgx_;
    std::uint32_t num_open_ = 0;       // DB.numOpen
    std::uint32_t pending_opens_ = 0;  // messages in openerCh
    bool opener_busy_ = false;
    bool cleaner_running_ = false;
    std::vector<std::uint32_t> waiters_;  // connRequests
    std::optional<go_map> map_;           // connRequests as Go 1.7-1.22's map (waiter_order "map")
    std::uint64_t next_key_ = 0;          // DB.nextRequest
    std::vector<request> reqs_;
    std::vector<ext> exts_;
    std::vector<std::pair<std::uint32_t, close_reason>> closing_;
};

// ---- registry entry ---------------------------------------------------------------------------

using P = go_database_sql_params;

const detail::field_table<P>& go_fields() {
    using namespace detail;
    static const field_table<P> t = {
        make_field<&P::max_open_conns>("max_open_conns", between(0, 1 << 24)).doc("0 = unlimited"),
        make_field<&P::max_idle_conns>("max_idle_conns", between(0, 1 << 24)).doc("0 = keep none"),
        make_field<&P::conn_max_lifetime>("conn_max_lifetime", at_least(0)),
        make_field<&P::conn_max_idle_time>("conn_max_idle_time", at_least(0)),
        make_field<&P::context_timeout>("context_timeout", at_least(0)),
        make_field<&P::waiter_order>("waiter_order").one_of({"random", "fifo", "map"}),
        make_field<&P::driver>("driver").one_of({"pgx", "lib_pq"}),
    };
    return t;
}

/// SetMaxOpenConns / SetMaxIdleConns: maxIdle never exceeds a set maxOpen (a silent reset).
void go_resolve(detail::object_reader&, P& p) {
    if (p.max_open_conns > 0 && p.max_idle_conns > p.max_open_conns) p.max_idle_conns = p.max_open_conns;
}

/// A pool built in C++ holds resolved values.
void go_cross(const P& p, const std::string& path, detail::problems& out) {
    if (p.max_open_conns > 0 && p.max_idle_conns > p.max_open_conns)
        out.add(path + "/max_idle_conns", "must be <= max_open_conns (" + std::to_string(p.max_open_conns) +
                                              ": database/sql lowers a larger value to it), got " +
                                              std::to_string(p.max_idle_conns));
}

}  // namespace

std::unique_ptr<pool_policy> make_go_database_sql_pool(const go_database_sql_params& p,
                                                       pool_host& host, std::uint32_t index,
                                                       pool_metrics& metrics,
                                                       sim::random_stream rng) {
    return std::make_unique<go_pool>(p, host, index, metrics, std::move(rng));
}

namespace detail {
const pool_kind& go_database_sql_pool_kind() {
    static const pool_kind k = table_pool_kind<P, go_fields, make_go_database_sql_pool, go_cross, go_resolve>(
        "go_database_sql",
        "Go database/sql (1.23+): unlimited by default, inline parallel logins, MaxIdleConns 2 "
        "with churn, random waiter order, one background opener, ErrBadConn retry "
        "(docs/pools/go-database-sql.md)");
    return k;
}
}  // namespace detail

}  // namespace dbpoolsim::models
