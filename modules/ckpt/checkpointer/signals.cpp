#include "signals.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>

#include "engine.hpp"

namespace ckpt::checkpointer {

namespace {

// What a handler may touch: lock-free atomics only.
std::atomic<int> noted{0};
std::atomic<bool> installed{false};
static_assert(std::atomic<int>::is_always_lock_free, "the handler stores into an atomic int");

extern "C" void note(int signal) { noted.store(signal, std::memory_order_relaxed); }

Error refused(const std::string& why, int signal = 0) {
  Error e("preempt_signals: " + why, "RuntimeError");
  e.parameter = "preempt_signals";
  if (signal) e.value = std::to_string(signal);
  e.clause = "X5";
  return e;
}

}  // namespace

SignalWatch::SignalWatch(const std::vector<int>& signals) {
  if (installed.exchange(true)) throw refused("another Checkpointer of this process already handles preemption signals");
  noted.store(0);
  struct sigaction action {};
  action.sa_handler = note;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;
  for (int signal : signals) {
    struct sigaction old {};
    if (signal == SIGKILL || signal == SIGSTOP || sigaction(signal, &action, &old) != 0) {
      const int err = signal == SIGKILL || signal == SIGSTOP ? EINVAL : errno;
      for (std::size_t i = signals_.size(); i-- > 0;) sigaction(signals_[i], &before_[i], nullptr);
      installed.store(false);
      throw refused("cannot handle signal " + std::to_string(signal) + ": " + std::strerror(err), signal);
    }
    signals_.push_back(signal);
    before_.push_back(old);
  }
}

SignalWatch::~SignalWatch() {
  for (std::size_t i = signals_.size(); i-- > 0;) sigaction(signals_[i], &before_[i], nullptr);
  noted.store(0);
  installed.store(false);
}

int SignalWatch::take() { return noted.exchange(0, std::memory_order_relaxed); }

void SignalWatch::reraise(int signal) {
  for (std::size_t i = 0; i < signals_.size(); ++i)
    if (signals_[i] == signal) {
      sigaction(signal, &before_[i], nullptr);
      signals_.erase(signals_.begin() + static_cast<std::ptrdiff_t>(i));
      before_.erase(before_.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
  std::raise(signal);
}

}  // namespace ckpt::checkpointer
