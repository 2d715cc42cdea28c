// dbpoolsim world: the database server.
//
// Its backends (one per open connection that reached it, limited by max_connections), its
// incarnation (epoch: a restart or failover ends every session of the old one) and node (a
// failover or demotion moves the primary), its login rules (refused while restarting,
// unanswered while the old primary's address is dead, 53300 beyond max_connections), the
// postmaster's accept throttle, the login's CPU part, and the CPU that runs queries
// (processor sharing and the USL, cpu_model.hpp). The world asks (`login`) and acts on the
// answer; fault effects come in through `restart_until`, `unreachable_until`, `demote`.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/pool/pool.hpp"
#include "models/scenario.hpp"
#include "models/world/cpu_model.hpp"
#include "models/world/faults.hpp"
#include "sim/random.hpp"
#include "sim/simulation.hpp"
#include "sim/slot_table.hpp"
#include "sim/stats/accumulator.hpp"

namespace dbpoolsim::models::world_parts {

/// The database's answer to a login started now.
struct login_answer {
    double delay = 0;        // until the client hears the answer
    bool ok = false;         // a usable session (else refused or failed)
    bool backend = false;    // a backend slot was taken (released by the caller if it fails)
    bool rejected = false;   // 53300 too_many_connections
    bool cpu_phase = false;  // after the delay, the login's CPU work runs on the database
    login_outcome kind = login_outcome::ok;  // what the client hears (if not ok)
};

class database {
public:
    /// A job id with this bit set is a login's CPU part (the rest indexes login_jobs_).
    static constexpr std::uint32_t login_job_bit = 0x80000000u;

    database(sim::simulation& sim, const scenario& s, int rep, std::uint32_t cpu_done_kind)
        : s_(s.database),
          connect_(s.run.seed, rep, "connect_time"),
          cpu(sim, s.database.cores, cpu_done_kind, s.database.usl,
              !s.faults.empty() || s.client.statement_timeout_s > 0) {}

    /// A login to the database starts at t (connect_timeout: how long a login to an
    /// unreachable host blocks; rtt: the round trip of a refusal).
    login_answer login(double t, double connect_timeout, double rtt, fault_schedule& faults) {
        login_answer a;
        if (t < unreachable_until_) {
            // Failover: the old primary's address does not answer; the SYN retries time out.
            a.delay = connect_timeout;
            a.kind = login_outcome::timed_out;
            return a;
        }
        if (t < refuse_until_) {
            // Restart: 57P03 "the database system is starting up" (backend_startup.c). A
            // stopped server would refuse the TCP connection instead; both take a round trip.
            a.delay = rtt;
            a.kind = login_outcome::starting_up;
            return a;
        }
        if (backends_ >= static_cast<std::uint32_t>(s_.max_connections)) {
            // PostgreSQL answers 53300 too_many_connections after the startup packet.
            a.rejected = true;
            a.delay = rtt;
            a.kind = login_outcome::too_many;
            return a;
        }
        a.ok = a.backend = true;
        set_backends(t, backends_ + 1);
        // The k-th login that reaches the server takes draw k (a `sequence` gives values in order).
        a.delay = s_.connect_time.sample_nth(logins_++, connect_.engine());
        faults.login(t, a.delay, a.ok);
        if (!a.ok) a.kind = login_outcome::server_error;  // a connect_errors fault
        if (s_.accept_rate_per_s > 0) {
            // The postmaster accepts (forks) one login at a time.
            const double start = std::max(t, accept_free_);
            accept_free_ = start + 1 / s_.accept_rate_per_s;
            a.delay += start - t;
        }
        a.cpu_phase = a.ok && s_.connect_cpu_s > 0;
        return a;
    }

    /// Start a login's CPU part for `owner` (the world's packed connection reference); returns
    /// its job id (for abandon_login_cpu).
    std::uint32_t submit_login_cpu(std::uint32_t owner) {
        const std::uint32_t j = login_jobs_.allocate();
        login_jobs_[j] = owner;
        cpu.submit(login_job_bit | j, s_.connect_cpu_s);
        return login_job_bit | j;
    }
    /// The client gave up a login during its CPU part: the backend stops its work.
    void abandon_login_cpu(std::uint32_t job) {
        cpu.cancel(job);  // a login CPU part exists only with a CPU model (validated)
        login_jobs_.release(job & ~login_job_bit);
    }
    /// A login's CPU part finished (job id from cpu.complete()): its owner.
    std::uint32_t login_cpu_done(std::uint32_t job) {
        const std::uint32_t j = job & ~login_job_bit, owner = login_jobs_[j];
        login_jobs_.release(j);
        return owner;
    }

    /// The stream of login times (the pooler's client logins draw from it too).
    sim::random_stream& connect_stream() noexcept { return connect_; }

    /// A backend goes away (session closed, killed, reaped).
    void release_backend(double t) { set_backends(t, backends_ - 1); }
    std::uint32_t backends() const noexcept { return backends_; }
    const sim::stats::time_average& backends_avg() const noexcept { return backends_avg_; }
    sim::stats::time_average& backends_avg() noexcept { return backends_avg_; }

    std::uint32_t epoch() const noexcept { return epoch_; }
    std::uint32_t node() const noexcept { return node_; }
    bool read_only(std::uint32_t node) const { return node < node_read_only_.size() && node_read_only_[node]; }

    /// Fault effects: a new incarnation (restart, failover), logins refused or unanswered
    /// until a time, the current node demoted to read-only, a new primary (next node).
    void new_incarnation() { ++epoch_; }
    void refuse_until(double t) { refuse_until_ = std::max(refuse_until_, t); }
    void unreachable_until(double t) { unreachable_until_ = std::max(unreachable_until_, t); }
    void demote() {
        if (node_read_only_.size() <= node_) node_read_only_.resize(node_ + 1, 0);
        node_read_only_[node_] = 1;
    }
    void promote_next_node() { ++node_; }

private:
    void set_backends(double t, std::uint32_t n) {
        backends_ = n;
        backends_avg_.set(t, n);
    }

    const database_settings& s_;
    sim::random_stream connect_;
    std::uint64_t logins_ = 0;  // logins that reached the server (connect_time's draw number)
    std::uint32_t backends_ = 0;
    sim::stats::time_average backends_avg_;
    std::uint32_t epoch_ = 0, node_ = 0;
    std::vector<std::uint8_t> node_read_only_;
    // -infinity: no window (the run may start before 0: run.pool_start_s).
    double refuse_until_ = -sim::infinity, unreachable_until_ = -sim::infinity, accept_free_ = -sim::infinity;
    // Logins' CPU parts: the packed connection reference of each one's owner.
    sim::slot_table<std::uint32_t> login_jobs_{login_job_bit, "more than 2^31 logins in flight"};

public:
    cpu_model cpu;  // queries and logins' CPU work
};

}  // namespace dbpoolsim::models::world_parts
