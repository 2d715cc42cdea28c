// dbpoolsim models: node-postgres's pg.Pool (brianc/node-postgres packages/pg-pool/index.js,
// pg-pool 3.14.0 with pg 8.23.0's Client). The algorithm, with its citations, is
// docs/pools/node-postgres.md; its section 8 is the list tests/cpp/models/
// test_node_postgres.cpp reproduces item by item.
//
// Parameters: the Pool constructor's option names and units, so a config object can be
// pasted: max 10, min 0, idleTimeoutMillis 10000 (0 = never), connectionTimeoutMillis 0 (wait
// forever), maxUses 0 (Infinity), maxLifetimeSeconds 0 (none).
//
// The algorithm (node_postgres.cpp cites the function of every rule):
//   - nothing is opened at construction, whatever `min`; a request that finds the pool not full
//     and nothing idle opens its own client at once and is bound to that login;
//   - otherwise it joins a FIFO queue; if a client is idle the queue is pulsed on the next tick,
//     so an arrival never overtakes the queue. Every pulse serves at most the head: the most
//     recently released idle client (LIFO), else a new login for it if the pool is not full;
//   - a release removes the client (maxUses reached, its lifetime passed, or it broke), else
//     arms its idle timer (when the pool holds more than `min`) and pulses the queue;
//   - a removal takes the client out of the pool at once, and pulses the queue when its socket
//     has ended: one round trip later for a healthy client, at once for a dead one;
//   - connectionTimeoutMillis bounds a queued wait and, separately, each login (the socket is
//     destroyed); a failed login pulses the queue, then fails its request, with no backoff.
#pragma once

#include <memory>

#include "models/pool/pool.hpp"

namespace dbpoolsim::models {

struct node_postgres_params : pool_params {
    int max = 10;
    int min = 0;
    long long idleTimeoutMillis = 10000;     // ms; 0 = never
    long long connectionTimeoutMillis = 0;   // ms; 0 = wait forever
    long long maxUses = 0;                   // 0 = Infinity
    double maxLifetimeSeconds = 0;           // s; 0 = none
    bool release_with_error = true;          // client.release(err) after an SQL error, as pool.query does
};

std::unique_ptr<pool_policy> make_node_postgres_pool(const node_postgres_params& p, pool_host& host,
                                                     std::uint32_t index, pool_metrics& metrics,
                                                     sim::random_stream rng);

}  // namespace dbpoolsim::models
