// Packaging proof: a tiny server answering one request, built only through wireframe::wireframe.
// Exits 0 when the echo came back intact, 1 otherwise (the reason goes to stderr).
#include <wireframe/wireframe.hpp>

#include <chrono>
#include <exception>
#include <iostream>
#include <string>
#include <system_error>
#include <thread>
#include <utility>

int main() {
  using namespace std::chrono_literals;

  auto app = wireframe::WireframeApp<>()
                 .route(1,
                        [](wireframe::Envelope& req, wireframe::ConnectionContext&)
                            -> asio::awaitable<wireframe::Response<wireframe::Envelope>> {
                          co_return std::move(req);
                        })
                 .build();

  wireframe::WireframeServer server(app);
  server.workers(1).bind("127.0.0.1", 0);  // port 0: the OS picks a free one
  std::thread server_thread([&] { server.run(); });

  asio::io_context io;
  wireframe::WireframeClient<> client(io.get_executor());
  bool ok = false;
  std::string why = "no reply within 10 s";

  // Named first, then moved into co_spawn: g++ 12 double-destroys lambda captures when the
  // lambda is created in the same full-expression as a co_await/co_spawn.
  auto exchange = [&]() -> asio::awaitable<void> {
    auto ec = co_await client.connect(server.local_endpoint());
    if (ec) {
      why = "connect failed: " + ec.message();
      co_return;
    }
    auto [ec2, reply] = co_await client.call(wireframe::Envelope(1, 0, "ping"));
    if (ec2) {
      why = "call failed: " + ec2.message();
    } else if (reply.payload_text() != "ping" || reply.id() != 1) {
      why = "unexpected reply: id " + std::to_string(reply.id()) + ", payload '" +
            std::string(reply.payload_text()) + "'";
    } else {
      ok = true;
    }
  };
  asio::co_spawn(io, std::move(exchange), [&](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      why = std::string("exception: ") + ex.what();
    } catch (...) {
      why = "unknown exception";
    }
  });
  io.run_for(10s);  // deadline

  server.stop();
  server_thread.join();

  if (!ok) {
    std::cerr << "wireframe_consumer: " << why << '\n';
    return 1;
  }
  std::cout << "wireframe_consumer: ping echoed\n";
  return 0;
}
