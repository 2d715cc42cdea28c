// libFuzzer target: the scenario reader (scenario_from_json), on any bytes.
//
// A user error (dbpoolsim::error, i.e. ScenarioError in Python) is the expected answer to bad
// input; anything else escaping is a finding: another exception type (libFuzzer reports the
// abort of an uncaught exception), a sanitizer report, a hang or unbounded memory. A scenario
// that validates must also resolve to itself (docs/scenario.md: resolving is idempotent).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "models/scenario.hpp"
#include "sim/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace dbpoolsim;
    const std::string text(reinterpret_cast<const char*>(data), size);
    std::string resolved;
    try {
        resolved = models::scenario_to_json(models::scenario_from_json(text, "/nonexistent-fuzz-dir"));
    } catch (const error&) {
        return 0;
    }
    std::string again;
    try {
        again = models::scenario_to_json(models::scenario_from_json(resolved, "/nonexistent-fuzz-dir"));
    } catch (const error& e) {
        std::fprintf(stderr, "the resolved scenario does not validate: %s\n%s\n", e.what(), resolved.c_str());
        std::abort();
    }
    if (again != resolved) {
        std::fprintf(stderr, "resolving is not idempotent:\n%s\n----\n%s\n", resolved.c_str(), again.c_str());
        std::abort();
    }
    return 0;
}
