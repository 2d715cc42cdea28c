// dbpoolsim world: construction, the pool host, connections' far ends, faults and the fleet
// applied, warm-up and sampling, the event switch and the run loop. A request's own path
// (attempts, queries, outcome) is in requests.cpp.
#include "models/world/world.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>

namespace dbpoolsim::models::world_parts {

world::world(const scenario& s, int rep, run_control* ctl, std::vector<trace_entry>* trace)
    : s_(s),
      rep_(rep),
      ctl_(ctl),
      trace_(trace),
      arrivals_(s.run.seed, rep, "arrivals"),
      think_(s.run.seed, rep, "think_time"),
      query_seed_(sim::stream_seed(s.run.seed, rep, "query_time")),
      app_seed_(sim::stream_seed(s.run.seed, rep, "app_time")),
      leak_seed_(sim::stream_seed(s.run.seed, rep, "leaks")),
      patience_seed_(sim::stream_seed(s.run.seed, rep, "patience")),
      first_query_seed_(query_seed_ ^ sim::mix64(0)),
      m_(s),
      reqs_(s, rep),
      retry_(s.client, s, rep),
      faults_(s, rep),
      db_(sim_, s, rep, ev_db_done),
      fleet_(s, rep, fleet_instances_needed(s)),
      breakers_(s.client, fleet_instances_needed(s)),
      net_(s) {
    // All app pools share m_.pm (they record deltas), so it holds fleet totals. With named
    // pools, instance i runs one of each: pool index i * per_instance_ + j, and each also
    // records into m_.pm_named[j].
    per_instance_ = s.pools.empty() ? 1 : static_cast<std::uint32_t>(s.pools.size());
    const int instances = fleet_instances_needed(s);
    for (int i = 0; i < instances; ++i) {
        if (s.pools.empty()) {
            pools_.push_back(make_pool(s.pool, *this, static_cast<std::uint32_t>(i), m_.pm,
                                       sim::random_stream(s.run.seed, rep, "pool/" + std::to_string(i))));
            continue;
        }
        for (std::size_t j = 0; j < s.pools.size(); ++j) {
            const auto index = static_cast<std::uint32_t>(pools_.size());
            pools_.push_back(make_pool(s.pools[j].settings, *this, index, m_.pm,
                                       sim::random_stream(s.run.seed, rep, "pool/" + s.pools[j].name + "/" + std::to_string(i))));
            pools_.back()->set_secondary_metrics(&m_.pm_named[j]);
        }
    }
    for (const auto& c : s.workload.transactions) {
        std::uint32_t j = 0;
        while (j < s.pools.size() && s.pools[j].name != c.pool) ++j;
        cls_pool_.push_back(s.pools.empty() ? 0 : j);
    }
    apps_ = static_cast<std::uint32_t>(pools_.size());
    // Follow every connection's far end only when something can break it.
    track_ = !s.faults.empty() || s.network.nat_idle_timeout_s > 0 || s.database.idle_session_timeout_s > 0;
    if (!s.pooler.kind.empty()) {
        auto p = make_pooler(s.pooler, *this, apps_, m_.pm_pooler, sim::random_stream(s.run.seed, rep, "pooler"));
        pooler_ = p.get();
        session_ = pooler_->session_pooling();
        // Which (database, user) each application pool's connections log in as.
        for (std::uint32_t a = 0; a < apps_; ++a)
            pooler_->route(a, static_cast<int>(a / per_instance_), s.pools.empty() ? std::string() : s.pools[a % per_instance_].name);
        pools_.push_back(std::move(p));
        db_facing_from_ = apps_;
    }
    net_.set_pools(pools_.size());
    stopped_.assign(pools_.size(), 0);
}

// ---- pool_host ------------------------------------------------------------------------------

void world::grant(std::uint32_t pool, std::uint32_t id, std::uint32_t conn) {
    request& r = reqs_[id];
    if (track_) {
        link& l = net_.at(pool, conn);
        l.held = true;
        sim_.cancel(l.idle_timer);
    }
    if (pooler_ && pool == apps_) {
        // PgBouncer linked a server to this client for the transaction (session pooling: for
        // the client connection's life).
        r.server = conn;
        if (session_) net_.at(r.pool, r.conn).server = conn;
        if (r.counted) m_.pooler_granted(sim_.now() - r.pooler_start);
        start_query(id);
        return;
    }
    r.conn = conn;
    sim_.cancel(r.patience);
    if (r.gave_up) [[unlikely]] {
        // Its caller left (client.patience) while the pool could not drop it: the connection
        // goes back at once (as an event: the policy is still inside its grant).
        sim_.schedule_after(0, ev_leak_return, conn_ref{pool, conn}.target());
        free_slot(id);
        return;
    }
    r.wait = sim_.now() - r.acquire_start;
    if (r.counted) m_.granted(r.wait, m_.wait_named.empty() ? npos32 : r.pool % per_instance_);
    if (pooler_) {
        if (session_) {
            // A client connection that already has its server keeps using it.
            if (const std::uint32_t server = net_.at(r.pool, conn).server; server != npos32) {
                r.server = server;
                hold_server(server);
                start_query(id);
                return;
            }
        }
        // The transaction's first query goes to PgBouncer, which needs a server for it.
        r.pooler_start = sim_.now();
        pooler_->acquire_from(r.pool, id);
        return;
    }
    start_query(id);
}

void world::fail(std::uint32_t pool, std::uint32_t id, fail_reason why) {
    request& r = reqs_[id];
    // PgBouncer disconnects the client: the application's connection to it is gone.
    if (pooler_ && pool == apps_) {
        broken_in_use(r.pool, r.conn);
    } else {
        sim_.cancel(r.patience);
        r.wait = sim_.now() - r.acquire_start;
    }
    if (r.counted && !r.done && why == fail_reason::acquire_timeout) {
        if (!m_.timeouts_named.empty() && pool < apps_) ++m_.timeouts_named[pool % per_instance_];
        m_.unserved_wait(sim_.now() - r.acquire_start);
    }
    attempt_failed(id, why);
}

void world::open_connection(std::uint32_t pool, std::uint32_t conn, login_bounds b) {
    if (stopped_[pool]) return;
    link& l = net_.at(pool, conn);
    sim_.cancel(l.idle_timer);
    l = link{};
    l.last_used = sim_.now();
    ++m_.iv_logins;
    if (m_.counting) ++m_.logins;
    double delay = 0;
    if (pooler_ && pool != apps_) {
        // An application connection logs in to PgBouncer, not to the database; a refusal
        // ("no more connections allowed (max_client_conn)") is an ErrorResponse.
        l.login_ok = l.pooler_client = pooler_->admit_client(pool);
        l.login_kind = l.login_ok ? login_outcome::ok : login_outcome::server_error;
        delay = l.login_ok ? pooler_->client_connect_time().sample(db_.connect_stream().engine()) : net_.rtt();
    } else {
        const login_answer a = db_.login(sim_.now(), net_.connect_timeout(), net_.rtt(), faults_);
        if (a.rejected && m_.counting) ++m_.rejected_logins;
        if (a.backend) {
            l.backend = true;
            l.epoch = db_.epoch();
            l.node = db_.node();
        }
        l.login_ok = a.ok;
        l.login_kind = a.kind;
        if (a.cpu_phase) l.login_phase = 1;
        delay = a.delay;
        // Only a TCP connect to an address that does not answer hangs: the driver's bound.
        if (a.kind == login_outcome::timed_out) delay = std::min(delay, b.connect_s);
    }
    l.login_timer = sim_.timer_after(delay, ev_connect_done, conn_ref{pool, conn}.target());
    // The whole login's bound (its CPU part, if any, comes after `delay`).
    if (b.login_s < delay || (l.login_phase == 1 && std::isfinite(b.login_s)))
        l.login_deadline = sim_.timer_after(b.login_s, ev_login_timeout, conn_ref{pool, conn}.target());
}

void world::abandon_login(std::uint32_t pool, std::uint32_t conn) {
    if (stopped_[pool]) return;
    drop_login(pool, net_.at(pool, conn));
}

void world::round_trip(std::uint32_t pool, std::uint32_t conn, double timeout_s) {
    link& l = net_.at(pool, conn);
    // Speed: without faults, a NAT or idle sessions (track_) no idle timer is armed and no
    // NAT forgets a flow; the out-of-line NAT check is skipped (twice per request for sqlx).
    if (track_) {
        sim_.cancel(l.idle_timer);
        if (pool < apps_) nat_check(l, pool);
    }
    if (l.dead) {
        sim_.schedule_after(net_.failed_round_trip_after(l, timeout_s), ev_round_trip_failed, conn_ref{pool, conn}.target());
        return;
    }
    l.last_used = sim_.now();
    // Speed: an answer at once (no network delay) skips the event queue (sim/simulation.hpp,
    // "Zero-delay events"): the same place in the order as schedule_after(0, ...).
    if (net_.rtt() == 0) sim_.schedule_now(ev_round_trip_done, conn_ref{pool, conn}.target());
    else sim_.schedule_after(net_.rtt(), ev_round_trip_done, conn_ref{pool, conn}.target());
}

double world::round_trip_answer_at(std::uint32_t pool, std::uint32_t conn) {
    // Without faults, a NAT or idle sessions (track_) and without a pooler, nothing breaks a
    // live link: round_trip answers it after exactly one rtt (the same sum as schedule_after).
    if (track_ || pooler_ || stopped_[pool] || net_.at(pool, conn).dead) return sim::infinity;
    return sim_.now() + net_.rtt();
}

void world::close_connection(std::uint32_t pool, std::uint32_t conn) {
    if (stopped_[pool]) return;
    link& l = net_.at(pool, conn);
    sim_.cancel(l.idle_timer);
    l.open = l.held = false;
    if (pooler_ && pool != apps_) {
        l.pooler_client = false;
        pooler_->client_left(pool, unlink_server(l));
        return;
    }
    if (!l.backend) return;
    l.backend = false;
    if (l.orphan) {
        // The close never reaches the server (the NAT forgot the flow): the backend lives
        // until TCP keepalive (or the server's idle_session_timeout) reaps it.
        sim_.schedule_after(net_.orphan_reap_after(l, sim_.now()), ev_backend_reaped, 0);
        return;
    }
    release_backend();
}

sim::timer_handle world::pool_timer(std::uint32_t pool, double at, std::uint32_t kind, std::uint32_t arg) {
    DBPOOLSIM_ASSERT(kind < 32 && arg < (1u << 24), "pool timer kind/arg out of range");
    // Kind 0 is the acquire timeout (pool_base): a constant delay per pool, so its times
    // never decrease and a FIFO lane per pool holds them (see sim/event_queue.hpp).
    if (kind == 0) return sim_.fifo_timer_at(pool, at, ev_pool_timer, conn_ref{pool, arg}.target());
    return sim_.timer_at(at, ev_pool_timer + kind, conn_ref{pool, arg}.target());
}

void world::pool_now(std::uint32_t pool, std::uint32_t kind, std::uint32_t arg) {
    DBPOOLSIM_ASSERT(kind > 0 && kind < 32 && arg < (1u << 24), "zero-delay pool timer kind/arg out of range");
    sim_.schedule_now(ev_pool_timer + kind, conn_ref{pool, arg}.target());
}

sim::rearmable_handle world::pool_rearmable_timer(std::uint32_t pool, double at, std::uint32_t kind, std::uint32_t arg) {
    DBPOOLSIM_ASSERT(kind > 0 && kind < 32 && arg < (1u << 24), "re-armable pool timer kind/arg out of range");
    return sim_.rearmable_timer_at(at, ev_pool_timer + kind, conn_ref{pool, arg}.target());
}

// ---- connections' far ends ------------------------------------------------------------------

bool world::nat_check(link& l, std::uint32_t pool) {
    if (!net_.nat_check(l, db_facing(pool), sim_.now())) return false;
    if (m_.counting) ++m_.nat_drops;
    return true;
}

void world::broken_in_use(std::uint32_t pool, std::uint32_t conn) {
    link& l = net_.at(pool, conn);
    l.held = false;
    l.dead = true;
    pools_[pool]->on_broken_in_use(conn);
}

void world::arm_idle_session(std::uint32_t pool, std::uint32_t conn) {
    if (s_.database.idle_session_timeout_s <= 0 || !db_facing(pool)) return;
    link& l = net_.at(pool, conn);
    if (l.dead || !l.backend) return;
    sim_.cancel(l.idle_timer);
    l.idle_timer = sim_.timer_after(s_.database.idle_session_timeout_s, ev_idle_session, conn_ref{pool, conn}.target());
}

/// `queries`: how many queries the checkout sent on the connection (asyncpg counts them);
/// `after_error`: the last of them failed with an SQL error (the connection is sound).
void world::release_conn(std::uint32_t pool, std::uint32_t conn, std::uint32_t queries, bool after_error) {
    if (track_) {
        net_.at(pool, conn).held = false;
        arm_idle_session(pool, conn);
    }
    if (after_error) pools_[pool]->release_after_error(conn, queries);
    else pools_[pool]->release(conn, queries);
}

void world::release_server(std::uint32_t server) {
    if (track_) {
        net_.at(apps_, server).held = false;
        arm_idle_session(apps_, server);
    }
    if (!session_) pooler_->release(server);  // session pooling: it stays linked to its client
}

/// A transaction starts on a server already linked to its client (session pooling).
void world::hold_server(std::uint32_t server) {
    if (!track_) return;
    link& l = net_.at(apps_, server);
    l.held = true;
    sim_.cancel(l.idle_timer);
}

/// A client connection to the pooler closes: its session server (if any) is no longer linked.
std::uint32_t world::unlink_server(link& client) {
    const std::uint32_t server = client.server;
    client.server = npos32;
    if (server != npos32 && track_) {
        net_.at(apps_, server).held = false;
        arm_idle_session(apps_, server);
    }
    return server;
}

void world::on_connect_done(std::uint32_t p, std::uint32_t c) {
    link& l = net_.at(p, c);
    l.login_timer = {};
    if (l.login_phase == 1 && !l.dead && l.epoch == db_.epoch()) {
        // The backend's start-up work (fork, authentication) on the database CPU.
        l.login_phase = 2;
        l.login_job = db_.submit_login_cpu(conn_ref{p, c}.target());
        return;
    }
    deliver_login(p, c);
}

void world::deliver_login(std::uint32_t p, std::uint32_t c) {
    link& l = net_.at(p, c);
    l.login_phase = 0;
    sim_.cancel(l.login_deadline);
    const bool ok = l.login_ok && !l.dead && (!db_facing(p) || l.epoch == db_.epoch());
    // A login the database accepted but a restart or failover reset on the way: lost.
    const login_outcome how = ok ? login_outcome::ok : l.login_kind == login_outcome::ok ? login_outcome::lost : l.login_kind;
    if (!ok && l.backend) {
        l.backend = false;
        release_backend();
    }
    if (ok) {
        l.open = true;
        l.last_used = sim_.now();
        // The backend's first ReadyForQuery arms its idle_session_timeout (postgres.c).
        arm_idle_session(p, c);
    }
    pools_[p]->on_connect_done(c, how);
}

/// A login in progress is given up (by the pool, or at its bound): the client closes the
/// socket, so the database frees the backend (and stops its start-up work) at once.
void world::drop_login(std::uint32_t p, link& l) {
    sim_.cancel(l.login_timer);
    sim_.cancel(l.login_deadline);
    if (l.login_phase == 2) db_.abandon_login_cpu(l.login_job);
    l.login_phase = 0;
    l.login_ok = false;
    if (l.backend) {
        l.backend = false;
        release_backend();
    }
    if (l.pooler_client && p != apps_) {
        l.pooler_client = false;
        pooler_->client_left(p, npos32);  // a login: no server linked yet
    }
}

void world::on_login_timeout(std::uint32_t p, std::uint32_t c) {
    link& l = net_.at(p, c);
    l.login_deadline = {};
    drop_login(p, l);
    pools_[p]->on_connect_done(c, login_outcome::timed_out);
}

/// The server closed connection c of pool p (a reset or a FATAL). A client that reads its idle
/// sockets learns it half a round trip later (pool_policy::on_server_closed); a held connection
/// learns at its next use, as before.
void world::server_closed(std::uint32_t p, link& l, std::uint32_t c) {
    if (l.held || !l.open) return;
    l.idle_timer = sim_.timer_after(net_.rtt() / 2, ev_server_closed, conn_ref{p, c}.target());
}

void world::on_server_closed(std::uint32_t p, std::uint32_t c) {
    link& l = net_.at(p, c);
    l.idle_timer = {};
    if (stopped_[p] || l.held || !l.open) return;
    pools_[p]->on_server_closed(c);
}

void world::round_trip_traffic(std::uint32_t p, std::uint32_t c) {
    link& l = net_.at(p, c);
    l.last_used = sim_.now();
    if (!l.held) arm_idle_session(p, c);
}

void world::on_idle_session(std::uint32_t p, std::uint32_t c) {
    // FATAL 57P05 "terminating connection due to idle-session timeout": the server closes
    // it; the pool learns at the next use (a reset).
    link& l = net_.at(p, c);
    l.idle_timer = {};
    if (stopped_[p] || l.held || !l.backend || l.dead) return;
    l.backend = false;
    l.dead = true;
    l.silent = false;
    release_backend();
    if (m_.counting) ++m_.idle_session_closes;
    server_closed(p, l, c);
}

// ---- faults ---------------------------------------------------------------------------------

void world::fault_start(std::uint32_t i) {
    const fault_effect e = faults_.start(i, sim_.now());
    if (m_.counting) ++m_.faults_seen;
    if (e.new_incarnation) db_.new_incarnation();
    if (e.refuse_until >= 0) db_.refuse_until(e.refuse_until);
    if (e.unreachable_until >= 0) db_.unreachable_until(e.unreachable_until);
    if (e.read_only) db_.demote();
    if (e.breaks) break_backends(e.break_fraction, e.silent);
    // failover and read_only end when DNS names a new primary: new logins reach it.
    if (e.ends) sim_.schedule_after(faults_.list()[i].duration_s, ev_fault_end, i);
}

/// The database side of connections goes away: every backend (or a random fraction of
/// them), with a reset (the client learns at its next use, or at once for a running
/// query) or silently (host gone: uses hang until the socket timeout).
void world::break_backends(double fraction, bool silent) {
    for (std::uint32_t p = db_facing_from_; p < net_.pools(); ++p) {
        if (!db_facing(p) || stopped_[p]) continue;
        auto& links = net_.of(p);
        for (std::uint32_t c = 0; c < links.size(); ++c) {
            link& l = links[c];
            if (!l.backend) continue;
            if (!faults_.hits(fraction)) continue;
            l.backend = false;
            l.dead = true;
            l.silent = silent;
            sim_.cancel(l.idle_timer);
            release_backend();
            if (m_.counting) ++m_.connections_broken;
            if (!silent) server_closed(p, l, c);
            if (l.busy != npos32) {
                // The query running on it dies with it.
                const std::uint32_t id = l.busy;
                l.busy = npos32;
                request& r = reqs_[id];
                db_.cpu.cancel(id);
                sim_.cancel(r.stmt);
                const std::uint8_t broken = pooler_ ? 2 : 1;
                if (silent)
                    query_error_after(id, std::max(0.0, r.query_start + net_.socket_timeout() - sim_.now()),
                                      fail_reason::socket_timeout, broken);
                else
                    query_error_after(id, net_.rtt(), fail_reason::query_error, broken);
            }
        }
    }
}

// ---- fleet ----------------------------------------------------------------------------------

void world::instance_start(std::uint32_t inst, double ready_after, std::uint32_t replaces) {
    fleet_.start(inst, sim_.now(), replaces);
    for (std::uint32_t j = 0; j < per_instance_; ++j) pools_[inst * per_instance_ + j]->start();
    sim_.schedule_after(ready_after, ev_instance_ready, inst);
}

void world::instance_ready(std::uint32_t inst) {
    const std::uint32_t replaces = fleet_.ready(inst);
    if (replaces != npos32) instance_drain(replaces);
}

void world::instance_drain(std::uint32_t inst) {
    if (fleet_.drain(inst)) sim_.schedule_after(0, ev_instance_stop, inst);
}

void world::instance_stop(std::uint32_t inst) {
    const double t = sim_.now();
    if (!fleet_.stop(inst, t)) return;
    // The process exits: its connections close, the database frees their backends.
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
        drop(m_.pm);
        if (!m_.pm_named.empty()) drop(m_.pm_named[j]);
        for (auto& l : net_.of(p)) {
            sim_.cancel(l.idle_timer);
            if (pooler_) {
                if (l.pooler_client) pooler_->client_left(p, unlink_server(l));  // logins in progress included
                l.pooler_client = false;
            } else if (l.backend) {
                release_backend();
            }
            l.backend = l.open = false;
        }
        stopped_[p] = 1;
    }
}

void world::fleet_event_start(std::uint32_t i) {
    const fleet_event& e = s_.fleet[i];
    if (e.kind == fleet_event_kind::rolling_deploy) {
        fleet_.deploy_begin(i);
        deploy_step(i);
        return;
    }
    const fleet::scale_step step = fleet_.scale(i);
    for (std::uint32_t k = 0; k < step.start; ++k) instance_start(fleet_.next_new(), e.ready_after_s, npos32);
    for (const std::uint32_t inst : step.drain) instance_drain(inst);
}

void world::deploy_step(std::uint32_t i) {
    const fleet_event& e = s_.fleet[i];
    bool more = false;
    for (const std::uint32_t old : fleet_.deploy_batch(i, more)) instance_start(fleet_.next_new(), e.ready_after_s, old);
    if (more) sim_.schedule_after(e.interval_s, ev_deploy_step, i);
}

// ---- arrivals (on_arrival: requests.cpp), warm-up, sampling --------------------------------

void world::on_burst() {
    const auto& a = s_.workload.arrivals;
    for (int i = 0; i < a.count; ++i) arrive();
    if (a.every_s > 0) sim_.schedule_after(a.every_s, ev_burst, 0);
}

void world::end_warmup() {
    const double t = sim_.now();
    m_.end_warmup(t);
    breakers_.reset_measurements(t);
    db_.backends_avg().reset(t);
    db_.cpu.busy_cores().reset(t);
    db_.cpu.active_queries().reset(t);
    fleet_.running().reset(t);
}

world_view world::view() const {
    return {s_, reqs_, breakers_, db_, fleet_, pools_, per_instance_, pooler_, sim_.events_processed()};
}

void world::sample() {
    m_.sample(sim_.now(), view(), stopped_, apps_);
    sim_.schedule_after(s_.run.sample_interval_s, ev_sample, 0);
}

// ---- events ---------------------------------------------------------------------------------

// Forced inline into run's event loop (speed, issue 9: one call less per event).
[[gnu::always_inline]] inline void world::handle(const sim::event& e) {
    const std::uint32_t x = e.target;
    const conn_ref c = conn_ref::of(x);  // for the events whose target is a connection
    if (trace_) [[unlikely]] {
        const bool pool_timer = e.kind >= ev_pool_timer;
        trace_->push_back({e.time, pool_timer ? "pool_timer" : ev_names[e.kind], x, pool_timer ? e.kind - ev_pool_timer : 0});
    }
    switch (e.kind) {
        case ev_arrival: on_arrival(); break;
        case ev_db_done: on_db_done(e); break;
        case ev_response: on_response(x); break;
        case ev_app_done: after_query(x); break;
        case ev_connect_done: if (!stopped(c)) on_connect_done(c.pool, c.conn); break;
        case ev_round_trip_done: if (!stopped(c)) on_round_trip_done(c.pool, c.conn); break;
        case ev_round_trip_failed: if (!stopped(c)) pools_[c.pool]->on_round_trip_done(c.conn, false); break;
        case ev_query_error: on_query_error(x); break;
        case ev_stmt_timeout: on_stmt_timeout(x); break;
        case ev_idle_session: on_idle_session(c.pool, c.conn); break;
        // A return without its request (a leak's late return, a grant nobody wanted): its
        // query count is not kept; it counts as one.
        case ev_leak_return: if (!stopped(c)) release_conn(c.pool, c.conn, 1); break;
        case ev_backend_reaped: release_backend(); break;
        case ev_fault_start: fault_start(x); break;
        case ev_fault_end: db_.promote_next_node(); break;
        case ev_fleet: fleet_event_start(x); break;
        case ev_deploy_step: deploy_step(x); break;
        case ev_instance_ready: instance_ready(x); break;
        case ev_instance_stop: instance_stop(x); break;
        case ev_login_timeout: if (!stopped(c)) on_login_timeout(c.pool, c.conn); break;
        case ev_server_closed: on_server_closed(c.pool, c.conn); break;
        case ev_user_next: arrive(x); break;
        case ev_burst: on_burst(); break;
        case ev_sample: sample(); break;
        case ev_retry: on_retry(x); break;
        case ev_deadline: on_deadline(x); break;
        case ev_patience: on_patience(x); break;
        case ev_breaker: breakers_.half_open(x, sim_.now()); break;
        case ev_warmup_end: end_warmup(); break;
        default:
            DBPOOLSIM_ASSERT(e.kind >= ev_pool_timer, "unknown event kind");
            if (!stopped(c)) pools_[c.pool]->on_timer(e.kind - ev_pool_timer, c.conn);
    }
}

replication_result world::run() {
    const auto t0 = std::chrono::steady_clock::now();
    const double horizon = s_.run.horizon_s;
    const double start = s_.run.pool_start_s;  // <= 0: the pools open before traffic
    if (start < 0) sim_.start_at(start);
    // The initial fleet; fleet events start more instances later.
    for (int i = 0; i < s_.client.instances; ++i) {
        const std::uint32_t inst = fleet_.next_new();
        fleet_.start_active(inst, start);
        for (std::uint32_t j = 0; j < per_instance_; ++j) pools_[inst * per_instance_ + j]->start();
    }
    if (pooler_) pooler_->start();
    for (std::uint32_t i = 0; i < s_.faults.size(); ++i) sim_.schedule_at(s_.faults[i].at_s, ev_fault_start, i);
    for (std::uint32_t i = 0; i < s_.fleet.size(); ++i) sim_.schedule_at(s_.fleet[i].at_s, ev_fleet, i);
    // Pools started before 0: the window opens at 0 (before any arrival at 0) at the latest.
    if (start < 0 && s_.run.warmup_s <= 0) sim_.schedule_at(0, ev_warmup_end, 0);
    const auto& a = s_.workload.arrivals;
    switch (a.kind) {
        case arrival_kind::poisson:
        case arrival_kind::mmpp:
        case arrival_kind::trace: {
            arrival_proc_.emplace(a, arrivals_);
            const double first = arrival_proc_->next();
            if (std::isfinite(first)) sim_.schedule_fifo_at(arrival_lane, first, ev_arrival, 0);
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
    // A cancel and the memory budget (requests in flight and request records kept,
    // models/run.hpp) are also checked every 4096 events, so Ctrl-C is prompt whatever the
    // horizon, and where the budget stops a replication does not depend on timing.
    const double budget = s_.run.max_memory_mb * 1048576.0;
    std::string stopped;  // why the replication ends early (replication_result::stopped)
    std::uint32_t countdown = 1u << 12;
    auto handler = [&](const sim::event& e) {
        handle(e);
        if (--countdown == 0) {
            countdown = 1u << 12;
            if (ctl_ && ctl_->cancel.load(std::memory_order_relaxed)) stopped = "interrupted";
            else if (reqs_.live() * bytes_per_live_request + m_.records_kept() * bytes_per_request_record > budget ||
                     reqs_.live() >= max_live_requests)
                stopped = "memory";
            if (!stopped.empty()) sim_.stop();
        }
    };
    for (double t = start; t < horizon && stopped.empty();) {
        const double next = std::min(horizon, t + chunk);
        const bool finished = sim_.run_until(next, handler);
        if (ctl_ && finished && ctl_->cancel.load(std::memory_order_relaxed)) stopped = "interrupted";
        if (ctl_) ctl_->simulated_s.fetch_add((finished ? next : sim_.now()) - t);
        t = next;
    }
    if (stopped == "interrupted" && !ctl_->keep_partial) throw cancelled();
    if (m_.recording) reqs_.for_each_in_flight([this](const request& r) { record(r, request_record::in_flight); });
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    replication_result r = m_.collect(sim_.now(), wall, rep_, view());
    r.simulated_s = sim_.now();
    r.stopped = stopped;
    return r;
}

}  // namespace dbpoolsim::models::world_parts
