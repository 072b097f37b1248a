# shellcheck shell=bash
# Shared helpers for .ci/test and .ci/demo (sourced, not run).

# Debian packages wireframe needs to build, test and benchmark.
# --no-install-recommends matters: recommends pull in Boost 1.74 with its older Boost.Asio.
# redis-tools: the RESP example's ctest talks to it with the real redis-cli.
# libboost-dev: Boost.CRC (header-only) for the checked_echo example's CRC-32C frame processor.
# socat: a client that is not ours for the Unix domain socket example test.
# libssl-dev: OpenSSL 3 for wireframe::tls; openssl: the TLS tests make their certificates with
# it, and its s_client is a TLS client that is not ours.
# clang-14, libfuzzer-14-dev: the fuzz targets (fuzz/, the fuzz preset).
# libcli11-dev: CLI11 (header-only) parses the example programs' command lines.
# postgresql-client, python3-psycopg2: pg_server's tests drive it with psql and psycopg2.
# python3: tools/doc_blocks.py extracts the documentation's C++ blocks for the build to compile.
# mosquitto-clients: mqtt_broker's test drives it with mosquitto_sub and mosquitto_pub.
# prometheus-cpp-dev: wireframe::prometheus (the /metrics endpoint); curl scrapes it in a test.
WIREFRAME_PACKAGES=(cmake ninja-build g++ ccache libasio-dev libfmt-dev libspdlog-dev catch2
                    librapidcheck-dev libbenchmark-dev redis-tools libboost-dev socat
                    libssl-dev openssl clang-14 libfuzzer-14-dev libcli11-dev
                    postgresql-client python3-psycopg2 python3 mosquitto-clients
                    prometheus-cpp-dev curl)

log() { printf '\n==> %s\n' "$*" >&2; }

# Installs whichever of WIREFRAME_PACKAGES are missing; does not touch apt at all when none are.
install_packages() {
  local missing=() pkg
  for pkg in "${WIREFRAME_PACKAGES[@]}"; do
    # dpkg -s also succeeds for removed-but-configured packages: require "install ok installed".
    if ! dpkg -s "$pkg" 2>/dev/null | grep -q '^Status: install ok installed$'; then
      missing+=("$pkg")
    fi
  done
  if ((${#missing[@]} == 0)); then
    log "all packages already installed"
    return 0
  fi

  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null || { echo "need root (or sudo) to install: ${missing[*]}" >&2; return 1; }
    sudo=(sudo)
  fi
  log "installing: ${missing[*]}"
  "${sudo[@]}" apt-get update
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
}
