#!/usr/bin/env bash
# Makes the development PKI under certs/: a CA, the server's certificate (localhost, 127.0.0.1)
# and client certificates for the identities the development config knows.
# Private keys stay out of git (.gitignore); rerunning keeps what exists.
set -euo pipefail
cd "$(dirname "$0")"

days=825
if [[ ! -f ca.key ]]; then
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout ca.key -out ca.crt -days 3650 -subj "/O=incident-manager dev/CN=incident-manager dev CA" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    rm -f server.crt ./*-client.crt
fi

# issue NAME SUBJECT_CN EXTENSIONS
issue() {
    local name=$1 cn=$2 ext=$3
    [[ -f $name.crt && -f $name.key ]] && return 0
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$name.key" -out "$name.csr" -subj "/O=incident-manager dev/CN=$cn" 2>/dev/null
    openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial \
        -out "$name.crt" -days "$days" -extfile <(printf '%s\n' "$ext") 2>/dev/null
    rm -f "$name.csr"
    chmod 600 "$name.key"
}

issue server localhost "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1
extendedKeyUsage=serverAuth
basicConstraints=CA:FALSE"
# LLM-Shield, the scanner that creates incidents.
issue llm-shield-client llm-shield "subjectAltName=URI:spiffe://incident-manager.dev/llm-shield
extendedKeyUsage=clientAuth
basicConstraints=CA:FALSE"
# An operator of the security team using incidentctl and grpcurl: may do everything.
issue secops-client secops "subjectAltName=URI:spiffe://incident-manager.dev/secops
extendedKeyUsage=clientAuth
basicConstraints=CA:FALSE"
# A dashboard that only reads and streams.
issue viewer-client viewer "subjectAltName=URI:spiffe://incident-manager.dev/viewer
extendedKeyUsage=clientAuth
basicConstraints=CA:FALSE"
echo "certs: development PKI ready in $(pwd)"
