// dbpoolsim kernel: the two kinds of failure.
//
// `error` is a user or model error (bad scenario, bad parameter): it carries a message meant
// for the user. `internal_error` is a broken invariant: a bug in dbpoolsim. DBPOOLSIM_ASSERT
// checks invariants in every build type (the checks are cheap and a silently wrong simulation
// is worse than a crash with a message).
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

namespace dbpoolsim {

/// A user/model error: invalid input, impossible configuration.
struct error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

/// Several user errors found at once (e.g. every problem in a scenario file).
struct config_error : error {
    explicit config_error(std::vector<std::string> problems)
        : error(join(problems)), problems_(std::move(problems)) {}
    const std::vector<std::string>& problems() const noexcept { return problems_; }

private:
    static std::string join(const std::vector<std::string>& p) {
        std::string out;
        for (const auto& s : p) {
            if (!out.empty()) out += '\n';
            out += s;
        }
        return out;
    }
    std::vector<std::string> problems_;
};

/// A bug in dbpoolsim: an invariant that should never be false.
struct internal_error : std::logic_error {
    using std::logic_error::logic_error;
};

namespace detail {
/// DBPOOLSIM_ASSERT's failure path, out of line and cold: an assert costs its test and a
/// branch where it sits, so it does not stop small hot functions from being inlined.
[[noreturn, gnu::cold, gnu::noinline]] inline void assert_failed(const char* where, const std::string& msg) {
    throw internal_error(where + msg);
}
}  // namespace detail

}  // namespace dbpoolsim

#define DBPOOLSIM_STRINGIFY2(x) #x
#define DBPOOLSIM_STRINGIFY(x) DBPOOLSIM_STRINGIFY2(x)
#define DBPOOLSIM_ASSERT(cond, msg)                                                       \
    do {                                                                                 \
        if (!(cond)) [[unlikely]]                                                        \
            ::dbpoolsim::detail::assert_failed(__FILE__ ":" DBPOOLSIM_STRINGIFY(__LINE__)   \
                                               ": invariant failed: " #cond ": ", (msg)); \
    } while (false)
