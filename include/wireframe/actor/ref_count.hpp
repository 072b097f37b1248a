#pragma once
// RefCount and Ref<T>: an object that counts its own owners, and the pointer that owns it.
//
// The connection actor lives in one allocation with its push queues, and the queues may
// outlive it (PushHandles). std::shared_ptr cannot end one part of an allocation before the
// rest (its object goes with its last strong owner), so the actor counts the owners of its own
// part: every pending completion handler holds a Ref, and the last Ref to go calls
// T::drop_ref(), which destroys the actor in place (docs/architecture.md, "Memory of a
// connection").
//
//   Ref<Actor> self(actor);            // +1
//   if (auto r = Ref<Actor>::try_take(actor)) ...  // +1 unless the actor is already ending
//
// T provides add_ref(), try_add_ref() and drop_ref() (usually by forwarding to a RefCount).

#include <atomic>
#include <cstddef>
#include <optional>
#include <utility>

namespace wireframe::detail {

class RefCount {
 public:
  void add() noexcept { n_.fetch_add(1, std::memory_order_relaxed); }
  // +1 only while the count is not zero: an object whose last owner has gone stays gone, even
  // if another thread still holds a plain pointer to it (as the push queues hold the actor).
  bool try_add() noexcept {
    std::size_t n = n_.load(std::memory_order_relaxed);
    while (n != 0) {
      if (n_.compare_exchange_weak(n, n + 1, std::memory_order_acq_rel, std::memory_order_relaxed)) return true;
    }
    return false;
  }
  // -1; true when that was the last owner (the caller then destroys the object).
  bool drop() noexcept { return n_.fetch_sub(1, std::memory_order_acq_rel) == 1; }

 private:
  std::atomic<std::size_t> n_{0};
};

template <class T>
class Ref {
 public:
  explicit Ref(T& object) noexcept : p_(&object) { p_->add_ref(); }
  // A Ref to `object` unless its last owner has already gone.
  static std::optional<Ref> try_take(T& object) noexcept {
    if (!object.try_add_ref()) return std::nullopt;
    return Ref(&object);
  }

  Ref(const Ref& other) noexcept : p_(other.p_) { p_->add_ref(); }
  Ref(Ref&& other) noexcept : p_(std::exchange(other.p_, nullptr)) {}
  Ref& operator=(Ref other) noexcept {
    std::swap(p_, other.p_);
    return *this;
  }
  ~Ref() {
    if (p_ != nullptr) p_->drop_ref();
  }

  T* operator->() const noexcept { return p_; }
  T& operator*() const noexcept { return *p_; }

 private:
  explicit Ref(T* counted) noexcept : p_(counted) {}  // already counted (try_take)
  T* p_;
};

}  // namespace wireframe::detail
