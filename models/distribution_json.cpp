// Distributions in JSON: {"kind": ..., params} in, the resolved object out (docs/scenario.md,
// "Distributions"). Used by every section that holds a distribution.
#include <cmath>

#include "models/interrupt.hpp"
#include "models/json_reader.hpp"
#include "sim/error.hpp"
#include "sim/format.hpp"

namespace dbpoolsim::models::detail {

namespace {
const std::vector<std::string> dist_kinds = {"constant", "exponential", "lognormal", "gamma",
                                             "weibull",  "pareto",      "uniform",   "empirical",
                                             "mixture",  "sequence"};

/// An array of numbers at `key` (each a number, else a problem naming its index).
bool read_numbers(object_reader& r, const char* key, const std::string& kind, std::vector<double>& xs,
                  problems& out) {
    const json* s = r.raw(key);
    if (!s) {
        out.add(r.at(key), "missing (required for " + kind + ")");
        return false;
    }
    if (!s->is_array()) {
        out.add(r.at(key), "must be an array of numbers, got " + show(*s));
        return false;
    }
    bool ok = true;
    for (std::size_t i = 0; i < s->size(); ++i) {
        poll_interrupt();  // Ctrl-C (models/interrupt.hpp)
        if (!(*s)[i].is_number()) {
            out.add(r.at(key) + "/" + std::to_string(i), "must be a number, got " + show((*s)[i]));
            ok = false;
        } else {
            xs.push_back((*s)[i].get<double>());
        }
    }
    return ok;
}

}  // namespace

/// Parse a distribution object; returns nullopt (with problems recorded) if invalid.
std::optional<distribution> parse_distribution_at(const json& j, const std::string& path, problems& out) {
    object_reader r(j, path, out);
    if (!r.ok()) return std::nullopt;
    std::string kind;
    if (!r.has("kind")) {
        out.add(r.at("kind"), "missing (one of constant, exponential, lognormal, gamma, weibull, "
                              "pareto, uniform, empirical, mixture, sequence)");
        r.know({"kind"});
        r.finish();
        return std::nullopt;
    }
    const std::size_t before = out.list.size();
    r.string("kind", kind, dist_kinds);
    if (out.list.size() != before) return std::nullopt;

    const double nan = std::nan("");
    auto num = [&](const char* key, bool required) {
        double v = nan;
        if (!r.has(key)) {
            if (required) out.add(r.at(key), "missing (required for " + kind + ")");
            r.know({key});
            return v;
        }
        r.number(key, v, -1e300);
        return v;
    };
    std::optional<distribution> d;
    const std::size_t mark = out.list.size();
    try {
        if (kind == "constant") {
            const double v = num("value_s", true);
            if (out.list.size() == mark) d = distribution::constant(v);
        } else if (kind == "exponential") {
            const double m = num("mean_s", true);
            if (out.list.size() == mark) d = distribution::exponential(m);
        } else if (kind == "lognormal") {
            const bool by_median = r.has("median_s") || r.has("p99_s");
            const bool by_mean = r.has("mean_s") || r.has("sd_s");
            if (by_median && by_mean) {
                out.add(path, "lognormal takes either mean_s and sd_s, or median_s and p99_s, not both");
                r.raw("mean_s"), r.raw("sd_s"), r.raw("median_s"), r.raw("p99_s");
            } else if (by_median) {
                const double md = num("median_s", true), p99 = num("p99_s", true);
                if (out.list.size() == mark) d = distribution::lognormal_median_p99(md, p99);
            } else {
                r.know({"median_s", "p99_s"});
                const double m = num("mean_s", true), sd = num("sd_s", true);
                if (out.list.size() == mark) d = distribution::lognormal_mean_sd(m, sd);
            }
        } else if (kind == "gamma") {
            const double k = num("shape", true);
            const bool by_mean = r.has("mean_s");
            double scale = nan;
            if (by_mean) {
                const double m = num("mean_s", true);
                r.know({"scale_s"});
                if (out.list.size() == mark) {
                    if (!(k > 0)) out.add(r.at("shape"), "must be > 0, got " + sim::format_number(k));
                    else scale = m / k;
                }
            } else {
                r.know({"mean_s"});
                scale = num("scale_s", true);
            }
            if (out.list.size() == mark) d = distribution::gamma(k, scale);
        } else if (kind == "weibull" || kind == "pareto") {
            const double k = num("shape", true), scale = num("scale_s", true);
            if (out.list.size() == mark)
                d = kind == "weibull" ? distribution::weibull(k, scale) : distribution::pareto(k, scale);
        } else if (kind == "uniform") {
            const double lo = num("low_s", true), hi = num("high_s", true);
            if (out.list.size() == mark) d = distribution::uniform(lo, hi);
        } else if (kind == "empirical") {
            std::vector<double> xs;
            if (read_numbers(r, "samples_s", kind, xs, out) && out.list.size() == mark)
                d = distribution::empirical(std::move(xs));
        } else if (kind == "sequence") {
            std::vector<double> xs;
            const bool got = read_numbers(r, "values_s", kind, xs, out);
            std::optional<distribution> then;
            if (const json* t = r.raw("then")) then = parse_distribution_at(*t, r.at("then"), out);
            if (got && out.list.size() == mark) d = distribution::sequence(std::move(xs), then ? &*then : nullptr);
        } else if (kind == "mixture") {
            const json* s = r.raw("components");
            if (!s) {
                out.add(r.at("components"), "missing (required for mixture)");
            } else if (!s->is_array()) {
                out.add(r.at("components"), "must be an array, got " + show(*s));
            } else {
                std::vector<std::pair<double, distribution>> comps;
                for (std::size_t i = 0; i < s->size(); ++i) {
                    const std::string cp = r.at("components") + "/" + std::to_string(i);
                    object_reader c((*s)[i], cp, out);
                    if (!c.ok()) continue;
                    double w = 1;
                    c.number("weight", w, 0, false);
                    const json* dj = c.raw("dist");
                    if (!dj) out.add(c.at("dist"), "missing (the component's distribution)");
                    c.finish();
                    if (dj) {
                        auto sub = parse_distribution_at(*dj, c.at("dist"), out);
                        if (sub) comps.emplace_back(w, *sub);
                    }
                }
                if (out.list.size() == mark) d = distribution::mixture(std::move(comps));
            }
        }
    } catch (const error& e) {
        // Factory messages are "<param>: <rule>"; the param becomes part of the path.
        const std::string msg = e.what();
        const auto colon = msg.find(": ");
        if (colon != std::string::npos) out.add(path + "/" + msg.substr(0, colon), msg.substr(colon + 2));
        else out.add(path, msg);
        d.reset();
    }
    r.finish();
    return out.list.size() == mark ? d : std::nullopt;
}

json distribution_to_json(const distribution& d) {
    json o;
    o["kind"] = d.kind_name();
    if (d.kind() == dist_kind::empirical) {
        o["samples_s"] = d.samples();
    } else if (d.kind() == dist_kind::sequence) {
        o["values_s"] = d.samples();
        if (d.then()) o["then"] = distribution_to_json(*d.then());
    } else if (d.kind() == dist_kind::mixture) {
        json arr = json::array();
        for (const auto& [w, c] : d.components()) arr.push_back(json{{"weight", w}, {"dist", distribution_to_json(c)}});
        o["components"] = arr;
    } else {
        for (const auto& [k, v] : d.params()) o[k] = v;
    }
    return o;
}

}  // namespace dbpoolsim::models::detail
