#include "tls_fixture.hpp"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>


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

}  // namespace wireframe::test::tls
