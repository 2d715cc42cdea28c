// dbpoolsim world: the application fleet (docs/scenario.md, "fleet").
//
// Instances are numbered in start order; each runs `per_instance` pools. An instance is
// pending (not started), starting (its pools run, no traffic yet), active (takes traffic),
// draining (no new traffic; it exits when its last request ends) or stopped. Requests are
// routed to active instances (a closed-loop user sticks to one; an open arrival draws one,
// keyed by its sequence number). Rolling deploys and scaling are fleet events. This class
// keeps the states and returns what the world must do (start pools, schedule a stop...).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "models/pool/pool.hpp"
#include "models/scenario.hpp"
#include "models/world/client.hpp"
#include "sim/random.hpp"
#include "sim/stats/accumulator.hpp"

namespace dbpoolsim::models::world_parts {

class fleet {
public:
    enum state_t : std::uint8_t { pending, starting, active, draining, stopped };

    /// `instances`: every instance the run may ever start (fleet_instances_needed).
    fleet(const scenario& s, int rep, int instances)
        : events_(s.fleet),
          route_seed_(sim::stream_seed(s.run.seed, rep, "instance_routing")),
          tracked_(!s.fleet.empty()),
          state_(static_cast<std::size_t>(instances), pending),
          inflight_(static_cast<std::size_t>(instances), 0),
          drain_on_ready_(static_cast<std::size_t>(instances), npos32),
          deploy_(s.fleet.size()) {}

    /// Requests in flight are counted per instance only when fleet events exist.
    bool tracked() const noexcept { return tracked_; }
    state_t state(std::uint32_t inst) const { return static_cast<state_t>(state_[inst]); }

    /// The next instance to start (in order).
    std::uint32_t next_new() {
        DBPOOLSIM_ASSERT(next_ < state_.size(), "fleet ran out of instances");
        return next_++;
    }
    /// An instance of the initial fleet: active at once.
    void start_active(std::uint32_t inst, double t) {
        state_[inst] = active;
        active_.push_back(inst);
        running_.add(t, 1);
    }
    /// An instance starts (its pools start now) and takes traffic when ready; it then drains
    /// `replaces` (npos32: none).
    void start(std::uint32_t inst, double t, std::uint32_t replaces) {
        state_[inst] = starting;
        running_.add(t, 1);
        drain_on_ready_[inst] = replaces;
    }
    /// The instance takes traffic; returns the instance it replaces (to drain), or npos32.
    std::uint32_t ready(std::uint32_t inst) {
        state_[inst] = active;
        active_.push_back(inst);
        return drain_on_ready_[inst];
    }
    /// The instance stops taking traffic; true if it can exit now (nothing in flight).
    bool drain(std::uint32_t inst) {
        if (state_[inst] != active) return false;
        state_[inst] = draining;
        active_.erase(std::find(active_.begin(), active_.end(), inst));
        return inflight_[inst] == 0;
    }
    /// The instance exits if it is drained; true if it did (the world closes its pools).
    bool stop(std::uint32_t inst, double t) {
        if (state_[inst] != draining || inflight_[inst] != 0) return false;
        state_[inst] = stopped;
        running_.add(t, -1);
        return true;
    }

    /// The instance a new request goes to.
    std::uint32_t route(std::uint32_t user, std::uint64_t seqno) {
        const auto n = static_cast<std::uint32_t>(active_.size());
        std::uint32_t k = 0;
        if (n > 1) {
            if (user != npos32) k = user % n;
            else k = static_cast<std::uint32_t>(keyed_uniform(route_seed_, seqno) * n);
        }
        const std::uint32_t inst = active_[k];
        if (tracked_) ++inflight_[inst];
        return inst;
    }
    /// A request of `inst` ended; true if the instance is draining and now empty (the world
    /// schedules its stop).
    bool request_ended(std::uint32_t inst) {
        if (!tracked_) return false;
        return --inflight_[inst] == 0 && state_[inst] == draining;
    }

    /// What fleet event i asks at its start: instances to start, or to drain.
    struct scale_step {
        std::uint32_t start = 0;  // start this many new instances
        std::vector<std::uint32_t> drain;  // drain these (newest first)
    };
    /// A scale event: start or drain instances to reach the event's count.
    scale_step scale(std::uint32_t i) const {
        scale_step out;
        const auto n = static_cast<std::uint32_t>(events_[i].instances);
        std::uint32_t live = 0;  // active or starting
        for (auto st : state_) live += st == active || st == starting;
        if (n > live) {
            out.start = n - live;
        } else {
            // Scale in: the newest active instances drain.
            std::vector<std::uint32_t> a = active_;
            for (std::uint32_t k = n; k < live && !a.empty(); ++k) {
                const auto it = std::max_element(a.begin(), a.end());
                out.drain.push_back(*it);
                a.erase(it);
            }
        }
        return out;
    }
    /// A rolling deploy begins: the instances active now will be replaced.
    void deploy_begin(std::uint32_t i) {
        deploy_[i].old = active_;
        deploy_[i].next = 0;
    }
    /// The next batch of a rolling deploy: the instances to replace now; `more` says whether
    /// another step follows after interval_s.
    std::vector<std::uint32_t> deploy_batch(std::uint32_t i, bool& more) {
        auto& d = deploy_[i];
        std::vector<std::uint32_t> out;
        for (int b = 0; b < events_[i].batch && d.next < d.old.size(); ++b) out.push_back(d.old[d.next++]);
        more = d.next < d.old.size();
        return out;
    }

    const sim::stats::time_average& running() const noexcept { return running_; }
    sim::stats::time_average& running() noexcept { return running_; }

private:
    const std::vector<fleet_event>& events_;
    std::uint64_t route_seed_;
    bool tracked_;
    std::vector<std::uint8_t> state_;
    std::vector<std::uint32_t> inflight_, drain_on_ready_, active_;
    std::uint32_t next_ = 0;
    struct deploy_progress {
        std::vector<std::uint32_t> old;
        std::size_t next = 0;
    };
    std::vector<deploy_progress> deploy_;
    sim::stats::time_average running_;
};

}  // namespace dbpoolsim::models::world_parts
