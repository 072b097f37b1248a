#pragma once
// The one place that knows which Asio we build against. Asio 1.22.1 (Debian 12) keeps
// as_tuple/deferred/channels in asio::experimental and lacks cancel_after/co_composed; code
// elsewhere uses the aliases below so a newer Asio is a change here only.

#if defined(__clang__) && !defined(ASIO_HAS_CO_AWAIT)
// clang + libstdc++: without this, asio::awaitable and co_spawn silently disappear.
#define ASIO_HAS_CO_AWAIT 1
#endif

// A standard header before any of Asio's: Asio decides some features by libstdc++'s macros
// (_GLIBCXX_HAVE_ALIGNED_ALLOC decides how it allocates coroutine frames), and a translation
// unit that reaches Asio first would compile its inline allocator differently from the others.
// The linker keeps one copy, and frames are then freed with the wrong function (found with
// ASan: aligned_alloc'd, operator delete'd).
#include <cstddef>

#include <asio/version.hpp>

#if ASIO_VERSION < 102200
#error "wireframe needs standalone Asio 1.22 or newer"
#endif

// channel.hpp must come before anything that pulls experimental/coro.hpp (1.22 breaks otherwise).
#include <asio/experimental/channel.hpp>
#include <asio/experimental/concurrent_channel.hpp>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/bind_allocator.hpp>
#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace wireframe::detail {

// Completion token that turns errors into values: `auto [ec, n] = co_await op(as_tuple_awaitable)`.
inline constexpr auto use_nothrow = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace wireframe::detail
