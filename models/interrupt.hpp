// dbpoolsim models: Ctrl-C during long work outside the simulation (reading and validating a
// scenario, loading a trace file, building request columns).
//
// Such work runs on the caller's thread; from Python it holds the GIL, so no Python signal
// handler can run until it returns (a 59 MB scenario takes tens of seconds to read). The
// caller installs a check for the current thread with `interrupt_scope`; the long loops call
// `poll_interrupt()` once per item (JSON value, trace row, sample, record), and every
// `interrupt_poll_every` calls it runs the check, which throws to abandon the work (the
// Python bindings call PyErr_CheckSignals and throw the KeyboardInterrupt it raised).
// Without a scope a poll is a thread-local load and a branch. The simulation never polls:
// a run is cancelled through run_control (models/run.hpp).
#pragma once

#include <cstdint>

namespace dbpoolsim::models {

/// The check: returns normally to go on, throws to abandon the work.
using interrupt_check = void (*)();

/// Items between two checks: a JSON value or trace row costs about 1 to 10 microseconds to
/// read, so a check every 4096 runs every few milliseconds at most.
inline constexpr std::uint32_t interrupt_poll_every = 4096;

namespace detail {
inline thread_local interrupt_check current_interrupt_check = nullptr;
inline thread_local std::uint32_t interrupt_countdown = interrupt_poll_every;
}  // namespace detail

/// Installs `check` for this thread while it lives (scopes nest; the inner one wins).
class interrupt_scope {
public:
    explicit interrupt_scope(interrupt_check check) : saved_(detail::current_interrupt_check) {
        detail::current_interrupt_check = check;
    }
    ~interrupt_scope() { detail::current_interrupt_check = saved_; }
    interrupt_scope(const interrupt_scope&) = delete;
    interrupt_scope& operator=(const interrupt_scope&) = delete;

private:
    interrupt_check saved_;
};

/// One item of long work done: every interrupt_poll_every calls, runs this thread's check.
inline void poll_interrupt() {
    if (detail::current_interrupt_check == nullptr) return;
    if (--detail::interrupt_countdown != 0) return;
    detail::interrupt_countdown = interrupt_poll_every;
    detail::current_interrupt_check();
}

/// Runs this thread's check now (between steps whose length is not counted in items).
inline void check_interrupt() {
    if (detail::current_interrupt_check != nullptr) detail::current_interrupt_check();
}

}  // namespace dbpoolsim::models
