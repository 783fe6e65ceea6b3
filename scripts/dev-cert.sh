#!/bin/sh
# Makes a self-signed certificate for local HTTPS (development only):
#   scripts/dev-cert.sh [dir]   → dir/dev-cert.pem, dir/dev-key.pem (default dir: ./data/tls)
# then: TLS_CERT_PATH=data/tls/dev-cert.pem TLS_KEY_PATH=data/tls/dev-key.pem npm start
set -eu
dir="${1:-./data/tls}"
if ! command -v openssl >/dev/null 2>&1; then
  echo "dev-cert: openssl is not installed (Debian/Ubuntu: apt-get install openssl)" >&2
  exit 1
fi
mkdir -p "$dir"
# The key is for this machine only: readable by its owner alone.
umask 077
openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 365 \
  -keyout "$dir/dev-key.pem" -out "$dir/dev-cert.pem" \
  -subj "/CN=localhost" \
  -addext "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1" 2>/dev/null
echo "wrote $dir/dev-cert.pem and $dir/dev-key.pem (self-signed for localhost, 127.0.0.1, ::1; valid 365 days)"
echo "use: TLS_CERT_PATH=$dir/dev-cert.pem TLS_KEY_PATH=$dir/dev-key.pem"
