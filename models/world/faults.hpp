// dbpoolsim world: the scenario's faults (docs/scenario.md, "faults").
//
// Two kinds of fault: windows, checked where a login or a query starts (slow_connects,
// connect_errors, slow_queries), and events at at_s that change the database or break
// connections (restart, failover, read_only, kill_connections). For an event this class
// returns what the fault does (`fault_effect`); the world applies it to the database and the
// network.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/scenario.hpp"
#include "sim/random.hpp"

namespace dbpoolsim::models::world_parts {

/// What a fault does when it starts.
struct fault_effect {
    bool new_incarnation = false;  // restart, failover: the database's epoch changes
    double refuse_until = -1;      // restart: logins refused until then
    double unreachable_until = -1; // failover: logins hang (the old address does not answer)
    bool read_only = false;        // read_only: the current node turns read-only
    bool breaks = false;           // backends go away:
    double break_fraction = 1;     // ... this fraction of them (1 = all, else one draw each)
    bool silent = false;           // ... silently (host gone) rather than with a reset
    bool ends = false;             // schedule the fault's end (a new primary) after duration_s
};

class fault_schedule {
public:
    fault_schedule(const scenario& s, int rep) : f_(s.faults), rng_(s.run.seed, rep, "faults") {
        for (const auto& f : f_) {
            slow_queries_ = slow_queries_ || f.kind == fault_kind::slow_queries;
            connect_faults_ = connect_faults_ || f.kind == fault_kind::slow_connects ||
                              f.kind == fault_kind::connect_errors;
        }
    }

    bool empty() const noexcept { return f_.empty(); }
    const std::vector<fault>& list() const noexcept { return f_; }

    /// What fault i does when it starts at time t.
    fault_effect start(std::uint32_t i, double t) const {
        const fault& f = f_[i];
        fault_effect e;
        switch (f.kind) {
            case fault_kind::restart:
                e.new_incarnation = true;
                e.refuse_until = t + f.duration_s;
                e.breaks = true;
                break;
            case fault_kind::failover:
                e.new_incarnation = true;
                e.unreachable_until = t + f.duration_s;
                e.breaks = true;
                e.silent = true;
                e.ends = true;
                break;
            case fault_kind::read_only:
                e.read_only = true;
                e.ends = true;
                break;
            case fault_kind::kill_connections:
                e.breaks = true;
                e.break_fraction = f.fraction;
                break;
            default: break;  // windows: checked where logins and queries start
        }
        return e;
    }

    /// The work of a query started at t, after slow_queries windows.
    double query_work(double t, double work) const {
        if (!slow_queries_) return work;
        for (const auto& f : f_)
            if (f.kind == fault_kind::slow_queries && t >= f.at_s && t < f.at_s + f.duration_s) work *= f.factor;
        return work;
    }

    /// A login started at t: its delay is multiplied by slow_connects factors, and each
    /// connect_errors window may fail it (one draw per window, in scenario order).
    void login(double t, double& delay, bool& ok) {
        if (!connect_faults_) return;
        for (const auto& f : f_) {
            if (t < f.at_s || t >= f.at_s + f.duration_s) continue;
            if (f.kind == fault_kind::slow_connects) delay *= f.factor;
            if (f.kind == fault_kind::connect_errors && rng_.uniform() < f.probability) ok = false;
        }
    }

    /// Whether a backend is among the `fraction` that a fault breaks (1: all, no draw).
    bool hits(double fraction) { return !(fraction < 1 && rng_.uniform() >= fraction); }

private:
    const std::vector<fault>& f_;
    sim::random_stream rng_;
    bool slow_queries_ = false, connect_faults_ = false;
};

}  // namespace dbpoolsim::models::world_parts
