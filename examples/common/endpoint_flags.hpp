#pragma once
// The flags that say where: where a server listens (--host, --port, --workers; --unix for
// echo_server) and where a client connects (--host, --port; --unix for echo_client). Each
// struct holds the values; add_to() puts its flags on a CLI::App, bound to them, so the struct
// must outlive the parse.

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>
#include <wireframe/detail/asio.hpp>

#include "cli.hpp"

namespace example {

// An IPv4 or IPv6 address literal: a server binds to an address, it does not resolve names.
inline CLI::Validator ip_literal() {
  auto check = [](std::string& text) -> std::string {
    asio::error_code ec;
    (void)asio::ip::make_address(text, ec);
    return ec ? "'" + text + "' is not an IPv4 or IPv6 address" : "";
  };
  return CLI::Validator(check, "");
}

// A server's listening address and threads. The defaults differ between the servers.
struct ListenFlags {
  ListenFlags(std::uint16_t default_port, unsigned long default_workers)
      : port(default_port), workers(default_workers) {}

  void add_to(CLI::App& app) {
    app.add_option("--host", host, "address to listen on (an IP address, not a name)")
        ->type_name("ADDR")
        ->check(ip_literal());
    port_option_ = app.add_option("--port", port, "TCP port, 0 = any free port")
                       ->type_name("N")
                       ->transform(decimal(0, 65535));
    app.add_option("--workers", workers, "worker threads")
        ->type_name("N")
        ->transform(decimal(1, 1024));
  }

  // After add_to(): --unix, which excludes --port.
  void add_unix_to(CLI::App& app) {
    app.add_option("--unix", unix_path, "listen on a Unix domain socket at PATH instead of TCP")
        ->type_name("PATH")
        ->check(non_empty())
        ->excludes(port_option_);
  }

  std::string host = "127.0.0.1";
  std::uint16_t port;
  unsigned long workers;
  std::string unix_path;  // empty: TCP on host:port

 private:
  CLI::Option* port_option_ = nullptr;
};

// The server a client talks to. --port is required unless add_unix_to() offers --unix.
struct ConnectFlags {
  void add_to(CLI::App& app) {
    app.add_option("--host", host, "server address or name")->type_name("HOST")->check(non_empty());
    port_option_ = app.add_option("--port", port, "server port")
                       ->type_name("N")
                       ->transform(decimal(1, 65535))
                       ->required();
  }

  // After add_to(): --unix instead of --port (and --host). --port is then optional, and the
  // caller checks that one of the two was given.
  void add_unix_to(CLI::App& app) {
    port_option_->required(false);
    app.add_option("--unix", unix_path,
                   "the server's Unix domain socket, instead of --host and --port")
        ->type_name("PATH")
        ->check(non_empty())
        ->excludes(port_option_);
  }

  std::string host = "127.0.0.1";
  std::optional<std::uint16_t> port;
  std::string unix_path;  // empty: TCP to host:port

 private:
  CLI::Option* port_option_ = nullptr;
};

}  // namespace example
