#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "models/run.hpp"
#include "request_columns.hpp"

namespace dbpoolsim::python {
namespace {

class job;

/// Jobs whose thread may still run: at interpreter exit (atexit, registered in register_run)
/// each is cancelled and joined, so no run thread outlives the interpreter even when a job
/// object is still referenced then (a traceback kept after a second Ctrl-C).
std::mutex live_jobs_mu;
std::set<job*> live_jobs;

/// A run in a background C++ thread, so Python can show progress and honour Ctrl-C; after
/// cancel(), result() is the partial result (marked "interrupted"). The thread also builds
/// the result (models::result_to_json_parts), honouring cancel() there too.
class job {
public:
    job(const std::string& scenario_json, int threads, const std::string& base_dir)
        : scenario_(read_scenario(scenario_json, base_dir)), threads_(threads) {
        ctl_.keep_partial = true;  // cancel() ends the run with what was simulated ("interrupted")
        std::lock_guard lock(live_jobs_mu);
        live_jobs.insert(this);
    }
    ~job() {
        close();
        std::lock_guard lock(live_jobs_mu);
        live_jobs.erase(this);
    }

    void start() {
        if (thread_.joinable()) throw error("job already started");
        thread_ = std::thread([this] {
            models::result_json_parts out;
            std::vector<std::vector<models::request_record>> records;
            std::exception_ptr err;
            try {
                auto r = models::run(scenario_, threads_, &ctl_);
                // The scenario indented as scenario.resolved.json is written (dbpoolsim/result.py).
                out = models::result_to_json_parts(r, &ctl_, 2);
                for (auto& rep : r.replications) records.push_back(std::move(rep.requests));
            } catch (...) {
                err = std::current_exception();
            }
            std::lock_guard lock(mu_);
            result_ = std::move(out);
            records_ = std::move(records);
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
    /// Cancel and join the thread (GIL released); the thread stops within milliseconds.
    void close() {
        ctl_.cancel = true;
        if (!thread_.joinable()) return;
        if (PyGILState_Check()) {
            py::gil_scoped_release nogil;
            thread_.join();
        } else {
            thread_.join();
        }
    }
    /// (head, series, scenario, scenario_brief): models::result_json_parts. Waits for the
    /// thread in slices of wait_slice_s with the GIL released and runs Python's signal
    /// handlers between them, so Ctrl-C here (a second one, after cancel()) raises
    /// KeyboardInterrupt at once; the run is then cancelled and its thread joined later
    /// (close(), the destructor or interpreter exit).
    py::tuple result() {
        for (;;) {
            {
                py::gil_scoped_release nogil;
                std::unique_lock lock(mu_);
                if (cv_.wait_for(lock, std::chrono::duration<double>(wait_slice_s), [this] { return done_; })) break;
            }
            if (PyErr_CheckSignals() != 0) {
                ctl_.cancel = true;
                throw py::error_already_set();
            }
        }
        if (thread_.joinable()) {
            py::gil_scoped_release nogil;
            thread_.join();
        }
        if (error_) std::rethrow_exception(error_);
        return py::make_tuple(result_.head, result_.series, result_.scenario, result_.scenario_brief);
    }
    /// The per-request records (run.record_requests) as columns; call after result().
    py::dict requests() {
        std::lock_guard lock(mu_);
        models::interrupt_scope ctrl_c(&python_interrupt_check);
        return request_columns(records_);
    }

private:
    static constexpr double wait_slice_s = 0.05;

    models::scenario scenario_;
    int threads_;
    models::run_control ctl_;
    std::thread thread_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
    models::result_json_parts result_;
    std::vector<std::vector<models::request_record>> records_;
    std::exception_ptr error_;
};

/// atexit: cancel every live job, then join their threads.
void close_live_jobs() {
    std::vector<job*> jobs;
    {
        std::lock_guard lock(live_jobs_mu);
        jobs.assign(live_jobs.begin(), live_jobs.end());
    }
    for (job* j : jobs) j->cancel();
    for (job* j : jobs) j->close();
}

/// Units of (point, replication) over many scenarios, scheduled across threads so both
/// cores stay busy even when a point has fewer replications than there are threads. Each
/// unit is `models::run_replication`, so its numbers are those of the same replication in
/// a full `run` (streams depend only on seed, replication and stream name). Finished units
/// are handed to Python as they complete (take()), so a sweep can save every finished point.
class batch {
public:
    using unit = std::pair<int, int>;  // (scenario index, replication)
    batch(const std::vector<std::string>& scenario_json, std::vector<unit> units, int threads,
          const std::string& base_dir)
        : units_(std::move(units)) {
        scenarios_.reserve(scenario_json.size());
        for (const auto& text : scenario_json)
            scenarios_.push_back(read_scenario(text, base_dir));
        for (const auto& [point, rep] : units_) {
            if (point < 0 || point >= static_cast<int>(scenarios_.size()) || rep < 0)
                throw error("batch unit (" + std::to_string(point) + ", " + std::to_string(rep) +
                            ") is out of range");
            total_s_ += scenarios_[static_cast<std::size_t>(point)].run.horizon_s;
        }
        if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
        threads_ = std::max(1, std::min(threads, static_cast<int>(units_.size())));
    }
    ~batch() {
        ctl_.cancel = true;
        for (auto& t : workers_)
            if (t.joinable()) t.join();
    }

    void start() {
        if (!workers_.empty()) throw error("batch already started");
        running_ = threads_;
        for (int i = 0; i < threads_; ++i) workers_.emplace_back([this] { work(); });
    }
    /// Wait up to timeout seconds (GIL released) for a unit to finish; true when all are done.
    bool wait(double timeout_s) {
        py::gil_scoped_release nogil;
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::chrono::duration<double>(timeout_s),
                     [this] { return running_ == 0 || !finished_.empty(); });
        return running_ == 0;
    }
    /// Units finished since the last call: (unit index, {metric: value}), the metrics with
    /// "stopped_memory" (1: the memory budget stopped the replication early, else 0).
    py::list take() {
        std::vector<std::pair<std::size_t, models::replication_result>> done;
        {
            std::lock_guard lock(mu_);
            done.swap(finished_);
        }
        py::list out;
        for (const auto& [i, r] : done) {
            py::dict metrics;
            for (const auto& [k, v] : r.metrics) metrics[py::str(k)] = v;
            // 1 when run.max_memory_mb stopped it: its metrics cover only what was simulated
            // (dbpoolsim.sweep flags the point and warns).
            metrics["stopped_memory"] = r.stopped == "memory" ? 1.0 : 0.0;
            out.append(py::make_tuple(i, metrics));
        }
        return out;
    }
    double progress() const { return total_s_ > 0 ? std::min(1.0, ctl_.simulated_s.load() / total_s_) : 1.0; }
    void cancel() { ctl_.cancel = true; }
    /// Join the threads; rethrow the first error (or models::cancelled after cancel()).
    void finish() {
        {
            py::gil_scoped_release nogil;
            for (auto& t : workers_)
                if (t.joinable()) t.join();
        }
        if (error_) std::rethrow_exception(error_);
        if (completed_ < units_.size()) throw models::cancelled();
    }

private:
    void work() {
        for (;;) {
            const std::size_t i = next_.fetch_add(1);
            if (i >= units_.size() || ctl_.cancel.load()) break;
            try {
                const auto [point, rep] = units_[i];
                auto r = models::run_replication(scenarios_[static_cast<std::size_t>(point)], rep, &ctl_);
                r.series = {};  // a sweep keeps the metrics only
                std::lock_guard lock(mu_);
                finished_.emplace_back(i, std::move(r));
                ++completed_;
                cv_.notify_all();
            } catch (...) {
                std::lock_guard lock(mu_);
                if (!error_) error_ = std::current_exception();
                ctl_.cancel = true;
                break;
            }
        }
        std::lock_guard lock(mu_);
        --running_;
        cv_.notify_all();
    }

    std::vector<models::scenario> scenarios_;
    std::vector<unit> units_;
    int threads_ = 1;
    double total_s_ = 0;
    models::run_control ctl_;
    std::atomic<std::size_t> next_{0};
    std::vector<std::thread> workers_;
    std::mutex mu_;
    std::condition_variable cv_;
    int running_ = 0;
    std::vector<std::pair<std::size_t, models::replication_result>> finished_;
    std::size_t completed_ = 0;
    std::exception_ptr error_;
};

}  // namespace

void register_run(py::module_& m) {
    py::register_exception<models::cancelled>(m, "Cancelled", PyExc_KeyboardInterrupt);
    m.def("run_json",
          [](const std::string& scenario_json, int threads, const std::string& base_dir) {
              auto s = read_scenario(scenario_json, base_dir);
              py::gil_scoped_release nogil;
              return models::result_to_json(models::run(s, threads));
          },
          py::arg("scenario_json"), py::arg("threads") = 0, py::arg("base_dir") = "",
          "Run every replication (GIL released); returns the result as JSON text.");
    py::class_<job>(m, "Job", "A run in a background thread: start(), wait(t), progress(), cancel(), close(), "
                               "result() -> (head, series, scenario, scenario_brief) JSON texts "
                               "(after cancel(): what was simulated, marked interrupted).")
        .def(py::init<const std::string&, int, const std::string&>(), py::arg("scenario_json"),
             py::arg("threads") = 0, py::arg("base_dir") = "")
        .def("start", &job::start)
        .def("wait", &job::wait, py::arg("timeout_s"))
        .def("progress", &job::progress)
        .def("cancel", &job::cancel)
        .def("close", &job::close)
        .def("result", &job::result)
        .def("requests", &job::requests);
    py::module_::import("atexit").attr("register")(py::cpp_function(&close_live_jobs));
    py::class_<batch>(m, "Batch",
                      "(point, replication) units over several scenarios, across threads: "
                      "start(), wait(t), take(), progress(), cancel(), finish().")
        .def(py::init<const std::vector<std::string>&, std::vector<batch::unit>, int, const std::string&>(),
             py::arg("scenarios_json"), py::arg("units"), py::arg("threads") = 0, py::arg("base_dir") = "")
        .def("start", &batch::start)
        .def("wait", &batch::wait, py::arg("timeout_s"))
        .def("take", &batch::take)
        .def("progress", &batch::progress)
        .def("cancel", &batch::cancel)
        .def("finish", &batch::finish);
}

}  // namespace dbpoolsim::python
