// PgBouncer's algorithm (see pgbouncer.hpp for what is reproduced, with the source functions).
// Its pools per (database, user) share one connection table, one idle list and one FIFO of
// waiting clients; each server and each waiting request knows its pool. With one pool (the
// default) every walk below stops at the first element, as the single pool it replaces did.
#include "models/pool/pgbouncer.hpp"

#include <algorithm>
#include <deque>
#include <tuple>

namespace dbpoolsim::models {
namespace {

class pgbouncer final : public pooler_policy {
public:
    pgbouncer(const pgbouncer_params& p, pool_host& host, std::uint32_t index, pool_metrics& m,
              sim::random_stream rng)
        : pooler_policy(host, index, m, std::move(rng)), p_(p), session_(p.pool_mode == "session") {}

    // ---- pooler_policy ------------------------------------------------------------------
    /// The first `clients` route matching the application pool names its (database, user);
    /// none matching: ("postgres", "postgres"), pgbouncer_client_route's defaults.
    void route(std::uint32_t app_pool, int instance, const std::string& named_pool) override {
        pgbouncer_client_route r;
        for (const auto& c : p_.clients) {
            if (!c.pool.empty() && c.pool != named_pool) continue;
            if (!c.instances.empty() && std::find(c.instances.begin(), c.instances.end(), instance) == c.instances.end())
                continue;
            r = c;
            break;
        }
        if (app_pool >= app_route_.size()) app_route_.resize(app_pool + 1, 0);
        app_route_[app_pool] = pool_for(r.database, r.user);
    }

    bool admit_client(std::uint32_t app_pool) override {
        // client.c: over max_client_conn the new client gets
        // "no more connections allowed (max_client_conn)".
        if (clients_ >= static_cast<std::uint32_t>(p_.max_client_conn)) {
            ++rejected_clients_;
            return false;
        }
        peak_clients_ = std::max(peak_clients_, ++clients_);
        ++sp_[pool_of_app(app_pool)].clients;
        return true;
    }
    /// disconnect_client: a session server goes back through release_server (lifetime first,
    /// then server_reset_query: one round trip before anyone can use it, then the head waiter).
    void client_left(std::uint32_t app_pool, std::uint32_t server) override {
        --clients_;
        --sp_[pool_of_app(app_pool)].clients;
        if (server != npos32) release(server);
    }
    void acquire_from(std::uint32_t app_pool, std::uint32_t req) override {
        if (req >= req_pool_.size()) req_pool_.resize(std::max<std::size_t>(req + 1, 2 * req_pool_.size()), 0);
        req_pool_[req] = pool_of_app(app_pool);
        acquire(req);
    }
    bool session_pooling() const override { return session_; }
    const distribution& client_connect_time() const override { return p_.client_connect_time; }
    std::uint32_t clients() const override { return clients_; }
    std::uint32_t peak_clients() const override { return peak_clients_; }
    std::uint64_t rejected_clients() const override { return rejected_clients_; }

    // ---- pool_policy --------------------------------------------------------------------
    void start() override {
        if (sp_.empty()) pool_for("postgres", "postgres");
        host_.pool_timer(index_, now() + janitor_period, timer_janitor, 0);
    }

    void acquire(std::uint32_t req) override {
        if (req >= req_pool_.size()) req_pool_.resize(std::max<std::size_t>(req + 1, 2 * req_pool_.size()), 0);
        if (p_.cpu_per_transaction_s > 0) {  // the single thread first
            cpu_queue_.push_back(req);
            if (cpu_queue_.size() == 1) start_cpu();
            return;
        }
        find_server(req);
    }

    bool cancel_acquire(std::uint32_t req) override {
        if (!pool_base::cancel_acquire(req)) return false;
        --sp_[req_pool_[req]].waiters;
        return true;
    }

    void find_server(std::uint32_t req) {
        const std::uint32_t s = req_pool_[req];
        sub_pool& sp = sp_[s];
        // find_server: the most recently released idle server (LIFO) serves at once.
        if (take_idle_for(req, s)) return;
        // check_fast_fail: the last login failed and there is no server but logins. The
        // client is disconnected and a login launched right here (objects.c): with nobody
        // waiting, the janitor's relaunch would never fire. Its gates still apply, so while
        // queries arrive one login starts every server_login_retry.
        if (sp.last_login_failed && sp.total == sp.creating) {
            fail(req, fail_reason::connect_error);
            try_launch(s, /*for_min=*/false);
            return;
        }
        if (req >= wait_start_.size()) wait_start_.resize(std::max<std::size_t>(req + 1, 2 * wait_start_.size()));
        wait_start_[req] = now();
        // Waits are ended by the janitor (query_wait_timeout has 1/3 s granularity).
        enqueue_waiter(req, sim::infinity);
        ++sp.waiters;
        launch(s);  // find_server's own launch_new_connection, for this pool
    }

    void release(std::uint32_t c) override {
        connection& k = conn(c);
        k.last_returned_at = now();
        if (life_over(k, conn_pool_[c])) {
            close_server(c, close_reason::lifetime);
            per_loop();
            return;
        }
        // release_server → reset_on_release: the reset query in session pooling (or always).
        if (!p_.server_reset_query.empty() && (session_ || p_.server_reset_query_always)) {
            start_round_trip(c, tag_reset);
            return;
        }
        reuse_on_release(c);
    }

    void on_connect_done(std::uint32_t c, login_outcome how) override {
        const std::uint32_t s = conn_pool_[c];
        sub_pool& sp = sp_[s];
        --sp.creating;
        if (how != login_outcome::ok) {
            server_failed(c);
            sp.last_login_failed = true;
            // kill_pool_logins_server_error (server.c): only an ErrorResponse during the login,
            // other than 57P03 cannot_connect_now (exempt since 1.21.0), disconnects the
            // pool's waiting clients, and only while no server is usable. TCP failures, a
            // connection lost during the login and connect timeouts only set the flags
            // (objects.c disconnect_server, SV_LOGIN): the clients stay queued.
            const bool server_refused = how == login_outcome::too_many || how == login_outcome::server_error;
            if (server_refused && connected(s) == 0)
                for (std::uint32_t req = pop_waiter_of(s); req != npos32; req = pop_waiter_of(s))
                    fail(req, fail_reason::connect_error);
            // The database's (user's) slot is free again: another pool may take it.
            if (sp_.size() > 1) per_loop();
            return;  // next attempt: server_login_retry after this one started
        }
        connection_opened(c);
        sp.last_login_failed = false;
        reuse_on_release(c);  // activates the first waiting client
        per_loop();           // per_loop_activate: more waiters, next login
    }

    void on_round_trip_done(std::uint32_t c, bool ok) override {
        connection& k = conn(c);
        const std::uint32_t req = k.holder;
        if (k.check_tag == tag_reset) {  // the reset query's ReadyForQuery: now idle
            if (!ok || k.broken) {
                close_server(c, close_reason::broken);
                per_loop();
            } else {
                reuse_on_release(c);
            }
            return;
        }
        if (!ok || k.broken) {
            close_server(c, close_reason::broken);
            requeue_waiter_front(req);
            ++sp_[req_pool_[req]].waiters;
            per_loop();
            return;
        }
        k.last_returned_at = now();
        grant(req, c);
    }

    void on_broken_in_use(std::uint32_t c) override {
        close_server(c, close_reason::broken);
        per_loop();
    }

    /// PgBouncer reads every server socket: end of file on an idle server disconnects it at
    /// once (server.c server_proto, "server conn crashed?"). A server in its check round trip
    /// learns from the check.
    void on_server_closed(std::uint32_t c) override {
        if (conn(c).state != conn_state::idle) return;
        close_server(c, close_reason::broken);
        per_loop();
    }

    double acquire_timeout() const override {
        return p_.query_wait_timeout > 0 ? p_.query_wait_timeout : sim::infinity;
    }
    /// The pools' sizes added up (a pool_size of 0 has no limit of its own: infinity).
    double max_size() const override {
        if (sp_.empty()) return p_.default_pool_size;
        double sum = 0;
        for (const auto& sp : sp_) sum += sp.size > 0 ? sp.size : sim::infinity;
        return sum;
    }

private:
    static constexpr double janitor_period = 1.0 / 3.0;  // janitor.c full_maint_period
    static constexpr std::uint32_t timer_janitor = 1;
    static constexpr std::uint32_t timer_cpu = 2;
    static constexpr std::uint32_t tag_check = 1, tag_reset = 2;

    /// One PgBouncer pool (PgPool): a (database, user) pair with its resolved settings.
    struct sub_pool {
        std::string database, user;
        std::uint32_t db = 0, usr = 0;  // indexes into dbs_, users_
        int size = 0, reserve = 0, min = 0;
        std::uint32_t total = 0, creating = 0, waiters = 0, clients = 0;
        bool last_login_failed = false;
        double last_connect_time = -sim::infinity;
        double last_lifetime_close = -sim::infinity;
    };
    /// A database's or user's server count (connection_count) and its cap (0 = none).
    struct cap {
        std::string name;
        int max = 0;
        std::uint32_t count = 0;
    };

    /// The pool for (database, user), made on first use with pgbouncer.ini's inheritance:
    /// pool_size and reserve_pool_size from the user, else the database, else the global
    /// (server.c pool_pool_size, pool_res_pool_size); min_pool_size from the database
    /// (database_min_pool_size); caps per database and user, else global
    /// (database_max_connections, user_max_connections).
    std::uint32_t pool_for(const std::string& database, const std::string& user) {
        for (std::uint32_t i = 0; i < sp_.size(); ++i)
            if (sp_[i].database == database && sp_[i].user == user) return i;
        const pgbouncer_database* d = nullptr;
        for (const auto& x : p_.databases)
            if (x.name == database) d = &x;
        const pgbouncer_user* u = nullptr;
        for (const auto& x : p_.users)
            if (x.name == user) u = &x;
        sub_pool sp;
        sp.database = database, sp.user = user;
        sp.db = cap_for(dbs_, database, d && d->max_db_connections > 0 ? d->max_db_connections : p_.max_db_connections);
        sp.usr = cap_for(users_, user, u && u->max_user_connections > 0 ? u->max_user_connections : p_.max_user_connections);
        sp.size = u && u->pool_size >= 0 ? u->pool_size : d && d->pool_size >= 0 ? d->pool_size : p_.default_pool_size;
        sp.reserve = u && u->reserve_pool_size >= 0 ? u->reserve_pool_size
                     : d && d->reserve_pool_size >= 0 ? d->reserve_pool_size : p_.reserve_pool_size;
        sp.min = d && d->min_pool_size >= 0 ? d->min_pool_size : p_.min_pool_size;
        sp_.push_back(sp);
        // pool_list is kept sorted by database name, then user name (objects.c cmp_pool).
        order_.resize(sp_.size());
        for (std::uint32_t i = 0; i < order_.size(); ++i) order_[i] = i;
        std::sort(order_.begin(), order_.end(), [this](std::uint32_t a, std::uint32_t b) {
            return std::tie(sp_[a].database, sp_[a].user) < std::tie(sp_[b].database, sp_[b].user);
        });
        return static_cast<std::uint32_t>(sp_.size() - 1);
    }
    static std::uint32_t cap_for(std::vector<cap>& caps, const std::string& name, int max) {
        for (std::uint32_t i = 0; i < caps.size(); ++i)
            if (caps[i].name == name) return i;
        caps.push_back({name, max, 0});
        return static_cast<std::uint32_t>(caps.size() - 1);
    }
    std::uint32_t pool_of_app(std::uint32_t app_pool) const {
        return app_pool < app_route_.size() ? app_route_[app_pool] : 0;
    }

    bool check_enabled() const { return !p_.server_check_query.empty(); }
    std::uint32_t connected(std::uint32_t s) const { return sp_[s].total - sp_[s].creating; }

    // ---- the pools' views of the shared idle list and waiter queue ---------------------
    /// The pool's first idle server (the next one find_server takes), npos32 if none.
    std::uint32_t first_idle(std::uint32_t s) {
        std::uint32_t c = idle_front();
        while (c != npos32 && conn_pool_[c] != s) c = idle_next(c);
        return c;
    }
    /// The pool's last idle server (last_socket(&pool->idle_server_list)), npos32 if none.
    std::uint32_t last_idle(std::uint32_t s) {
        std::uint32_t c = idle_back();
        while (c != npos32 && conn_pool_[c] != s) c = conn(c).prev;
        return c;
    }
    /// Remove and return the pool's longest-waiting client, npos32 if none.
    std::uint32_t pop_waiter_of(std::uint32_t s) {
        if (sp_[s].waiters == 0) return npos32;
        std::uint32_t req = waiter_front();
        while (req != npos32 && req_pool_[req] != s) req = waiter_next(req);
        if (req == npos32) return npos32;
        pool_base::cancel_acquire(req);  // unlinks it (PgBouncer's waits have no timer)
        --sp_[s].waiters;
        return req;
    }

    // ---- servers: every open and close keeps the pool, database and user counts ---------
    void close_server(std::uint32_t c, close_reason why) {
        sub_pool& sp = sp_[conn_pool_[c]];
        --sp.total, --dbs_[sp.db].count, --users_[sp.usr].count;
        close(c, why);
    }
    void server_failed(std::uint32_t c) {
        sub_pool& sp = sp_[conn_pool_[c]];
        --sp.total, --dbs_[sp.db].count, --users_[sp.usr].count;
        connection_failed(c);
    }

    /// Give an idle server of req's pool to req (after a check if it sat idle too long).
    bool take_idle_for(std::uint32_t req, std::uint32_t s) {
        const std::uint32_t c = first_idle(s);
        if (c == npos32) return false;
        serve(req, c);
        return true;
    }

    void serve(std::uint32_t req, std::uint32_t c) {
        const connection& k = conn(c);
        // server_check_delay 0: always check (doc/config.md).
        if (check_enabled() &&
            (p_.server_check_delay == 0 || now() - k.last_returned_at > p_.server_check_delay))
            start_round_trip(c, tag_check, req);  // SV_USED -> SV_TESTED
        else
            grant(req, c);
    }

    /// A server is free: its pool's head client gets it at once, else it goes idle.
    void reuse_on_release(std::uint32_t c) {
        const std::uint32_t req = pop_waiter_of(conn_pool_[c]);
        if (req != npos32) {
            serve(req, c);
            return;
        }
        if (p_.server_round_robin) push_idle_back(c);
        else push_idle_front(c);
        // per_loop_maint after the event: a pool waiting at its database's or user's cap may
        // evict this idle server now (one pool: nobody else could want it).
        if (sp_.size() > 1) per_loop();
    }

    /// life_over: old enough, and the pool's last lifetime close is long enough ago
    /// (server_lifetime / pool_size; no gap with pool_size 0).
    bool life_over(const connection& k, std::uint32_t s) {
        const double age = now() - k.created_at;
        if (age < p_.server_lifetime) return false;
        sub_pool& sp = sp_[s];
        const double gap = sp.size > 0 ? p_.server_lifetime / sp.size : 0.0;
        if (now() - sp.last_lifetime_close < gap) return false;
        sp.last_lifetime_close = now();
        return true;
    }

    /// per_loop_maint: every pool, in pool_list order, gets a login if clients wait in it and
    /// it has no idle server. So a freed database or user slot goes to the first such pool.
    void per_loop() {
        for (const std::uint32_t s : order_) launch(s);
    }

    /// launch_new_connection for pool s when its clients wait and it has no idle server.
    void launch(std::uint32_t s) {
        if (sp_[s].waiters == 0 || first_idle(s) != npos32) return;
        try_launch(s, /*for_min=*/false);
    }

    bool try_launch(std::uint32_t s, bool for_min) {
        sub_pool& sp = sp_[s];
        if (sp.creating > 0) return false;  // gate 1: one login in flight per pool
        if (sp.last_login_failed && now() - sp.last_connect_time < p_.server_login_retry) return false;
        if (sp.size > 0 && sp.total >= static_cast<std::uint32_t>(sp.size)) {
            if (for_min) return false;
            const std::uint32_t head = first_waiter(s);
            const bool reserve_ok = sp.reserve > 0 && p_.reserve_pool_timeout > 0 && head != npos32 &&
                                    now() - wait_start_[head] >= p_.reserve_pool_timeout &&
                                    sp.total < static_cast<std::uint32_t>(sp.size + sp.reserve);
            if (!reserve_ok) return false;  // "pool full"
        }
        // The database's, then the user's cap: at it, evict the least recently used idle
        // server of the database's (user's) pools first (not for min_pool_size logins:
        // check_pool_size passes evict_if_needed = false).
        if (!room(dbs_[sp.db], &sub_pool::db, sp.db, !for_min)) return false;
        if (!room(users_[sp.usr], &sub_pool::usr, sp.usr, !for_min)) return false;
        sp.last_connect_time = now();
        // server_connect_timeout: sbuf_connect's connect timeout ends an unanswered TCP connect,
        // the janitor (pool_server_maint) a login still unfinished after it. Here both at
        // exactly the timeout (the janitor would see a post-connect hang up to 1/3 s later).
        const std::uint32_t c = open_connection(login_bounds{p_.server_connect_timeout, p_.server_connect_timeout});
        if (c >= conn_pool_.size()) conn_pool_.resize(std::max<std::size_t>(c + 1, 2 * conn_pool_.size()), 0);
        conn_pool_[c] = s;
        ++sp.total, ++sp.creating, ++dbs_[sp.db].count, ++users_[sp.usr].count;
        return true;
    }

    /// Room under cap `k` (max 0 = none), evicting while allowed (launch_new_connection).
    bool room(const cap& k, std::uint32_t sub_pool::*key, std::uint32_t id, bool evict) {
        if (k.max <= 0) return true;
        while (evict && k.count >= static_cast<std::uint32_t>(k.max))
            if (!evict_one(key, id)) break;
        return k.count < static_cast<std::uint32_t>(k.max);
    }

    /// evict_connection / evict_user_connection: among the pools sharing the database (user),
    /// the last idle server of each is a candidate and the least recently used goes
    /// (compare_connections_by_time: on a tie the later pool's). Servers in a check or reset
    /// round trip are not candidates here (PgBouncer takes its SV_USED / SV_TESTED ones from
    /// pools with no waiting client too).
    bool evict_one(std::uint32_t sub_pool::*key, std::uint32_t id) {
        std::uint32_t victim = npos32;
        for (const std::uint32_t s : order_) {
            if (sp_[s].*key != id) continue;
            const std::uint32_t c = last_idle(s);
            if (c == npos32) continue;
            if (victim == npos32 || !(conn(victim).last_returned_at < conn(c).last_returned_at)) victim = c;
        }
        if (victim == npos32) return false;
        close_server(victim, close_reason::overflow);  // "evicted"
        return true;
    }

    std::uint32_t first_waiter(std::uint32_t s) const {
        if (sp_[s].waiters == 0) return npos32;
        std::uint32_t req = waiter_front();
        while (req != npos32 && req_pool_[req] != s) req = waiter_next(req);
        return req;
    }

    void start_cpu() { host_.pool_timer(index_, now() + p_.cpu_per_transaction_s, timer_cpu, 0); }

    void on_policy_timer(std::uint32_t kind, std::uint32_t) override {
        if (kind == timer_cpu) {
            const std::uint32_t req = cpu_queue_.front();
            cpu_queue_.pop_front();
            if (!cpu_queue_.empty()) start_cpu();
            find_server(req);
            return;
        }
        if (kind != timer_janitor) return;
        janitor();
        host_.pool_timer(index_, now() + janitor_period, timer_janitor, 0);
    }

    void janitor() {
        // pool_client_maint: disconnect clients queued longer than query_wait_timeout. One
        // pool's queue is in arrival order (older first); several pools' queues interleave.
        if (p_.query_wait_timeout > 0) {
            for (std::uint32_t req = waiter_front(); req != npos32;) {
                const std::uint32_t next = waiter_next(req);
                if (now() - wait_start_[req] > p_.query_wait_timeout) {
                    pool_base::cancel_acquire(req);
                    --sp_[req_pool_[req]].waiters;
                    fail(req, fail_reason::pooler_timeout);
                } else if (sp_.size() == 1) {
                    break;
                }
                req = next;
            }
        }
        // check_unused_servers on idle servers, each by its pool's settings.
        for (std::uint32_t c = idle_front(); c != npos32;) {
            const std::uint32_t next = idle_next(c);
            const std::uint32_t s = conn_pool_[c];
            const auto min = static_cast<std::uint32_t>(std::min(sp_[s].min, sp_[s].size));
            connection& k = conn(c);
            const double idle = now() - k.last_returned_at;
            if (p_.server_idle_timeout > 0 && idle > p_.server_idle_timeout &&
                (sp_[s].min == 0 || connected(s) > min))
                close_server(c, close_reason::idle);
            else if (life_over(k, s))
                close_server(c, close_reason::lifetime);
            c = next;
        }
        for (const std::uint32_t s : order_) {
            sub_pool& sp = sp_[s];
            if (sp.size <= 0) continue;
            // check_pool_size: servers beyond pool_size + reserve are closed (idle ones here).
            const auto cap = static_cast<std::uint32_t>(sp.size + sp.reserve);
            for (std::uint32_t c = last_idle(s); sp.total > cap && c != npos32; c = last_idle(s))
                close_server(c, close_reason::overflow);
            // min_pool_size: one login per tick, only while clients are connected.
            const auto min = static_cast<std::uint32_t>(std::min(sp.min, sp.size));
            if (connected(s) < min && sp.clients > 0) try_launch(s, /*for_min=*/true);
        }
        // The reserve and retries after server_login_retry are re-evaluated here too.
        per_loop();
    }

    pgbouncer_params p_;
    bool session_;  // pool_mode session: a server per client connection, for its life
    std::vector<sub_pool> sp_;
    std::vector<std::uint32_t> order_;      // sp_ indexes in pool_list order
    std::vector<cap> dbs_, users_;
    std::vector<std::uint32_t> app_route_;  // application pool -> its PgBouncer pool
    std::vector<std::uint32_t> conn_pool_;  // server -> its pool
    std::vector<std::uint32_t> req_pool_;   // request -> the pool its transaction asks
    std::vector<double> wait_start_;
    std::deque<std::uint32_t> cpu_queue_;  // transactions waiting for PgBouncer's thread
    std::uint32_t clients_ = 0, peak_clients_ = 0;
    std::uint64_t rejected_clients_ = 0;
};

}  // namespace

std::unique_ptr<pooler_policy> make_pgbouncer(const pgbouncer_params& p, pool_host& host,
                                              std::uint32_t index, pool_metrics& metrics,
                                              sim::random_stream rng) {
    return std::make_unique<pgbouncer>(p, host, index, metrics, std::move(rng));
}

}  // namespace dbpoolsim::models
