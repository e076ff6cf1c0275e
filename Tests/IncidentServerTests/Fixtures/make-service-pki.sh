#!/usr/bin/env bash
# Makes a throw-away PKI for the IncidentServer tests in directory $1: ca.pem, server.pem/.key (localhost,
# 127.0.0.1) and client certificates NAME.pem/.key whose common names are the identities the tests use:
# llm-shield, secops, viewer (known to the default config) and stranger (known to none).
# EC P-256 keys for fast handshakes; nothing here outlives the test run.
set -euo pipefail
dir=${1:?usage: make-service-pki.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.tmp" && openssl pkcs8 -topk8 -nocrypt -in "$1.tmp" -out "$1" && rm "$1.tmp"; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=IncidentServer Test CA" -out ca.pem \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null

leaf() { # name common-name extensions
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null
    printf '%s\n' "$3" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -sha256 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

leaf server localhost 'basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1'
for name in llm-shield secops viewer stranger; do
    leaf "$name" "$name" 'basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth'
done

# Keys that sign bearer JWTs in the token tests: RS256 (RSA 2048) and ES256 (P-256), private and public PEM,
# plus an RSA key the server does not know (for forged tokens).
for alg in rs256 es256 rogue-rs256; do
    case $alg in
        *rs256) openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "jwt-$alg.key" 2>/dev/null ;;
        es256) openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "jwt-$alg.key" 2>/dev/null ;;
    esac
    openssl pkey -in "jwt-$alg.key" -pubout -out "jwt-$alg.pub.pem"
done
