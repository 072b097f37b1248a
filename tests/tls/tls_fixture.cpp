#include "tls_fixture.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace wireframe::test::tls {

namespace {

struct CertDir {
  CertDir() {
    path = (std::filesystem::temp_directory_path() / ("wf-certs-" + std::to_string(::getpid()))).string();
    const std::string command = std::string("bash '") + WIREFRAME_TEST_CERTS_SCRIPT + "' '" + path + "'";
    if (std::system(command.c_str()) != 0) throw std::runtime_error("could not make test certificates: " + command);
  }
  ~CertDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path, ignored);
  }
  std::string path;
};

}  // namespace

const std::string& cert_dir() {
  static const CertDir dir;
  return dir.path;
}

struct LogCapture::Sink final : spdlog::sinks::base_sink<std::mutex> {
  std::vector<std::string> snapshot() {
    std::lock_guard lock(mutex_);  // base_sink's, held while it writes too
    return lines;
  }

 protected:
  std::vector<std::string> lines;
  void sink_it_(const spdlog::details::log_msg& msg) override { lines.emplace_back(msg.payload.data(), msg.payload.size()); }
  void flush_() override {}
};

LogCapture::LogCapture() : sink_(std::make_shared<Sink>()) {
  auto logger = std::make_shared<spdlog::logger>("wireframe-test", sink_);
  logger->set_level(spdlog::level::debug);
  set_logger(std::move(logger));
}

LogCapture::~LogCapture() { set_logger(nullptr); }

std::vector<std::string> LogCapture::lines() const {
  return sink_->snapshot();
}

bool LogCapture::has(std::initializer_list<std::string_view> parts) const {
  for (const auto& line : lines()) {
    bool all = true;
    for (auto part : parts) all = all && line.find(part) != std::string::npos;
    if (all) return true;
  }
  return false;
}

}  // namespace wireframe::test::tls
