// blob_server: an in-memory blob store over a protocol whose frames are at most 32 KiB. Blobs of
// several MiB travel as one logical message split into fragments (wireframe's transparent
// fragmentation, Multiplexed strategy): handlers see whole PUT requests and return whole GET
// replies, the connection splits and reassembles. The protocol, byte by byte, is in
// docs/blob-server-protocol.md. Prints "listening on HOST:PORT" (over TLS "listening on
// tls:HOST:PORT") as its first stdout line; logs go to stderr. Stops gracefully on SIGINT/SIGTERM
// and exits 0.
//
//   blob_server [--host ADDR] [--port N] [--workers N] [--max-store-mib N]
//               [tls, limits: see --help]
#include <wireframe/wireframe.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "../blob_common/blob_checksum.hpp"
#include "../common/cli.hpp"
#include "../common/endpoint_flags.hpp"
#include "../common/endpoint_text.hpp"
#include "../common/limit_flags.hpp"
#include "../common/metrics_flags.hpp"
#include "../common/tls_flags.hpp"

using namespace wireframe;

namespace {

using example::endpoint_text;

// Message ids (docs/blob-server-protocol.md).
constexpr std::uint32_t put_id = 1, get_id = 2, stat_id = 3;

// Transport limits; blob_client uses the same values (there is no negotiation).
constexpr std::size_t max_frame_length = 32 * 1024;                    // codec: largest frame body
constexpr std::size_t fragment_payload = max_frame_length - Multiplexed::max_header_size();  // 32747
constexpr std::size_t max_message_size = 64 * 1024 * 1024;             // largest reassembled message

// The largest blob: its GET reply (12-byte envelope header, u64 checksum, the blob) must be a
// message the client accepts. 64 MiB - 20 = 67 108 844 bytes.
constexpr std::size_t max_blob_size = max_message_size - Envelope::header_size - 8;
constexpr std::size_t max_name = 255;

void store_be(std::byte* out, std::uint64_t value, std::size_t width) {
  for (std::size_t i = width; i-- > 0; value >>= 8) out[i] = static_cast<std::byte>(value & 0xff);
}

// A PUT or GET payload starts with u16 BE name length and the name: returns the name's length
// when it is 1..255 bytes and present in full.
std::optional<std::size_t> name_length(std::span<const std::byte> payload) {
  if (payload.size() < 2) return std::nullopt;
  const std::size_t length =
      std::to_integer<std::size_t>(payload[0]) << 8 | std::to_integer<std::size_t>(payload[1]);
  if (length == 0 || length > max_name || payload.size() - 2 < length) return std::nullopt;
  return length;
}

std::string name_of(std::span<const std::byte> payload, std::size_t length) {
  return {reinterpret_cast<const char*>(payload.data() + 2), length};
}

struct Blob {
  std::vector<std::byte> bytes;
  std::uint64_t checksum = 0;
};

// Shared by every connection on every worker thread: one mutex guards the map. Blobs are
// immutable once stored; a GET takes a reference under the lock and copies outside it.
struct BlobStore {
  BlobStore(std::shared_ptr<spdlog::logger> logger, std::uint64_t max_bytes)
      : log(std::move(logger)), capacity(max_bytes) {}

  const std::shared_ptr<spdlog::logger> log;
  const std::uint64_t capacity;  // largest sum of blob sizes
  std::mutex mutex;
  std::unordered_map<std::string, std::shared_ptr<const Blob>> blobs;
  std::uint64_t total_bytes = 0;
};

using Reply = asio::awaitable<Response<Envelope>>;

// A request whose payload breaks the protocol: answered with the library's error frame.
Response<Envelope> malformed() {
  return Response<Envelope>::error(
      WireframeError<NoProtocolError>::io(make_error_code(errc::malformed_message)));
}

// A refused request: the error frame (id 0xFFFFFFFF) with the request's correlation id and a
// text starting with a fixed keyword ("not found", "too large", "store full").
Envelope refusal(const Envelope& request, const std::string& text) {
  return Envelope(error_message_id, request.correlation_id(), std::string_view(text));
}

// Two u64 BE fields.
std::vector<std::byte> two_u64(std::uint64_t a, std::uint64_t b) {
  std::vector<std::byte> out(16);
  store_be(out.data(), a, 8);
  store_be(out.data() + 8, b, 8);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli("An in-memory blob store over 32 KiB frames (docs/blob-server-protocol.md).",
               "blob_server");
  example::use_conventions(cli);
  example::ListenFlags listen_flags(7880, 2);
  unsigned long max_store_mib = 1024;
  example::TlsFlags tls;
  example::LimitFlags limits;
  example::MetricsFlags metrics;
  listen_flags.add_to(cli);
  cli.add_option("--max-store-mib", max_store_mib, "total blob bytes kept in memory, in MiB")
      ->type_name("N")
      ->transform(example::decimal(0, 1024 * 1024));
  tls.add_server_flags(cli);
  limits.add_to(cli);
  metrics.add_to(cli);
  if (const auto status = example::parse_flags(cli, argc, argv)) return *status;
  if (const int status = tls.prepare_server("blob_server", false)) return status;

  auto log = spdlog::stderr_color_mt("blob_server");
  set_logger(log);

  // PUT: u16 name length, name, blob bytes. Stores (or replaces) the blob; the reply carries
  // the stored size and checksum so the client can check what arrived.
  auto put = [](Envelope& request, ConnectionContext& ctx) -> Reply {
    const auto length = name_length(request.payload());
    if (!length) co_return malformed();
    BlobStore& store = ctx.state<BlobStore>();
    const std::string name = name_of(request.payload(), *length);
    const std::size_t size = request.payload().size() - 2 - *length;
    if (size > max_blob_size) {
      co_return refusal(request, fmt::format("too large: blob of {} bytes, at most {}", size,
                                             max_blob_size));
    }
    // The request's payload is ours until the reply is written: take its buffer rather than
    // copy a blob of up to 64 MiB, and drop the name in front.
    auto blob = std::make_shared<Blob>();
    blob->bytes = std::move(request.payload_mut());
    blob->bytes.erase(blob->bytes.begin(), blob->bytes.begin() + 2 + static_cast<std::ptrdiff_t>(*length));
    blob->checksum = blob::fnv1a64(blob->bytes);
    const std::uint64_t checksum = blob->checksum;
    bool stored = false;
    std::uint64_t total = 0;
    {
      std::lock_guard lock(store.mutex);
      const auto it = store.blobs.find(name);
      const std::uint64_t replaced = it == store.blobs.end() ? 0 : it->second->bytes.size();
      if (store.total_bytes - replaced + size <= store.capacity) {
        store.total_bytes = store.total_bytes - replaced + size;
        store.blobs.insert_or_assign(name, std::move(blob));
        stored = true;
      }
      total = store.total_bytes;
    }
    if (!stored) {
      store.log->warn("PUT {} ({} bytes) refused: store full", name, size);
      co_return refusal(request, fmt::format("store full: {} bytes stored, limit {}", total,
                                             store.capacity));
    }
    store.log->info("PUT {} {} bytes checksum {:#018x} (connection {})", name, size, checksum,
                    ctx.id());
    co_return Envelope(put_id, request.correlation_id(), two_u64(size, checksum));
  };

  // GET: u16 name length, name (nothing after it). The reply is u64 checksum + the blob: a
  // message of up to 64 MiB that the connection sends as fragments of at most 32 KiB.
  auto get = [](Envelope& request, ConnectionContext& ctx) -> Reply {
    const auto length = name_length(request.payload());
    if (!length || request.payload().size() != 2 + *length) co_return malformed();
    BlobStore& store = ctx.state<BlobStore>();
    const std::string name = name_of(request.payload(), *length);
    std::shared_ptr<const Blob> blob;
    {
      std::lock_guard lock(store.mutex);
      if (const auto it = store.blobs.find(name); it != store.blobs.end()) blob = it->second;
    }
    if (!blob) {
      store.log->info("GET {}: not found (connection {})", name, ctx.id());
      co_return refusal(request, fmt::format("not found: {}", name));
    }
    std::vector<std::byte> payload(8 + blob->bytes.size());
    store_be(payload.data(), blob->checksum, 8);
    if (!blob->bytes.empty()) std::memcpy(payload.data() + 8, blob->bytes.data(), blob->bytes.size());
    store.log->info("GET {} {} bytes (connection {})", name, blob->bytes.size(), ctx.id());
    co_return Envelope(get_id, request.correlation_id(), std::move(payload));
  };

  // STAT: empty payload; reply u64 number of blobs + u64 sum of their sizes.
  auto stat = [](Envelope& request, ConnectionContext& ctx) -> Reply {
    if (!request.payload().empty()) co_return malformed();
    BlobStore& store = ctx.state<BlobStore>();
    std::uint64_t count = 0, total = 0;
    {
      std::lock_guard lock(store.mutex);
      count = store.blobs.size();
      total = store.total_bytes;
    }
    co_return Envelope(stat_id, request.correlation_id(), two_u64(count, total));
  };

  auto opened = [log](ConnectionContext& ctx) {
    log->info("connection {} from {} opened", ctx.id(), endpoint_text(ctx.peer()));
  };
  auto closed = [log](ConnectionContext& ctx, std::error_code reason) {
    log->info("connection {} closed ({})", ctx.id(), reason ? reason.message() : "orderly");
  };

  LengthDelimitedCodec codec(LengthDelimitedCodec::Options{
      .prefix_width = 4, .endian = Endian::big, .max_frame_length = max_frame_length});
  ReassemblyLimits reassembly;
  reassembly.max_message_size = max_message_size;
  reassembly.max_buffered_bytes = max_message_size;  // per connection
  reassembly.reassembly_timeout = std::chrono::seconds(30);
  reassembly.max_partials = 4;

  auto make_app = [&] {
    auto builder = WireframeApp<>();
    limits.apply(builder)
        .with_codec(codec)
        .metrics(metrics.metrics())  // null without --metrics-port: nothing counted
        .route(put_id, put)
        .route(get_id, get)
        .route(stat_id, stat)
        .with_state(std::make_shared<BlobStore>(log, std::uint64_t{max_store_mib} << 20))
        .unknown_id_policy(UnknownIdPolicy::error_frame)
        .handler_error_policy(HandlerErrorPolicy::error_frame)
        .on_connection_setup(opened)
        .on_connection_teardown(closed);
    // Any reassembly error closes the connection: a PUT over 64 MiB (or one still incomplete
    // after 30 s) would otherwise be dropped without a reply, and its client would wait for one
    // forever. with_fragmentation() returns the app with the fragment layer in its type.
    return builder
        .with_fragmentation(Multiplexed(fragment_payload), reassembly, FragmentErrorPolicy::close_connection)
        .build();
  };
  decltype(make_app()) app;
  try {
    app = make_app();
  } catch (const std::exception& e) {
    std::cerr << "blob_server: bad configuration: " << e.what() << '\n';
    return 1;
  }

  example::log_limits(*log, app->settings, app->codec.max_frame_length(), limits);
  WireframeServer server(app);
  limits.apply(server);
  try {
    server.workers(listen_flags.workers).stop_on_signals();
    tls.bind(server, app, listen_flags.host, listen_flags.port);
  } catch (const std::exception& e) {
    std::cerr << "blob_server: cannot listen on " << tls.prefix() << listen_flags.host << ":"
              << listen_flags.port << ": " << e.what() << '\n';
    return 1;
  }
  std::cout << "listening on " << tls.bound_text(server) << std::endl;
  if (const int status = metrics.start("blob_server", listen_flags.host)) return status;

  server.run();  // returns after SIGINT/SIGTERM, once every connection has ended
  log->info("stopped");
  return server.drain_interrupted() ? 130 : 0;  // a second signal cut the drain short
}
