#pragma once
// UnixSocketFile: the file of a Unix domain socket the server listens on. Binding one takes
// care of a file left behind by a server that died (a "stale" socket: nobody accepts on it),
// but never of a live server's socket or of a file that is not a socket; the file is removed
// again when the server stops (and when this object goes).

#include <filesystem>
#include <optional>
#include <string>

#include <asio/local/stream_protocol.hpp>

namespace wireframe::detail {

class UnixSocketFile {
 public:
  UnixSocketFile() = default;
  UnixSocketFile(UnixSocketFile&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  UnixSocketFile& operator=(UnixSocketFile&& other) noexcept;
  UnixSocketFile(const UnixSocketFile&) = delete;
  UnixSocketFile& operator=(const UnixSocketFile&) = delete;
  ~UnixSocketFile() { remove(); }

  // Opens `acceptor` and binds it to `path` (removing a stale socket file first), then sets
  // the file's permissions if given. Throws std::system_error: the path is taken by a live
  // server (address_in_use) or by something that is not a socket (file_exists), or bind failed.
  static UnixSocketFile bind(asio::local::stream_protocol::acceptor& acceptor, const std::string& path,
                             std::optional<std::filesystem::perms> permissions);

  // Removes the socket file (once). Thread-compatible: called on worker 0 only.
  void remove() noexcept;
  [[nodiscard]] const std::string& path() const noexcept { return path_; }

 private:
  explicit UnixSocketFile(std::string path) : path_(std::move(path)) {}
  std::string path_;  // empty once removed
};

}  // namespace wireframe::detail
