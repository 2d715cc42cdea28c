#include <optional>
#include <stdexcept>
#include <tuple>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "models/ctmc.hpp"
#include "models/theory.hpp"
#include "models/usl.hpp"

namespace dbpoolsim::python {

namespace {

namespace mc = models::ctmc;

mc::chain make_chain(int states, const std::vector<std::tuple<int, int, double>>& transitions) {
    mc::chain ch(states);
    for (const auto& [from, to, rate] : transitions) ch.add(from, to, rate);
    return ch;
}

/// The measures M/M/c/K and the finite-source pool share (same field names).
template <class R>
py::dict queue_dict(const R& r) {
    py::dict d;
    d["p"] = r.p;
    d["p_block"] = r.p_block;
    d["p_wait"] = r.p_wait;
    d["mean_wait"] = r.mean_wait;
    d["mean_in_system"] = r.mean_in_system;
    d["throughput"] = r.throughput;
    d["utilization"] = r.utilization;
    return d;
}

py::dict creation_limited_dict(const mc::creation_limited_result& r, bool stationary) {
    py::dict d;
    const std::pair<const char*, double> fields[] = {
        {"mean_connections", r.mean_connections}, {"p_creating", r.p_creating},
        {"mean_in_system", r.mean_in_system},     {"mean_waiting", r.mean_waiting},
        {"p_block", r.p_block}};
    for (const auto& [name, value] : fields) d[name] = value;
    if (stationary) d["mean_wait"] = r.mean_wait;  // Little's law holds only in steady state
    return d;
}

/// The exact CTMC solver (models/ctmc.hpp): a generic chain and the finite pool models.
void register_ctmc(py::module_& t) {
    using transitions = std::vector<std::tuple<int, int, double>>;
    t.def("ctmc_steady_state",
          [](int states, const transitions& tr) { return make_chain(states, tr).steady_state(); },
          py::arg("states"), py::arg("transitions"),
          "Stationary distribution of the CTMC on 0..states-1 with (from, to, rate) transitions.");
    t.def("ctmc_transient",
          [](int states, const transitions& tr, const std::vector<double>& initial, double time) {
              return make_chain(states, tr).transient(initial, time);
          },
          py::arg("states"), py::arg("transitions"), py::arg("initial"), py::arg("time"),
          "Distribution at `time` from `initial`, by uniformisation.");
    t.def("ctmc_mmck",
          [](double lam, double mu, int c, int k) {
              return queue_dict(mc::mmck(lam, mu, c, k));
          },
          py::arg("arrival_rate"), py::arg("service_rate"), py::arg("servers"), py::arg("capacity"),
          "M/M/c/K: at most `capacity` requests in the system (capacity - servers waiting).");
    t.def("ctmc_finite_source",
          [](int users, double nu, double mu, int c, bool queue) {
              return queue_dict(mc::finite_source(users, nu, mu, c, queue));
          },
          py::arg("users"), py::arg("think_rate"), py::arg("service_rate"), py::arg("servers"),
          py::arg("queue") = true,
          "Closed-loop users with exponential think time on `servers` connections (queue=False: "
          "the Engset loss system).");
    t.def("ctmc_erlang_a",
          [](double lam, double mu, int c, double theta) {
              const auto r = mc::erlang_a(lam, mu, c, theta);
              py::dict d;
              d["p_wait"] = r.p_wait;
              d["p_abandon"] = r.p_abandon;
              d["mean_wait_all"] = r.mean_wait_all;
              d["truncated_at"] = r.truncated_at;
              return d;
          },
          py::arg("arrival_rate"), py::arg("service_rate"), py::arg("servers"),
          py::arg("abandon_rate"), "Erlang A (exponential patience) on the truncated chain.");
    t.def("ctmc_creation_limited",
          [](double lam, double mu, double gamma, int max_conn, int capacity, double close_rate,
             std::optional<std::vector<double>> times) -> py::object {
              const mc::creation_limited_model m{lam, mu, gamma, max_conn, capacity, close_rate};
              if (!times) {
                  const auto p = mc::creation_limited_chain(m).steady_state();
                  return creation_limited_dict(mc::creation_limited_measures(m, p), true);
              }
              py::list out;
              for (const auto& r : mc::creation_limited_transient(m, *times))
                  out.append(creation_limited_dict(r, false));
              return out;
          },
          py::arg("arrival_rate"), py::arg("service_rate"), py::arg("create_rate"),
          py::arg("max_connections"), py::arg("capacity"), py::arg("idle_close_rate") = 0.0,
          py::arg("times") = py::none(),
          "A pool opening connections one login at a time (rate create_rate) while requests "
          "wait: stationary measures, or a list of measures at `times` from a cold start.");
}

}  // namespace

void register_theory(py::module_& m) {
    namespace th = models::theory;
    auto t = m.def_submodule("theory", "Exact queueing results (oracles and instant estimates).");
    py::register_exception<std::invalid_argument>(t, "TheoryError", PyExc_ValueError);
    auto as_dict = [](auto&&... kv) {
        py::dict d;
        ((d[kv.first] = kv.second), ...);
        return d;
    };
    t.def("erlang_b", &th::erlang_b, py::arg("servers"), py::arg("offered_load"));
    t.def("erlang_c", &th::erlang_c, py::arg("servers"), py::arg("offered_load"));
    t.def("mmc",
          [as_dict](double lam, double mu, int c) {
              auto r = th::mmc(lam, mu, c);
              return as_dict(std::pair{"p_wait", r.p_wait}, std::pair{"mean_wait", r.mean_wait},
                             std::pair{"mean_queue_length", r.mean_queue_length},
                             std::pair{"utilization", r.utilization});
          },
          py::arg("arrival_rate"), py::arg("service_rate"), py::arg("servers"));
    t.def("mmc_deterministic_patience",
          [as_dict](double lam, double mu, int c, double tau) {
              auto r = th::mmc_deterministic_patience(lam, mu, c, tau);
              return as_dict(std::pair{"p_wait", r.p_wait}, std::pair{"p_timeout", r.p_timeout},
                             std::pair{"mean_wait_all", r.mean_wait_all},
                             std::pair{"mean_wait_served", r.mean_wait_served},
                             std::pair{"throughput", r.throughput},
                             std::pair{"utilization", r.utilization});
          },
          py::arg("arrival_rate"), py::arg("service_rate"), py::arg("servers"), py::arg("patience"));
    t.def("erlang_a",
          [as_dict](double lam, double mu, int c, double theta) {
              auto r = th::erlang_a(lam, mu, c, theta);
              return as_dict(std::pair{"p_wait", r.p_wait}, std::pair{"p_abandon", r.p_abandon},
                             std::pair{"mean_wait_all", r.mean_wait_all});
          },
          py::arg("arrival_rate"), py::arg("service_rate"), py::arg("servers"), py::arg("abandon_rate"));
    t.def("mg1_mean_wait", &th::mg1_mean_wait, py::arg("arrival_rate"), py::arg("service_mean"),
          py::arg("service_variance"));
    t.def("erlang_c_servers_for_wait", &th::erlang_c_servers_for_wait, py::arg("arrival_rate"),
          py::arg("service_rate"), py::arg("max_mean_wait"));
    t.def("square_root_staffing", &th::square_root_staffing, py::arg("offered_load"), py::arg("beta"));
    // Universal Scalability Law (Gunther); bad input raises dbpoolsim.ScenarioError.
    t.def("fit_usl",
          [as_dict](const std::vector<double>& n, const std::vector<double>& x) {
              const auto f = models::usl::fit_usl(n, x);
              return as_dict(std::pair{"lambda", f.params.lambda},
                             std::pair{"sigma", f.params.sigma}, std::pair{"kappa", f.params.kappa},
                             std::pair{"r_squared", f.r_squared}, std::pair{"rmse", f.rmse},
                             std::pair{"peak_concurrency", f.params.peak_concurrency()},
                             std::pair{"iterations", f.iterations});
          },
          py::arg("n"), py::arg("x"),
          "Least-squares USL fit of throughput x at concurrency n: dict with lambda, sigma, "
          "kappa, r_squared, rmse, peak_concurrency (inf when kappa == 0), iterations.");
    t.def("usl_throughput",
          [](double lambda, double sigma, double kappa, double n) {
              return models::usl::usl_throughput(models::usl::usl_params{lambda, sigma, kappa}, n);
          },
          py::arg("lambda_"), py::arg("sigma"), py::arg("kappa"), py::arg("n"),
          "USL throughput X(n) = lambda n / (1 + sigma (n - 1) + kappa n (n - 1)).");
    register_ctmc(t);
}

}  // namespace dbpoolsim::python
