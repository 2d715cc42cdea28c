#include "models/pool/generic_pool.hpp"

#include <cmath>

#include "models/pool/registry.hpp"

namespace dbpoolsim::models {
namespace {

class generic_pool final : public pool_base {
public:
    generic_pool(const generic_pool_params& p, pool_host& host, std::uint32_t index,
                 pool_metrics& metrics, sim::random_stream rng)
        : pool_base(host, index, metrics, std::move(rng)),
          p_(p),
          lifo_(p.idle_order == "lifo"),
          timeout_(p.acquisition_timeout > 0 ? p.acquisition_timeout : sim::infinity),
          lifetime_(p.max_lifetime > 0 ? p.max_lifetime : sim::infinity) {}

    void start() override {
        for (int i = 0; i < p_.min_connections; ++i) open_connection();
        // The cleanup also restores min_connections after failed logins, so it always runs.
        if (p_.idle_cleanup_interval > 0)
            host_.pool_timer(index_, now() + p_.idle_cleanup_interval, timer_cleanup, 0);
        if (p_.health_check_interval > 0)
            host_.pool_timer(index_, now() + p_.health_check_interval, timer_health, 0);
    }

    void acquire(std::uint32_t req) override {
        deadline_of(req) = now() + timeout_;
        try_borrow(req);
    }

    void release(std::uint32_t c) override {
        connection& k = conn(c);
        if (k.broken) {
            close(c, close_reason::broken);
        } else if (now() >= k.created_at + lifetime_) {
            close(c, close_reason::lifetime);
        } else {
            k.last_returned_at = now();
            make_available(c);
            return;
        }
        replenish();
    }

    void on_connect_done(std::uint32_t c, login_outcome how) override {
        const bool ok = how == login_outcome::ok;
        if (!ok) {
            connection_failed(c);
            // The error surfaces to the oldest waiter that no other login in flight serves.
            if (waiter_count() > n_.creating) {
                const std::uint32_t req = pop_waiter();
                fail(req, fail_reason::connect_error);
            }
            // The waiters left still each want a login (each failure consumes a waiter, so
            // this ends); the minimum is retried at the next cleanup.
            grow();
            return;
        }
        connection_opened(c);
        make_available(c);
    }

    void on_round_trip_done(std::uint32_t c, bool ok) override {
        connection& k = conn(c);
        ok = ok && !k.broken;
        if (k.check_tag == tag_validate) {
            const std::uint32_t req = k.holder;
            if (ok) {
                grant(req, c);
                return;
            }
            close(c, close_reason::validation);
            try_borrow(req);  // again, within the same deadline
            return;
        }
        // Health check of an idle connection. The checks of one pass were started front to
        // back and finish in that order, so re-appending at the back keeps the idle order
        // (pushing to the front would reverse a LIFO list every pass and keep cold
        // connections warm forever).
        if (ok) {
            const std::uint32_t req = pop_waiter();
            if (req != npos32) hand_out(req, c);
            else push_idle_back(c);
        } else {
            close(c, close_reason::broken);
            replenish();
        }
    }

    void on_broken_in_use(std::uint32_t c) override {
        close(c, close_reason::broken);
        replenish();
    }

    double acquire_timeout() const override { return timeout_; }
    double max_size() const override { return p_.max_connections; }

private:
    static constexpr std::uint32_t timer_cleanup = 1, timer_health = 2;
    static constexpr std::uint32_t tag_validate = 1, tag_health = 2;

    /// Borrow an idle connection for req, or make it wait.
    void try_borrow(std::uint32_t req) {
        for (;;) {
            const std::uint32_t c = idle_front();
            if (c == npos32) break;
            if (now() >= conn(c).created_at + lifetime_) {
                close(c, close_reason::lifetime);
                continue;
            }
            hand_out(req, c);
            return;
        }
        const double remaining = deadline_of(req) - now();
        if (remaining <= 0) {
            fail(req, fail_reason::acquire_timeout);
            return;
        }
        enqueue_waiter(req, remaining);
        grow();
    }

    void hand_out(std::uint32_t req, std::uint32_t c) {
        if (p_.validate_on_borrow) start_round_trip(c, tag_validate, req, p_.validation_timeout);
        else grant(req, c);
    }

    /// A connection is free: the head waiter gets it, else it becomes idle.
    void make_available(std::uint32_t c) {
        const std::uint32_t req = pop_waiter();
        if (req != npos32) {
            hand_out(req, c);
            return;
        }
        if (lifo_) push_idle_front(c);
        else push_idle_back(c);
    }

    /// One login per waiter not already covered by a login in flight, up to the maximum.
    void grow() {
        while (n_.creating < waiter_count() && n_.total < static_cast<std::uint32_t>(p_.max_connections))
            open_connection();
    }

    void fill_minimum() {
        while (n_.total < static_cast<std::uint32_t>(p_.min_connections)) open_connection();
    }

    void replenish() {
        grow();
        fill_minimum();
    }

    void on_policy_timer(std::uint32_t kind, std::uint32_t) override {
        if (kind == timer_cleanup) {
            cleanup();
            host_.pool_timer(index_, now() + p_.idle_cleanup_interval, timer_cleanup, 0);
        } else if (kind == timer_health) {
            for (std::uint32_t c = idle_front(); c != npos32;) {
                const std::uint32_t next = idle_next(c);
                start_round_trip(c, tag_health, npos32, p_.validation_timeout);
                c = next;
            }
            host_.pool_timer(index_, now() + p_.health_check_interval, timer_health, 0);
        }
    }

    void cleanup() {
        const auto min = static_cast<std::uint32_t>(p_.min_connections);
        for (std::uint32_t c = idle_front(); c != npos32;) {
            const std::uint32_t next = idle_next(c);
            const connection& k = conn(c);
            if (now() >= k.created_at + lifetime_) close(c, close_reason::lifetime);
            else if (p_.idle_timeout > 0 && n_.total > min &&
                     now() - k.last_returned_at >= p_.idle_timeout)
                close(c, close_reason::idle);
            c = next;
        }
        replenish();
    }

    generic_pool_params p_;
    bool lifo_;
    double timeout_;
    double lifetime_;
};

}  // namespace

std::unique_ptr<pool_policy> make_generic_pool(const generic_pool_params& p, pool_host& host,
                                               std::uint32_t index, pool_metrics& metrics,
                                               sim::random_stream rng) {
    return std::make_unique<generic_pool>(p, host, index, metrics, std::move(rng));
}

// ---- registry entry (seeds 000, 001, 004) ------------------------------------------------------

namespace detail {
namespace {

const field_table<generic_pool_params>& generic_fields() {
    using P = generic_pool_params;
    // seeds/001 names two of these differently; its names are accepted so its configurations
    // paste as they are (the resolved scenario uses seeds/000's names).
    static const field_table<P> t = {
        make_field<&P::min_connections>("min_connections", between(0, 1 << 24)),
        make_field<&P::max_connections>("max_connections", between(1, 1 << 24)),
        make_field<&P::acquisition_timeout>("acquisition_timeout", at_least(0)).aka("connection_timeout", "seeds/001"),
        make_field<&P::idle_timeout>("idle_timeout", at_least(0)),
        make_field<&P::max_lifetime>("max_lifetime", at_least(0)).aka("connection_lifetime", "seeds/001"),
        make_field<&P::idle_cleanup_interval>("idle_cleanup_interval", above(0)),
        make_field<&P::validate_on_borrow>("validate_on_borrow"),
        make_field<&P::validation_query>("validation_query"),
        make_field<&P::validation_timeout>("validation_timeout", above(0)),
        make_field<&P::health_check_interval>("health_check_interval", at_least(0)),
        make_field<&P::idle_order>("idle_order").one_of({"lifo", "fifo"}),
    };
    return t;
}

void generic_cross(const generic_pool_params& p, const std::string& path, problems& out) {
    if (p.min_connections > p.max_connections)
        out.add(path + "/min_connections", "must be <= max_connections (" + std::to_string(p.max_connections) +
                                               "), got " + std::to_string(p.min_connections));
}

}  // namespace

const pool_kind& generic_pool_kind() {
    static const pool_kind k = table_pool_kind<generic_pool_params, generic_fields, make_generic_pool, generic_cross>(
        "generic", "the min/max pool of the seed documents (seeds 000, 001, 004)");
    return k;
}

}  // namespace detail
}  // namespace dbpoolsim::models
