// dbpoolsim world: the network between the application and its database (or pooler).
//
// For every connection slot of every pool the world keeps a `link`: its far end (which
// database incarnation and node it reached, whether its backend still exists), whether the
// path to it is dead and how a use then fails, and its idle-session timer. This class owns
// that table and the network's rules: the round trip time, a NAT that forgets idle flows
// (docs/scenario.md, "network"), how a use of a dead connection fails, and when the server
// reaps an orphaned backend.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/metrics.hpp"
#include "models/pool/pool.hpp"
#include "models/scenario.hpp"
#include "sim/simulation.hpp"

namespace dbpoolsim::models::world_parts {

/// The world's view of one connection's far end.
struct link {
    std::uint32_t epoch = 0;  // database incarnation (restart, failover) at login
    std::uint32_t node = 0;   // server node (failover, read-only demotion) at login
    std::uint32_t busy = npos32;  // request whose query runs on it
    double last_used = 0;     // last traffic (NAT idle timer)
    // The server's idle_session_timeout while the connection is open; once the server has
    // closed it, the close notification on its way to the pool (ev_server_closed). Cancelled
    // whenever the connection is used, closed or its slot reused.
    sim::timer_handle idle_timer;
    sim::timer_handle login_timer, login_deadline;  // a login in progress: its answer, its bound
    std::uint32_t login_job = 0;  // its CPU part on the database (login_phase 2)
    login_outcome login_kind = login_outcome::ok;  // what the login's answer will say
    bool login_ok = false;
    std::uint8_t login_phase = 0;  // 1: network part done, CPU part next
    bool backend = false;     // holds a backend slot on the database
    bool open = false;        // login delivered and not closed
    bool dead = false;        // the far end is gone: the next use fails
    bool silent = false;      // ... without a reset: it hangs until socket_timeout_s
    bool orphan = false;      // NAT-dropped silently: the backend outlives the client's close
    bool held = false;        // held by a request
    bool pooler_client = false;  // counted as a client by the pooler (admitted, not yet closed)
    std::uint32_t server = npos32;  // session pooling: the pooler's server linked to this client
};

/// How a use of a dead connection fails: after `delay`, with `why`.
struct use_failure {
    double delay;
    fail_reason why;
};

class network {
public:
    explicit network(const scenario& s) : n_(s.network), db_(s.database), rtt_(s.database.network_rtt_s) {}
    /// Follow the connections of `pools` pools.
    void set_pools(std::size_t pools) { links_.resize(pools); }

    double rtt() const noexcept { return rtt_; }
    double connect_timeout() const noexcept { return n_.connect_timeout_s; }
    double socket_timeout() const noexcept { return n_.socket_timeout_s; }

    // Inline (a round trip asks twice); the table grows out of line, rarely.
    link& at(std::uint32_t pool, std::uint32_t conn) {
        auto& v = links_[pool];
        if (conn >= v.size()) [[unlikely]] grow(v, conn);
        return v[conn];
    }
    /// A pool's links (every slot it ever used).
    std::vector<link>& of(std::uint32_t pool) { return links_[pool]; }
    std::size_t pools() const noexcept { return links_.size(); }

    /// A NAT between the application and its peer forgets flows idle longer than
    /// nat_idle_timeout_s: the connection is dead from now on. True if it just died; a silent
    /// drop of a connection that reaches the database orphans its backend (the close will
    /// not arrive).
    bool nat_check(link& l, bool db_facing, double now) const {
        const double nat = n_.nat_idle_timeout_s;
        if (nat <= 0 || l.dead || now - l.last_used <= nat) return false;
        l.dead = true;
        l.silent = n_.nat_drop == nat_drop_mode::silent;
        l.orphan = l.silent && l.backend && db_facing;
        return true;
    }

    /// How a use of dead link l fails: at once (reset) or after the socket timeout (silent).
    use_failure dead_use(const link& l) const {
        if (l.silent) return {n_.socket_timeout_s, fail_reason::socket_timeout};
        return {rtt_, fail_reason::query_error};
    }

    /// When a round trip on l fails if l is dead (capped by the caller's check timeout).
    double failed_round_trip_after(const link& l, double timeout_s) const {
        return l.silent ? std::min(timeout_s, n_.socket_timeout_s) : rtt_;
    }

    /// The backend of an orphaned connection closed at `now`: the server reaps it after TCP
    /// keepalive, or its idle_session_timeout if that comes first.
    double orphan_reap_after(const link& l, double now) const {
        double reap = db_.tcp_keepalive_s;
        if (db_.idle_session_timeout_s > 0)
            reap = std::min(reap, std::max(0.0, l.last_used + db_.idle_session_timeout_s - now));
        return reap;
    }

private:
    const network_settings& n_;
    const database_settings& db_;
    double rtt_;
    [[gnu::noinline]] static void grow(std::vector<link>& v, std::uint32_t conn) {
        v.resize(std::max<std::size_t>(conn + 1, 2 * v.size()));
    }

    std::vector<std::vector<link>> links_;  // per pool, per connection slot
};

}  // namespace dbpoolsim::models::world_parts
