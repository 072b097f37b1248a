#pragma once
// RouteHandler: what a route runs, one of two kinds. A coroutine (Handler) may suspend and is
// run by the connection's dispatcher; a plain function (SyncHandler) never suspends, so the
// connection answers it in the same turn that decoded the request, with no coroutine frame and
// no hand-off to another task (docs/architecture.md, "Inline dispatch").

#include <type_traits>
#include <utility>

#include "wireframe/detail/asio.hpp"

namespace wireframe::detail {

template <class T>
inline constexpr bool is_awaitable_v = false;
template <class T, class Executor>
inline constexpr bool is_awaitable_v<asio::awaitable<T, Executor>> = true;

template <class Handler, class SyncHandler>
struct RouteHandler {
  RouteHandler(Handler h) : async(std::move(h)) {}
  RouteHandler(SyncHandler h) : sync(std::move(h)) {}

  Handler async;    // set for a coroutine handler
  SyncHandler sync;  // set for a plain function
};

}  // namespace wireframe::detail
