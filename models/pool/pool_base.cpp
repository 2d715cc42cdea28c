#include "models/pool/pool.hpp"

namespace dbpoolsim::models {

void pool_base::on_timer(std::uint32_t kind, std::uint32_t arg) {
    if (kind != timer_wait_timeout) {
        on_policy_timer(kind, arg);
        return;
    }
    const std::uint32_t req = arg;
    DBPOOLSIM_ASSERT(req < w_.size() && w_[req].queued, "timeout of a request that is not waiting");
    w_[req].timer = {};
    unlink_waiter(req);
    on_waiter_timeout(req);
}

void pool_base::set_state(connection& k, conn_state to) {
    const double t = now();
    auto bump = [&](conn_state s, int d) {
        switch (s) {
            case conn_state::free: break;
            case conn_state::creating:
                n_.creating += d;
                record_metrics([&](pool_metrics& m) { m.creating.add(t, d); });
                break;
            case conn_state::idle:
                n_.idle += d;
                record_metrics([&](pool_metrics& m) { m.idle.add(t, d); });
                break;
            case conn_state::in_use:
                n_.in_use += d;
                record_metrics([&](pool_metrics& m) { m.active.add(t, d); });
                break;
            case conn_state::checking: n_.checking += d; break;
        }
    };
    const bool was_counted = k.state != conn_state::free;
    const bool counted = to != conn_state::free;
    bump(k.state, -1);
    bump(to, +1);
    k.state = to;
    if (was_counted != counted) {
        n_.total += counted ? 1 : -1;
        record_metrics([&](pool_metrics& m) { m.total.add(t, counted ? 1 : -1); });
    }
}

std::uint32_t pool_base::open_connection(login_bounds b) {
    const std::uint32_t c = conns_.allocate();
    set_state(conns_[c], conn_state::creating);
    host_.open_connection(index_, c, b);
    return c;
}

void pool_base::abandon_login(std::uint32_t c) {
    connection& k = conns_[c];
    DBPOOLSIM_ASSERT(k.state == conn_state::creating, "abandon_login on a non-creating slot");
    host_.abandon_login(index_, c);
    set_state(k, conn_state::free);
    conns_.release(c);
}

void pool_base::connection_opened(std::uint32_t c) {
    connection& k = conns_[c];
    DBPOOLSIM_ASSERT(k.state == conn_state::creating, "connection_opened on a non-creating slot");
    k.created_at = k.last_returned_at = now();
    record_metrics([](pool_metrics& m) { ++m.created; });
    // Stays `creating` until the caller makes it idle or grants it (both change the state).
}

void pool_base::connection_failed(std::uint32_t c) {
    connection& k = conns_[c];
    DBPOOLSIM_ASSERT(k.state == conn_state::creating, "connection_failed on a non-creating slot");
    record_metrics([](pool_metrics& m) { ++m.connection_errors; });
    set_state(k, conn_state::free);
    conns_.release(c);
}

void pool_base::close(std::uint32_t c, close_reason why) {
    connection& k = conns_[c];
    DBPOOLSIM_ASSERT(k.state != conn_state::free && k.state != conn_state::creating,
                     "close of a connection that is not open");
    if (k.state == conn_state::idle) unlink_idle(c, conn_state::checking);
    sim_.cancel(k.timer);
    record_metrics([why](pool_metrics& m) { ++m.closed[static_cast<std::size_t>(why)]; });
    set_state(k, conn_state::free);
    conns_.release(c);
    host_.close_connection(index_, c);
}

void pool_base::grant(std::uint32_t req, std::uint32_t c) {
    connection& k = conns_[c];
    if (k.state == conn_state::idle) unlink_idle(c, conn_state::in_use);
    else set_state(k, conn_state::in_use);
    k.holder = req;
    ++k.uses;
    host_.grant(index_, req, c);
}

void pool_base::start_round_trip(std::uint32_t c, std::uint32_t tag, std::uint32_t holder, double timeout_s) {
    connection& k = conns_[c];
    if (k.state == conn_state::idle) unlink_idle(c, conn_state::checking);
    else set_state(k, conn_state::checking);
    k.check_tag = tag;
    k.holder = holder;
    record_metrics([](pool_metrics& m) { ++m.round_trips; });
    host_.round_trip(index_, c, timeout_s);
}

// ---- idle list ----------------------------------------------------------------------------

void pool_base::push_idle_front(std::uint32_t c) {
    connection& k = conns_[c];
    set_state(k, conn_state::idle);
    k.holder = npos32;
    k.prev = npos32;
    k.next = idle_head_;
    if (idle_head_ != npos32) conns_[idle_head_].prev = c;
    else idle_tail_ = c;
    idle_head_ = c;
}

void pool_base::push_idle_back(std::uint32_t c) {
    connection& k = conns_[c];
    set_state(k, conn_state::idle);
    k.holder = npos32;
    k.next = npos32;
    k.prev = idle_tail_;
    if (idle_tail_ != npos32) conns_[idle_tail_].next = c;
    else idle_head_ = c;
    idle_tail_ = c;
}

void pool_base::unlink_idle(std::uint32_t c, conn_state to) {
    connection& k = conns_[c];
    DBPOOLSIM_ASSERT(k.state == conn_state::idle, "unlink_idle of a connection that is not idle");
    if (k.prev != npos32) conns_[k.prev].next = k.next;
    else idle_head_ = k.next;
    if (k.next != npos32) conns_[k.next].prev = k.prev;
    else idle_tail_ = k.prev;
    k.prev = k.next = npos32;
    set_state(k, to);
}

std::uint32_t pool_base::pop_idle_front() {
    const std::uint32_t c = idle_head_;
    if (c != npos32) unlink_idle(c, conn_state::checking);
    return c;
}

std::uint32_t pool_base::pop_idle_back() {
    const std::uint32_t c = idle_tail_;
    if (c != npos32) unlink_idle(c, conn_state::checking);
    return c;
}

// ---- waiters ------------------------------------------------------------------------------

void pool_base::grow_waiters(std::uint32_t req) {
    w_.resize(std::max<std::size_t>(req + 1, w_.size() * 2));
}

void pool_base::enqueue_waiter(std::uint32_t req, double timeout_s) {
    ensure_waiter_capacity(req);
    waiter_links& w = w_[req];
    DBPOOLSIM_ASSERT(!w.queued, "request is already waiting");
    w.queued = true;
    w.prev = w_tail_;
    w.next = npos32;
    if (w_tail_ != npos32) w_[w_tail_].next = req;
    else w_head_ = req;
    w_tail_ = req;
    ++n_.waiters;
    record_metrics([t = now()](pool_metrics& m) { m.waiters.add(t, 1); });
    if (timeout_s < sim::infinity && w.timer.empty())
        w.timer = host_.pool_timer(index_, now() + timeout_s, timer_wait_timeout, req);
}

void pool_base::requeue_waiter_front(std::uint32_t req) {
    ensure_waiter_capacity(req);
    waiter_links& w = w_[req];
    DBPOOLSIM_ASSERT(!w.queued, "request is already waiting");
    w.queued = true;
    w.prev = npos32;
    w.next = w_head_;
    if (w_head_ != npos32) w_[w_head_].prev = req;
    else w_tail_ = req;
    w_head_ = req;
    ++n_.waiters;
    record_metrics([t = now()](pool_metrics& m) { m.waiters.add(t, 1); });
}

void pool_base::unlink_waiter(std::uint32_t req) {
    waiter_links& w = w_[req];
    if (w.prev != npos32) w_[w.prev].next = w.next;
    else w_head_ = w.next;
    if (w.next != npos32) w_[w.next].prev = w.prev;
    else w_tail_ = w.prev;
    w.prev = w.next = npos32;
    w.queued = false;
    --n_.waiters;
    record_metrics([t = now()](pool_metrics& m) { m.waiters.add(t, -1); });
}

bool pool_base::cancel_acquire(std::uint32_t req) {
    if (req >= w_.size() || !w_[req].queued) return false;
    sim_.cancel(w_[req].timer);
    unlink_waiter(req);
    return true;
}

std::uint32_t pool_base::pop_waiter_keep_timer() {
    const std::uint32_t req = w_head_;
    if (req != npos32) unlink_waiter(req);
    return req;
}

std::uint32_t pool_base::pop_waiter() {
    const std::uint32_t req = pop_waiter_keep_timer();
    if (req != npos32) cancel_wait_timer(req);
    return req;
}

}  // namespace dbpoolsim::models
