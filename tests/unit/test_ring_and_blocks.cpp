// RingQueue grows on demand up to its capacity and keeps FIFO order across growth and
// wrap-around; BlockPool reuses byte blocks per size within its bounds; ByteBuffer gives its
// storage back to the pool.
#include <catch2/catch.hpp>

#include <string>
#include <thread>

#include <wireframe/actor/ring_queue.hpp>
#include <wireframe/buffer/block_pool.hpp>
#include <wireframe/buffer/byte_buffer.hpp>

namespace test_ring_and_blocks_cpp {  // this file's names, apart from the other files of a unity build

using wireframe::ByteBuffer;
using wireframe::detail::BlockPool;
using wireframe::detail::RingQueue;

TEST_CASE("RingQueue allocates only what it uses, up to its capacity, in FIFO order") {
  RingQueue<std::string> q(6);
  CHECK(q.allocated() == 0);  // an unused queue costs nothing
  q.push("a");
  CHECK(q.allocated() == 1);
  int next_in = 0, next_out = 0;
  auto push = [&] { q.push(std::to_string(next_in++)); };
  auto pop = [&] { CHECK(q.pop() == std::to_string(next_out++)); };
  CHECK(q.pop() == "a");
  for (int round = 0; round < 10; ++round) {  // wrap around at every size while growing
    for (int i = 0; i < 1 + round % 6 && !q.full(); ++i) push();
    for (int i = 0; i < 1 + round % 3 && !q.empty(); ++i) pop();
  }
  while (!q.full()) push();
  CHECK(q.size() == 6);
  CHECK(q.allocated() == 6);  // capped at the capacity, not the next power of two
  while (!q.empty()) pop();
  CHECK(next_in == next_out);
}

TEST_CASE("BlockPool hands back blocks of the same size and stays within its bounds") {
  std::thread([] {
    BlockPool& pool = *BlockPool::local();
    CHECK(pool.take(4096) == nullptr);
    auto block = std::make_unique<std::byte[]>(4096);
    const std::byte* raw = block.get();
    pool.give(std::move(block), 4096);
    CHECK(pool.take(1024) == nullptr);  // another size class
    auto again = pool.take(4096);
    CHECK(again.get() == raw);
    pool.give(std::make_unique<std::byte[]>(3000), 3000);  // not a pooled size: freed
    pool.give(std::make_unique<std::byte[]>(BlockPool::max_block * 2), BlockPool::max_block * 2);
    CHECK(pool.pooled_bytes() == 0);
    for (std::size_t i = 0; i < BlockPool::max_blocks_per_class + 5; ++i) {
      pool.give(std::make_unique<std::byte[]>(256), 256);
    }
    CHECK(pool.pooled_bytes() == BlockPool::max_blocks_per_class * 256);
  }).join();
}

TEST_CASE("ByteBuffer::release gives its block to the pool and the next growth takes it") {
  std::thread([] {
    ByteBuffer b;
    REQUIRE(b.prepare(16 * 1024).size() == 16 * 1024);
    const std::size_t cap = b.capacity();
    const std::byte* storage = b.prepare(1).data();
    b.release();
    CHECK(b.capacity() == 0);
    CHECK(BlockPool::local()->pooled_bytes() >= cap);
    REQUIRE(b.prepare(16 * 1024).size() == 16 * 1024);
    CHECK(b.prepare(1).data() == storage);  // the same block, no allocation
  }).join();
}

}  // namespace test_ring_and_blocks_cpp
