// SQLAlchemy QueuePool (spec section 2), event by event. Constant times make every number
// exact. Two styles:
//   - whole-world timelines (run_replication) for what the world can trigger today;
//   - a micro-world (`harness` below, on tests/cpp/support/scripted_host.hpp) that drives the policy directly, for orderings that
//     need requests at chosen instants and for the fault side (failed pings, broken
//     connections, refused reconnects) that the world cannot produce yet.
#include <catch2/catch.hpp>

#include <set>

#include "models/pool/sqlalchemy_queuepool.hpp"
#include "sim/error.hpp"
#include "support/scenarios.hpp"
#include "support/scripted_host.hpp"

using namespace dbpoolsim;

namespace {

constexpr test::timeline_with scenario{0.05};

using test::db;

std::string pool(const std::string& extra = "") {
    return R"({"kind": "sqlalchemy_queuepool")" + (extra.empty() ? "" : ", " + extra) + "}";
}

using test::at;

/// A micro-world: requests arrive and release at scripted instants; logins take 0.1 s (or are
/// refused after rtt_s while `logins_ok` is false); round trips take 10 ms and fail for the
/// connections listed in `failing_rt` (once each). QueuePool never abandons a login.
struct harness : test::scripted_host {
    bool logins_ok = true;
    std::set<std::uint32_t> failing_rt;

    explicit harness(const models::sqlalchemy_queuepool_params& p)
        : scripted_host([&p](models::pool_host& h, models::pool_metrics& m) {
              return models::make_sqlalchemy_queuepool(p, h, 0, m, sim::random_stream());
          }) {
        rtt_s = 0.01;
        hold = [](std::uint32_t) { return held; };
        login_ok = [this](int) { return logins_ok; };
        check_ok = [this](std::uint32_t c, int) { return failing_rt.erase(c) == 0; };
        may_abandon_login = false;
        start();
    }
    void acquire_at(double t, std::uint32_t req) { arrive_at(t, req); }
};

models::sqlalchemy_queuepool_params params(int pool_size, int max_overflow) {
    models::sqlalchemy_queuepool_params p;
    p.pool_size = pool_size;
    p.max_overflow = max_overflow;
    p.pool_reset_on_return = "none";  // no reset round trip unless a test asks for it
    return p;
}

}  // namespace

// ---- 2.8 item 1: lazy pool, inline creation by the caller, in parallel up to the cap ------

TEST_CASE("a burst of 20 on pool_size 5 / max_overflow 10 opens 15 connections inline and in parallel while 5 requests wait",
          "[pool][sqlalchemy_queuepool]") {
    // Defaults (5 + 10, pool_timeout 30 s, rollback on return). Logins take 100 ms, queries
    // 1 s, no network. Nothing exists before the burst at t = 1 (lazy). The first 15
    // requests each start their own login at once (15 in flight together) and get it at
    // 1.1 s (wait 100 ms: the caller pays the login). The last 5 find the pool at its limit
    // and wait. At 2.1 s the 15 return; the reset round trips (0 s here) complete in return
    // order: the first five returns go into the queue, each waking one waiter; the queue then
    // holds pool_size records (the woken waiters have not run yet), so the other ten are
    // closed as overflow. The five waiters get a connection at 2.1 s (wait 1100 ms).
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 20, "at_s": 1})", pool(), db(0.1, 0), 1.0, 3.5), 0);
    CHECK(at(r, "total_connections", 0.95) == 0);
    CHECK(at(r, "creating_connections", 1.05) == 15);
    CHECK(at(r, "waiters", 1.05) == 5);
    CHECK(at(r, "active_connections", 1.5) == 15);
    CHECK(at(r, "waiters", 1.5) == 5);
    CHECK(at(r, "total_connections", 2.5) == 5);
    CHECK(at(r, "active_connections", 2.5) == 5);
    CHECK(at(r, "idle_connections", 3.2) == 5);
    CHECK(r.metric("connections_created") == 15);
    CHECK(r.metric("connections_closed_overflow") == 10);
    CHECK(r.metric("peak_backend_connections") == 15);
    CHECK(r.metric("completed") == 20);
    CHECK(r.metric("wait_time_max_ms") == Approx(1100));
    CHECK(r.metric("wait_time_avg_ms") == Approx((15 * 100 + 5 * 1100) / 20.0));
    CHECK(r.metric("round_trips") == 0);  // the rollback costs no round trip by default (PostgreSQL drivers)
}

// ---- 2.8 item 3: counting semantics ---------------------------------------------------------

TEST_CASE("a returned connection is closed only when pool_size connections are already idle: records are untagged",
          "[pool][sqlalchemy_queuepool]") {
    SECTION("two return together to a pool_size of 1: the second is closed") {
        // pool_size 1, max_overflow 1; two requests at t = 1 create two connections (logins
        // take 0 s); both return at 1.8 s: the first fills the queue, the second is closed.
        const auto r = models::run_replication(
            scenario(R"({"kind": "burst", "count": 2, "at_s": 1})",
                     pool(R"("pool_size": 1, "max_overflow": 1, "pool_reset_on_return": "none")"),
                     db(0, 0), 0.8, 2.5),
            0);
        CHECK(r.metric("connections_created") == 2);
        CHECK(r.metric("connections_closed_overflow") == 1);
        CHECK(at(r, "total_connections", 2.0) == 1);
        CHECK(at(r, "idle_connections", 2.0) == 1);
    }
    SECTION("an overflow connection survives when the queue is not full at its return") {
        // One request every 0.5 s from t = 1, each holding its connection 0.8 s. The second
        // request (1.5 s) finds the queue empty and creates a second ("overflow") connection.
        // From then on each return finds the queue empty (the other connection is in use),
        // so both stay open with pool_size 1: nothing marks a connection as overflow.
        const auto r = models::run_replication(
            scenario(R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 0.5})",
                     pool(R"("pool_size": 1, "max_overflow": 1, "pool_reset_on_return": "none")"),
                     db(0, 0), 0.8, 5.0),
            0);
        CHECK(r.metric("connections_created") == 2);
        CHECK(r.metric("connections_closed_overflow") == 0);
        CHECK(at(r, "total_connections", 4.9) == 2);
        CHECK(r.metric("wait_time_max_ms") == 0);
    }
}

// ---- 2.8 item 2: connect failure ---------------------------------------------------------

TEST_CASE("a refused login decrements the overflow and fails only its caller, without retry",
          "[pool][sqlalchemy_queuepool]") {
    // pool_size 1, max_overflow 1 (limit 2); the database accepts 1 connection. One request
    // every 0.5 s from t = 1; queries 1 s, rtt 2 ms, logins 100 ms.
    //   1.0: R0 logs in (C0) and holds it until 2.102, then 2 ms of rollback -> queue 2.104.
    //   1.5: R1 finds the queue empty and 1 record < 2: its own login is refused after one
    //        rtt -> connect_error at 1.502, the overflow drops back to 1 record.
    //   2.0: R2 does the same (had the count not dropped it would have waited for C0):
    //        connect_error at 2.002. No retry, no backoff: exactly one login per failure.
    //   2.5: R3 takes C0 from the queue (wait 0) and is still running at the horizon.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 0.5})",
                 pool(R"("pool_size": 1, "max_overflow": 1)"), db(0.1, 0.002, 1), 1.0, 2.9),
        0);
    CHECK(r.metric("offered") == 4);
    CHECK(r.metric("failed_connect_error") == 2);
    CHECK(r.metric("failed_acquire_timeout") == 0);
    CHECK(r.metric("rejected_logins") == 2);
    CHECK(r.metric("connection_errors") == 2);
    CHECK(r.metric("connections_created") == 1);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("in_flight") == 1);
    CHECK(r.metric("wait_time_max_ms") == Approx(100));
    CHECK(r.metric("sojourn_avg_ms") == Approx((2 + 2 + 1102) / 3.0));
}

// ---- 2.8 item 4: waiting only at the limit, FIFO, own deadlines, TimeoutError ---------------

TEST_CASE("requests wait only at pool_size + max_overflow and are served in arrival order",
          "[pool][sqlalchemy_queuepool]") {
    // pool_size 1, max_overflow 0, logins 0 s; one request every 0.1 s from t = 1, each
    // holding the connection 0.23 s (no return coincides with an arrival). Request k
    // (arriving at 1 + 0.1k) is served at 1 + 0.23k in arrival order: it waits 130 ms x k.
    // By 2.05 s requests 0..4 have been served (waits 0, 130, 260, 390, 520) and 6 of the
    // 11 arrivals wait.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 0.1})",
                 pool(R"("pool_size": 1, "max_overflow": 0, "pool_reset_on_return": "none")"),
                 db(0, 0), 0.23, 2.06, 0.05),
        0);
    CHECK(r.metric("connections_created") == 1);
    CHECK(r.metric("wait_time_max_ms") == Approx(520));
    CHECK(r.metric("wait_time_avg_ms") == Approx(260));
    CHECK(at(r, "waiters", 2.05) == 6);
}

TEST_CASE("each waiter times out pool_timeout after its own request, with TimeoutError",
          "[pool][sqlalchemy_queuepool]") {
    // pool_size 1, max_overflow 0, pool_timeout 0.33 s. R0 (t = 1) holds the only connection
    // until 2 s. Requests arriving every 0.1 s each give up exactly 0.33 s after their own
    // arrival: by 1.96 s those of 1.1 ... 1.6 (6) have timed out, those of 1.7, 1.8, 1.9 wait.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 0.1})",
                 pool(R"("pool_size": 1, "max_overflow": 0, "pool_timeout": 0.33)"), db(0, 0), 1.0,
                 1.96, 0.05),
        0);
    CHECK(r.metric("failed_acquire_timeout") == 6);
    CHECK(r.metric("timeouts") == 6);
    CHECK(r.metric("wait_time_all_avg_ms") == Approx((0 + 6 * 330) / 7.0));
    CHECK(at(r, "waiters", 1.95) == 3);
    CHECK(at(r, "timeouts", 1.45) == 1);  // the request of 1.1 s, at 1.43 s
}

TEST_CASE("a waiter that times out after the overflow dropped creates a connection instead of raising TimeoutError",
          "[pool][sqlalchemy_queuepool]") {
    // pool_size 1, max_overflow 1 (limit 2), pool_timeout 0.5; the database accepts one
    // connection. Three requests at t = 1: R0 logs in (C0, held ~1 s); R1's login is refused
    // (1.002, connect_error, overflow back to 1 record); R2 arrived while both logins were
    // in flight, so it waits. Nothing wakes it (only a returned connection notifies). At its
    // deadline (1.5 s) the pool is below its limit, so instead of TimeoutError it creates a
    // connection (spec 2.3 step 1.3): that login is refused too -> connect_error at 1.502.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 3, "at_s": 1})",
                 pool(R"("pool_size": 1, "max_overflow": 1, "pool_timeout": 0.5)"), db(0.05, 0.002, 1),
                 1.0, 2.5),
        0);
    CHECK(r.metric("failed_acquire_timeout") == 0);
    CHECK(r.metric("failed_connect_error") == 2);
    CHECK(r.metric("rejected_logins") == 2);
    CHECK(r.metric("completed") == 1);
    CHECK(r.metric("sojourn_avg_ms") == Approx((2 + 502 + 1052) / 3.0));
}

TEST_CASE("an arrival takes a just-returned connection before the woken waiter, which waits again at the tail",
          "[pool][sqlalchemy_queuepool]") {
    // pool_size 1, max_overflow 0, wakeup_latency_s 10 ms, logins 100 ms.
    //   0.0: request 0 logs in, holds C from 0.1 to 1.0.
    //   0.2, 0.3: requests 1 and 2 wait (in that order).
    //   1.0: C is returned; request 1 is woken, to run at 1.01.
    //   1.005: request 3 arrives, finds C in the queue and takes it (barging).
    //   1.01: request 1 finds the queue empty and waits again, at the TAIL, behind 2.
    //   2.0: request 3 returns C; request 2 (now the head) gets it at 2.01.
    //   3.0: request 2 returns C; request 1 gets it at 3.01.
    auto p = params(1, 0);
    p.pool_timeout = 10;
    p.wakeup_latency_s = 0.01;
    harness h(p);
    h.acquire_at(0, 0);
    h.acquire_at(0.2, 1);
    h.acquire_at(0.3, 2);
    h.release_at(1.0, 0);
    h.acquire_at(1.005, 3);
    h.release_at(2.0, 3);
    h.release_at(3.0, 2);
    h.run_until(4);
    CHECK(h.granted() == std::vector<std::uint32_t>{0, 3, 2, 1});
    CHECK(h.out[3].t == Approx(1.005));
    CHECK(h.out[2].t == Approx(2.01));
    CHECK(h.out[1].t == Approx(3.01));
    CHECK(h.logins == 1);
}

TEST_CASE("with a wake-up latency, arrivals barge in front of every woken waiter and the waiters starve (#7679)",
          "[pool][sqlalchemy_queuepool]") {
    // pool_size 1, max_overflow 0; two requests every 0.5 s from t = 1, each holding the
    // connection 0.495 s. The connection comes back 5 ms before each burst.
    // wakeup_latency_s 0: the woken head waiter runs at once: strict arrival order. Served:
    //   R0 at 1 (wait 0), R1 at 1.495 (495 ms), R2 at 1.99 (490), R3 at 2.485 (985).
    // wakeup_latency_s 10 ms: the woken waiter runs 10 ms later, after the next burst's
    //   first request took the connection; it waits again at the tail. Only the first
    //   request of each burst is ever served (waits all 0) and the waiters pile up.
    const std::string arrivals = R"({"kind": "burst", "count": 2, "at_s": 1, "every_s": 0.5})";
    const auto fair = models::run_replication(
        scenario(arrivals, pool(R"("pool_size": 1, "max_overflow": 0, "pool_reset_on_return": "none")"),
                 db(0, 0), 0.495, 2.6),
        0);
    CHECK(fair.metric("completed") == 3);
    CHECK(fair.metric("wait_time_max_ms") == Approx(985));
    CHECK(fair.metric("wait_time_avg_ms") == Approx((0 + 495 + 490 + 985) / 4.0));
    CHECK(at(fair, "waiters", 2.55) == 4);
    const auto starved = models::run_replication(
        scenario(arrivals,
                 pool(R"("pool_size": 1, "max_overflow": 0, "pool_reset_on_return": "none", "wakeup_latency_s": 0.01)"),
                 db(0, 0), 0.495, 2.6),
        0);
    CHECK(starved.metric("completed") == 3);
    CHECK(starved.metric("wait_time_max_ms") == 0);
    CHECK(at(starved, "waiters", 2.55) == 4);
    CHECK(starved.metric("waiters_max") == 4);
}

// ---- 2.8 item 5: no background timers; recycle, pre-ping, invalidation at checkout --------

TEST_CASE("pool_recycle is checked lazily at checkout and the caller pays the new login",
          "[pool][sqlalchemy_queuepool]") {
    // pool_size 1, max_overflow 0, pool_recycle 1.5 s, logins 50 ms; one request per second
    // from t = 1. The connection's age counts from the START of its login (1.0 s):
    //   1.0: new connection (wait 50 ms);  2.0: age 1.0, reused (wait 0);
    //   3.0: age 2.0 > 1.5: closed and re-opened inline (wait 50 ms); 4.0: reused;
    //   5.0: recycled again (wait 50 ms).
    // Between checkouts nothing happens: at 4.9 s the connection (age 1.9 s) is still open.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 1})",
                 pool(R"("pool_size": 1, "max_overflow": 0, "pool_recycle": 1.5, "pool_reset_on_return": "none")"),
                 db(0.05, 0), 0.1, 5.5),
        0);
    CHECK(r.metric("connections_created") == 3);
    CHECK(r.metric("connections_closed_lifetime") == 2);
    CHECK(r.metric("wait_time_avg_ms") == Approx(30));
    CHECK(r.metric("wait_time_max_ms") == Approx(50));
    CHECK(at(r, "total_connections", 4.9) == 1);
    CHECK(at(r, "idle_connections", 4.9) == 1);
}

TEST_CASE("a connection's age counts from the start of its login, so a recycle shorter than the login re-opens it at once",
          "[pool][sqlalchemy_queuepool]") {
    // pool_recycle 0.05 s, logins 0.1 s. Request 0 (t = 0) creates a record whose login
    // started at 0; at 0.1 get_connection finds it 0.1 s old (> 0.05): closed and re-opened
    // inline, granted at 0.2. Request 1 (0.3 s, after the return at 0.25) recycles it again
    // (granted 0.4). SQLAlchemy does exactly this with a pool_recycle below the connect time.
    auto p = params(1, 0);
    p.pool_recycle = 0.05;
    harness h(p);
    h.acquire_at(0, 0);
    h.release_at(0.25, 0);
    h.acquire_at(0.3, 1);
    h.run_until(1);
    CHECK(h.out[0].t == Approx(0.2));
    CHECK(h.out[1].t == Approx(0.4));
    CHECK(h.logins == 3);
    CHECK(h.closed(models::close_reason::lifetime) == 2);
    CHECK(h.pool->counts().total == 1);
}

TEST_CASE("pre-ping costs one round trip at checkout, but not for a fresh connection",
          "[pool][sqlalchemy_queuepool]") {
    // pool_pre_ping, rtt 10 ms, logins 50 ms, one request per second from t = 1. The first
    // checkout gets a fresh connection: no ping (wait = the login, 50 ms). The next two
    // ping first (wait 10 ms each).
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 1, "at_s": 1, "every_s": 1})",
                 pool(R"("pool_size": 1, "max_overflow": 0, "pool_pre_ping": true, "pool_reset_on_return": "none")"),
                 db(0.05, 0.01), 0.1, 3.5),
        0);
    CHECK(r.metric("completed") == 3);
    CHECK(r.metric("round_trips") == 2);
    CHECK(r.metric("wait_time_max_ms") == Approx(50));
    CHECK(r.metric("wait_time_avg_ms") == Approx((50 + 10 + 10) / 3.0));
}

TEST_CASE("a failed pre-ping reconnects inline and invalidates every older connection at its next checkout",
          "[pool][sqlalchemy_queuepool]") {
    // pool_size 3, pre-ping, logins 100 ms, rtt 10 ms. Three connections are opened at t = 0
    // and returned at 1 s (queue C0, C1, C2).
    //   2.0: request 3 takes C0 and pings it; the ping fails (2.01): C0 is closed, the pool's
    //        invalidation time becomes 2.01, and C0's record logs in again (granted 2.11,
    //        fresh: no second ping).
    //   3.0: request 4 takes C1 (started at 0 < 2.01): closed and re-opened inline, no ping
    //        (granted 3.1). 3.5: request 5 likewise with C2 (granted 3.6).
    //   5.0: after 3 and 4 return, request 6 takes a new connection: it is not older than
    //        the invalidation, so it is only pinged (granted 5.01).
    auto p = params(3, 0);
    p.pool_pre_ping = true;
    harness h(p);
    for (std::uint32_t i = 0; i < 3; ++i) {
        h.acquire_at(0, i);
        h.release_at(1.0, i);
    }
    h.at(1.5, [&] { h.failing_rt.insert(h.out[0].conn); });
    h.acquire_at(2.0, 3);
    h.acquire_at(3.0, 4);
    h.acquire_at(3.5, 5);
    h.release_at(4.0, 3);
    h.release_at(4.0, 4);
    h.acquire_at(5.0, 6);
    h.run_until(6);
    CHECK(h.out[3].t == Approx(2.11));
    CHECK(h.out[4].t == Approx(3.1));
    CHECK(h.out[5].t == Approx(3.6));
    CHECK(h.out[6].t == Approx(5.01));
    CHECK(h.logins == 6);
    CHECK(h.closed(models::close_reason::broken) == 3);
    CHECK(h.metrics.round_trips == 2);
    CHECK(h.metrics.round_trip_failures == 1);
}

TEST_CASE("a failed reconnect at checkout puts the empty record back in the queue, still counted",
          "[pool][sqlalchemy_queuepool]") {
    // pool_size 1, max_overflow 0, pool_recycle 1 s. C0 opens at 0 (granted 0.1) and is
    // returned at 0.5. Logins fail from 1.5 s to 2.5 s.
    //   2.0: request 1: C0 is too old -> closed and re-opened; the login is refused (2.01):
    //        connect_error for request 1, and the record goes back into the queue without a
    //        connection: it still counts toward the limit.
    //   3.0: request 2 takes that record and logs in (granted 3.1); request 3 (3.0) finds the
    //        queue empty and the pool at its limit: it waits, and gets the record when
    //        request 2 returns it at 3.5.
    auto p = params(1, 0);
    p.pool_recycle = 1;
    harness h(p);
    h.acquire_at(0, 0);
    h.release_at(0.5, 0);
    h.at(1.5, [&] { h.logins_ok = false; });
    h.acquire_at(2.0, 1);
    h.at(2.5, [&] { h.logins_ok = true; });
    h.acquire_at(3.0, 2);
    h.acquire_at(3.0, 3);
    h.release_at(3.5, 2);
    h.run_until(4);
    CHECK(h.out[1].failed);
    CHECK(h.out[1].why == models::fail_reason::connect_error);
    CHECK(h.out[1].t == Approx(2.01));
    CHECK(h.out[2].t == Approx(3.1));
    CHECK(h.out[3].t == Approx(3.5));
    CHECK(h.logins == 3);
    CHECK(h.closed(models::close_reason::lifetime) == 1);
    CHECK(h.metrics.connection_errors == 1);
}

TEST_CASE("a connection found broken in use comes back as an empty record and invalidates older connections",
          "[pool][sqlalchemy_queuepool]") {
    // pool_size 2: C0 and C1 open at 0 (granted 0.1). At 1.0 the holder of C0 hits a
    // disconnect (Connection._handle_dbapi_exception): C0 closes, its record returns empty,
    // and the pool's invalidation time becomes 1.0. C1 is returned at 1.5.
    //   2.0: request 2 takes the empty record (FIFO: it was returned first) and logs in
    //        (granted 2.1); request 3 takes C1, which started before 1.0: closed and
    //        re-opened (granted 2.1).
    auto p = params(2, 0);
    harness h(p);
    h.acquire_at(0, 0);
    h.acquire_at(0, 1);
    h.at(1.0, [&] { h.pool->on_broken_in_use(h.out[0].conn); });
    h.release_at(1.5, 1);
    h.acquire_at(2.0, 2);
    h.acquire_at(2.0, 3);
    h.run_until(3);
    CHECK(h.out[2].t == Approx(2.1));
    CHECK(h.out[3].t == Approx(2.1));
    CHECK(h.logins == 4);
    CHECK(h.closed(models::close_reason::broken) == 2);
    CHECK(h.pool->counts().total == 2);
}

// ---- 2.8 item 6: idle order ----------------------------------------------------------------

TEST_CASE("idle connections are reused oldest-returned first, or newest-returned first with pool_use_lifo",
          "[pool][sqlalchemy_queuepool]") {
    // Three connections are opened at 0 and returned at 1.0, 1.1, 1.2 (requests 0, 1, 2).
    // At 2.0 one request checks out: FIFO gives request 0's connection, LIFO request 2's.
    for (const bool lifo : {false, true}) {
        auto p = params(3, 0);
        p.pool_use_lifo = lifo;
        harness h(p);
        for (std::uint32_t i = 0; i < 3; ++i) {
            h.acquire_at(0, i);
            h.release_at(1.0 + 0.1 * i, i);
        }
        h.acquire_at(2.0, 3);
        h.run_until(3);
        CHECK(h.out[3].t == Approx(2.0));
        CHECK(h.out[3].conn == h.out[lifo ? 2 : 0].conn);
    }
}

// ---- 2.4: reset on return ----------------------------------------------------------------

TEST_CASE("the reset on return holds the connection one round trip, unless it is none or costs nothing",
          "[pool][sqlalchemy_queuepool]") {
    // pool_size 1, max_overflow 0, rtt 10 ms, logins 0 s; two requests at t = 1, queries
    // 100 ms. R0 is served at once; its response arrives at 1.11. With a rollback or commit
    // that costs a round trip, the record is back in the queue at 1.12 (R1 waits 120 ms);
    // without (reset "none", or a driver that skips a rollback with no transaction open) at
    // 1.11 (R1 waits 110 ms).
    struct variant {
        const char* pool;
        double wait_ms;
        double round_trips;
    };
    for (const auto& v : {variant{R"("pool_reset_on_return": "rollback", "reset_costs_round_trip": true)", 120, 2},
                          variant{R"("pool_reset_on_return": "commit", "reset_costs_round_trip": true)", 120, 2},
                          variant{R"("pool_reset_on_return": "none", "reset_costs_round_trip": true)", 110, 0},
                          variant{R"("reset_costs_round_trip": false)", 110, 0},
                          variant{R"("pool_reset_on_return": "rollback")", 110, 0}}) {  // default: PostgreSQL drivers
        INFO(v.pool);
        const auto r = models::run_replication(
            scenario(R"({"kind": "burst", "count": 2, "at_s": 1})",
                     pool(std::string(R"("pool_size": 1, "max_overflow": 0, )") + v.pool), db(0, 0.01),
                     0.1, 2.0),
            0);
        CHECK(r.metric("completed") == 2);
        CHECK(r.metric("wait_time_max_ms") == Approx(v.wait_ms));
        CHECK(r.metric("round_trips") == v.round_trips);
    }
}

TEST_CASE("pool_size 0 and max_overflow -1 lift the limit on connections",
          "[pool][sqlalchemy_queuepool]") {
    // A burst of 30 at t = 1 (logins 100 ms, queries 1 s): nobody waits, 30 logins run in
    // parallel. pool_size 0 also removes the queue's capacity (and forces max_overflow to
    // -1), so all 30 are kept at return; pool_size 5 with max_overflow -1 keeps 5.
    const auto unlimited = models::run_replication(
        scenario(R"({"kind": "burst", "count": 30, "at_s": 1})", pool(R"("pool_size": 0)"), db(0.1, 0), 1.0, 3.0),
        0);
    CHECK(unlimited.metric("waiters_max") == 0);
    CHECK(unlimited.metric("connections_created") == 30);
    CHECK(unlimited.metric("connections_closed_overflow") == 0);
    CHECK(at(unlimited, "idle_connections", 2.5) == 30);
    CHECK(unlimited.metric("utilization_of_max_percent") == 0);  // no maximum
    const auto no_overflow_limit = models::run_replication(
        scenario(R"({"kind": "burst", "count": 30, "at_s": 1})", pool(R"("max_overflow": -1)"), db(0.1, 0), 1.0, 3.0),
        0);
    CHECK(no_overflow_limit.metric("waiters_max") == 0);
    CHECK(no_overflow_limit.metric("connections_created") == 30);
    CHECK(no_overflow_limit.metric("connections_closed_overflow") == 25);
    CHECK(at(no_overflow_limit, "idle_connections", 2.5) == 5);
}

// ---- 2.7: AsyncAdaptedQueuePool ---------------------------------------------------------------

TEST_CASE("the asyncio variant's woken waiter past its deadline passes the wake-up on instead of taking the connection",
          "[pool][sqlalchemy_queuepool]") {
    // pool_size 1, max_overflow 0, pool_timeout 1 s, wakeup_latency_s 0.1 s, logins 0 s.
    // Request 0 holds C from 0 to 1.15; requests 1 (0.2 s, deadline 1.2) and 2 (0.3 s,
    // deadline 1.3) wait. The return at 1.15 wakes request 1, which runs at 1.25, past
    // its deadline.
    //   QueuePool (threading): Condition.wait returned, the queue is tested before the
    //     deadline: request 1 takes C at 1.25; request 2 times out at 1.3.
    //   AsyncAdaptedQueuePool: wait_for cancelled request 1's get: TimeoutError at 1.25,
    //     and the wake-up passes to request 2, which runs at 1.35, also past its deadline:
    //     TimeoutError too; C stays idle.
    for (const bool asyncio : {false, true}) {
        auto p = params(1, 0);
        p.pool_timeout = 1.0;
        p.wakeup_latency_s = 0.1;
        p.asyncio = asyncio;
        harness h(p);
        h.connect_s = 0;
        h.acquire_at(0, 0);
        h.acquire_at(0.2, 1);
        h.acquire_at(0.3, 2);
        h.release_at(1.15, 0);
        h.run_until(2);
        INFO("asyncio " << asyncio);
        CHECK(h.out[1].granted == !asyncio);
        CHECK(h.out[1].t == Approx(1.25));
        CHECK(h.out[2].failed);
        CHECK(h.out[2].why == models::fail_reason::acquire_timeout);
        CHECK(h.out[2].t == Approx(asyncio ? 1.35 : 1.3));
        CHECK(h.pool->counts().idle == (asyncio ? 1u : 0u));
    }
}

TEST_CASE("the asyncio variant behaves like QueuePool when the woken waiter runs in time",
          "[pool][sqlalchemy_queuepool]") {
    // The burst timeline of the first test, under sqlalchemy_asyncadaptedqueuepool.
    const auto r = models::run_replication(
        scenario(R"({"kind": "burst", "count": 20, "at_s": 1})", R"({"kind": "sqlalchemy_asyncadaptedqueuepool"})",
                 db(0.1, 0), 1.0, 3.5),
        0);
    CHECK(r.metric("connections_created") == 15);
    CHECK(r.metric("connections_closed_overflow") == 10);
    CHECK(r.metric("wait_time_max_ms") == Approx(1100));
    CHECK(r.metric("completed") == 20);
}
