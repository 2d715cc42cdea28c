// libFuzzer target: the trace reader (the CSV of trace-replay arrivals), on any bytes.
//
// The bytes are written to a file and loaded as a trace with two transaction classes.
// A user error (dbpoolsim::error) is the expected answer to a bad file; anything else is a
// finding. A trace that loads must satisfy what the generator relies on: at least one
// record, finite non-decreasing t_s >= 0, class indices in range, durations NaN (not given) or finite
// and >= 0 (models/arrivals.hpp, docs/scenario.md: a zero duration is valid).
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "models/arrivals.hpp"
#include "sim/error.hpp"

namespace {
const std::string& trace_path() {
    static const std::string path = "/tmp/dbpoolsim-fuzz-trace-" + std::to_string(::getpid()) + ".csv";
    static const bool cleanup = [] {  // the scratch file goes when libFuzzer exits normally
        return std::atexit([] { std::remove(trace_path().c_str()); }) == 0;
    }();
    (void)cleanup;
    return path;
}
void check(bool ok, const char* what) {
    if (!ok) {
        std::fprintf(stderr, "loaded trace breaks an invariant: %s\n", what);
        std::abort();
    }
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dbpoolsim;
    {
        std::ofstream out(trace_path(), std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    static const std::vector<std::string> classes{"read", "write"};
    std::shared_ptr<const models::arrival_trace> t;
    try {
        t = models::load_arrival_trace(trace_path(), classes);
    } catch (const error&) {
        return 0;
    }
    check(t && !t->records.empty(), "at least one record");
    double prev = 0;
    for (const auto& r : t->records) {
        check(std::isfinite(r.t_s) && r.t_s >= prev, "t_s finite and non-decreasing from 0");
        prev = r.t_s;
        check(r.cls >= -1 && r.cls < static_cast<std::int32_t>(classes.size()), "class index in range");
        check(std::isnan(r.duration_s) || (std::isfinite(r.duration_s) && r.duration_s >= 0), "duration NaN or >= 0");
    }
    return 0;
}
