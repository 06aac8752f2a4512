#include "async.hpp"

#include <c10/util/Exception.h>

#include <atomic>
#include <exception>
#include <thread>
#include <utility>

#include "durable.hpp"
#include "snapshot.hpp"

namespace ckpt::torch_store {

Destination durable_file() {
  return [](const std::string& path, const std::function<void(Sink&)>& write) {
    write_durably(parent_folder(path), [&](Sink& sink) {
      write(sink);
      return path;
    });
  };
}

struct AsyncSaver::Impl {
  explicit Impl(AsyncSaveOptions o) : options(std::move(o)), snapshotter(options.save) {}
  AsyncSaveOptions options;
  Snapshotter snapshotter;
  const Snapshot* snapshot = nullptr;
  std::thread writer;
  std::atomic<bool> done{true};
  std::exception_ptr error;

  void join() {
    if (writer.joinable()) writer.join();
  }

  void rethrow() {
    if (!error) return;
    std::exception_ptr e = std::exchange(error, nullptr);
    std::rethrow_exception(e);
  }

  void write(const std::string& path) {
    options.destination(path, [&](Sink& sink) { snapshot->write(0, sink); });
  }
};

namespace {
AsyncSaveOptions with_default_destination(AsyncSaveOptions options) {
  if (!options.destination) options.destination = durable_file();
  return options;
}
}  // namespace

AsyncSaver::AsyncSaver(AsyncSaveOptions options)
    : impl_(std::make_unique<Impl>(with_default_destination(std::move(options)))) {}

AsyncSaver::~AsyncSaver() { impl_->join(); }

void AsyncSaver::reserve(std::size_t bytes) {
  impl_->join();  // the buffer may be in use
  impl_->snapshotter.reserve(bytes);
}

bool AsyncSaver::save(const Value& checkpoint, const std::string& path) {
  Impl& s = *impl_;
  if (!s.done.load(std::memory_order_acquire) && s.options.when_busy == AsyncSaveOptions::WhenBusy::refuse)
    return false;
  s.join();
  s.rethrow();
  try {
    s.snapshot = &s.snapshotter.take({&checkpoint});
  } catch (const c10::Error& e) {
    throw Error(path + ": " + e.what_without_backtrace());
  } catch (const Error& e) {
    throw Error(path + ": " + e.what());
  }
  s.done.store(false, std::memory_order_release);
  s.writer = std::thread([&s, path] {
    try {
      s.write(path);
    } catch (const std::exception& e) {
      s.error = std::make_exception_ptr(Error(path + ": " + e.what()));
    } catch (...) {
      s.error = std::make_exception_ptr(Error(path + ": unknown failure while writing"));
    }
    s.done.store(true, std::memory_order_release);
  });
  return true;
}

void AsyncSaver::wait() {
  impl_->join();
  impl_->rethrow();
}

bool AsyncSaver::in_flight() const { return !impl_->done.load(std::memory_order_acquire); }

std::size_t AsyncSaver::capacity() const { return impl_->snapshotter.capacity(); }

}  // namespace ckpt::torch_store
