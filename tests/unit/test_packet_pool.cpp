// PacketPool: spare packets per thread, reused with their payload buffers, within its bounds.
#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include <wireframe/actor/packet_pool.hpp>
#include <wireframe/packet/envelope.hpp>

namespace test_packet_pool_cpp {  // this file's names, apart from the other files of a unity build

using wireframe::Envelope;
using Pool = wireframe::detail::PacketPool<Envelope>;

TEST_CASE("PacketPool hands back a given packet with its buffer, per thread") {
  std::thread([] {  // a fresh thread: a fresh pool
    Pool& pool = Pool::local();
    CHECK(pool.size() == 0);
    CHECK(pool.take().payload_capacity() == 0);  // empty: a new packet
    Envelope e(1, 2, std::vector<std::byte>(100));
    const std::byte* buffer = e.payload().data();
    pool.give(std::move(e));
    REQUIRE(pool.size() == 1);
    Envelope again = pool.take();
    CHECK(again.payload().data() == buffer);  // the same storage, not a copy
    CHECK(pool.size() == 0);
  }).join();
}

TEST_CASE("PacketPool keeps nothing useless and stays within its bounds") {
  std::thread([] {
    Pool& pool = Pool::local();
    pool.give(Envelope(1, 0));  // no buffer: nothing to keep
    pool.give(Envelope(1, 0, std::vector<std::byte>(Pool::max_packet_capacity + 1)));  // too big
    CHECK(pool.size() == 0);
    for (int i = 0; i < 100; ++i) pool.give(Envelope(1, 0, std::vector<std::byte>(Pool::max_packet_capacity)));
    CHECK(pool.size() == Pool::max_pooled_bytes / Pool::max_packet_capacity);  // the byte bound
    while (pool.size() > 0) (void)pool.take();
    for (std::size_t i = 0; i < Pool::max_spares + 10; ++i) pool.give(Envelope(1, 0, std::vector<std::byte>(1)));
    CHECK(pool.size() == Pool::max_spares);  // the count bound
  }).join();
}

}  // namespace test_packet_pool_cpp
