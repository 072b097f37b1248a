// Codec hot path: an Envelope framed by LengthDelimitedCodec, encoded into and decoded from a
// reused ByteBuffer, as the connection actor's writer and reader do. Steady state allocates
// nothing, so these figures are the per-frame cost the server pays on top of the socket.

#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <system_error>
#include <utility>
#include <vector>

#include "wireframe/buffer/byte_buffer.hpp"
#include "wireframe/codec/length_delimited.hpp"
#include "wireframe/packet/envelope.hpp"

namespace {

using wireframe::ByteBuffer;
using wireframe::DecodeStatus;
using wireframe::Envelope;
using wireframe::LengthDelimitedCodec;

// Frames per iteration: enough that the per-iteration loop overhead is negligible, few enough
// that the buffer stays cache-resident for small bodies, as a batch of pipelined requests would.
constexpr int frames_per_batch = 64;

Envelope make_envelope(std::size_t body_size) {
  std::vector<std::byte> payload(body_size);
  for (std::size_t i = 0; i < body_size; ++i) payload[i] = static_cast<std::byte>(i & 0xFFu);
  return Envelope(42, 7, std::move(payload));
}

void encode_frame(const LengthDelimitedCodec& codec, const Envelope& e, ByteBuffer& out) {
  const auto ec =
      codec.encode(e.encoded_size(), out, [&](std::span<std::byte> dst) { e.encode_to(dst); });
  if (ec) throw std::system_error(ec);
}

// items/s = frames; bytes/s = payload bytes (goodput, excluding the 16 bytes of prefix+header).
void report(benchmark::State& state, std::size_t body_size) {
  const auto frames = static_cast<std::int64_t>(state.iterations()) * frames_per_batch;
  state.SetItemsProcessed(frames);
  state.SetBytesProcessed(frames * static_cast<std::int64_t>(body_size));
}

// Envelope -> frame, appended to the write buffer; the buffer is drained per batch, as the
// writer drains it with one async_write.
void BM_Encode(benchmark::State& state) {
  const auto body_size = static_cast<std::size_t>(state.range(0));
  const LengthDelimitedCodec codec;
  const Envelope envelope = make_envelope(body_size);
  ByteBuffer out;
  for (auto _ : state) {
    for (int i = 0; i < frames_per_batch; ++i) encode_frame(codec, envelope, out);
    benchmark::DoNotOptimize(out.readable().data());
    benchmark::ClobberMemory();
    out.consume(out.size());
  }
  report(state, body_size);
}

// Frame -> Envelope: decode every frame of a read buffer holding a batch, then decode_from into
// one reused Envelope, as the reader does. The buffer's bytes are prepared once; each iteration
// walks the same bytes.
void BM_Decode(benchmark::State& state) {
  const auto body_size = static_cast<std::size_t>(state.range(0));
  const LengthDelimitedCodec codec;
  const Envelope envelope = make_envelope(body_size);
  ByteBuffer in;
  for (int i = 0; i < frames_per_batch; ++i) encode_frame(codec, envelope, in);
  Envelope decoded;
  for (auto _ : state) {
    std::span<const std::byte> rest = in.readable();
    for (int i = 0; i < frames_per_batch; ++i) {
      const auto r = codec.decode(rest);
      if (r.status != DecodeStatus::frame || decoded.decode_from(r.frame)) {
        state.SkipWithError("decode failed");
        return;
      }
      benchmark::DoNotOptimize(decoded.payload().data());
      rest = rest.subspan(r.consumed);
    }
    benchmark::ClobberMemory();
  }
  report(state, body_size);
}

}  // namespace

BENCHMARK(BM_Encode)->Arg(16)->Arg(64)->Arg(1024)->Arg(16384);
BENCHMARK(BM_Decode)->Arg(16)->Arg(64)->Arg(1024)->Arg(16384);

BENCHMARK_MAIN();
