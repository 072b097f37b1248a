#include "unix_socket_file.hpp"

#include <sys/stat.h>

#include <system_error>
#include <utility>

#include "wireframe/log/log.hpp"

namespace wireframe::detail {

namespace {

// A socket file nobody accepts on: connecting is refused at once. A live server's socket
// accepts (the connection is closed again at once), so its file is left alone.
bool is_stale_socket(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return false;  // not there: nothing to remove
  if (!S_ISSOCK(st.st_mode)) {
    throw std::system_error(std::make_error_code(std::errc::file_exists),
                            "wireframe: bind_unix: " + path + " exists and is not a socket");
  }
  asio::io_context io;
  asio::local::stream_protocol::socket probe(io);
  asio::error_code ec;
  probe.connect(asio::local::stream_protocol::endpoint(path), ec);
  if (!ec) {
    throw std::system_error(std::make_error_code(std::errc::address_in_use),
                            "wireframe: bind_unix: a server is listening on " + path);
  }
  return ec == asio::error::connection_refused;
}

}  // namespace

UnixSocketFile& UnixSocketFile::operator=(UnixSocketFile&& other) noexcept {
  if (this != &other) {
    remove();
    path_ = std::exchange(other.path_, {});
  }
  return *this;
}

UnixSocketFile UnixSocketFile::bind(asio::local::stream_protocol::acceptor& acceptor, const std::string& path,
                                    std::optional<std::filesystem::perms> permissions) {
  if (is_stale_socket(path)) {
    std::error_code ignored;
    std::filesystem::remove(path, ignored);
    log(LogLevel::info, "bind_unix: removed the stale socket file {}", path);
  }
  const asio::local::stream_protocol::endpoint endpoint(path);
  acceptor.open(endpoint.protocol());
  acceptor.bind(endpoint);  // throws std::system_error
  UnixSocketFile file(path);
  if (permissions) std::filesystem::permissions(path, *permissions);  // throws; `file` removes it
  return file;
}

void UnixSocketFile::remove() noexcept {
  if (path_.empty()) return;
  std::error_code ignored;
  std::filesystem::remove(path_, ignored);
  path_.clear();
}

}  // namespace wireframe::detail
