#include <stdexcept>
#include <vector>

#include "bindings.hpp"
#include "models/theory.hpp"
#include "models/usl.hpp"

namespace dbpoolsim::python {

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
}

}  // namespace dbpoolsim::python
