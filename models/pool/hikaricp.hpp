// dbpoolsim models: HikariCP 6.x (brettwooldridge/HikariCP), as read from its source in
// ../shared/spec/pool-algorithms.md section 1 ("spec §1.x" below).
//
// Parameters keep HikariCP's own names and units (milliseconds, camelCase), so a user can paste
// the numbers of a HikariConfig / `spring.datasource.hikari.*` block. The two system properties
// that shape the algorithm are parameters too: `housekeepingPeriodMs`
// (com.zaxxer.hikari.housekeeping.periodMs) and `aliveBypassWindowMs`
// (com.zaxxer.hikari.aliveBypassWindowMs).
//
// Values are stored *after* HikariCP's own validation (HikariConfig setters, which throw, and
// HikariConfig.validateNumerics, which silently resets); the parser in hikaricp_fields.cpp applies
// both, so the resolved scenario shows what the pool really runs with:
//   maximumPoolSize       10       setter rejects < 1
//   minimumIdle           = max    setter rejects < 0; > maximumPoolSize is reset to it
//   connectionTimeout     30000    0 means Integer.MAX_VALUE ms; setter rejects other values < 250
//   validationTimeout     5000     setter rejects < 250; bounds checks on silently dead connections
//   idleTimeout           600000   setter rejects < 0; reset to 0 (disabled) if
//                                  idleTimeout + 1 s > maxLifetime > 0 and minimumIdle < max;
//                                  else reset to 600000 if in (0, 10 s) and minimumIdle < max
//   maxLifetime           1800000  0 = infinite; other values < 30 s are reset to 1800000
//   keepaliveTime         0        6.0.0 default (later releases: 120000, see the spec's version
//                                  caveat); values in (-inf, 30 s) other than 0, or >= a
//                                  non-zero maxLifetime, are reset to 0 (disabled)
//   initializationFailTimeout 1    < 0 skip the start-up check, 0 one attempt then start anyway,
//                                  > 0 retry (1 s apart) until it has elapsed, then fail
//   housekeepingPeriodMs  30000    must be > 0 (scheduleWithFixedDelay rejects <= 0)
//   aliveBypassWindowMs   500      any value
// and, in pgJDBC's names and units (dataSourceProperties; docs/design/fidelity-review.md item 6):
//   connectTimeout        10       s; bounds the TCP connect (PGProperty.CONNECT_TIMEOUT); 0 = the OS's
//   loginTimeout          0        s; bounds the whole login (PGProperty.LOGIN_TIMEOUT); 0 = none
//   dataSourceClassName   ""       "" = the jdbcUrl setup: HikariCP's login timeout (connectionTimeout
//                                  + 500 ms in whole seconds, at least 1) never reaches pgJDBC, which
//                                  reads its own loginTimeout first; a class name (PGSimpleDataSource)
//                                  makes it pgJDBC's loginTimeout (BaseDataSource.setLoginTimeout)
// and dbpoolsim's own:
//   version               "6.0.0"  or "2.7.9" (Debian's libhikaricp-java): the connection adder's
//                                  pause after a success (30 ms / none) and its failure backoff;
//                                  2.7.9's lastAccessed (aliveBypassWindowMs, idleTimeout) is the
//                                  last borrow, 6.0.0's the last return
//   wakeup_latency_s      0        s; a returned connection offered to a waiting thread stays
//                                  takeable by new borrowers until that thread runs
//   validation_latency    0        distribution (s); a successful isValid() returns that much
//                                  after its round trip's answer (the driver, the thread's wake-up)
//   threads               0        the application's fixed thread pool that runs the requests
//                                  (longest-idle thread first), whose per-thread lists borrow
//                                  tries first (ConcurrentBag threadList); 0 = no such list
//   setup_s               0        s; the adder thread's time from a successful login to the bag
//                                  (PoolBase.newConnection's setupConnection, createPoolEntry):
//                                  the connection is borrowable, and the next attempt starts, then
//   failed_attempt_s      0        s; a failed attempt's time in the driver and newConnection's
//                                  catch path beyond the database's refusal, before the backoff
//                                  sleep starts (the adder's attempts only, not the start-up's)
#pragma once

#include <string>

#include <memory>

#include "models/pool/pool.hpp"

namespace dbpoolsim::models {

struct hikaricp_params : pool_params {
    int maximumPoolSize = 10;
    int minimumIdle = 10;                     // resolved (default: maximumPoolSize)
    long long connectionTimeout = 30000;      // ms (0 in a config becomes 2147483647)
    long long validationTimeout = 5000;       // ms
    long long idleTimeout = 600000;           // ms; 0 = never retire
    long long maxLifetime = 1800000;          // ms; 0 = infinite
    long long keepaliveTime = 0;              // ms; 0 = off (HikariCP 6.0.0 default)
    long long initializationFailTimeout = 1;  // ms
    long long housekeepingPeriodMs = 30000;   // ms (system property)
    long long aliveBypassWindowMs = 500;      // ms (system property)
    double connectTimeout = 10;               // s (pgJDBC property); 0 = the operating system's
    double loginTimeout = 0;                  // s (pgJDBC property); 0 = none
    std::string dataSourceClassName;          // "" = jdbcUrl
    std::string version = "6.0.0";            // dbpoolsim's: "6.0.0" or "2.7.9" (the adder's pauses)
    double wakeup_latency_s = 0;              // dbpoolsim's: offer to a waiter -> it runs (barging window)
    distribution validation_latency;          // dbpoolsim's: isValid() beyond the round trip (0)
    int threads = 0;                          // dbpoolsim's: the application's threads (0: no thread-local list)
    double setup_s = 0;                       // dbpoolsim's: the adder's login -> the bag (setupConnection)
    double failed_attempt_s = 0;              // dbpoolsim's: a failed attempt's own time before the backoff
};

/// The bounds of each login attempt that HikariCP and pgJDBC together apply (PoolBase
/// initializeDataSource → setLoginTimeout; pgJDBC Driver.connect, PGStream.createSocket).
login_bounds hikaricp_login_bounds(const hikaricp_params& p);

std::unique_ptr<pool_policy> make_hikaricp_pool(const hikaricp_params& p, pool_host& host,
                                                std::uint32_t index, pool_metrics& metrics,
                                                sim::random_stream rng);

}  // namespace dbpoolsim::models
