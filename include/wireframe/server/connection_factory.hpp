#pragma once
// The seam between the compiled server and the templated app: the server hands each accepted
// socket to a ConnectionFactory, which starts the app's actor on the socket's worker.

#include <memory>
#include <utility>

#include "wireframe/actor/connection_actor.hpp"
#include "wireframe/app/connection_context.hpp"
#include "wireframe/detail/asio.hpp"
#include "wireframe/server/connection_opening.hpp"
#include "wireframe/server/connection_tracker.hpp"

namespace wireframe::detail {

class ConnectionFactory {
 public:
  virtual ~ConnectionFactory() = default;
  // Called on the socket's own worker thread. May throw (the actor's constructor copies user
  // objects); the socket, taken by value, is then closed by the time the exception arrives.
  // A TCP or Unix domain connection (transport/stream_socket.hpp).
  virtual void start(GenericSocket socket, ConnectionTracker& tracker, ConnectionId id) = 0;
  // The app's metrics (null: none), for the server's own figures (connections accepted and
  // refused). Lives as long as the factory.
  [[nodiscard]] virtual const ConnectionMetrics* metrics() const noexcept = 0;
  // Where the server's own events go (the app's logger, log/event_log.hpp; null: nowhere).
  [[nodiscard]] virtual std::shared_ptr<spdlog::logger> logger() const = 0;
};

template <class App>
class AppConnectionFactory final : public ConnectionFactory {
 public:
  explicit AppConnectionFactory(std::shared_ptr<const App> app) : app_(std::move(app)) {}

  void start(GenericSocket socket, ConnectionTracker& tracker, ConnectionId id) override {
    // The preamble comes first, when the app has one (server/connection_opening.hpp).
    if (app_->preamble) return PlainOpening<App>::start(std::move(socket), app_, tracker, id);
    // The actor keeps itself alive from here on, through the handlers of its pending operations.
    ConnectionActor<App>::launch(std::move(socket), app_, id, tracker);
  }

  [[nodiscard]] const ConnectionMetrics* metrics() const noexcept override { return app_->metrics.get(); }
  [[nodiscard]] std::shared_ptr<spdlog::logger> logger() const override { return app_->logger.resolve(); }

 private:
  std::shared_ptr<const App> app_;
};

}  // namespace wireframe::detail

namespace wireframe {
// The default app (Envelope over LengthDelimitedCodec, no protocol error type) is instantiated
// once in src/actor/default_app.cpp: this saves every translation unit that serves it about
// 4 s at -O0 and 12 s at -O2 (measured with g++ 12).
extern template class ConnectionActor<DefaultBuiltApp>;
extern template class detail::AppConnectionFactory<DefaultBuiltApp>;
}  // namespace wireframe
