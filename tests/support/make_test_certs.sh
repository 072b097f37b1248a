#!/usr/bin/env bash
# Makes the certificates the TLS tests use, with Debian's openssl, into DIR (created):
#   ca.crt                       the test CA (its key: ca.key)
#   server.crt / server.key      CN=localhost, SAN localhost and 127.0.0.1, signed by the CA
#   client.crt / client.key      CN=wireframe-test-client, signed by the CA (mutual TLS)
#   rogue_ca.crt                 a CA nobody trusts
#   rogue_client.*, rogue_server.*   signed by it
# Keys are ECDSA P-256 (fast to make) and live only as long as the test's directory: no key is
# committed to the repository.
#
# Usage: make_test_certs.sh DIR
set -euo pipefail
dir=${1:?usage: make_test_certs.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }

ca() {  # ca NAME CN
  key "$1"
  openssl req -x509 -new -key "$1.key" -subj "/CN=$2" -days 2 -sha256 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    -out "$1.crt" 2>/dev/null
}

leaf() {  # leaf NAME CN CA EXTENSIONS
  key "$1"
  openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$3.crt" -CAkey "$3.key" -CAcreateserial -days 2 -sha256 \
    -extfile "$1.ext" -out "$1.crt" 2>/dev/null
  rm -f "$1.csr" "$1.ext"
}

server_ext='subjectAltName=DNS:localhost,IP:127.0.0.1
extendedKeyUsage=serverAuth'
client_ext='extendedKeyUsage=clientAuth'

ca ca "wireframe test CA"
leaf server localhost ca "$server_ext"
leaf client wireframe-test-client ca "$client_ext"
ca rogue_ca "rogue CA"
leaf rogue_server localhost rogue_ca "$server_ext"
leaf rogue_client rogue-client rogue_ca "$client_ext"
