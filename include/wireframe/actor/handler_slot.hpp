#pragma once
// HandlerSlot: memory for one pending Asio operation, inside the object that starts it.
//
// Asio allocates every pending operation (the reactor's record of "wait for readability, then
// call this handler") with the handler's associated allocator. By default that is a per-thread
// recycling cache, which serves a busy connection well but cannot help 10 000 idle ones: each
// of them holds its pending read and its timer wait, so each holds two more heap blocks. With
// a slot in the actor for each operation it keeps pending, those blocks are part of the actor's
// own allocation (docs/architecture.md, "Memory of a connection").
//
//   socket.async_wait(wait_read, slot.bind([keep](asio::error_code ec) { ... }));
//
// A slot holds one operation at a time, and the operation's size is checked when it is
// compiled: an operation larger than the slot does not compile (raise Size), so no operation
// ever falls back to the heap unnoticed. The caller starts at most one operation per slot at a
// time (Asio frees an operation's memory before it calls the handler, so the handler may start
// the next one in the same slot).

#include <cassert>
#include <cstddef>
#include <new>

#include "wireframe/detail/asio.hpp"

namespace wireframe::detail {

template <std::size_t Size>
class HandlerSlot {
 public:
  template <class T>
  class Allocator {
   public:
    using value_type = T;
    explicit Allocator(HandlerSlot* slot) noexcept : slot_(slot) {}
    template <class U>
    Allocator(const Allocator<U>& other) noexcept : slot_(other.slot_) {}  // NOLINT: rebinding

    T* allocate(std::size_t n) {
      static_assert(sizeof(T) <= Size, "HandlerSlot: this operation needs a larger slot");
      static_assert(alignof(T) <= alignof(std::max_align_t));
      assert(n == 1 && !slot_->in_use_);
      (void)n;
      slot_->in_use_ = true;
      return static_cast<T*>(static_cast<void*>(slot_->storage_));
    }
    void deallocate(T*, std::size_t) noexcept { slot_->in_use_ = false; }

    template <class U>
    bool operator==(const Allocator<U>& other) const noexcept {
      return slot_ == other.slot_;
    }

   private:
    template <class U>
    friend class Allocator;
    HandlerSlot* slot_;
  };

  HandlerSlot() = default;
  HandlerSlot(const HandlerSlot&) = delete;
  HandlerSlot& operator=(const HandlerSlot&) = delete;

  // `handler` with this slot as its associated allocator.
  template <class Handler>
  auto bind(Handler&& handler) noexcept {
    return asio::bind_allocator(Allocator<void>(this), static_cast<Handler&&>(handler));
  }

  [[nodiscard]] bool in_use() const noexcept { return in_use_; }

 private:
  alignas(std::max_align_t) std::byte storage_[Size];
  bool in_use_ = false;
};

}  // namespace wireframe::detail
