// SQLAlchemy 2.x QueuePool / AsyncAdaptedQueuePool. See sqlalchemy_queuepool.hpp for the
// rules and ../shared/spec/pool-algorithms.md section 2 for their source. Comments cite the
// SQLAlchemy function each step reproduces (sqlalchemy/sqlalchemy lib/sqlalchemy/...).
#include "models/pool/sqlalchemy_queuepool.hpp"

#include <algorithm>
#include <cmath>
#include <deque>
#include <vector>

#include "models/json_reader.hpp"
#include "models/pool/registry.hpp"

namespace dbpoolsim::models {
namespace {

// A _ConnectionRecord: one slot counted by the pool's overflow counter. It outlives its DBAPI
// connection: invalidation closes the connection and leaves the record (conn = npos32), which
// reconnects at its next checkout (pool/base.py _ConnectionRecord.get_connection).
struct record {
    std::uint32_t conn = npos32;  // its DBAPI connection (pool_base slot), npos32 if none
    double starttime = 0;         // start of its connection's login (_ConnectionRecord.__connect)
    bool fresh = false;           // connected and not yet checked out with pre-ping
    bool connecting_new = false;  // login in flight for a record that _do_get just created
    std::uint32_t req = npos32;   // request it is checked out to (or connecting for)
};

class sqlalchemy_queuepool final : public pool_base {
public:
    sqlalchemy_queuepool(const sqlalchemy_queuepool_params& p, pool_host& host, std::uint32_t index,
                         pool_metrics& metrics, sim::random_stream rng)
        : pool_base(host, index, metrics, std::move(rng)),
          p_(p),
          // QueuePool.__init__: pool_size 0 means no limit at all: max_overflow becomes -1.
          max_overflow_(p.pool_size == 0 ? -1 : p.max_overflow),
          reset_round_trip_(p.pool_reset_on_return != "none" && p.reset_costs_round_trip) {}

    // Lazy pool, no background maintenance (spec 2.5): nothing happens at start.
    void start() override {}

    void acquire(std::uint32_t req) override {
        // The deadline of Queue.get's `endtime`, from this request's own get call (spec 2.7).
        deadline_of(req) = now() + p_.pool_timeout;
        do_get(req);
    }

    // _ConnectionFairy._checkin -> _finalize_fairy: reset, then _ConnectionRecord.checkin.
    void release(std::uint32_t c) override {
        const std::uint32_t r = rec_of_conn_[c];
        recs_[r].req = npos32;
        if (reset_round_trip_) {
            // _ConnectionFairy._reset: dialect do_rollback / do_commit, in the returning
            // caller's thread; the record stays checked out until it is done (spec 2.4 step 1).
            start_round_trip(c, tag_reset);
            return;
        }
        checkin(r);
    }

    void on_connect_done(std::uint32_t c, login_outcome how) override {
        const bool ok = how == login_outcome::ok;
        const std::uint32_t r = rec_of_conn_[c];
        record& rec = recs_[r];
        const std::uint32_t req = rec.req;
        const bool created = rec.connecting_new;
        rec.connecting_new = false;
        if (!ok) {
            connection_failed(c);
            rec.conn = npos32;
            if (created) {
                // QueuePool._do_get: the creator raised -> _dec_overflow(), error to this
                // caller; no retry, no backoff (spec 2.3 step 1.3, 2.8 item 2).
                drop_record(r);
            } else {
                // _ConnectionRecord.checkout / _ConnectionFairy._checkout: get_connection()
                // raised -> _checkin_failed: the record, now without a connection, goes back
                // into the queue (still counted); the error goes to the caller (spec 2.3 step 2).
                rec.req = npos32;
                checkin(r);
            }
            fail(req, fail_reason::connect_error);
            return;
        }
        connection_opened(c);
        rec.conn = c;
        rec.fresh = true;
        if (created) get_connection(req, r);  // _ConnectionRecord.checkout after _do_get
        else fairy_checkout(req, r);          // get_connection returns after __connect
    }

    void on_round_trip_done(std::uint32_t c, bool ok) override {
        connection& k = conn(c);
        ok = ok && !k.broken;
        const std::uint32_t r = rec_of_conn_[c];
        if (!ok) record_metrics([](pool_metrics& m) { ++m.round_trip_failures; });
        if (k.check_tag == tag_ping) {
            const std::uint32_t req = k.holder;
            if (ok) {
                grant(req, c);
                return;
            }
            // _ConnectionFairy._checkout: the ping failed -> InvalidatePoolError: the record is
            // invalidated (connection closed), Pool._invalidate marks every connection older
            // than this one, and get_connection() reconnects inline. The next loop pass sees a
            // fresh connection and skips the ping, so "attempts exhausted" cannot happen with
            // pre-ping alone.
            invalidate_record(r);
            invalidate_pool(r);
            get_connection(req, r);
            return;
        }
        // Reset on return: a failed reset invalidates the record, which is still checked in
        // (_finalize_fairy, spec 2.4 step 1).
        if (!ok) invalidate_record(r);
        checkin(r);
    }

    // A disconnect error under a statement (engine/base.py Connection._handle_dbapi_exception):
    // Pool._invalidate marks the pool generation and invalidates the connection; the
    // application then closes it, which checks the (empty) record back in (spec 2.3 step 4).
    void on_broken_in_use(std::uint32_t c) override {
        const std::uint32_t r = rec_of_conn_[c];
        invalidate_pool(r);
        invalidate_record(r);
        recs_[r].req = npos32;
        checkin(r);
    }

    double acquire_timeout() const override { return p_.pool_timeout; }
    double max_size() const override {
        return max_overflow_ < 0 ? sim::infinity : double(p_.pool_size) + max_overflow_;
    }

private:
    static constexpr std::uint32_t timer_wakeup = 1;
    static constexpr std::uint32_t tag_ping = 1, tag_reset = 2;

    /// QueuePool: `wait = use_overflow and _overflow >= _max_overflow`, with
    /// _overflow = live records - pool_size.
    bool at_limit() const {
        return max_overflow_ > -1 &&
               static_cast<long long>(recs_.live()) - p_.pool_size >= static_cast<long long>(max_overflow_);
    }

    // ---- QueuePool._do_get ------------------------------------------------------------------
    void do_get(std::uint32_t req) {
        // Queue.get, blocking or not, takes an item at once if there is one: whoever reaches
        // the queue first wins, whether or not others are waiting (barging, spec 2.7).
        if (!queue_.empty()) {
            checkout(req, take());
            return;
        }
        if (!at_limit()) {
            // Non-blocking get raised Empty, and the limit is not reached: _inc_overflow() and
            // create inline (spec 2.3 step 1.3). The "lost race -> retry _do_get" branches
            // cannot occur: each event runs atomically.
            create(req);
            return;
        }
        // At pool_size + max_overflow: Queue.get(block=True, timeout=pool_timeout).
        if (p_.pool_timeout <= 0) {
            timed_out(req);  // remaining <= 0 at the first test: Empty at once
            return;
        }
        enqueue_waiter(req, p_.pool_timeout);  // Condition.wait appends to the waiters' tail
    }

    /// Queue._get: FIFO popleft, or LIFO pop (pool_use_lifo).
    std::uint32_t take() {
        std::uint32_t r;
        if (p_.pool_use_lifo) {
            r = queue_.back();
            queue_.pop_back();
        } else {
            r = queue_.front();
            queue_.pop_front();
        }
        if (recs_[r].conn != npos32) unlink_idle(recs_[r].conn, conn_state::checking);
        return r;
    }

    /// Queue.get raised Empty after blocking (deadline reached): QueuePool._do_get re-checks
    /// the limit. Still at it -> TimeoutError ("QueuePool limit of size N overflow M reached,
    /// connection timed out, timeout T", code 3o7r, spec 2.6); below it, because the overflow
    /// dropped meanwhile (a failed login, a closed record) -> create instead (spec 2.3 step 1.3).
    void timed_out(std::uint32_t req) {
        if (at_limit()) fail(req, fail_reason::acquire_timeout);
        else create(req);
    }

    void on_waiter_timeout(std::uint32_t req) override { timed_out(req); }

    /// _inc_overflow() then _create_connection(): a new record connects in the caller's
    /// thread; the login is bound to this request (spec 2.8 item 1).
    void create(std::uint32_t req) {
        const std::uint32_t r = recs_.allocate();
        recs_[r].connecting_new = true;
        connect(r, req);
    }

    /// _dec_overflow(): the record is gone.
    void drop_record(std::uint32_t r) {
        recs_.release(r);
    }

    /// _ConnectionRecord.__connect: starttime is taken BEFORE the creator runs.
    void connect(std::uint32_t r, std::uint32_t req) {
        record& rec = recs_[r];
        rec.starttime = now();
        rec.conn = npos32;
        rec.req = req;
        const std::uint32_t c = open_connection();
        if (c >= rec_of_conn_.size()) rec_of_conn_.resize(std::max<std::size_t>(c + 1, 2 * rec_of_conn_.size()));
        rec_of_conn_[c] = r;
    }

    // ---- checkout: _ConnectionRecord.checkout / get_connection, _ConnectionFairy._checkout ----
    void checkout(std::uint32_t req, std::uint32_t r) { get_connection(req, r); }

    /// _ConnectionRecord.get_connection: lazy maintenance, inline, the caller paying the login.
    void get_connection(std::uint32_t req, std::uint32_t r) {
        record& rec = recs_[r];
        rec.req = req;
        if (rec.conn == npos32) {  // invalidated earlier: reconnect now
            connect(r, req);
            return;
        }
        // Strict comparisons, as in SQLAlchemy: age > recycle, invalidate_time > starttime.
        const bool recycle = p_.pool_recycle > -1 && now() - rec.starttime > p_.pool_recycle;
        if (recycle || invalidate_time_ > rec.starttime) {
            // Soft invalidation is not modelled (nothing in the world requests it).
            close_conn(rec.conn, recycle ? close_reason::lifetime : close_reason::broken);
            rec.conn = npos32;
            connect(r, req);
            return;
        }
        fairy_checkout(req, r);
    }

    /// _ConnectionFairy._checkout: pre-ping, skipped for a fresh connection (spec 2.3 step 3).
    void fairy_checkout(std::uint32_t req, std::uint32_t r) {
        record& rec = recs_[r];
        const bool fresh = rec.fresh;
        rec.fresh = false;
        if (!p_.pool_pre_ping || fresh) {
            grant(req, rec.conn);
            return;
        }
        start_round_trip(rec.conn, tag_ping, req);  // _do_ping_w_event: "SELECT 1"
    }

    /// _ConnectionRecord.invalidate: close the DBAPI connection, keep the record.
    void invalidate_record(std::uint32_t r) {
        record& rec = recs_[r];
        if (rec.conn == npos32) return;
        close_conn(rec.conn, close_reason::broken);
        rec.conn = npos32;
    }

    /// Pool._invalidate: connections that started before now are recycled at their next
    /// checkout, unless this record's connection is itself older than the last invalidation.
    void invalidate_pool(std::uint32_t r) {
        if (invalidate_time_ < recs_[r].starttime) invalidate_time_ = now();
    }

    /// Close a record's connection. A connection that has just logged in is still `creating`
    /// in pool_base terms (connection_opened leaves it there); pass it through the idle list
    /// so that close() accepts it (pool_base has no "opened, not yet placed" state to set).
    void close_conn(std::uint32_t c, close_reason why) {
        if (conn(c).state == conn_state::creating) {
            push_idle_back(c);
            unlink_idle(c, conn_state::checking);
        }
        close(c, why);
    }

    // ---- return: _ConnectionRecord.checkin -> QueuePool._do_return_conn ----------------------
    void checkin(std::uint32_t r) {
        record& rec = recs_[r];
        if (p_.pool_size > 0 && queue_.size() >= static_cast<std::size_t>(p_.pool_size)) {
            // queue.put(block=False) raised Full: pool_size records are already idle, so this
            // one is closed and the overflow decremented (spec 2.4 step 2, 2.8 item 3).
            if (rec.conn != npos32) close_conn(rec.conn, close_reason::overflow);
            drop_record(r);
            return;
        }
        queue_.push_back(r);  // Queue._put: append
        if (rec.conn != npos32) push_idle_back(rec.conn);
        notify();
    }

    /// Queue.put -> not_empty.notify(): wake ONE waiter, the longest-waiting (Condition keeps
    /// its waiters in FIFO order; asyncio.Queue._wakeup_next likewise). The waiter leaves the
    /// condition now (its wait is over, so its timer is cancelled) and runs wakeup_latency_s
    /// later.
    void notify() {
        const std::uint32_t req = pop_waiter();
        if (req == npos32) return;
        host_.pool_timer(index_, now() + p_.wakeup_latency_s, timer_wakeup, req);
    }

    void on_policy_timer(std::uint32_t kind, std::uint32_t req) override {
        DBPOOLSIM_ASSERT(kind == timer_wakeup, "unknown SQLAlchemy pool timer");
        woken(req);
    }

    /// A notified waiter runs again: Queue.get's `while self._empty()` loop.
    void woken(std::uint32_t req) {
        const double deadline = deadline_of(req);
        if (p_.asyncio && deadline < now()) {
            // asyncio.wait_for cancelled the get() before the woken task ran: asyncio.Queue.get
            // hands the wake-up to the next getter if an item is left, and the caller sees
            // the timeout (QueuePool._do_get then raises or creates).
            if (!queue_.empty()) notify();
            timed_out(req);
            return;
        }
        if (!queue_.empty()) {
            checkout(req, take());
            return;
        }
        // Someone barged in and took the record: wait again, at the TAIL of the waiters, with
        // the original deadline (issue #7679). A threading waiter past its deadline gives up
        // here (`remaining <= 0: raise Empty`).
        const double remaining = deadline - now();
        if (remaining <= 0) {
            timed_out(req);
            return;
        }
        enqueue_waiter(req, remaining);
    }

    sqlalchemy_queuepool_params p_;
    int max_overflow_;
    bool reset_round_trip_;
    sim::slot_table<record> recs_;  // live records: QueuePool._overflow + pool_size
    std::deque<std::uint32_t> queue_;  // QueuePool._pool: idle records, oldest returned first
    std::vector<std::uint32_t> rec_of_conn_;
    // Pool._invalidate_time. SQLAlchemy starts at 0 with wall-clock starttimes; here t = 0 is
    // a real instant, so "never" is -infinity.
    double invalidate_time_ = -sim::infinity;
};

// ---- registry entries ---------------------------------------------------------------------

using detail::json;
using detail::object_reader;

using P = sqlalchemy_queuepool_params;

// pool_timeout=None blocks forever (Queue.get with timeout None); a negative timeout is
// rejected by Queue.get ("'timeout' must be a non-negative number").
void read_pool_timeout(object_reader& r, const std::string& key, const detail::field<P>&, P& p) {
    if (const json* v = r.raw(key); v && v->is_null()) p.pool_timeout = sim::infinity;
    else r.number(key, p.pool_timeout, 0);
}
void write_pool_timeout(const detail::field<P>& f, const P& p, json& o) {
    o[f.name] = std::isinf(p.pool_timeout) ? json(nullptr) : json(p.pool_timeout);
}
void check_pool_timeout(const detail::field<P>&, const P& p, const std::string& at, detail::problems& out) {
    if (!std::isinf(p.pool_timeout) && !(p.pool_timeout >= 0))
        out.add(at, "must be >= 0, got " + sim::format_number(p.pool_timeout));
}

// Pool.__init__: "rollback" or True; "none", None or False; "commit". Anything else is an
// ArgumentError. The resolved scenario writes the name.
constexpr const char* reset_rule =
    "must be one of rollback, commit, none (or true = rollback, false or null = none), got ";
void read_reset(object_reader& r, const std::string& key, const detail::field<P>&, P& p) {
    const json* v = r.raw(key);
    if (!v) return;
    if (v->is_boolean()) p.pool_reset_on_return = v->get<bool>() ? "rollback" : "none";
    else if (v->is_null()) p.pool_reset_on_return = "none";
    else if (v->is_string() && (*v == "rollback" || *v == "commit" || *v == "none"))
        p.pool_reset_on_return = v->get<std::string>();
    else r.sink().add(r.at(key), reset_rule + detail::show(*v));
}
void check_reset(const detail::field<P>&, const P& p, const std::string& at, detail::problems& out) {
    const auto& v = p.pool_reset_on_return;
    if (v != "rollback" && v != "commit" && v != "none") out.add(at, reset_rule + json(v).dump());
}

const detail::field_table<P>& queuepool_fields() {
    using namespace detail;
    static const field_table<P> t = {
        make_field<&P::pool_size>("pool_size", between(0, 1 << 23)),
        make_field<&P::max_overflow>("max_overflow", between(-1, 1 << 23)),
        custom_field<P>("pool_timeout", "number or null", read_pool_timeout, write_pool_timeout,
                        check_pool_timeout),
        // SQLAlchemy applies recycle when `recycle > -1`; -1 is "off".
        make_field<&P::pool_recycle>("pool_recycle", at_least(-1)),
        make_field<&P::pool_pre_ping>("pool_pre_ping"),
        make_field<&P::pool_use_lifo>("pool_use_lifo"),
        custom_field<P>("pool_reset_on_return", "string, boolean or null", read_reset,
                        [](const field<P>& f, const P& p, json& o) { o[f.name] = p.pool_reset_on_return; },
                        check_reset),
        make_field<&P::reset_costs_round_trip>("reset_costs_round_trip"),
        make_field<&P::wakeup_latency_s>("wakeup_latency_s", at_least(0)),
    };
    return t;
}

void set_asyncio(object_reader&, P& p) { p.asyncio = true; }

}  // namespace

std::unique_ptr<pool_policy> make_sqlalchemy_queuepool(const sqlalchemy_queuepool_params& p,
                                                       pool_host& host, std::uint32_t index,
                                                       pool_metrics& metrics,
                                                       sim::random_stream rng) {
    return std::make_unique<sqlalchemy_queuepool>(p, host, index, metrics, std::move(rng));
}

namespace detail {

const pool_kind& sqlalchemy_queuepool_pool_kind() {
    static const pool_kind k = table_pool_kind<P, queuepool_fields, make_sqlalchemy_queuepool>(
        "sqlalchemy_queuepool",
        "SQLAlchemy 2.x QueuePool: lazy, connections created inline by the caller up to "
        "pool_size + max_overflow, surplus closed at return, FIFO waiters with barging");
    return k;
}

const pool_kind& sqlalchemy_asyncadaptedqueuepool_pool_kind() {
    static const pool_kind k = table_pool_kind<P, queuepool_fields, make_sqlalchemy_queuepool, nullptr, set_asyncio>(
        "sqlalchemy_asyncadaptedqueuepool",
        "SQLAlchemy 2.x AsyncAdaptedQueuePool (create_async_engine): QueuePool on an "
        "asyncio.Queue; a woken getter past its wait_for deadline passes the wake-up on");
    return k;
}

}  // namespace detail
}  // namespace dbpoolsim::models
