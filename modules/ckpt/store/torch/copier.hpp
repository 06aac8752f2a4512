// A second thread that copies tensors out while the caller's thread goes on
// (the background saver's snapshot: the pickler walks the tree while the
// bytes it has found so far are copied). Jobs run in order; the first
// failure is kept and rethrown by finish().
#pragma once
#include <ATen/ATen.h>

#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <utility>

namespace ckpt::torch_store {

/// Copies `t`'s elements, contiguous, to `out` (which has t.nbytes()).
inline void copy_out(const at::Tensor& t, char* out) {
  if (t.nbytes() == 0) return;
  if (t.is_cpu() && t.is_contiguous()) {
    std::memcpy(out, t.data_ptr(), t.nbytes());
    return;
  }
  // Strided, CUDA (synchronous, into pinned memory) or another device.
  at::from_blob(out, t.sizes(), at::TensorOptions().dtype(t.scalar_type())).copy_(t);
}

class Copier {
 public:
  Copier() : worker_([this] { run(); }) {}
  Copier(const Copier&) = delete;
  Copier& operator=(const Copier&) = delete;
  /// Joins; a failure nobody asked for through finish() is dropped.
  ~Copier() {
    close();
    if (worker_.joinable()) worker_.join();
  }

  void push(at::Tensor t, char* out) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      jobs_.emplace_back(std::move(t), out);
    }
    wake_.notify_one();
  }

  /// Waits for every job pushed; throws the first failure.
  void finish() {
    close();
    worker_.join();
    if (error_) std::rethrow_exception(std::exchange(error_, nullptr));
  }

 private:
  void close() {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      closed_ = true;
    }
    wake_.notify_one();
  }

  void run() {
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [&] { return closed_ || !jobs_.empty(); });
      if (jobs_.empty()) return;
      std::pair<at::Tensor, char*> job = std::move(jobs_.front());
      jobs_.pop_front();
      lock.unlock();
      try {
        if (!error_) copy_out(job.first, job.second);
      } catch (...) {
        error_ = std::current_exception();
      }
      lock.lock();
    }
  }

  std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<std::pair<at::Tensor, char*>> jobs_;
  bool closed_ = false;
  std::exception_ptr error_;
  std::thread worker_;
};

}  // namespace ckpt::torch_store
