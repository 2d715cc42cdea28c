#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "bindings.hpp"
#include "models/run.hpp"

namespace dbpoolsim::python {
namespace {

/// A run in a background C++ thread, so Python can show progress and honour Ctrl-C.
class job {
public:
    job(const std::string& scenario_json, int threads, const std::string& base_dir)
        : scenario_(models::scenario_from_json(scenario_json, base_dir)), threads_(threads) {}
    ~job() {
        ctl_.cancel = true;
        if (thread_.joinable()) thread_.join();
    }

    void start() {
        if (thread_.joinable()) throw error("job already started");
        thread_ = std::thread([this] {
            std::string out;
            std::exception_ptr err;
            try {
                out = models::result_to_json(models::run(scenario_, threads_, &ctl_));
            } catch (...) {
                err = std::current_exception();
            }
            std::lock_guard lock(mu_);
            result_ = std::move(out);
            error_ = err;
            done_ = true;
            cv_.notify_all();
        });
    }
    /// Wait up to timeout seconds (GIL released); true when finished.
    bool wait(double timeout_s) {
        py::gil_scoped_release nogil;
        std::unique_lock lock(mu_);
        return cv_.wait_for(lock, std::chrono::duration<double>(timeout_s), [this] { return done_; });
    }
    double progress() const {
        const double total = scenario_.run.horizon_s * scenario_.run.replications;
        return std::min(1.0, ctl_.simulated_s.load() / total);
    }
    void cancel() { ctl_.cancel = true; }
    std::string result() {
        {
            py::gil_scoped_release nogil;
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return done_; });
        }
        if (thread_.joinable()) thread_.join();
        if (error_) std::rethrow_exception(error_);
        return result_;
    }

private:
    models::scenario scenario_;
    int threads_;
    models::run_control ctl_;
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    std::string result_;
    std::exception_ptr error_;
};

}  // namespace

void register_run(py::module_& m) {
    py::register_exception<models::cancelled>(m, "Cancelled", PyExc_KeyboardInterrupt);
    m.def("run_json",
          [](const std::string& scenario_json, int threads, const std::string& base_dir) {
              auto s = models::scenario_from_json(scenario_json, base_dir);
              py::gil_scoped_release nogil;
              return models::result_to_json(models::run(s, threads));
          },
          py::arg("scenario_json"), py::arg("threads") = 0, py::arg("base_dir") = "",
          "Run every replication (GIL released); returns the result as JSON text.");
    py::class_<job>(m, "Job", "A run in a background thread: start(), wait(t), progress(), cancel(), result().")
        .def(py::init<const std::string&, int, const std::string&>(), py::arg("scenario_json"),
             py::arg("threads") = 0, py::arg("base_dir") = "")
        .def("start", &job::start)
        .def("wait", &job::wait, py::arg("timeout_s"))
        .def("progress", &job::progress)
        .def("cancel", &job::cancel)
        .def("result", &job::result);
}

}  // namespace dbpoolsim::python
