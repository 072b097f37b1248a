#pragma once
// The handlers of the stateful model's app, one route per kind of answer. A request's payload
// says what to answer: byte 0 is how many frames a Vec or a Stream has (mod 8), and each of
// those frames carries the request's payload with byte 0 set to its index. A push burst's
// payload is (lows, highs, seed).

#include <cstddef>
#include <cstdint>

#include <wireframe/wireframe.hpp>

#include "stateful/push_book.hpp"

namespace wireframe::stateful {

using Resp = Response<Envelope>;

enum class RequestKind : std::uint32_t {
  single = 1,
  vec = 2,
  stream = 3,
  empty = 4,
  fails = 5,
  push_burst = 6
};

inline constexpr std::size_t max_frames_per_request = 8;

Resp single(Envelope& request);                  // a plain handler: served inline
asio::awaitable<Resp> vec(Envelope& request);    // a coroutine answering a Vec
Resp stream(Envelope& request);                  // a Stream suspending before every item
Resp empty(Envelope& request);                   // no answer at all
asio::awaitable<Resp> fails(Envelope& request);  // throws (error_frame policy: an error frame)
// Pushes `lows` low, then `highs` high frames to its own connection, each with a call picked
// by the seed (never a waiting push: a handler that waits on its own writer's queue is the
// user's deadlock to avoid), then answers with an empty frame.
Resp push_burst(Envelope& request, ConnectionContext& ctx, PushBook& book);

}  // namespace wireframe::stateful
