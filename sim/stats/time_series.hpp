// dbpoolsim kernel: fixed-interval time series (named columns of doubles).
#pragma once

#include <string>
#include <vector>

#include "sim/error.hpp"

namespace dbpoolsim::sim::stats {

/// A table sampled at a fixed interval: one row per sample, columns named at construction.
/// Memory is O(samples x columns): horizon / interval rows, never O(events).
class time_series {
public:
    time_series() = default;
    explicit time_series(std::vector<std::string> columns) : columns_(std::move(columns)) {}

    const std::vector<std::string>& columns() const noexcept { return columns_; }
    std::size_t rows() const noexcept { return columns_.empty() ? 0 : data_.size() / columns_.size(); }

    /// Append one row; `row` must have one value per column.
    void append(const std::vector<double>& row) {
        DBPOOLSIM_ASSERT(row.size() == columns_.size(), "time_series row width");
        data_.insert(data_.end(), row.begin(), row.end());
    }
    double at(std::size_t row, std::size_t col) const { return data_[row * columns_.size() + col]; }
    const std::vector<double>& data() const noexcept { return data_; }

private:
    std::vector<std::string> columns_;
    std::vector<double> data_;
};

}  // namespace dbpoolsim::sim::stats
