// Fragmentation core (include/wireframe/fragment/, docs/fragmentation.md) without sockets:
//
//   BM_split<S>/N        an N-byte logical message (an encoded Envelope) cut into fragments by
//                        Fragmenter<S, Envelope>, each framed by LengthDelimitedCodec into one
//                        reused write buffer that is emptied past 1 MiB, as the writer does.
//   BM_split_connection<S>/N  the same message through FragmentAdapter, as the connection's
//                        writer sends it: encoded once into the lane's buffer, each fragment's
//                        payload then a borrowed slice of a gathered write (no second copy).
//   BM_reassemble<S>/N   the fragment bodies of an N-byte message, prepared once, fed to a
//                        Reassembler<S> until the message is complete. As on a connection, each
//                        message gets a fresh buffer (feed() frees the previous one): with
//                        Multiplexed it is reserved once from the declared total, with
//                        LenFlag32K it grows geometrically.
//     bytes/s = logical message bytes, items/s = fragments. Large messages are what
//     fragmentation is for: the 64 MiB cases are the ones that matter. BM_reassemble also
//     reports minor page faults per message (`faults`). BM_reassemble_retained<S>/N is the same
//     with ReassemblyLimits::retained_buffer_bytes set, so each message reuses the previous
//     message's buffer. Without it, a message buffer above glibc's mmap
//     threshold is fresh memory every time, so at 64 MiB the kernel's page-fault cost can
//     dominate the figure (it varies a lot between machines, and more so under virtualisation).
//
//   BM_encode_plain/N  vs  BM_encode_single_fragment<S>/N
//   BM_decode_plain/N  vs  BM_decode_single_fragment<S>/N
//                        what "every frame is a fragment" costs a message that is not split: an
//                        Envelope with an N-byte payload framed plainly, or as one final
//                        fragment (Fragmenter on the way out, Reassembler's zero-copy path on the
//                        way in). The single-fragment encode includes encoding the Envelope into
//                        the scratch bytes the Fragmenter slices from; the _in_place variant
//                        writes the header in front of an in-place encode instead, for reference.
//     bytes/s = payload bytes, items/s = frames, in batches of 64 frames as in codec_bench.

#include <benchmark/benchmark.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include <wireframe/buffer/byte_buffer.hpp>
#include <wireframe/buffer/gather_buffer.hpp>
#include <wireframe/fragment/fragment_adapter.hpp>
#include <wireframe/codec/length_delimited.hpp>
#include <wireframe/fragment/fragment_meta.hpp>
#include <wireframe/fragment/fragmenter.hpp>
#include <wireframe/fragment/len_flag_32k.hpp>
#include <wireframe/fragment/multiplexed.hpp>
#include <wireframe/fragment/reassembler.hpp>
#include <wireframe/packet/envelope.hpp>

#if __has_include(<sys/resource.h>)
#include <sys/resource.h>
#define WIREFRAME_BENCH_HAS_RUSAGE 1
#endif

namespace wireframe {
namespace {

using Bytes = std::vector<std::byte>;
using Bodies = std::vector<std::span<const std::byte>>;

constexpr std::int64_t KiB = 1024;
constexpr std::int64_t MiB = 1024 * KiB;
constexpr std::size_t largest_message = 64 * MiB;
// The writer hands its buffer to async_write about this often; here it is simply emptied.
constexpr std::size_t write_flush_threshold = 1 * MiB;
constexpr std::size_t never_flush = std::numeric_limits<std::size_t>::max();
constexpr int frames_per_batch = 64;

// Benchmark setup and results are checked; a failure is a bug, not a figure: stop loudly.
void check(bool ok, const char* what) {
  if (!ok) [[unlikely]] {
    std::fprintf(stderr, "fragment_bench: %s\n", what);
    std::abort();
  }
}

Envelope make_envelope(std::size_t payload_size) {
  Bytes payload(payload_size);
  for (std::size_t i = 0; i < payload_size; ++i) payload[i] = static_cast<std::byte>(i & 0xFFu);
  return Envelope(42, 7, std::move(payload));
}

// An Envelope whose encoded form is exactly `message_size` bytes.
Envelope make_message(std::size_t message_size) {
  return make_envelope(message_size - Envelope::header_size);
}

Bytes encode(const Envelope& e) {
  Bytes out(e.encoded_size());
  e.encode_to(out);
  return out;
}

ReassemblyLimits large_limits(std::size_t retained = 0) {
  ReassemblyLimits limits;
  limits.max_message_size = largest_message;
  limits.max_buffered_bytes = largest_message;
  limits.retained_buffer_bytes = retained;
  return limits;
}

// Frames every remaining fragment of `f` into `out`, emptying `out` once it holds more than
// `flush_at` bytes.
template <class S>
void write_fragments(Fragmenter<S, Envelope>& f, const LengthDelimitedCodec& codec, ByteBuffer& out,
                     std::size_t flush_at) {
  while (!f.done()) {
    const auto ec = codec.encode(f.next_fragment_size(), out, [&](std::span<std::byte> body) {
      check(f.write_next(body) == body.size(), "write_next short");
    });
    check(!ec, "fragment frame encode failed");
    if (out.size() > flush_at) {
      benchmark::DoNotOptimize(out.readable().data());
      benchmark::ClobberMemory();
      out.clear();
    }
  }
}

// The frame bodies in `wire`, as the reader's codec finds them.
Bodies frame_bodies(const ByteBuffer& wire) {
  const LengthDelimitedCodec codec;
  Bodies bodies;
  for (auto rest = wire.readable(); !rest.empty();) {
    const auto r = codec.decode(rest);
    check(r.status == DecodeStatus::frame, "frame decode failed");
    bodies.push_back(r.frame);
    rest = rest.subspan(r.consumed);
  }
  return bodies;
}

// `message` as the frames of its fragments, back to back as in a read buffer.
template <class S>
ByteBuffer fragment_frames(const Envelope& message, std::span<const std::byte> encoded) {
  Fragmenter<S, Envelope> f;
  f.reset(message, encoded, 1);
  ByteBuffer wire;
  write_fragments(f, LengthDelimitedCodec{}, wire, never_flush);
  return wire;
}

// Minor page faults of this process so far (0 where getrusage() is not available).
std::int64_t minor_faults() {
#ifdef WIREFRAME_BENCH_HAS_RUSAGE
  rusage usage{};
  if (getrusage(RUSAGE_SELF, &usage) == 0) return usage.ru_minflt;
#endif
  return 0;
}

template <class S>
ReassemblyResult reassemble(Reassembler<S>& r, const Bodies& bodies,
                            std::chrono::steady_clock::time_point now) {
  ReassemblyResult result;
  for (const auto body : bodies) result = r.feed(body, now);
  return result;
}

void report_messages(benchmark::State& state, std::size_t message_size, std::size_t fragments) {
  const auto iterations = static_cast<std::int64_t>(state.iterations());
  state.SetBytesProcessed(iterations * static_cast<std::int64_t>(message_size));
  state.SetItemsProcessed(iterations * static_cast<std::int64_t>(fragments));
}

void report_frames(benchmark::State& state, std::size_t payload_size) {
  const auto frames = static_cast<std::int64_t>(state.iterations()) * frames_per_batch;
  state.SetItemsProcessed(frames);
  state.SetBytesProcessed(frames * static_cast<std::int64_t>(payload_size));
}

// --- Large messages ------------------------------------------------------------------------

template <class S>
void BM_split(benchmark::State& state) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const Envelope message = make_message(size);
  const Bytes encoded = encode(message);  // once: splitting is what is measured
  const LengthDelimitedCodec codec;
  Fragmenter<S, Envelope> fragmenter;
  ByteBuffer out;
  std::uint64_t id = 0;
  for (auto _ : state) {
    fragmenter.reset(message, encoded, ++id);
    write_fragments(fragmenter, codec, out, write_flush_threshold);
  }
  report_messages(state, size, fragmenter.fragment_count());
}

// What the connection's writer does with a large message (FragmentAdapter): the Envelope's
// header encoded into the lane's buffer, then per fragment the codec prefix and fragment header
// into the write batch and the payload as borrowed slices of the header and of the Envelope's
// own payload; a batch is "written" at 64 KiB.
template <class S>
void split_on_connection(benchmark::State& state, const ReassemblyLimits& limits) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const LengthDelimitedCodec codec;
  FragmentAdapter<S, LengthDelimitedCodec, Envelope> adapter(codec, S{}, limits);
  std::optional<Envelope> message = make_message(size);
  GatherBuffer batch;
  std::size_t fragments = 0;
  auto flush = [&] {
    benchmark::DoNotOptimize(batch.buffers().data());
    batch.clear();
    adapter.written();
  };
  for (auto _ : state) {
    std::error_code ec;
    fragments = 1;
    std::optional<Envelope> back = adapter.write(detail::Lane::response, std::move(*message), batch, ec);
    while (!back && adapter.active(detail::Lane::response)) {
      if (batch.size() >= 64 * 1024) flush();
      back = adapter.write_next(detail::Lane::response, batch, ec);
      ++fragments;
    }
    check(!ec, "fragment write failed");
    flush();
    if (!back) back = adapter.reclaim(detail::Lane::response);  // its payload was borrowed until now
    message = std::move(back);
  }
  report_messages(state, size, fragments);
}

template <class S>
void BM_split_connection(benchmark::State& state) {
  split_on_connection<S>(state, large_limits());
}

// retained_buffer_bytes also keeps a lane's buffer: each message reuses the previous one's.
template <class S>
void BM_split_connection_retained(benchmark::State& state) {
  split_on_connection<S>(state, large_limits(largest_message));
}

template <class S>
void reassemble_messages(benchmark::State& state, const ReassemblyLimits& limits) {
  const auto size = static_cast<std::size_t>(state.range(0));
  const auto now = std::chrono::steady_clock::now();
  Reassembler<S> reassembler(S{}, limits);
  ByteBuffer wire;
  {
    const Envelope message = make_message(size);
    const Bytes encoded = encode(message);
    wire = fragment_frames<S>(message, encoded);
    const auto first = reassemble(reassembler, frame_bodies(wire), now);
    check(first.status == ReassemblyStatus::complete, "reassembly incomplete");
    check(first.message.size() == size &&
              std::memcmp(first.message.data(), encoded.data(), size) == 0,
          "reassembled bytes differ");
  }
  const Bodies bodies = frame_bodies(wire);
  const std::int64_t faults_before = minor_faults();
  for (auto _ : state) {
    const auto result = reassemble(reassembler, bodies, now);
    check(result.status == ReassemblyStatus::complete && result.message.size() == size,
          "reassembly failed");
    benchmark::DoNotOptimize(result.message.data());
    benchmark::ClobberMemory();
  }
  state.counters["faults"] = benchmark::Counter(static_cast<double>(minor_faults() - faults_before),
                                                benchmark::Counter::kAvgIterations);
  report_messages(state, size, bodies.size());
}

template <class S>
void BM_reassemble(benchmark::State& state) {
  reassemble_messages<S>(state, large_limits());
}

// With ReassemblyLimits::retained_buffer_bytes: each message reuses the previous one's buffer.
template <class S>
void BM_reassemble_retained(benchmark::State& state) {
  reassemble_messages<S>(state, large_limits(largest_message));
}

// --- Unfragmented messages: encode ---------------------------------------------------------

// Runs `encode_one(out)` frames_per_batch times per iteration; `out` is drained per batch, as
// the writer drains it with one async_write.
template <class EncodeOne>
void run_encode_batches(benchmark::State& state, std::size_t payload_size, EncodeOne encode_one) {
  ByteBuffer out;
  for (auto _ : state) {
    for (int i = 0; i < frames_per_batch; ++i) encode_one(out);
    benchmark::DoNotOptimize(out.readable().data());
    benchmark::ClobberMemory();
    out.clear();
  }
  report_frames(state, payload_size);
}

void BM_encode_plain(benchmark::State& state) {
  const auto payload_size = static_cast<std::size_t>(state.range(0));
  const LengthDelimitedCodec codec;
  const Envelope env = make_envelope(payload_size);
  run_encode_batches(state, payload_size, [&](ByteBuffer& out) {
    const auto ec = codec.encode(env.encoded_size(), out,
                                 [&](std::span<std::byte> dst) { env.encode_to(dst); });
    check(!ec, "encode failed");
  });
}

// The Fragmenter's single-fragment path: the Envelope is encoded into scratch bytes, which
// write_next() copies behind the strategy's header.
template <class S>
void BM_encode_single_fragment(benchmark::State& state) {
  const auto payload_size = static_cast<std::size_t>(state.range(0));
  const LengthDelimitedCodec codec;
  const Envelope env = make_envelope(payload_size);
  Bytes scratch;
  Fragmenter<S, Envelope> f;
  std::uint64_t id = 0;
  run_encode_batches(state, payload_size, [&](ByteBuffer& out) {
    scratch.resize(env.encoded_size());
    env.encode_to(scratch);
    f.reset(env, scratch, ++id);
    const auto ec = codec.encode(f.next_fragment_size(), out,
                                 [&](std::span<std::byte> body) { f.write_next(body); });
    check(!ec && f.done(), "single fragment encode failed");
  });
}

// For reference: the same frame bytes with the header written in front of an in-place encode
// (no scratch copy). Not what the Fragmenter does.
template <class S>
void BM_encode_single_fragment_in_place(benchmark::State& state) {
  const auto payload_size = static_cast<std::size_t>(state.range(0));
  const LengthDelimitedCodec codec;
  const Envelope env = make_envelope(payload_size);
  const S strategy;
  FragmentMeta meta;
  meta.is_final = true;
  meta.payload_length = env.encoded_size();
  meta.total_length = env.encoded_size();
  meta.sequence = 0;
  std::uint64_t id = 0;
  run_encode_batches(state, payload_size, [&](ByteBuffer& out) {
    meta.message_id = ++id;
    const std::size_t header = strategy.header_size(meta, env);
    const auto ec = codec.encode(header + meta.payload_length, out, [&](std::span<std::byte> body) {
      strategy.encode_header(meta, env, body.first(header));
      env.encode_to(body.subspan(header));
    });
    check(!ec, "in-place single fragment encode failed");
  });
}

// --- Unfragmented messages: decode ---------------------------------------------------------

// A read buffer of frames_per_batch plain frames of `env`.
ByteBuffer plain_batch(const Envelope& env) {
  const LengthDelimitedCodec codec;
  ByteBuffer wire;
  for (int i = 0; i < frames_per_batch; ++i) {
    const auto ec = codec.encode(env.encoded_size(), wire,
                                 [&](std::span<std::byte> dst) { env.encode_to(dst); });
    check(!ec, "encode failed");
  }
  return wire;
}

// A read buffer of frames_per_batch single-fragment frames of `env`, message ids 1, 2, ...
template <class S>
ByteBuffer single_fragment_batch(const Envelope& env) {
  const Bytes encoded = encode(env);
  const LengthDelimitedCodec codec;
  Fragmenter<S, Envelope> f;
  ByteBuffer wire;
  for (int i = 0; i < frames_per_batch; ++i) {
    f.reset(env, encoded, static_cast<std::uint64_t>(i) + 1);
    check(f.fragment_count() == 1, "message does not fit one fragment");
    write_fragments(f, codec, wire, never_flush);
  }
  return wire;
}

void BM_decode_plain(benchmark::State& state) {
  const auto payload_size = static_cast<std::size_t>(state.range(0));
  const ByteBuffer wire = plain_batch(make_envelope(payload_size));
  const Bodies bodies = frame_bodies(wire);
  Envelope decoded;
  for (auto _ : state) {
    for (const auto body : bodies) {
      check(!decoded.decode_from(body), "decode failed");
      benchmark::DoNotOptimize(decoded.payload().data());
    }
    benchmark::ClobberMemory();
  }
  report_frames(state, payload_size);
}

template <class S>
void BM_decode_single_fragment(benchmark::State& state) {
  const auto payload_size = static_cast<std::size_t>(state.range(0));
  const ByteBuffer wire = single_fragment_batch<S>(make_envelope(payload_size));
  const Bodies bodies = frame_bodies(wire);
  const auto now = std::chrono::steady_clock::now();
  Reassembler<S> reassembler;
  {  // the zero-copy path: the message is a view into the frame
    const auto r = reassembler.feed(bodies.front(), now);
    check(r.status == ReassemblyStatus::complete &&
              r.message.data() + r.message.size() == bodies.front().data() + bodies.front().size(),
          "single fragment not delivered in place");
  }
  Envelope decoded;
  for (auto _ : state) {
    for (const auto body : bodies) {
      const auto r = reassembler.feed(body, now);
      check(r.status == ReassemblyStatus::complete && !decoded.decode_from(r.message),
            "single fragment decode failed");
      benchmark::DoNotOptimize(decoded.payload().data());
    }
    benchmark::ClobberMemory();
  }
  report_frames(state, payload_size);
}

// --- Registration --------------------------------------------------------------------------

void message_sizes(benchmark::internal::Benchmark* b) {
  b->Arg(64 * KiB)->Arg(MiB)->Arg(64 * MiB)->Unit(benchmark::kMicrosecond);
}
void payload_sizes(benchmark::internal::Benchmark* b) { b->Arg(64)->Arg(KiB); }

BENCHMARK_TEMPLATE(BM_split, LenFlag32K)->Apply(message_sizes);
BENCHMARK_TEMPLATE(BM_split, Multiplexed)->Apply(message_sizes);
BENCHMARK_TEMPLATE(BM_split_connection, LenFlag32K)->Apply(message_sizes);
BENCHMARK_TEMPLATE(BM_split_connection, Multiplexed)->Apply(message_sizes);
BENCHMARK_TEMPLATE(BM_split_connection_retained, LenFlag32K)->Apply(message_sizes);
BENCHMARK_TEMPLATE(BM_split_connection_retained, Multiplexed)->Apply(message_sizes);
BENCHMARK_TEMPLATE(BM_reassemble, LenFlag32K)->Apply(message_sizes);
BENCHMARK_TEMPLATE(BM_reassemble, Multiplexed)->Apply(message_sizes);
BENCHMARK_TEMPLATE(BM_reassemble_retained, LenFlag32K)->Apply(message_sizes);
BENCHMARK_TEMPLATE(BM_reassemble_retained, Multiplexed)->Apply(message_sizes);

BENCHMARK(BM_encode_plain)->Apply(payload_sizes);
BENCHMARK_TEMPLATE(BM_encode_single_fragment, LenFlag32K)->Apply(payload_sizes);
BENCHMARK_TEMPLATE(BM_encode_single_fragment, Multiplexed)->Apply(payload_sizes);
BENCHMARK_TEMPLATE(BM_encode_single_fragment_in_place, LenFlag32K)->Apply(payload_sizes);
BENCHMARK_TEMPLATE(BM_encode_single_fragment_in_place, Multiplexed)->Apply(payload_sizes);

BENCHMARK(BM_decode_plain)->Apply(payload_sizes);
BENCHMARK_TEMPLATE(BM_decode_single_fragment, LenFlag32K)->Apply(payload_sizes);
BENCHMARK_TEMPLATE(BM_decode_single_fragment, Multiplexed)->Apply(payload_sizes);

}  // namespace
}  // namespace wireframe

BENCHMARK_MAIN();
