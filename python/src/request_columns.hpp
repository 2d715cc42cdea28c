// dbpoolsim Python bindings: per-request records (run.record_requests) as NumPy columns.
#pragma once

#include <pybind11/numpy.h>

#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "models/interrupt.hpp"
#include "models/metrics.hpp"
#include "models/run.hpp"

namespace dbpoolsim::python {

/// One array per field over every replication's records (replication order, then the order
/// they ended), plus "outcome_names": outcome code i -> name (255 = "in_flight").
inline py::dict request_columns(const std::vector<std::vector<models::request_record>>& reps) {
    std::size_t n = 0;
    for (const auto& r : reps) n += r.size();
    const auto size = static_cast<py::ssize_t>(n);
    py::array_t<std::int32_t> replication(size), cls(size), instance(size), pool(size), attempts(size);
    py::array_t<std::int64_t> request(size), connection(size);
    py::array_t<double> arrival(size), wait(size), latency(size);
    py::array_t<std::uint8_t> outcome(size);
    auto rep_ = replication.mutable_unchecked<1>();
    auto cls_ = cls.mutable_unchecked<1>();
    auto inst_ = instance.mutable_unchecked<1>();
    auto pool_ = pool.mutable_unchecked<1>();
    auto att_ = attempts.mutable_unchecked<1>();
    auto req_ = request.mutable_unchecked<1>();
    auto conn_ = connection.mutable_unchecked<1>();
    auto arr_ = arrival.mutable_unchecked<1>();
    auto wait_ = wait.mutable_unchecked<1>();
    auto lat_ = latency.mutable_unchecked<1>();
    auto out_ = outcome.mutable_unchecked<1>();
    py::ssize_t i = 0;
    for (std::size_t k = 0; k < reps.size(); ++k) {
        for (const auto& x : reps[k]) {
            models::poll_interrupt();  // Ctrl-C (models/interrupt.hpp; the caller installs the check)
            rep_(i) = static_cast<std::int32_t>(k);
            cls_(i) = x.cls;
            inst_(i) = x.instance;
            pool_(i) = x.pool;
            att_(i) = x.attempts;
            req_(i) = static_cast<std::int64_t>(x.request);
            conn_(i) = x.connection == std::numeric_limits<std::uint32_t>::max() ? -1 : static_cast<std::int64_t>(x.connection);
            arr_(i) = x.arrival_s;
            wait_(i) = x.wait_s;
            lat_(i) = x.latency_s;
            out_(i) = x.outcome;
            ++i;
        }
    }
    py::list names;
    names.append("completed");
    for (const char* reason : models::fail_reason_names) names.append(reason);
    py::dict d;
    const std::pair<const char*, py::object> columns[] = {
        {"replication", replication}, {"request", request}, {"arrival_s", arrival}, {"class", cls},
        {"instance", instance},       {"pool", pool},       {"wait_s", wait},       {"outcome", outcome},
        {"connection", connection},   {"latency_s", latency}, {"attempts", attempts}, {"outcome_names", names}};
    for (const auto& [name, column] : columns) d[name] = column;
    return d;
}

}  // namespace dbpoolsim::python
