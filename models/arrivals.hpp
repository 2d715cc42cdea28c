// dbpoolsim models: open arrival processes beyond the constant-rate Poisson stream: a
// Poisson stream whose rate follows a profile over time, a cyclic Markov-modulated Poisson
// process (MMPP) and the replay of a CSV trace; and `arrival_process`, the generator of the
// arrival times of every open kind except `burst`.
//
// Settings are plain data held by `arrival_settings` (models/scenario.hpp); the JSON mapping
// is in models/scenario_fields.cpp. No knowledge of requests, pools or the event queue here.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "sim/random.hpp"

namespace dbpoolsim::models {

struct arrival_settings;
struct scenario;

enum class profile_shape : std::uint8_t { step, linear };

struct rate_point {
    double at_s = 0;        // s, >= 0, strictly increasing along the profile
    double rate_per_s = 0;  // requests/s, >= 0
};

/// A Poisson rate that varies over time. `step`: the rate of the last point at or before t;
/// `linear`: linear interpolation between consecutive points. Both are constant outside the
/// points (the first point's rate before it, the last point's rate after it).
struct rate_profile {
    profile_shape shape = profile_shape::step;
    std::vector<rate_point> points;  // at least one; not all rates zero

    /// The rate at time t (requests/s).
    double rate_at(double t) const;
    /// The expected number of arrivals in [t0, t1] (the integral of the rate).
    double integral(double t0, double t1) const;
};

struct mmpp_state {
    double rate_per_s = 0;      // requests/s, >= 0
    double mean_holding_s = 1;  // s, > 0: mean of the exponential time spent in the state
};

/// A cyclic Markov-modulated Poisson process: in state i arrivals are Poisson with rate
/// rate_per_s, the state lasts an exponential time of mean mean_holding_s, then the process
/// moves to state (i + 1) mod n. With two states this is the classic two-state MMPP (an
/// on-off source when one rate is 0). Long-run mean rate: sum(rate_i h_i) / sum(h_i).
struct mmpp_settings {
    std::vector<mmpp_state> states;  // 1..64, at least one positive rate
    int initial_state = 0;           // the state at t = 0

    double mean_rate() const;
};

/// One line of an arrival trace.
struct trace_record {
    double t_s = 0;  // arrival time as in the file (before time_scale and looping)
    /// Index of the transaction class in workload.transactions; -1 = drawn from the mix.
    std::int32_t cls = -1;
    /// Database time of the whole transaction (s), overriding the class's query_time and
    /// split evenly over its queries; NaN = not given (query_time applies).
    double duration_s = std::numeric_limits<double>::quiet_NaN();
};

/// The content of a trace file, shared by every copy of a scenario.
struct arrival_trace {
    std::string file;                    // absolute path
    std::vector<trace_record> records;   // at least one, t_s non-decreasing
};

/// The `trace` arrival kind: the file and how to replay it.
struct trace_settings {
    /// The CSV file; as given in the JSON until the scenario is parsed, then absolute.
    std::string file;
    double time_scale = 1;  // arrival time = t_s x time_scale (> 0)
    /// Repeat the trace for ever with period = last t_s x time_scale (which must be > 0).
    bool loop = false;
    std::shared_ptr<const arrival_trace> data;  // loaded by scenario_from_json
};

/// `file` resolved against `base_dir` (empty = the current directory), absolute and
/// normalised.
std::string resolve_trace_path(const std::string& file, const std::string& base_dir);

/// Load a trace: CSV with a header line naming the columns `t_s` (required: arrival time in
/// s, >= 0, non-decreasing), `class` (optional: one of `class_names`, stored as its index)
/// and `duration_s` (optional: >= 0). An empty `class` or `duration_s` cell means "not
/// given". `file` is resolved against `base_dir`; messages name `file` as given.
/// Throws config_error, one problem per bad line ("trace.csv:17: t_s must be ...").
std::shared_ptr<const arrival_trace> load_arrival_trace(const std::string& file,
                                                        const std::vector<std::string>& class_names,
                                                        const std::string& base_dir = "");

/// The shortest period the clock is asked to step by: an MMPP state's mean holding time, a
/// burst period, a looped trace's period, a closed-loop cycle's mean (docs/limits.md).
/// Shorter ones would stall the clock (t + dt == t) or loop without end.
inline constexpr double min_clock_step_s = 1e-6;
/// The latest arrival time a trace may give after time_scale (larger is not a time).
inline constexpr double max_trace_time_s = 1e300;

/// Arrival settings that would stall the clock, loop without end or give non-finite times,
/// as (JSON path, message) pairs; the paths are absolute ("/workload/arrivals/...").
std::vector<std::pair<std::string, std::string>> clock_limit_problems(const scenario& s);

/// The arrival times of an open arrival process: kind `poisson` (constant rate or
/// `profile`), `mmpp` or `trace`. Every draw comes from the one stream given (the world's
/// `arrivals` stream), so arrivals are the same under every pool configuration.
///
/// The constant-rate Poisson stream draws exactly as dbpoolsim always has: the first
/// arrival one exponential gap after 0, each next one gap after the previous. A rate profile
/// is generated exactly by inversion of its cumulative rate (one Exp(1) draw per arrival),
/// an MMPP by the same inversion across state changes (plus one exponential draw per
/// holding time). Generation is lazy: each next() does O(1) amortised work.
class arrival_process {
public:
    /// True for the kinds this class generates (poisson, mmpp, trace).
    static bool handles(const arrival_settings& a);

    /// `a` must be valid (as from scenario_from_json) and of a kind handles() accepts; for a
    /// trace, `a.trace.data` must be loaded. `rng` must outlive this object.
    arrival_process(const arrival_settings& a, sim::random_stream& rng);

    /// Absolute time (s) of the next arrival; the first call gives the first. Times never
    /// decrease: Poisson and MMPP times are strictly increasing (almost surely); a trace may
    /// give equal times (as its file does). +infinity when no arrival remains: a
    /// non-looping trace is exhausted, or a profile ends with rate 0 and is past its last
    /// positive rate. Once infinity, always infinity.
    /// The constant rate inline (speed: a call and a switch less per arrival).
    double next() {
        if (mode_ == mode::constant) [[likely]] return t_ += rng_->exponential(mean_gap_);
        return next_varying();
    }

    /// For a trace: the record of the arrival just returned by next() (class index or -1,
    /// duration_s or NaN); nullptr for other kinds, before the first next() and after the
    /// trace is exhausted.
    const trace_record* record() const;

    /// For MMPP: the state at the time of the last arrival (the initial state before the
    /// first); 0 for other kinds.
    std::size_t state() const;

private:
    struct segment {
        double t0, t1;  // [t0, t1), t1 may be +infinity
        double r0, r1;  // rate at t0 and (the limit) at t1
    };
    enum class mode : std::uint8_t { constant, profile, mmpp, trace };

    double next_varying();
    double next_profile();
    double next_mmpp();
    double next_trace();

    mode mode_;
    sim::random_stream* rng_;
    double t_ = 0;  // the last arrival time returned (0 before the first)
    // constant
    double mean_gap_ = 0;
    // profile
    std::vector<segment> segs_;
    std::size_t seg_ = 0;
    // mmpp
    std::vector<double> rates_, holdings_;
    std::size_t state_ = 0;
    double state_end_ = 0;
    // trace
    std::shared_ptr<const arrival_trace> trace_;
    double scale_ = 1, period_ = 0;
    bool loop_ = false;
    std::size_t next_index_ = 0;
    std::uint64_t round_ = 0;
    const trace_record* current_ = nullptr;
};

}  // namespace dbpoolsim::models
