// dbpoolsim world: a request's path. It arrives, is routed to an instance, and makes
// attempts: each asks the instance's pool for a connection, runs its transaction's queries
// (each on the database CPU, plus the round trip and optional app work), and returns the
// connection (or leaks it). A failed attempt is retried after a backoff, unless the breaker,
// the deadline or the retry budget says no; the outcome is recorded once.
#include <algorithm>
#include <cmath>

#include "models/world/world.hpp"

namespace dbpoolsim::models::world_parts {

// ---- arrival, attempts, outcome -------------------------------------------------------------

// The arrival process's next arrival. Inline into it, with admit and start_attempt (for
// speed, issue 9): an open arrival then costs one call into the pool's acquire instead of
// three nested calls, each saving registers and reloading the request (about 30
// instructions per request).
void world::on_arrival() {
    if (const trace_record* rec = arrival_proc_->record()) admit(npos32, rec->cls, rec->duration_s);
    else admit(npos32, -1, NAN);
    const double next = arrival_proc_->next();
    if (std::isfinite(next)) sim_.schedule_fifo_at(arrival_lane, next, ev_arrival, 0);
}

void world::arrive(std::uint32_t user, int cls, double duration) { admit(user, cls, duration); }

[[gnu::always_inline]] inline void world::admit(std::uint32_t user, int cls, double duration) {
    const double now = sim_.now();
    const std::uint32_t id = reqs_.add(now, user, cls, duration, m_.counting);
    request& r = reqs_[id];
    // Instances taking traffic (the fleet changes it); the same keyed draw under any pool.
    const std::uint32_t instance = fleet_.route(user, r.seqno);
    r.pool = static_cast<std::uint8_t>(instance * per_instance_ + cls_pool_[r.cls]);
    if (r.counted) m_.arrival();
    m_.in_system.set(now, static_cast<double>(reqs_.live()));
    if (s_.client.deadline_s > 0)  // constant delay: a FIFO lane of its own
        r.deadline = sim_.fifo_timer_at(deadline_lane, now + s_.client.deadline_s, ev_deadline, id);
    start_attempt(id);
}

[[gnu::always_inline]] inline void world::start_attempt(std::uint32_t id) {
    request& r = reqs_[id];
    ++r.attempt;
    if (r.counted) ++m_.attempts;
    r.acquire_start = sim_.now();
    r.wait = NAN;
    r.query_index = 0;
    r.conn = r.server = npos32;
    if (breakers_.is_open(instance_of(r))) {
        attempt_failed(id, fail_reason::circuit_open);  // fail fast, not retried
        return;
    }
    if (s_.client.patience) {
        // Drawn per request and attempt (keyed: the same under every pool configuration);
        // a grant or a failure of the acquire cancels it.
        sim::keyed_engine eng(patience_seed_ ^ sim::mix64(r.attempt), r.seqno);
        r.patience = sim_.timer_after(s_.client.patience->sample(eng), ev_patience, id);
    }
    pools_[r.pool]->acquire(id);
}

void world::on_patience(std::uint32_t id) {
    request& r = reqs_[id];
    r.patience = {};
    // The caller stops waiting; the pool drops the request if it can (a waiter), else the
    // acquire runs on and what it yields is handed back at once (grant, fail).
    const bool dropped = pools_[r.pool]->cancel_acquire(id);
    if (!r.done) {
        r.wait = sim_.now() - r.acquire_start;
        if (r.counted) {
            ++m_.attempt_failures;
            m_.unserved_wait(r.wait);
        }
        outcome_failed(id, fail_reason::abandoned);
    }
    if (dropped) free_slot(id);
    else r.gave_up = true;
}

void world::on_retry(std::uint32_t id) {
    reqs_[id].retry = {};
    start_attempt(id);
}

void world::attempt_failed(std::uint32_t id, fail_reason why) {
    request& r = reqs_[id];
    if (why != fail_reason::circuit_open) breaker_result(instance_of(r), false);
    if (r.counted) ++m_.attempt_failures;
    if (r.done) {  // abandoned at its deadline: its work is over now
        free_slot(id);
        return;
    }
    if (retry_.retries(why, r.attempt)) {
        r.retry = sim_.timer_after(retry_.backoff(r.attempt, r.seqno), ev_retry, id);
        return;
    }
    outcome_failed(id, why);
    free_slot(id);
}

void world::outcome_failed(std::uint32_t id, fail_reason why) {
    request& r = reqs_[id];
    r.done = true;
    sim_.cancel(r.deadline);
    if (r.counted) {
        m_.failed_request(why, sim_.now() - r.arrival);
        if (m_.recording) [[unlikely]] record(r, static_cast<std::uint8_t>(1 + static_cast<unsigned>(why)));
    }
    user_moves_on(r);
}

void world::record(const request& r, std::uint8_t outcome) {
    request_record x;
    x.arrival_s = r.arrival;
    x.wait_s = r.wait;
    x.latency_s = outcome == request_record::in_flight ? NAN : sim_.now() - r.arrival;
    x.request = r.seqno;
    x.connection = r.conn;
    x.cls = r.cls;
    x.attempts = r.attempt;
    x.instance = static_cast<std::uint8_t>(instance_of(r));
    x.pool = static_cast<std::uint8_t>(r.pool % per_instance_);
    x.outcome = outcome;
    m_.record(x);
}

void world::on_deadline(std::uint32_t id) {
    request& r = reqs_[id];
    r.deadline = {};
    if (r.done) return;
    const bool between_attempts = sim_.pending(r.retry);
    sim_.cancel(r.retry);
    outcome_failed(id, fail_reason::deadline_exceeded);
    // Waiting in a backoff: nothing runs. Otherwise the attempt in progress goes on
    // (waiting for or holding a connection) and frees the slot when it ends, unless the pool
    // takes the deadline as its caller's context (Go): then an acquire ends here.
    if (between_attempts) {
        free_slot(id);
    } else if (r.conn == npos32 && pools_[r.pool]->caller_deadline_cancels_acquire() &&
               pools_[r.pool]->cancel_acquire(id)) {
        sim_.cancel(r.patience);
        r.wait = sim_.now() - r.acquire_start;
        if (r.counted) {
            ++m_.attempt_failures;
            m_.unserved_wait(r.wait);
        }
        free_slot(id);
    }
}

void world::schedule_user_next(std::uint32_t user) {
    sim_.schedule_after(s_.workload.arrivals.think_time.sample(think_.engine()), ev_user_next, user);
}

void world::free_slot(std::uint32_t id) { release_slot(id); }

// Inline into query_done (for speed, issue 9: every request that completes ends there).
[[gnu::always_inline]] inline void world::release_slot(std::uint32_t id) {
    const std::uint32_t inst = instance_of(reqs_[id]);
    m_.in_system.set(sim_.now(), static_cast<double>(reqs_.remove(id)));
    if (fleet_.request_ended(inst)) sim_.schedule_after(0, ev_instance_stop, inst);
}

void world::breaker_record(std::uint32_t inst, bool ok) {
    if (breakers_.record(inst, ok, sim_.now()))
        sim_.schedule_after(s_.client.circuit_breaker_timeout, ev_breaker, inst);
}

// ---- queries --------------------------------------------------------------------------------

/// The query of request id fails; the client hears of it after `delay`.
void world::query_error_after(std::uint32_t id, double delay, fail_reason why, std::uint8_t broken) {
    request& r = reqs_[id];
    r.err = why;
    r.err_broken = broken;
    sim_.schedule_after(delay, ev_query_error, id);
}

void world::dead_use(std::uint32_t id, const link& l, std::uint8_t broken) {
    const use_failure f = net_.dead_use(l);
    query_error_after(id, f.delay, f.why, broken);
}

void world::start_query(std::uint32_t id) {
    request& r = reqs_[id];
    const auto& tc = s_.workload.transactions[r.cls];
    link* d = nullptr;
    if (track_) {
        link& a = net_.at(r.pool, r.conn);
        nat_check(a, r.pool);
        if (a.dead) return dead_use(id, a, 1);
        a.last_used = sim_.now();
        d = &db_link(r);
        if (pooler_ && d->dead) return dead_use(id, *d, 2);
        if (!tc.read_only && db_.read_only(d->node))
            // SQLSTATE 25006: cannot execute in a read-only transaction.
            return query_error_after(id, net_.rtt(), fail_reason::read_only, 0);
    }
    // The first query's stream key is precomputed (speed: one mix64 less per request).
    sim::keyed_engine eng(r.query_index == 0 ? first_query_seed_ : query_seed_ ^ sim::mix64(r.query_index), r.seqno);
    double work = std::isnan(r.duration) ? tc.query_time.sample(eng) : r.duration / tc.queries;
    work = faults_.query_work(sim_.now(), work);
    if (d) {
        d->busy = id;
        r.query_start = sim_.now();
    }
    db_.cpu.submit(id, work);
    if (s_.client.statement_timeout_s > 0)
        r.stmt = sim_.timer_after(s_.client.statement_timeout_s, ev_stmt_timeout, id);
}

void world::on_db_done(const sim::event& e) {
    auto& cpu = db_.cpu;
    if (!cpu.contended()) {
        cpu.complete_direct();
        on_query_cpu_done(e.target);
        return;
    }
    const std::uint32_t id = cpu.complete();
    if (!(id & database::login_job_bit)) {
        on_query_cpu_done(id);
        return;
    }
    const conn_ref owner = conn_ref::of(db_.login_cpu_done(id));  // a login's CPU part
    if (!stopped(owner)) deliver_login(owner.pool, owner.conn);
}

// Inline, with response and query_done (for speed, issue 9): without a round trip or app
// work (the usual case, and the standard case's) a query's completion runs on_db_done ->
// on_query_cpu_done -> response -> query_done, releasing the connection and ending the
// request in one event; as one function it is about 70 instructions per request shorter
// than as four calls (each reloading the request and the scenario). The events that enter
// the chain halfway (ev_response, ev_app_done) call the same bodies through on_response and
// after_query.
[[gnu::always_inline]] inline void world::on_query_cpu_done(std::uint32_t id) {
    request& r = reqs_[id];
    if (track_) db_link(r).busy = npos32;
    if (s_.client.statement_timeout_s > 0) sim_.cancel(r.stmt);
    if (net_.rtt() > 0) sim_.schedule_after(net_.rtt(), ev_response, id);
    else response(id);
}

void world::on_stmt_timeout(std::uint32_t id) {
    // The server cancels the statement (57014); the session survives.
    request& r = reqs_[id];
    r.stmt = {};
    db_.cpu.cancel(id);
    if (track_) db_link(r).busy = npos32;
    query_error_after(id, net_.rtt(), fail_reason::statement_timeout, 0);
}

void world::on_query_error(std::uint32_t id) {
    request& r = reqs_[id];
    std::uint8_t broken = r.err_broken;
    if (pooler_) {
        // A server that dies under a linked client makes PgBouncer drop the client too.
        if (broken & 2) {
            net_.at(apps_, r.server).held = false;
            if (session_) net_.at(r.pool, r.conn).server = npos32;
            pooler_->on_broken_in_use(r.server);
            broken |= 1;
        } else {
            release_server(r.server);
        }
    }
    if (broken & 1) broken_in_use(r.pool, r.conn);
    else release_conn(r.pool, r.conn, r.query_index + 1, true);  // the failed query was sent too
    attempt_failed(id, r.err);
}

void world::on_response(std::uint32_t id) { response(id); }

void world::after_query(std::uint32_t id) { query_done(id); }

[[gnu::always_inline]] inline void world::response(std::uint32_t id) {
    request& r = reqs_[id];
    const auto& tc = s_.workload.transactions[r.cls];
    if (track_) net_.at(r.pool, r.conn).last_used = sim_.now();
    ++r.query_index;
    if (tc.app_time) {
        sim::keyed_engine eng(app_seed_ ^ sim::mix64(r.query_index), r.seqno);
        sim_.schedule_after(tc.app_time->sample(eng), ev_app_done, id);
        return;
    }
    query_done(id);
}

[[gnu::always_inline]] inline void world::query_done(std::uint32_t id) {
    request& r = reqs_[id];
    const auto& tc = s_.workload.transactions[r.cls];
    if (r.query_index < static_cast<std::uint32_t>(tc.queries)) {
        start_query(id);
        return;
    }
    if (pooler_) release_server(r.server);  // transaction end: the server goes back first
    const bool leaked = tc.leak_probability > 0 && keyed_uniform(leak_seed_, r.seqno) < tc.leak_probability;
    if (leaked) {
        // The application forgets to return the connection (seeds/000 scenario 4).
        if (m_.counting) ++m_.leaked;
        if (tc.leak_hold_time) {
            sim::keyed_engine eng(leak_seed_ ^ 0x9e3779b97f4a7c15ULL, r.seqno);
            sim_.schedule_after(tc.leak_hold_time->sample(eng), ev_leak_return, conn_ref{r.pool, r.conn}.target());
        }
    } else {
        release_conn(r.pool, r.conn, r.query_index);
    }
    breaker_result(instance_of(r), true);
    if (r.done) {  // abandoned at its deadline: its work is over now
        free_slot(id);
        return;
    }
    r.done = true;
    sim_.cancel(r.deadline);
    if (r.counted) {
        m_.completed_request(sim_.now() - r.arrival);
        if (m_.recording) [[unlikely]] record(r, request_record::completed);
    }
    user_moves_on(r);
    release_slot(id);
}

}  // namespace dbpoolsim::models::world_parts
