// A FIFO counting semaphore for coroutines on one io_context (no locks: loop
// thread only). A lane is a semaphore of 1. Waiters are woken in arrival order.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

#include <deque>
#include <memory>

namespace bootstrapd {

class AsyncSemaphore {
 public:
  AsyncSemaphore(boost::asio::any_io_executor ex, int count);
  ~AsyncSemaphore();
  AsyncSemaphore(const AsyncSemaphore&) = delete;
  AsyncSemaphore& operator=(const AsyncSemaphore&) = delete;

  // Waits for a unit. Returns false if the wait was abandoned (Shutdown()).
  boost::asio::awaitable<bool> Acquire();
  bool TryAcquire();
  void Release();
  // Wakes every waiter with false (used at exit).
  void Shutdown();

  int available() const { return count_; }
  std::size_t waiting() const { return waiters_.size(); }

  struct Waiter;

 private:
  boost::asio::any_io_executor ex_;
  int count_;
  bool shutdown_ = false;
  std::deque<std::shared_ptr<Waiter>> waiters_;
};

// Releases one unit on destruction (after a successful Acquire()).
class SemaphoreGuard {
 public:
  SemaphoreGuard() = default;
  explicit SemaphoreGuard(AsyncSemaphore* s) : s_(s) {}
  SemaphoreGuard(SemaphoreGuard&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  SemaphoreGuard& operator=(SemaphoreGuard&& o) noexcept {
    Reset();
    s_ = o.s_;
    o.s_ = nullptr;
    return *this;
  }
  ~SemaphoreGuard() { Reset(); }
  void Reset() {
    if (s_ != nullptr) s_->Release();
    s_ = nullptr;
  }

 private:
  AsyncSemaphore* s_ = nullptr;
};

}  // namespace bootstrapd
