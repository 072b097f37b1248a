#include "stateful/routes.hpp"

#include <chrono>
#include <random>
#include <stdexcept>
#include <vector>

namespace wireframe::stateful {

namespace {

std::size_t frame_count(const Envelope& request) {
  return request.payload().empty()
             ? 0
             : std::to_integer<std::size_t>(request.payload()[0]) % max_frames_per_request;
}

Envelope numbered(const Envelope& request, std::size_t i) {
  std::vector<std::byte> payload(request.payload().begin(), request.payload().end());
  payload[0] = static_cast<std::byte>(i);
  return Envelope(request.id(), request.correlation_id(), std::move(payload));
}

Stream<Envelope> items(Envelope request) {
  const auto ex = co_await asio::this_coro::executor;
  asio::steady_timer pause(ex);
  for (std::size_t i = 0; i < frame_count(request); ++i) {
    if (i % 2 == 0) {
      co_await asio::post(ex, asio::use_awaitable);
    } else {
      pause.expires_after(std::chrono::microseconds(200));
      co_await pause.async_wait(asio::use_awaitable);
    }
    co_yield numbered(request, i);
  }
}

}  // namespace

Resp single(Envelope& request) {
  return Envelope(request.id(), request.correlation_id(), request.payload());
}

asio::awaitable<Resp> vec(Envelope& request) {
  std::vector<Envelope> frames;
  for (std::size_t i = 0; i < frame_count(request); ++i) frames.push_back(numbered(request, i));
  co_return frames;
}

Resp stream(Envelope& request) { return Resp(items(std::move(request))); }

Resp empty(Envelope&) { return Resp{}; }

asio::awaitable<Resp> fails(Envelope&) {
  throw std::runtime_error("stateful model: a handler that fails");
  co_return Resp{};
}

Resp push_burst(Envelope& request, ConnectionContext& ctx, PushBook& book) {
  const auto p = request.payload();
  const std::size_t lows = p.size() > 0 ? std::to_integer<std::size_t>(p[0]) : 0;
  const std::size_t highs = p.size() > 1 ? std::to_integer<std::size_t>(p[1]) : 0;
  std::minstd_rand rng(p.size() > 2 ? std::to_integer<unsigned>(p[2]) + 1 : 1);
  auto handle = ctx.push_handle<Envelope>();
  const auto call = [&] {
    constexpr PushCall calls[] = {PushCall::try_push, PushCall::policy_return,
                                  PushCall::policy_dead_letter};
    return calls[rng() % 3];
  };
  for (std::size_t i = 0; i < lows; ++i) push_now(handle, book, PushPriority::low, call());
  for (std::size_t i = 0; i < highs; ++i) push_now(handle, book, PushPriority::high, call());
  return Envelope(request.id(), request.correlation_id());
}

}  // namespace wireframe::stateful
