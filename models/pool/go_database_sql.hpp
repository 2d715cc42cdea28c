// dbpoolsim models: Go's database/sql pool (golang/go src/database/sql/sql.go, Go 1.23 and
// later), with pgx v5's stdlib or lib/pq as the driver. The algorithm, with its citations, is
// docs/pools/go-database-sql.md; its section 10 is the list tests/cpp/models/
// test_go_database_sql.cpp reproduces item by item.
//
// Parameters: the DB setters in snake_case, durations in seconds (section 11 of the chapter):
// max_open_conns 0 (unlimited), max_idle_conns 2 (defaultMaxIdleConns; 0 = keep none, as
// SetMaxIdleConns(0); resolved to at most max_open_conns when that is set, as the setters do),
// conn_max_lifetime 0 and conn_max_idle_time 0 (none), context_timeout 0 (a
// context.WithTimeout around each call; 0 = context.Background(), wait forever), waiter_order
// "random" (connRequestSet.TakeRandom, Go >= 1.23), "map" (the first key of a range over
// Go 1.7-1.22's map[uint64]chan connRequest: random, not uniform, go_map.hpp) or "fifo"
// (Go 1.6's slice), driver "pgx" (ResetSession pings after 1 s) or "lib_pq".
//
// The algorithm (go_database_sql.cpp cites the function of every rule):
//   - nothing is opened at start; a request takes the most recently returned idle connection
//     (LIFO), else opens one itself, inline, unless max_open_conns is reached (logins in
//     progress count): then it waits in the waiter set;
//   - a returned connection goes to a waiter chosen uniformly at random, else to the idle list
//     if it holds fewer than max_idle_conns, else it is closed (churn);
//   - waiters are never served by their own login: a background opener, one login at a time,
//     opens one connection per waiter when a slot frees (a close, a failed login);
//   - DB.retry: up to 2 tries take a cached connection; an expired one (conn_max_lifetime) or
//     one whose ResetSession fails (driver.ErrBadConn) is closed and the request tries again at
//     once; the third try opens a new connection;
//   - the cleaner closes idle connections past conn_max_idle_time or conn_max_lifetime, runs
//     at the next expiry (at least 1 s apart) and keeps no minimum.
#pragma once

#include <memory>
#include <string>

#include "models/pool/pool.hpp"

namespace dbpoolsim::models {

struct go_database_sql_params : pool_params {
    int max_open_conns = 0;            // 0 = unlimited
    int max_idle_conns = 2;            // 0 = keep none
    double conn_max_lifetime = 0;      // s; 0 = none
    double conn_max_idle_time = 0;     // s; 0 = none
    double context_timeout = 0;        // s; 0 = no deadline on the call
    std::string waiter_order = "random";  // "random" | "fifo" | "map" (Go 1.7-1.22, go_map.hpp)
    std::string driver = "pgx";           // "pgx" | "lib_pq"
};

std::unique_ptr<pool_policy> make_go_database_sql_pool(const go_database_sql_params& p,
                                                       pool_host& host, std::uint32_t index,
                                                       pool_metrics& metrics,
                                                       sim::random_stream rng);

}  // namespace dbpoolsim::models
