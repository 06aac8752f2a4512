// The `ckpt` profile's preemption signals (X5): a handler that only notes
// the signal, read back at the next hook call, where saving is safe. One
// process, one set of handlers: a second watch while one is installed is
// refused rather than silently sharing (or losing) the first one's signals.
#pragma once
#include <csignal>
#include <vector>

namespace ckpt::checkpointer {

class SignalWatch {
 public:
  /// Installs the handlers (SA_RESTART: system calls the signal interrupts
  /// resume, so the training loop sees no EINTR). Throws ckpt::Error
  /// (RuntimeError) when another SignalWatch is installed, or a signal
  /// cannot be caught (SIGKILL, SIGSTOP, an invalid number).
  explicit SignalWatch(const std::vector<int>& signals);
  /// Restores the handling each signal had before.
  ~SignalWatch();
  SignalWatch(const SignalWatch&) = delete;
  SignalWatch& operator=(const SignalWatch&) = delete;

  /// The signal noted since the last take (the latest, if several came); 0: none.
  int take();
  /// Gives `signal` back the handling it had before this watch and raises
  /// it, so the process does what it would have done without us (by
  /// default: ends by that signal). Returns when that handling returns
  /// (a handler of the trainer's, or SIG_IGN).
  void reraise(int signal);

 private:
  std::vector<int> signals_;
  std::vector<struct sigaction> before_;
};

}  // namespace ckpt::checkpointer
