// node-postgres's pg.Pool. Source read: brianc/node-postgres packages/pg-pool/index.js of
// pg-pool 3.14.0 (Pool.connect, newClient, _afterConnect, _acquireClient, _release, _remove,
// _pulseQueue, _isFull, _isAboveMin, makeIdleListener) and packages/pg/lib/client.js of pg
// 8.23.0 (Client.end). docs/pools/node-postgres.md is the chapter with every rule.
//
// How the world is mapped:
//   - `_clients` is clients_: logins in progress, idle and checked-out clients; a client being
//     removed has already left it but keeps its connection-table slot (state `checking`) until
//     its `end` completes: one round trip (Terminate, the server's close), or at once when the
//     socket is known dead;
//   - the pending queue is pool_base's FIFO waiter list; connectionTimeoutMillis is its kind-0
//     timer. A queued request served by a new login keeps that timer running (pg-pool clears
//     it only when the request's callback runs), so it can time out during the login;
//   - process.nextTick's pulse is a zero-delay timer (it runs after everything already
//     scheduled for the instant);
//   - newClient's connectionTimeoutMillis timer is the login's bound (login_bounds::login_s):
//     the world closes the socket then and answers timed_out;
//   - the idle listener is on_server_closed: the world tells the pool when the server closes
//     an idle client (a reset or FATAL reaches it half a round trip later).
//
// Deviations (the world cannot express them yet):
//   - `pool.query` releases a client with the query's error, which removes it; the world tells
//     the pool only about connections that broke (on_broken_in_use), not about SQL errors
//     (a statement timeout), so those clients are kept;
//   - a removal's round trip is counted in round_trips.
#include "models/pool/node_postgres.hpp"

#include <algorithm>

#include "models/pool/registry.hpp"

namespace dbpoolsim::models {
namespace {

class node_pool final : public pool_base {
public:
    node_pool(const node_postgres_params& p, pool_host& host, std::uint32_t index,
              pool_metrics& metrics, sim::random_stream rng)
        : pool_base(host, index, metrics, std::move(rng)),
          max_(static_cast<std::uint32_t>(p.max)),
          min_(static_cast<std::uint32_t>(p.min)),
          idle_(static_cast<double>(p.idleTimeoutMillis) / 1000),
          timeout_(p.connectionTimeoutMillis > 0 ? static_cast<double>(p.connectionTimeoutMillis) / 1000
                                                 : sim::infinity),
          max_uses_(p.maxUses > 0 ? static_cast<std::uint64_t>(p.maxUses) : 0),
          lifetime_(p.maxLifetimeSeconds),
          release_with_error_(p.release_with_error) {}

    /// The Pool constructor opens nothing (`min` only keeps idle clients from being removed).
    void start() override {}

    /// Pool.connect.
    void acquire(std::uint32_t req) override {
        request& r = rq(req);
        r = request{};
        if (clients_ >= max_ || n_.idle > 0) {
            // Idle clients: pulse on the next tick, so the queue's head is served first.
            if (n_.idle > 0) host_.pool_now(index_, timer_pulse, 0);
            r.ph = phase::queued;
            enqueue_waiter(req, timeout_);
            return;
        }
        new_client(req);
    }

    /// client.release() -> Pool._release with no error.
    void release(std::uint32_t c) override {
        connection& k = conn(c);
        ext& e = ex(c);
        // _poolUseCount is the grant count (pool_base counts uses at each grant).
        if (k.broken) {
            remove(c, close_reason::broken);  // no longer queryable
            return;
        }
        if (max_uses_ > 0 && k.uses >= max_uses_) {
            remove(c, close_reason::lifetime);  // "remove expended client"
            return;
        }
        if (e.expired) {
            remove(c, close_reason::lifetime);  // "remove expired client"
            return;
        }
        // For speed, the idle timer is re-armable (sim/event_queue.hpp): pulse disarms it and
        // this re-arms it on the same heap entry, rather than a cancel and a new timer per
        // checkout (a stale 10 s heap entry each). The same instants and order.
        if (idle_ > 0 && clients_ > min_) {
            e.idle_due = now() + idle_;
            if (!sim_.rearm(e.idle_timer, e.idle_due)) e.idle_timer = host_.pool_rearmable_timer(index_, e.idle_due, timer_idle, c);
        }
        k.last_returned_at = now();
        push_idle_back(c);
        pulse();
    }

    /// client.connect's callback; a login past connectionTimeoutMillis ends timed_out (its
    /// socket destroyed: "Connection terminated due to connection timeout").
    void on_connect_done(std::uint32_t c, login_outcome how) override {
        const bool ok = how == login_outcome::ok;
        ext& e = ex(c);
        const std::uint32_t req = e.req;
        e.req = npos32;
        if (!ok) {
            connection_failed(c);
            login_failed(req);
            return;
        }
        connection_opened(c);
        // _afterConnect: the lifetime timer from the end of the login, no jitter.
        if (lifetime_ > 0) e.life_timer = host_.pool_timer(index_, now() + lifetime_, timer_lifetime, c);
        acquire_client(c, req);
    }

    /// An SQL error on a sound client. pool.query (pg-pool index.js, Pool.query) calls
    /// client.release(err) with the query's error, and Pool._release removes a client released
    /// with an error (`if (err || ...) return this._remove(client, this._pulseQueue...)`):
    /// counted as closed broken, like a client removed after a failed query. Without
    /// release_with_error the application releases it plainly (client.release()) and it stays.
    void release_after_error(std::uint32_t c, std::uint32_t queries) override {
        if (!release_with_error_) return pool_base::release(c, queries);
        remove(c, close_reason::broken);
    }

    void on_round_trip_done(std::uint32_t c, bool) override {
        // The `end` of a removed client: the server closed its side (or the socket failed).
        DBPOOLSIM_ASSERT(conn(c).check_tag == tag_end, "node_postgres: round trip with an unknown tag");
        ext& e = ex(c);
        pool_base::close(c, e.why);
        if (e.pulse_after_end) pulse();
    }

    void on_broken_in_use(std::uint32_t c) override {
        // The query's error: client.release(err) removes it; its socket is dead.
        conn(c).broken = true;
        remove(c, close_reason::broken);
    }

    /// makeIdleListener: the server closed an idle client ("Connection terminated
    /// unexpectedly", or a FATAL): _remove(client) at once, with no pulse, and pool.emit('error').
    void on_server_closed(std::uint32_t c) override {
        if (conn(c).state != conn_state::idle) return;  // in use: its query's error handles it
        conn(c).broken = true;
        remove(c, close_reason::broken, false);
    }

    /// pg-pool has no way to take back a pending connect() (a promise is not cancellable):
    /// the acquire ends as usual, with a client or an error.
    bool cancel_acquire(std::uint32_t) override { return false; }

    /// Kind 0 is the queued request's connectionTimeoutMillis timer.
    void on_timer(std::uint32_t kind, std::uint32_t arg) override {
        if (kind != timer_wait_timeout) {
            pool_base::on_timer(kind, arg);
            return;
        }
        const std::uint32_t req = arg;
        request& r = rq(req);
        if (r.ph == phase::queued) {
            r.ph = phase::none;
            pool_base::on_timer(kind, req);  // removed from the queue, fails: acquire_timeout
            return;
        }
        // Served by a login still in progress: pendingItem.timedOut; the client will be
        // released straight back when the login completes.
        DBPOOLSIM_ASSERT(r.ph == phase::logging_in, "node_postgres: queue timeout of a request not waiting");
        cancel_wait_timer(req);  // clears pool_base's handle (the timer has fired)
        ex(r.conn).req = npos32;
        r = request{};
        fail(req, fail_reason::acquire_timeout);
    }

    double acquire_timeout() const override { return timeout_; }
    double max_size() const override { return max_; }

private:
    static constexpr std::uint32_t timer_pulse = 1, timer_idle = 2, timer_lifetime = 3;
    static constexpr std::uint32_t tag_end = 1;

    enum class phase : std::uint8_t { none, queued, logging_in };
    struct request {
        phase ph = phase::none;
        std::uint32_t conn = npos32;  // the login started for it
    };
    struct ext {
        std::uint32_t req = npos32;   // the pending item this login answers (npos32: timed out)
        bool expired = false;         // in _expired
        bool pulse_after_end = false;
        close_reason why = close_reason::idle;
        sim::timer_handle life_timer;
        sim::rearmable_handle idle_timer;  // idleTimeoutMillis's timer (re-armable: see release)
        double idle_due = 0;          // the time it was armed for
    };

    request& rq(std::uint32_t id) {
        if (id >= reqs_.size()) reqs_.resize(std::max<std::size_t>(id + 1, reqs_.size() * 2));
        return reqs_[id];
    }
    ext& ex(std::uint32_t c) {
        if (c >= exts_.size()) exts_.resize(std::max<std::size_t>(c + 1, exts_.size() * 2));
        return exts_[c];
    }

    /// Pool.newClient for pending item `req` (npos32: none).
    void new_client(std::uint32_t req) {
        ++clients_;
        const std::uint32_t c = open_connection(login_bounds{sim::infinity, timeout_});
        ext& e = ex(c);
        e = ext{};
        e.req = req;
        if (req != npos32) {
            request& r = rq(req);
            r.ph = phase::logging_in;
            r.conn = c;
        }
    }

    /// client.connect's callback with an error: out of _clients, pulse, then the callback.
    void login_failed(std::uint32_t req) {
        --clients_;
        pulse();
        if (req == npos32) return;  // the pending item had timed out
        cancel_wait_timer(req);
        rq(req) = request{};
        fail(req, fail_reason::connect_error);
    }

    /// Pool._acquireClient: the pending item gets the client, or it timed out and the client
    /// is released straight back.
    void acquire_client(std::uint32_t c, std::uint32_t req) {
        if (req == npos32) {
            ++conn(c).uses;  // the internal acquire counts a use, as _release does
            release(c);
            return;
        }
        cancel_wait_timer(req);  // queueCallback: clearTimeout(tid)
        rq(req) = request{};
        grant(req, c);
    }

    /// Pool._pulseQueue: serve the head of the queue, at most one.
    void pulse() {
        if (waiter_count() == 0) return;
        if (n_.idle == 0 && clients_ >= max_) return;
        if (n_.idle > 0) {
            const std::uint32_t req = pop_waiter();  // its timer is cleared by queueCallback
            const std::uint32_t c = idle_back();     // _idle.pop(): the most recently released
            sim_.disarm(ex(c).idle_timer, ex(c).idle_due);  // clearTimeout(idleItem.timeoutId)
            rq(req) = request{};
            grant(req, c);
            return;
        }
        new_client(pop_waiter_keep_timer());
    }

    /// Pool._remove: out of _idle and _clients at once, then client.end(); `pulse_after` is
    /// the callback that pulses the queue once the socket has ended.
    void remove(std::uint32_t c, close_reason why, bool pulse_after = true) {
        connection& k = conn(c);
        ext& e = ex(c);
        sim_.cancel(e.idle_timer);
        sim_.cancel(e.life_timer);
        --clients_;
        if (k.broken) {  // a destroyed socket ends at once
            pool_base::close(c, why);
            if (pulse_after) pulse();
            return;
        }
        e.why = why;
        e.pulse_after_end = pulse_after;
        start_round_trip(c, tag_end);
    }

    void on_idle_timeout(std::uint32_t c) {
        ex(c).idle_timer = {};
        if (clients_ > min_) remove(c, close_reason::idle);  // re-checked when the timer fires
    }

    /// _afterConnect's lifetime timer: marked expired; an idle client is acquired and released
    /// at once (so removed now), a checked-out one at its release.
    void on_lifetime(std::uint32_t c) {
        ext& e = ex(c);
        e.life_timer = {};
        e.expired = true;
        if (conn(c).state != conn_state::idle) return;
        unlink_idle(c, conn_state::in_use);
        sim_.cancel(ex(c).idle_timer);
        remove(c, close_reason::lifetime);
    }

    void on_policy_timer(std::uint32_t kind, std::uint32_t arg) override {
        switch (kind) {
            case timer_pulse: pulse(); break;
            case timer_idle: on_idle_timeout(arg); break;
            case timer_lifetime: on_lifetime(arg); break;
            default: DBPOOLSIM_ASSERT(false, "node_postgres: unknown timer kind");
        }
    }

    std::uint32_t max_, min_;
    double idle_, timeout_;
    std::uint64_t max_uses_;
    double lifetime_;
    bool release_with_error_;
    std::uint32_t clients_ = 0;  // _clients.length
    std::vector<request> reqs_;
    std::vector<ext> exts_;
};

// ---- registry entry ---------------------------------------------------------------------------

using P = node_postgres_params;

const detail::field_table<P>& node_fields() {
    using namespace detail;
    constexpr double ms_max = 2147483647;  // setTimeout's largest delay
    static const field_table<P> t = {
        make_field<&P::max>("max", between(1, 1 << 24)),
        make_field<&P::min>("min", between(0, 1 << 24)),
        make_field<&P::idleTimeoutMillis>("idleTimeoutMillis", between(0, ms_max)),
        make_field<&P::connectionTimeoutMillis>("connectionTimeoutMillis", between(0, ms_max)),
        make_field<&P::maxUses>("maxUses", between(0, 9007199254740991.0)),
        make_field<&P::maxLifetimeSeconds>("maxLifetimeSeconds", between(0, ms_max / 1000)),
        make_field<&P::release_with_error>("release_with_error"),
    };
    return t;
}

void node_cross(const P& p, const std::string& path, detail::problems& out) {
    if (p.min > p.max)
        out.add(path + "/min", "must be <= max (" + std::to_string(p.max) + "), got " + std::to_string(p.min));
}

}  // namespace

std::unique_ptr<pool_policy> make_node_postgres_pool(const node_postgres_params& p, pool_host& host,
                                                     std::uint32_t index, pool_metrics& metrics,
                                                     sim::random_stream rng) {
    return std::make_unique<node_pool>(p, host, index, metrics, std::move(rng));
}

namespace detail {
const pool_kind& node_postgres_pool_kind() {
    static const pool_kind k = table_pool_kind<P, node_fields, make_node_postgres_pool, node_cross, nullptr, true>(
        "node_postgres",
        "node-postgres pg.Pool (pg-pool 3.14): max 10, one login per request in parallel, FIFO "
        "queue, LIFO idle, 10 s idle timer, no acquire timeout by default "
        "(docs/pools/node-postgres.md)");
    return k;
}
}  // namespace detail

}  // namespace dbpoolsim::models
