#pragma once
// ConnectionTracker: the live actors of one worker, so shutdown can reach each of them and the
// worker knows when the last one has ended. Touched only on that worker's thread: no lock.

#include <atomic>
#include <cstddef>
#include <functional>

namespace wireframe {

class ConnectionTracker;

// Base of every connection actor, linked into its worker's tracker while it runs.
class TrackedConnection {
 public:
  TrackedConnection() = default;
  TrackedConnection(const TrackedConnection&) = delete;
  TrackedConnection& operator=(const TrackedConnection&) = delete;

  // Stop reading, finish what is in flight, then close.
  virtual void shutdown() = 0;
  // Close now: cancel everything, drop what is queued.
  virtual void force_close() = 0;

 protected:
  ~TrackedConnection() = default;

 private:
  friend class ConnectionTracker;
  TrackedConnection* prev_ = nullptr;
  TrackedConnection* next_ = nullptr;
};

class ConnectionTracker {
 public:
  // A connection that arrives after shutdown began is told to shut down at once.
  void add(TrackedConnection& c) {
    c.next_ = head_;
    c.prev_ = nullptr;
    if (head_ != nullptr) head_->prev_ = &c;
    head_ = &c;
    ++size_;
    if (counter_ != nullptr) counter_->fetch_add(1, std::memory_order_relaxed);
    if (stopping_) c.shutdown();
  }

  void remove(TrackedConnection& c) noexcept {
    if (slots_ != nullptr) slots_->fetch_sub(1, std::memory_order_relaxed);
    unlink(c);
  }

  // `c` has passed its connection, with its admission slot, on to a connection added since (a
  // TLS handshake to the connection's actor): it leaves without giving the slot back.
  void transfer(TrackedConnection& c) noexcept { unlink(c); }

  void shutdown_all() {
    stopping_ = true;
    for_each([](TrackedConnection& c) { c.shutdown(); });
  }

  void force_close_all() {
    for_each([](TrackedConnection& c) { c.force_close(); });
  }

  [[nodiscard]] std::size_t size() const noexcept { return size_; }
  [[nodiscard]] bool stopping() const noexcept { return stopping_; }

  // Called when the last connection is removed (the server cancels its shutdown deadline).
  void on_empty(std::function<void()> fn) { on_empty_ = std::move(fn); }
  // A server-wide count of live connections (readable from any thread).
  void count_into(std::atomic<std::size_t>* counter) noexcept { counter_ = counter; }
  // The server's admission slots (max_connections): the acceptor takes one per connection it
  // hands to this worker, before the connection is added here; remove() gives it back.
  void release_slots_into(std::atomic<std::size_t>* slots) noexcept { slots_ = slots; }

 private:
  template <class F>
  void for_each(F f) {
    // A connection may unlink itself while being told (it does not here: actors end
    // asynchronously), but take the next pointer first anyway.
    for (TrackedConnection* c = head_; c != nullptr;) {
      TrackedConnection* next = c->next_;
      f(*c);
      c = next;
    }
  }

  void unlink(TrackedConnection& c) noexcept {
    if (c.prev_ != nullptr) c.prev_->next_ = c.next_;
    else head_ = c.next_;
    if (c.next_ != nullptr) c.next_->prev_ = c.prev_;
    c.prev_ = c.next_ = nullptr;
    --size_;
    if (counter_ != nullptr) counter_->fetch_sub(1, std::memory_order_relaxed);
    if (size_ == 0 && on_empty_) on_empty_();
  }

  TrackedConnection* head_ = nullptr;
  std::size_t size_ = 0;
  bool stopping_ = false;
  std::function<void()> on_empty_;
  std::atomic<std::size_t>* counter_ = nullptr;
  std::atomic<std::size_t>* slots_ = nullptr;
};

}  // namespace wireframe
