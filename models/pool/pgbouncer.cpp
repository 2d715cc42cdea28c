#include "models/pool/pgbouncer.hpp"

#include <algorithm>
#include <deque>

#include "models/pool/registry.hpp"

namespace dbpoolsim::models {
namespace {

class pgbouncer final : public pooler_policy {
public:
    pgbouncer(const pgbouncer_params& p, pool_host& host, std::uint32_t index, pool_metrics& m,
              sim::random_stream rng)
        : pooler_policy(host, index, m, std::move(rng)), p_(p), session_(p.pool_mode == "session") {}

    // ---- pooler_policy ------------------------------------------------------------------
    bool admit_client() override {
        // client.c: over max_client_conn the new client gets
        // "no more connections allowed (max_client_conn)".
        if (clients_ >= static_cast<std::uint32_t>(p_.max_client_conn)) {
            ++rejected_clients_;
            return false;
        }
        peak_clients_ = std::max(peak_clients_, ++clients_);
        return true;
    }
    /// disconnect_client: a session server goes back through release_server (lifetime first,
    /// then server_reset_query: one round trip before anyone can use it, then the head waiter).
    void client_left(std::uint32_t server) override {
        --clients_;
        if (server != npos32) release(server);
    }
    bool session_pooling() const override { return session_; }
    const distribution& client_connect_time() const override { return p_.client_connect_time; }
    std::uint32_t clients() const override { return clients_; }
    std::uint32_t peak_clients() const override { return peak_clients_; }
    std::uint64_t rejected_clients() const override { return rejected_clients_; }

    // ---- pool_policy --------------------------------------------------------------------
    void start() override { host_.pool_timer(index_, now() + janitor_period, timer_janitor, 0); }

    void acquire(std::uint32_t req) override {
        if (p_.cpu_per_transaction_s > 0) {  // the single thread first
            cpu_queue_.push_back(req);
            if (cpu_queue_.size() == 1) start_cpu();
            return;
        }
        find_server(req);
    }

    void find_server(std::uint32_t req) {
        // find_server: the most recently released idle server (LIFO) serves at once.
        if (take_idle_for(req)) return;
        // check_fast_fail: the last login failed and there is no server but logins. The
        // client is disconnected and a login launched right here (objects.c): with nobody
        // waiting, the janitor's relaunch would never fire. Its gates still apply, so while
        // queries arrive one login starts every server_login_retry.
        if (last_login_failed_ && n_.total == n_.creating) {
            fail(req, fail_reason::connect_error);
            try_launch(/*for_min=*/false);
            return;
        }
        if (req >= wait_start_.size()) wait_start_.resize(std::max<std::size_t>(req + 1, 2 * wait_start_.size()));
        wait_start_[req] = now();
        // Waits are ended by the janitor (query_wait_timeout has 1/3 s granularity).
        enqueue_waiter(req, sim::infinity);
        launch();
    }

    void release(std::uint32_t c) override {
        connection& k = conn(c);
        k.last_returned_at = now();
        if (life_over(k)) {
            close(c, close_reason::lifetime);
            launch();
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
        const bool ok = how == login_outcome::ok;
        if (!ok) {
            connection_failed(c);
            last_login_failed_ = true;
            // kill_pool_logins_server_error (server.c): only an ErrorResponse during the login,
            // other than 57P03 cannot_connect_now (exempt since 1.21.0), disconnects the
            // pool's waiting clients, and only while no server is usable. TCP failures, a
            // connection lost during the login and connect timeouts only set the flags
            // (objects.c disconnect_server, SV_LOGIN): the clients stay queued.
            const bool server_refused = how == login_outcome::too_many || how == login_outcome::server_error;
            if (server_refused && connected() == 0)
                for (std::uint32_t req = pop_waiter(); req != npos32; req = pop_waiter())
                    fail(req, fail_reason::connect_error);
            return;  // next attempt: server_login_retry after this one started
        }
        connection_opened(c);
        last_login_failed_ = false;
        reuse_on_release(c);  // activates the first waiting client
        launch();             // per_loop_activate: more waiters, next login
    }

    void on_round_trip_done(std::uint32_t c, bool ok) override {
        connection& k = conn(c);
        const std::uint32_t req = k.holder;
        if (k.check_tag == tag_reset) {  // the reset query's ReadyForQuery: now idle
            if (!ok || k.broken) {
                close(c, close_reason::broken);
                launch();
            } else {
                reuse_on_release(c);
            }
            return;
        }
        if (!ok || k.broken) {
            close(c, close_reason::broken);
            requeue_waiter_front(req);
            launch();
            return;
        }
        k.last_returned_at = now();
        grant(req, c);
    }

    void on_broken_in_use(std::uint32_t c) override {
        close(c, close_reason::broken);
        launch();
    }

    /// PgBouncer reads every server socket: end of file on an idle server disconnects it at
    /// once (server.c server_proto, "server conn crashed?"). A server in its check round trip
    /// learns from the check.
    void on_server_closed(std::uint32_t c) override {
        if (conn(c).state != conn_state::idle) return;
        close(c, close_reason::broken);
        launch();
    }

    double acquire_timeout() const override {
        return p_.query_wait_timeout > 0 ? p_.query_wait_timeout : sim::infinity;
    }
    double max_size() const override { return p_.default_pool_size; }

private:
    static constexpr double janitor_period = 1.0 / 3.0;  // janitor.c full_maint_period
    static constexpr std::uint32_t timer_janitor = 1;
    static constexpr std::uint32_t timer_cpu = 2;
    static constexpr std::uint32_t tag_check = 1, tag_reset = 2;

    bool check_enabled() const { return !p_.server_check_query.empty(); }

    /// Give an idle server to req (after a check if it sat idle too long). False if none.
    bool take_idle_for(std::uint32_t req) {
        const std::uint32_t c = idle_front();
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

    /// A server is free: the head client gets it at once, else it goes idle.
    void reuse_on_release(std::uint32_t c) {
        const std::uint32_t req = pop_waiter();
        if (req != npos32) {
            serve(req, c);
            return;
        }
        if (p_.server_round_robin) push_idle_back(c);
        else push_idle_front(c);
    }

    /// life_over: old enough, and the pool's last lifetime close is long enough ago.
    bool life_over(const connection& k) {
        const double age = now() - k.created_at;
        if (age < p_.server_lifetime) return false;
        const double gap = p_.server_lifetime / std::max(1, p_.default_pool_size);
        if (now() - last_lifetime_close_ < gap) return false;
        last_lifetime_close_ = now();
        return true;
    }

    /// launch_new_connection when clients wait and no idle server exists.
    void launch() {
        if (waiter_count() == 0 || idle_front() != npos32) return;
        try_launch(/*for_min=*/false);
    }

    bool try_launch(bool for_min) {
        if (n_.creating > 0) return false;  // gate 1: one login in flight per pool
        if (last_login_failed_ && now() - last_connect_time_ < p_.server_login_retry) return false;
        const auto size = static_cast<std::uint32_t>(p_.default_pool_size);
        if (n_.total >= size) {
            if (for_min) return false;
            const std::uint32_t head = waiter_front();
            const bool reserve_ok = p_.reserve_pool_size > 0 && p_.reserve_pool_timeout > 0 &&
                                    head != npos32 &&
                                    now() - wait_start_[head] >= p_.reserve_pool_timeout &&
                                    n_.total < size + static_cast<std::uint32_t>(p_.reserve_pool_size);
            if (!reserve_ok) return false;  // "pool full"
        }
        if (p_.max_db_connections > 0 && n_.total >= static_cast<std::uint32_t>(p_.max_db_connections))
            return false;
        last_connect_time_ = now();
        // server_connect_timeout: sbuf_connect's connect timeout ends an unanswered TCP connect,
        // the janitor (pool_server_maint) a login still unfinished after it. Here both at
        // exactly the timeout (the janitor would see a post-connect hang up to 1/3 s later).
        open_connection(login_bounds{p_.server_connect_timeout, p_.server_connect_timeout});
        return true;
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
        // pool_client_maint: disconnect clients queued longer than query_wait_timeout.
        if (p_.query_wait_timeout > 0) {
            for (std::uint32_t req = waiter_front(); req != npos32;) {
                if (now() - wait_start_[req] <= p_.query_wait_timeout) break;  // FIFO: older first
                pop_waiter();
                fail(req, fail_reason::pooler_timeout);
                req = waiter_front();
            }
        }
        // check_unused_servers on idle servers.
        const auto min = static_cast<std::uint32_t>(std::min(p_.min_pool_size, p_.default_pool_size));
        for (std::uint32_t c = idle_front(); c != npos32;) {
            const std::uint32_t next = idle_next(c);
            connection& k = conn(c);
            const double idle = now() - k.last_returned_at;
            if (p_.server_idle_timeout > 0 && idle > p_.server_idle_timeout &&
                (p_.min_pool_size == 0 || connected() > min))
                close(c, close_reason::idle);
            else if (life_over(k))
                close(c, close_reason::lifetime);
            c = next;
        }
        // check_pool_size: servers beyond pool_size + reserve are closed (idle ones here).
        const auto cap = static_cast<std::uint32_t>(p_.default_pool_size + p_.reserve_pool_size);
        while (n_.total > cap && idle_back() != npos32) close(idle_back(), close_reason::overflow);
        // min_pool_size: one login per tick, only while clients are connected.
        if (connected() < min && clients_ > 0) try_launch(/*for_min=*/true);
        // The reserve and retries after server_login_retry are re-evaluated here too.
        launch();
    }

    std::uint32_t connected() const { return n_.total - n_.creating; }

    pgbouncer_params p_;
    bool session_;  // pool_mode session: a server per client connection, for its life
    std::vector<double> wait_start_;
    std::deque<std::uint32_t> cpu_queue_;  // transactions waiting for PgBouncer's thread
    std::uint32_t clients_ = 0, peak_clients_ = 0;
    std::uint64_t rejected_clients_ = 0;
    bool last_login_failed_ = false;
    double last_connect_time_ = -sim::infinity;
    double last_lifetime_close_ = -sim::infinity;
};

}  // namespace

std::unique_ptr<pooler_policy> make_pgbouncer(const pgbouncer_params& p, pool_host& host,
                                              std::uint32_t index, pool_metrics& metrics,
                                              sim::random_stream rng) {
    return std::make_unique<pgbouncer>(p, host, index, metrics, std::move(rng));
}

// ---- registry entry (spec section 3; pgbouncer.ini names and defaults) -------------------------

namespace detail {
namespace {

/// pool_mode is one of PgBouncer's three; statement pooling is not modelled. `at`: its JSON path.
void transaction_pooling_only(const pgbouncer_params& p, const std::string& at, problems& out) {
    if (p.pool_mode == "statement")
        out.add(at, "only transaction and session pooling are modelled, got \"" + p.pool_mode + "\"");
}

const field_table<pgbouncer_params>& pgbouncer_fields() {
    using P = pgbouncer_params;
    static const field_table<P> t = {
        make_field<&P::pool_mode>("pool_mode")
            .one_of({"transaction", "session", "statement"})
            .reading([](object_reader& r, const std::string& key, const field<P>& f, P& p) {
                r.string(key, p.pool_mode, f.allowed);
                transaction_pooling_only(p, r.at(key), r.sink());
            })
            .checking([](const field<P>& f, const P& p, const std::string& at, problems& out) {
                if (auto broken = fields_impl::check_value(f.limits, f.allowed, p.pool_mode); !broken.empty())
                    out.add(at, broken);
                transaction_pooling_only(p, at, out);
            }),
        make_field<&P::default_pool_size>("default_pool_size", between(1, 1 << 20)),
        make_field<&P::min_pool_size>("min_pool_size", between(0, 1 << 20)),
        make_field<&P::reserve_pool_size>("reserve_pool_size", between(0, 1 << 20)),
        make_field<&P::reserve_pool_timeout>("reserve_pool_timeout", at_least(0)),
        make_field<&P::max_client_conn>("max_client_conn", between(1, 1 << 24)),
        make_field<&P::max_db_connections>("max_db_connections", between(0, 1 << 24)),
        make_field<&P::server_idle_timeout>("server_idle_timeout", at_least(0)),
        make_field<&P::server_lifetime>("server_lifetime", at_least(0)),
        make_field<&P::server_connect_timeout>("server_connect_timeout", above(0)),
        make_field<&P::server_login_retry>("server_login_retry", at_least(0)),
        make_field<&P::query_wait_timeout>("query_wait_timeout", at_least(0)),
        make_field<&P::server_check_delay>("server_check_delay", at_least(0)),
        make_field<&P::server_check_query>("server_check_query"),
        make_field<&P::server_round_robin>("server_round_robin"),
        make_field<&P::server_reset_query>("server_reset_query"),
        make_field<&P::server_reset_query_always>("server_reset_query_always"),
        make_field<&P::client_connect_time>("client_connect_time"),
        make_field<&P::cpu_per_transaction_s>("cpu_per_transaction_s", at_least(0)),
    };
    return t;
}

std::unique_ptr<pool_policy> make_pgbouncer_tier(const pgbouncer_params& p, pool_host& host, std::uint32_t index,
                                                 pool_metrics& metrics, sim::random_stream rng) {
    return make_pgbouncer(p, host, index, metrics, std::move(rng));
}

}  // namespace

const pool_kind& pgbouncer_pooler_kind() {
    static const pool_kind k =
        table_pool_kind<pgbouncer_params, pgbouncer_fields, make_pgbouncer_tier>(
            "pgbouncer", "PgBouncer in transaction or session pooling mode, shared by every application instance");
    return k;
}

}  // namespace detail
}  // namespace dbpoolsim::models
