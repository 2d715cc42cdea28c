// plain_loop.cpp - performance reference for the dbpoolsim "standard case".
//
// M/M/c queue with deterministic patience (a fixed connection pool): Poisson
// arrivals, c connections, exponential holding time, FIFO waiters, and a
// waiter that has not got a connection after TIMEOUT_S leaves with a timeout.
// Arrivals are generated in [0, HORIZON_S); the queue is then drained so that
// every arrival ends either served or timed out.
//
// Build: g++ -std=c++20 -O2 -o plain_loop plain_loop.cpp
// Usage: plain_loop RATE MEAN_S CONNS TIMEOUT_S HORIZON_S SEED   (one JSON line)
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <queue>
#include <random>
#include <vector>

namespace {

enum class Ev : std::uint8_t { Arrival, Release, Timeout };
enum class State : std::uint8_t { Waiting, Served, TimedOut };

struct Event {
  double t;
  std::uint64_t seq;  // FIFO tie-break for equal times
  Ev type;
  std::uint64_t id;   // request id (used by Timeout)
};

struct Later {
  bool operator()(const Event& a, const Event& b) const {
    return a.t > b.t || (a.t == b.t && a.seq > b.seq);
  }
};

struct Waiter {
  std::uint64_t id;
  double since;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: %s RATE MEAN_S CONNS TIMEOUT_S HORIZON_S SEED\n", argv[0]);
    return 2;
  }
  const double rate = std::strtod(argv[1], nullptr);
  const double mean = std::strtod(argv[2], nullptr);
  const long conns = std::strtol(argv[3], nullptr, 10);
  const double timeout = std::strtod(argv[4], nullptr);
  const double horizon = std::strtod(argv[5], nullptr);
  const std::uint64_t seed = std::strtoull(argv[6], nullptr, 10);

  std::mt19937_64 rng(seed);
  auto expo = [&rng](double m) {  // inverse transform, u uniform in [0, 1)
    const double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    return -m * std::log1p(-u);
  };

  const auto t0 = std::chrono::steady_clock::now();
  std::priority_queue<Event, std::vector<Event>, Later> heap;
  std::uint64_t seq = 0;
  auto schedule = [&](double t, Ev type, std::uint64_t id) { heap.push({t, seq++, type, id}); };

  std::vector<State> state;  // per request id
  state.reserve(static_cast<std::size_t>(rate * horizon * 1.05) + 64);
  std::deque<Waiter> waiters;  // FIFO; timed-out entries are skipped lazily
  long idle = conns;
  std::uint64_t arrivals = 0, served = 0, timeouts = 0, events = 0;
  double wait_sum = 0.0;

  schedule(expo(1.0 / rate), Ev::Arrival, 0);
  while (!heap.empty()) {
    const Event e = heap.top();
    heap.pop();
    ++events;
    switch (e.type) {
      case Ev::Arrival: {
        if (e.t >= horizon) break;  // stop arrivals, let the rest drain
        schedule(e.t + expo(1.0 / rate), Ev::Arrival, 0);
        const std::uint64_t id = arrivals++;
        if (idle > 0) {
          --idle;
          ++served;
          state.push_back(State::Served);
          schedule(e.t + expo(mean), Ev::Release, id);
        } else {
          state.push_back(State::Waiting);
          waiters.push_back({id, e.t});
          schedule(e.t + timeout, Ev::Timeout, id);
        }
        break;
      }
      case Ev::Release: {
        while (!waiters.empty() && state[waiters.front().id] != State::Waiting) waiters.pop_front();
        if (waiters.empty()) {
          ++idle;
          break;
        }
        const Waiter w = waiters.front();
        waiters.pop_front();
        state[w.id] = State::Served;
        ++served;
        wait_sum += e.t - w.since;
        schedule(e.t + expo(mean), Ev::Release, w.id);
        break;
      }
      case Ev::Timeout:
        if (state[e.id] != State::Waiting) break;  // lazy cancellation: already served
        state[e.id] = State::TimedOut;
        ++timeouts;
        wait_sum += timeout;
        break;
    }
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

  const double n = static_cast<double>(arrivals);
  std::printf(
      "{\"impl\": \"plain_loop\", \"rate_per_s\": %g, \"mean_s\": %g, \"conns\": %ld, "
      "\"timeout_s\": %g, \"horizon_s\": %g, \"seed\": %llu, \"arrivals\": %llu, "
      "\"served\": %llu, \"timeouts\": %llu, \"timeout_prob\": %.8g, \"mean_wait_s\": %.8g, "
      "\"events\": %llu, \"wall_s\": %.6f, \"sim_req_per_s\": %.1f}\n",
      rate, mean, conns, timeout, horizon, static_cast<unsigned long long>(seed),
      static_cast<unsigned long long>(arrivals), static_cast<unsigned long long>(served),
      static_cast<unsigned long long>(timeouts), n > 0 ? timeouts / n : 0.0,
      n > 0 ? wait_sum / n : 0.0, static_cast<unsigned long long>(events), wall,
      wall > 0 ? n / wall : 0.0);
  return 0;
}
