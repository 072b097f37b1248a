// SessionRegistry with real push queues (no sockets): weak entries, liveness, growth, threads.
#include <catch2/catch.hpp>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include <wireframe/packet/envelope.hpp>
#include <wireframe/push/session_registry.hpp>

using namespace wireframe;

namespace test_session_registry_cpp {  // this file's names, apart from the other files of a unity build

using Queues = detail::PushQueues<Envelope>;

namespace {
// `bell` stands in for the connection actor's doorbell (declared before, so it outlives them).
std::shared_ptr<Queues> make_queues(detail::ConcurrentDoorbell& bell, ConnectionId id) {
  return std::make_shared<Queues>(bell, id, 4, 4);
}
}  // namespace

TEST_CASE("the registry finds live sessions and hands out working handles", "[registry]") {
  asio::io_context io;
  detail::ConcurrentDoorbell bell(io.get_executor());
  SessionRegistry<Envelope> registry;
  auto q1 = make_queues(bell, 1);
  auto q2 = make_queues(bell, 2);
  registry.add(1, q1);
  registry.add(2, q2);
  CHECK(registry.size() == 2);
  auto h = registry.find(2);
  REQUIRE(h);
  CHECK(h->connection_id() == 2);
  CHECK(h->try_push(Envelope(5, 0, "x")).ok());
  CHECK(q2->try_pop(PushPriority::low).has_value());
  CHECK_FALSE(registry.find(3));
}

TEST_CASE("a registry entry never keeps a connection alive", "[registry]") {
  asio::io_context io;
  detail::ConcurrentDoorbell bell(io.get_executor());
  SessionRegistry<Envelope> registry;
  auto q = make_queues(bell, 7);
  std::weak_ptr<Queues> watch = q;
  registry.add(7, q);
  q.reset();  // the connection's last owner lets go
  CHECK(watch.expired());
  CHECK_FALSE(registry.find(7));
  CHECK(registry.size() == 0);
}

TEST_CASE("a connection that is shutting down is not found, handles held or not", "[registry]") {
  asio::io_context io;
  detail::ConcurrentDoorbell bell(io.get_executor());
  SessionRegistry<Envelope> registry;
  auto q = make_queues(bell, 9);
  registry.add(9, q);
  auto held = registry.find(9);
  REQUIRE(held);
  q->close();  // what the actor does when shutdown starts
  CHECK_FALSE(registry.find(9));
  CHECK(registry.size() == 0);
  CHECK(held->try_push(Envelope(5, 0, "late")).error() == make_error_code(errc::connection_closed));
}

TEST_CASE("a million connects and disconnects leave nothing behind", "[registry]") {
  asio::io_context io;
  detail::ConcurrentDoorbell bell(io.get_executor());
  SessionRegistry<Envelope> registry;
  auto q = make_queues(bell, 0);
  for (ConnectionId id = 1; id <= 1'000'000; ++id) {
    registry.add(id, q);
    if (id > 8) registry.remove(id - 8);  // about eight live at any time
  }
  CHECK(registry.entry_count() == 8);
  for (ConnectionId id = 1'000'000 - 7; id <= 1'000'000; ++id) registry.remove(id);
  CHECK(registry.entry_count() == 0);
}

TEST_CASE("lookups from many threads run alongside registration", "[registry]") {
  asio::io_context io;
  detail::ConcurrentDoorbell bell(io.get_executor());
  SessionRegistry<Envelope> registry;
  std::vector<std::shared_ptr<Queues>> queues;
  for (ConnectionId id = 1; id <= 64; ++id) {
    queues.push_back(make_queues(bell, id));
    registry.add(id, queues.back());
  }
  // Each reader does a fixed number of passes; the writer churns ids above 64 until every reader
  // is done, so the two always overlap however the threads are scheduled (a fixed-length writer
  // loop could finish before a reader had started).
  constexpr long passes = 2'000;
  std::atomic<int> readers_done{0};
  std::atomic<long> found{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&] {
      for (long pass = 0; pass < passes; ++pass) {
        for (ConnectionId id = 1; id <= 64; ++id) {
          if (registry.find(id)) ++found;
        }
      }
      ++readers_done;
    });
  }
  ConnectionId id = 65;
  do {
    registry.add(id, queues[0]);
    registry.remove(id);
    ++id;
  } while (readers_done < 3);
  for (auto& t : readers) t.join();
  CHECK(found == 3 * passes * 64);  // every live session found on every lookup
  CHECK(registry.size() == 64);
  CHECK(registry.entry_count() == 64);
}


namespace {
// Counts the wake-ups the queues give the actor.
struct CountingWake final : detail::Wake {
  std::atomic<int> rings{0};
  void ring() noexcept override { ++rings; }
};
}  // namespace

TEST_CASE("a close request through a handle wakes the actor once per call and keeps the strongest",
          "[registry][close]") {
  CountingWake wake;
  auto q = std::make_shared<Queues>(wake, 3, 4, 4);
  PushHandle<Envelope> handle(q);
  CHECK_FALSE(q->take_close_request());  // none yet: one atomic load
  CHECK(handle.close());                 // graceful by default
  CHECK(wake.rings == 1);
  CHECK(handle.close(CloseMode::immediate));
  CHECK(handle.close());                 // a weaker request does not downgrade it
  CHECK(wake.rings == 3);
  CHECK(q->take_close_request() == CloseMode::immediate);
  CHECK_FALSE(q->take_close_request());  // taken
  CHECK(handle.close());
  CHECK(q->take_close_request() == CloseMode::graceful);
  q->close();  // the connection is ending: a request asks nothing and wakes nobody
  CHECK_FALSE(handle.close(CloseMode::immediate));
  CHECK_FALSE(q->take_close_request());
  CHECK(wake.rings == 4);
  CHECK_FALSE(PushHandle<Envelope>().close());  // an empty handle has no connection
}

}  // namespace test_session_registry_cpp
