// dbpoolsim models: PgBouncer in transaction or session pooling mode, as the shared tier between
// the application pools and the database (spec/pool-algorithms.md section 3, PgBouncer 1.25;
// session pooling: docs/pools/pgbouncer-session.md sections 1-2).
//
// One pool per (database, user) pair the application pools log in as (one pair by default);
// each rule below holds per pool unless it says otherwise. Parameters keep pgbouncer.ini's
// names, units (seconds) and defaults (src/main.c config table, doc/config.md); the field table
// is pgbouncer_fields.cpp. What is reproduced:
//   - launch throttle: at most one server login in flight (objects.c launch_new_connection
//     gate 1); the next starts as soon as one finishes while clients wait (spec 3.8.2);
//   - pool full at default_pool_size; the reserve (reserve_pool_size) opens only when the
//     OLDEST waiting client has waited >= reserve_pool_timeout, evaluated on janitor ticks
//     every 1/3 s and after every event, still one login at a time (3.4 gate 4, 3.8.3);
//   - strict FIFO client queue; a released or newly logged-in server goes to the head client
//     at once (3.5.5, reuse_on_release); idle servers reused LIFO (server_round_robin = 0)
//     or round-robin (3.3.2, 3.8.4);
//   - server check: a server idle longer than server_check_delay runs server_check_query
//     (one round trip) before serving a client (3.6.6, 3.8.5). "" disables the check;
//     "<empty>" (the default) sends an empty query;
//   - server_lifetime at release and by the janitor, throttled to one close per
//     server_lifetime / default_pool_size (life_over, 3.5.3, 3.8.6);
//   - server_idle_timeout by the janitor down to min_pool_size; min_pool_size enforced one
//     login per janitor tick, only while clients are connected (janitor.c check_pool_size);
//   - query_wait_timeout: a client queued longer is disconnected at the next janitor tick
//     (1/3 s granularity, pool_client_maint, 3.8.8);
//   - failed login: no new attempt until server_login_retry after the failed attempt
//     STARTED; while the last login failed and no server is connected, new queries fast-fail
//     (check_fast_fail, which also launches the next login itself); a login ErrorResponse other
//     than 57P03 with no connected server disconnects every waiting client
//     (kill_pool_logins_server_error); other login failures only set the flags (3.4, 3.8.7;
//     docs/pools/pgbouncer-session.md section 4);
//   - server_connect_timeout: a server login unfinished after it fails (flags only);
//   - an idle server the database closed (restart, kill, idle_session_timeout) is dropped at
//     once (server_proto); one that died silently is found on use;
//   - max_client_conn: application connections beyond it are refused at login;
//   - pools per (database, user) (docs/pools.md, PgBouncer section "Pools per database and
//     user"): each application pool connects as the (database, user) its `clients` route
//     names; pool_size = the user's pool_size, else the database's, else default_pool_size
//     (server.c pool_pool_size); max_db_connections caps one database's servers across its
//     pools and max_user_connections one user's across databases (launch_new_connection);
//     at a cap the launching pool first evicts the least recently used idle server of the
//     database's (user's) pools (evict_connection), else waits; a freed slot goes to the first
//     pool in (database, user) name order with waiting clients and no idle server
//     (per_loop_maint walks pool_list, sorted by cmp_pool);
//   - its single thread (dbpoolsim's cpu_per_transaction_s): every transaction first waits
//     its turn for a fixed CPU cost, FIFO, before find_server.
//   - pool_mode session: a server is linked to an application connection at its first query
//     and stays linked (the world keeps the link) until that connection closes; then
//     release_server runs server_reset_query (one round trip) before the head waiter gets it;
//     server_idle_timeout and server_lifetime never touch a linked server;
// Not modelled: statement pooling; cancel requests; per-database/user pool_mode,
// query_wait_timeout and server_lifetime; evicting servers in their check or reset round trip
// (SV_USED / SV_TESTED of pools with no waiters); the welcome-message login for the first
// client in session mode.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "models/pool/pool.hpp"

namespace dbpoolsim::models {

/// One [databases] entry: its pool settings (-1 / 0 = inherit the global setting).
struct pgbouncer_database {
    std::string name;
    int pool_size = -1;           // -1: default_pool_size
    int min_pool_size = -1;       // -1: min_pool_size
    int reserve_pool_size = -1;   // -1: reserve_pool_size
    int max_db_connections = 0;   // 0: the global max_db_connections
};

/// One [users] entry.
struct pgbouncer_user {
    std::string name;
    int pool_size = -1;            // -1: the database's pool_size (then default_pool_size)
    int reserve_pool_size = -1;    // -1: the database's (then the global) reserve_pool_size
    int max_user_connections = 0;  // 0: the global max_user_connections
};

/// dbpoolsim's: which application connections log in as which (database, user). The first
/// route matching an application pool applies; unmatched pools use the first route's
/// defaults ("postgres", "postgres").
struct pgbouncer_client_route {
    std::string pool;            // a named pool's name ("" = every pool)
    std::vector<int> instances;  // application instance indexes (empty = every instance)
    std::string database = "postgres";
    std::string user = "postgres";
};

struct pgbouncer_params : pool_params {
    std::string pool_mode = "transaction";  // or "session" (PgBouncer's own default)
    int default_pool_size = 20;
    int min_pool_size = 0;
    int reserve_pool_size = 0;
    double reserve_pool_timeout = 5.0;
    int max_client_conn = 100;
    int max_db_connections = 0;          // 0 = unlimited (per database)
    int max_user_connections = 0;        // 0 = unlimited (per user)
    std::vector<pgbouncer_database> databases;
    std::vector<pgbouncer_user> users;
    std::vector<pgbouncer_client_route> clients;
    double server_idle_timeout = 600.0;  // 0 = disabled
    double server_lifetime = 3600.0;     // 0 = use once
    double server_connect_timeout = 15.0;
    double server_login_retry = 15.0;
    double query_wait_timeout = 120.0;   // 0 = wait forever
    double server_check_delay = 30.0;
    std::string server_check_query = "<empty>";
    bool server_round_robin = false;
    std::string server_reset_query = "DISCARD ALL";  // run when a session server is released; "" = none
    bool server_reset_query_always = false;          // also in transaction pooling
    /// dbpoolsim's: how long an application connection's login to PgBouncer takes.
    distribution client_connect_time = distribution::constant(0.001);
    /// dbpoolsim's: PgBouncer's own CPU per transaction, s. PgBouncer is one thread, so
    /// transactions queue FIFO for it before they look for a server: throughput saturates
    /// at 1 / cpu_per_transaction_s (pg_doorman's benchmark: about 60,000/s). 0 = free.
    double cpu_per_transaction_s = 0.0;
};

std::unique_ptr<pooler_policy> make_pgbouncer(const pgbouncer_params& p, pool_host& host,
                                              std::uint32_t index, pool_metrics& metrics,
                                              sim::random_stream rng);

}  // namespace dbpoolsim::models
