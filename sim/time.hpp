// dbpoolsim kernel: simulated time.
#pragma once

#include <limits>

namespace dbpoolsim::sim {

/// Simulated time in seconds since the start of the run.
using sim_time = double;

inline constexpr sim_time infinity = std::numeric_limits<sim_time>::infinity();

}  // namespace dbpoolsim::sim
