#include "models/arrivals.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <string_view>

#include "models/interrupt.hpp"
#include "models/scenario.hpp"
#include "sim/error.hpp"
#include "sim/format.hpp"

namespace dbpoolsim::models {
namespace {

constexpr double inf = std::numeric_limits<double>::infinity();

struct rate_segment {
    double t0, t1;  // [t0, t1); t1 = +infinity for the last
    double r0, r1;  // rates at t0 and t1 (equal for a step)
};

/// The profile as segments covering [0, infinity).
std::vector<rate_segment> segments_of(const rate_profile& p) {
    DBPOOLSIM_ASSERT(!p.points.empty(), "a rate profile needs at least one point");
    std::vector<rate_segment> out;
    const auto& pts = p.points;
    if (pts.front().at_s > 0) out.push_back({0, pts.front().at_s, pts.front().rate_per_s, pts.front().rate_per_s});
    for (std::size_t i = 0; i + 1 < pts.size(); ++i) {
        const double r1 = p.shape == profile_shape::linear ? pts[i + 1].rate_per_s : pts[i].rate_per_s;
        out.push_back({pts[i].at_s, pts[i + 1].at_s, pts[i].rate_per_s, r1});
    }
    out.push_back({pts.back().at_s, inf, pts.back().rate_per_s, pts.back().rate_per_s});
    return out;
}

double slope_of(const rate_segment& g) {
    return std::isinf(g.t1) || g.r1 == g.r0 ? 0.0 : (g.r1 - g.r0) / (g.t1 - g.t0);
}

// ---- CSV ----------------------------------------------------------------------------------

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
    return s;
}

/// Split one CSV line on commas; fields may be double-quoted ("" is a quote inside).
/// False if a quote is not closed.
bool split_csv(std::string_view line, std::vector<std::string>& fields) {
    fields.clear();
    std::string cur;
    std::size_t i = 0;
    for (;;) {
        cur.clear();
        while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
        if (i < line.size() && line[i] == '"') {
            ++i;
            for (;;) {
                if (i >= line.size()) return false;
                if (line[i] == '"') {
                    if (i + 1 < line.size() && line[i + 1] == '"') {
                        cur += '"';
                        i += 2;
                        continue;
                    }
                    ++i;
                    break;
                }
                cur += line[i++];
            }
            while (i < line.size() && line[i] != ',') {
                if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r') return false;
                ++i;
            }
        } else {
            const std::size_t start = i;
            while (i < line.size() && line[i] != ',') ++i;
            cur = trim(line.substr(start, i - start));
        }
        fields.push_back(cur);
        if (i >= line.size()) return true;
        ++i;  // the comma
    }
}

/// A finite number, or nullopt.
std::optional<double> parse_number(std::string_view s) {
    if (!s.empty() && s.front() == '+') s.remove_prefix(1);
    double x = 0;
    const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), x);
    if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(x)) return std::nullopt;
    return x;
}

/// A cell for a message: quoted, at most 40 characters, control bytes as \xNN.
std::string in_quotes(const std::string& s) {
    std::string out = "\"";
    for (std::size_t i = 0; i < s.size() && i < 40; ++i) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7f) {
            static const char* hex = "0123456789abcdef";
            out += std::string("\\x") + hex[c >> 4] + hex[c & 15];
        } else {
            out += static_cast<char>(c);
        }
    }
    return out + (s.size() > 40 ? "...\"" : "\"");
}

/// The 1-based column of the first byte that does not start or continue valid UTF-8 (lead
/// bytes and continuation counts only; overlong forms are not looked for), 0 if none.
std::size_t invalid_utf8_at(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        const std::size_t n = c < 0x80 ? 0 : c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2
                            : c >= 0xf0 && c <= 0xf4 ? 3 : 4;
        if (n == 4 || i + n >= s.size() + (n == 0)) return i + 1;
        for (std::size_t k = 1; k <= n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) >> 6) != 0x2) return i + 1;
        i += n + 1;
    }
    return 0;
}

std::string hex_byte(char c) {
    static const char* hex = "0123456789abcdef";
    const auto u = static_cast<unsigned char>(c);
    return std::string("0x") + hex[u >> 4] + hex[u & 15];
}

constexpr std::size_t max_trace_problems = 20;
constexpr std::uintmax_t max_trace_bytes = 256u * 1024 * 1024;  // docs/limits.md

}  // namespace

// ---- settings -----------------------------------------------------------------------------

double rate_profile::rate_at(double t) const {
    for (const auto& g : segments_of(*this))
        if (t < g.t1) return g.r0 + slope_of(g) * (std::max(t, g.t0) - g.t0);
    return points.back().rate_per_s;
}

double rate_profile::integral(double t0, double t1) const {
    double sum = 0;
    for (const auto& g : segments_of(*this)) {
        const double a = std::max(t0, g.t0), b = std::min(t1, g.t1);
        if (!(b > a)) continue;
        const double s = slope_of(g);
        sum += 0.5 * ((g.r0 + s * (a - g.t0)) + (g.r0 + s * (b - g.t0))) * (b - a);
    }
    return sum;
}

double mmpp_settings::mean_rate() const {
    double num = 0, den = 0;
    for (const auto& st : states) {
        num += st.rate_per_s * st.mean_holding_s;
        den += st.mean_holding_s;
    }
    return den > 0 ? num / den : 0;
}

// ---- trace files --------------------------------------------------------------------------

std::string resolve_trace_path(const std::string& file, const std::string& base_dir) {
    namespace fs = std::filesystem;
    fs::path p(file);
    if (p.is_relative() && !base_dir.empty()) p = fs::path(base_dir) / p;
    std::error_code ec;
    const fs::path abs = fs::absolute(p, ec);
    return (ec ? p : abs).lexically_normal().string();
}

std::shared_ptr<const arrival_trace> load_arrival_trace(const std::string& file,
                                                        const std::vector<std::string>& class_names,
                                                        const std::string& base_dir) {
    auto trace = std::make_shared<arrival_trace>();
    trace->file = resolve_trace_path(file, base_dir);
    {
        namespace fs = std::filesystem;
        std::error_code ec;
        const auto st = fs::status(trace->file, ec);
        if (fs::is_directory(st)) throw config_error({file + ": is a folder, not a CSV file (" + trace->file + ")"});
        if (fs::exists(st) && !fs::is_regular_file(st))
            throw config_error({file + ": is not a regular file (" + trace->file + ")"});
        const auto bytes = fs::is_regular_file(st) ? fs::file_size(trace->file, ec) : 0;
        if (!ec && bytes > max_trace_bytes)
            throw config_error({file + ": is " + std::to_string(bytes) + " bytes, more than the limit of " +
                                std::to_string(max_trace_bytes) + " bytes (docs/limits.md)"});
    }
    std::ifstream in(trace->file, std::ios::binary);
    if (!in) throw config_error({file + ": cannot be read (looked for " + trace->file + ")"});

    std::vector<std::string> problems;
    auto fail = [&](std::size_t line, const std::string& msg) {
        problems.push_back(file + ":" + std::to_string(line) + ": " + msg);
    };
    std::string line;
    std::size_t lineno = 0;
    std::vector<std::string> fields;

    // Header: the first line that is not blank.
    bool have_header = false;
    while (std::getline(in, line)) {
        poll_interrupt();  // Ctrl-C (models/interrupt.hpp), here and per row below
        ++lineno;
        if (lineno == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);  // UTF-8 BOM
        if (!trim(line).empty()) {
            have_header = true;
            break;
        }
    }
    if (!have_header) throw config_error({file + ": empty (expected a header line naming the columns t_s, class, duration_s)"});
    int col_t = -1, col_class = -1, col_duration = -1;
    if (const std::size_t col = invalid_utf8_at(line)) {
        fail(lineno, "not UTF-8 text (byte " + hex_byte(line[col - 1]) + " at column " + std::to_string(col) + ")");
        throw config_error(problems);
    }
    if (!split_csv(line, fields)) fail(lineno, "unterminated quote in the header");
    for (std::size_t i = 0; i < fields.size() && problems.empty(); ++i) {
        int* col = fields[i] == "t_s" ? &col_t : fields[i] == "class" ? &col_class
                                     : fields[i] == "duration_s" ? &col_duration : nullptr;
        if (!col) fail(lineno, "unknown column " + in_quotes(fields[i]) + " (the columns are t_s, class, duration_s)");
        else if (*col >= 0) fail(lineno, "column " + in_quotes(fields[i]) + " appears twice");
        else *col = static_cast<int>(i);
    }
    if (problems.empty() && col_t < 0) fail(lineno, "no t_s column (the arrival times, in s)");
    if (!problems.empty()) throw config_error(problems);
    const std::size_t ncols = fields.size();

    std::string known;
    for (const auto& n : class_names) known += (known.empty() ? "" : ", ") + n;
    double prev = 0;
    while (std::getline(in, line) && problems.size() < max_trace_problems) {
        poll_interrupt();
        ++lineno;
        if (trim(line).empty()) continue;
        if (const std::size_t col = invalid_utf8_at(line)) {
            fail(lineno, "not UTF-8 text (byte " + hex_byte(line[col - 1]) + " at column " + std::to_string(col) + ")");
            continue;
        }
        if (!split_csv(line, fields)) {
            fail(lineno, "unterminated quote");
            continue;
        }
        if (fields.size() != ncols) {
            fail(lineno, "expected " + std::to_string(ncols) + " fields as in the header, got " +
                             std::to_string(fields.size()));
            continue;
        }
        trace_record rec;
        const std::string& ts = fields[static_cast<std::size_t>(col_t)];
        const auto t = parse_number(ts);
        if (!t) {
            fail(lineno, "t_s must be a number, got " + in_quotes(ts));
        } else if (*t < 0) {
            fail(lineno, "t_s must be >= 0, got " + ts);
        } else if (*t < prev) {
            fail(lineno, "t_s must be >= the previous arrival time (" + sim::format_number(prev) + "), got " + ts);
        } else {
            rec.t_s = prev = *t;
        }
        if (col_class >= 0) {
            const std::string& name = fields[static_cast<std::size_t>(col_class)];
            if (!name.empty()) {
                const auto it = std::find(class_names.begin(), class_names.end(), name);
                if (it == class_names.end())
                    fail(lineno, "class must be one of the transaction classes (" + known + "), got " + in_quotes(name));
                else rec.cls = static_cast<std::int32_t>(it - class_names.begin());
            }
        }
        if (col_duration >= 0) {
            const std::string& ds = fields[static_cast<std::size_t>(col_duration)];
            if (!ds.empty()) {
                const auto d = parse_number(ds);
                if (!d) fail(lineno, "duration_s must be a number, got " + in_quotes(ds));
                else if (!(*d >= 0)) fail(lineno, "duration_s must be >= 0, got " + ds);
                else rec.duration_s = *d;
            }
        }
        trace->records.push_back(rec);
    }
    if (problems.size() >= max_trace_problems) {
        problems.push_back(file + ": stopped reading after " + std::to_string(max_trace_problems) + " problems");
    } else if (in.bad()) {
        problems.push_back(file + ": read error after line " + std::to_string(lineno));
    } else if (problems.empty() && trace->records.empty()) {
        problems.push_back(file + ": no arrivals (the file has only a header)");
    }
    if (!problems.empty()) throw config_error(problems);
    return trace;
}

// ---- limits ------------------------------------------------------------------------------

std::vector<std::pair<std::string, std::string>> clock_limit_problems(const scenario& s) {
    std::vector<std::pair<std::string, std::string>> out;
    const std::string at = "/workload/arrivals";
    const auto& a = s.workload.arrivals;
    const std::string step = sim::format_number(min_clock_step_s);
    if (a.kind == arrival_kind::mmpp) {
        for (std::size_t i = 0; i < a.mmpp.states.size(); ++i)
            if (a.mmpp.states[i].mean_holding_s < min_clock_step_s)
                out.emplace_back(at + "/states/" + std::to_string(i) + "/mean_holding_s",
                                 "must be >= " + step + " s (the shortest step the clock takes, docs/limits.md), got " +
                                     sim::format_number(a.mmpp.states[i].mean_holding_s));
    } else if (a.kind == arrival_kind::burst) {
        if (a.every_s > 0 && a.every_s < min_clock_step_s)
            out.emplace_back(at + "/every_s", "must be 0 (one burst) or >= " + step +
                                                  " s (the shortest step the clock takes, docs/limits.md), got " +
                                                  sim::format_number(a.every_s));
    } else if (a.kind == arrival_kind::trace && a.trace.data) {
        const double last = a.trace.data->records.back().t_s, scale = a.trace.time_scale;
        if (!(last * scale <= max_trace_time_s))
            out.emplace_back(at + "/time_scale", "makes the last arrival time " + sim::format_number(last) + " x " +
                                                     sim::format_number(scale) + " larger than 1e+300 s, got " +
                                                     sim::format_number(scale));
        else if (a.trace.loop && last > 0 && last * scale < min_clock_step_s)  // 0 has its own message
            out.emplace_back(at + "/time_scale", "makes the loop period (last t_s " + sim::format_number(last) +
                                                     " x time_scale) shorter than " + step +
                                                     " s (the shortest step the clock takes, docs/limits.md), got " +
                                                     sim::format_number(scale));
    } else if (a.kind == arrival_kind::closed_loop) {
        // A user's cycle: think, then a transaction (the quickest class) with its round trips.
        double quickest = std::numeric_limits<double>::infinity();
        for (const auto& c : s.workload.transactions)
            quickest = std::min(quickest, c.query_time.mean() + (c.app_time ? c.app_time->mean() : 0.0));
        if (s.workload.transactions.empty()) quickest = 0;
        const double cycle = a.think_time.mean() + quickest + s.database.network_rtt_s;
        if (cycle > 0 && cycle < min_clock_step_s)  // exactly 0 has its own message
            out.emplace_back(at + "/think_time", "a closed-loop cycle (think time + the quickest transaction + "
                                                 "network_rtt_s) must average >= " + step +
                                                 " s (the shortest step the clock takes, docs/limits.md), got " +
                                                 sim::format_number(cycle) + " s");
    }
    return out;
}

// ---- the generator ------------------------------------------------------------------------

bool arrival_process::handles(const arrival_settings& a) {
    return a.kind == arrival_kind::poisson || a.kind == arrival_kind::mmpp || a.kind == arrival_kind::trace;
}

arrival_process::arrival_process(const arrival_settings& a, sim::random_stream& rng)
    : mode_(mode::constant), rng_(&rng) {
    DBPOOLSIM_ASSERT(handles(a), "arrival_process: burst and closed_loop arrivals are generated by the world");
    switch (a.kind) {
        case arrival_kind::poisson:
            if (a.profile) {
                mode_ = mode::profile;
                for (const auto& g : segments_of(*a.profile)) segs_.push_back({g.t0, g.t1, g.r0, g.r1});
            } else {
                DBPOOLSIM_ASSERT(a.rate_per_s > 0, "poisson rate must be > 0");
                mean_gap_ = 1.0 / a.rate_per_s;
            }
            break;
        case arrival_kind::mmpp: {
            mode_ = mode::mmpp;
            const auto& m = a.mmpp;
            DBPOOLSIM_ASSERT(!m.states.empty() && m.initial_state >= 0 &&
                                 static_cast<std::size_t>(m.initial_state) < m.states.size(),
                             "mmpp needs states and a valid initial_state");
            for (const auto& st : m.states) {
                rates_.push_back(st.rate_per_s);
                holdings_.push_back(st.mean_holding_s);
            }
            DBPOOLSIM_ASSERT(*std::max_element(rates_.begin(), rates_.end()) > 0, "mmpp needs a positive rate");
            state_ = static_cast<std::size_t>(m.initial_state);
            state_end_ = rng_->exponential(holdings_[state_]);
            break;
        }
        case arrival_kind::trace:
            mode_ = mode::trace;
            trace_ = a.trace.data;
            DBPOOLSIM_ASSERT(trace_ && !trace_->records.empty(), "trace arrivals need a loaded, non-empty trace");
            scale_ = a.trace.time_scale;
            loop_ = a.trace.loop;
            period_ = trace_->records.back().t_s * scale_;
            DBPOOLSIM_ASSERT(!loop_ || period_ > 0, "a looping trace needs a positive period");
            break;
        default: break;
    }
}

double arrival_process::next_varying() {
    switch (mode_) {
        case mode::constant: return t_ += rng_->exponential(mean_gap_);
        case mode::profile: return next_profile();
        case mode::mmpp: return next_mmpp();
        case mode::trace: return next_trace();
    }
    return inf;
}

const trace_record* arrival_process::record() const { return current_; }

std::size_t arrival_process::state() const { return state_; }

// Inversion of the cumulative rate: with E ~ Exp(1), the next arrival after u is the t at
// which the integral of the rate over [u, t] reaches E. Within a segment the rate is
// r(u) + s (t - u), so E = r(u) x + s x^2 / 2, solved in the cancellation-free form
// x = 2E / (r(u) + sqrt(r(u)^2 + 2 s E)).
double arrival_process::next_profile() {
    if (std::isinf(t_)) return t_;
    double e = rng_->exponential(1.0);
    double u = t_;
    for (;;) {
        const segment& g = segs_[seg_];
        if (u >= g.t1) {
            ++seg_;
            continue;
        }
        if (std::isinf(g.t1)) return t_ = g.r0 > 0 ? u + e / g.r0 : inf;
        const double s = (g.r1 - g.r0) / (g.t1 - g.t0);
        const double ru = std::max(0.0, g.r0 + s * (u - g.t0));
        const double mass = 0.5 * (ru + g.r1) * (g.t1 - u);
        if (e > mass) {
            e -= mass;
            u = g.t1;
            ++seg_;
            continue;
        }
        const double den = ru + std::sqrt(std::max(0.0, ru * ru + 2 * s * e));
        const double x = den > 0 ? 2 * e / den : 0;
        return t_ = std::min(u + x, g.t1);
    }
}

// The same inversion across states: the rate is constant within a state, and the state's
// end is drawn when it is entered (exact, the holding time being exponential).
double arrival_process::next_mmpp() {
    double e = rng_->exponential(1.0);
    double u = t_;
    for (;;) {
        const double r = rates_[state_];
        const double room = state_end_ - u;
        if (r > 0 && e <= r * room) return t_ = std::min(u + e / r, state_end_);
        e -= r * room;
        u = state_end_;
        state_ = (state_ + 1) % rates_.size();
        state_end_ = u + rng_->exponential(holdings_[state_]);
    }
}

double arrival_process::next_trace() {
    const auto& recs = trace_->records;
    if (next_index_ >= recs.size()) {
        if (!loop_) {
            current_ = nullptr;
            return t_ = inf;
        }
        next_index_ = 0;
        ++round_;
    }
    current_ = &recs[next_index_++];
    return t_ = current_->t_s * scale_ + static_cast<double>(round_) * period_;
}

}  // namespace dbpoolsim::models
