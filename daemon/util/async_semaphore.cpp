#include "daemon/util/async_semaphore.h"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>

namespace bootstrapd {

namespace asio = boost::asio;

struct AsyncSemaphore::Waiter {
  explicit Waiter(asio::any_io_executor ex) : timer(ex) {}
  asio::steady_timer timer;
  bool granted = false;
};

AsyncSemaphore::AsyncSemaphore(asio::any_io_executor ex, int count)
    : ex_(std::move(ex)), count_(count) {}

AsyncSemaphore::~AsyncSemaphore() { Shutdown(); }

bool AsyncSemaphore::TryAcquire() {
  if (shutdown_ || count_ <= 0 || !waiters_.empty()) return false;
  --count_;
  return true;
}

asio::awaitable<bool> AsyncSemaphore::Acquire() {
  if (TryAcquire()) co_return true;
  if (shutdown_) co_return false;
  auto w = std::make_shared<Waiter>(ex_);
  w->timer.expires_at(asio::steady_timer::time_point::max());
  waiters_.push_back(w);
  auto [ec] = co_await w->timer.async_wait(asio::as_tuple(asio::use_awaitable));
  (void)ec;  // cancel() is the wake-up signal
  if (!w->granted) {
    auto it = std::find(waiters_.begin(), waiters_.end(), w);
    if (it != waiters_.end()) waiters_.erase(it);
  }
  co_return w->granted;
}

void AsyncSemaphore::Release() {
  while (!waiters_.empty()) {
    auto w = waiters_.front();
    waiters_.pop_front();
    w->granted = true;  // the unit passes straight to the next waiter
    w->timer.cancel();
    return;
  }
  ++count_;
}

void AsyncSemaphore::Shutdown() {
  shutdown_ = true;
  auto waiters = std::move(waiters_);
  waiters_.clear();
  for (auto& w : waiters) w->timer.cancel();
}

}  // namespace bootstrapd
