#!/usr/bin/env bash
# Makes a throw-away PKI for the RPC tests, interop tests and benchmarks in directory $1:
#   ca.pem            CA "Test CA 1"       server.pem/.key  (SAN localhost, 127.0.0.1) from CA 1
#   client.pem/.key   CN llm-shield, URI spiffe://incident-manager.test/llm-shield, DNS shield.internal (CA 1)
#   ca2.pem           CA "Test CA 2"       client2.pem/.key, server2.pem/.key from CA 2
#   expired.pem/.key  from CA 1, valid 2020-01-01 .. 2020-01-02
# Keys are EC P-256 (fast handshakes). Nothing here is secret: it lives only for one test run.
set -euo pipefail
dir=${1:?usage: make-test-pki.sh DIR}
mkdir -p "$dir"
cd "$dir"

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1.tmp" && openssl pkcs8 -topk8 -nocrypt -in "$1.tmp" -out "$1" && rm "$1.tmp"; }

ca() { # name subject
    key "$1.key"
    openssl req -x509 -new -key "$1.key" -sha256 -days 3650 -subj "/CN=$2" -out "$1.pem" \
        -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
}

leaf() { # name ca subject-cn extensions
    key "$1.key"
    openssl req -new -key "$1.key" -subj "/CN=$3" -out "$1.csr" 2>/dev/null
    printf '%s\n' "$4" > "$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 825 -sha256 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
    rm -f "$1.csr" "$1.ext"
}

server_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=serverAuth
subjectAltName=DNS:localhost,IP:127.0.0.1'
client_ext='basicConstraints=CA:FALSE
keyUsage=critical,digitalSignature,keyEncipherment
extendedKeyUsage=clientAuth
subjectAltName=URI:spiffe://incident-manager.test/llm-shield,DNS:shield.internal'

ca ca "Test CA 1"
ca ca2 "Test CA 2"
leaf server ca "localhost" "$server_ext"
leaf server2 ca2 "localhost" "$server_ext"
leaf client ca "llm-shield" "$client_ext"
leaf client2 ca2 "intruder" "$client_ext"

# An expired client certificate: `openssl ca` is the 3.0 tool that accepts explicit validity dates.
key expired.key
openssl req -new -key expired.key -subj "/CN=expired-client" -out expired.csr 2>/dev/null
mkdir -p ca-db && : > ca-db/index.txt && echo 01 > ca-db/serial
cat > ca-db/ca.cnf <<CNF
[ ca ]
default_ca = test_ca
[ test_ca ]
database = $dir/ca-db/index.txt
serial = $dir/ca-db/serial
new_certs_dir = $dir/ca-db
default_md = sha256
policy = anything
unique_subject = no
copy_extensions = none
x509_extensions = client_ext
[ anything ]
commonName = supplied
[ client_ext ]
basicConstraints = CA:FALSE
extendedKeyUsage = clientAuth
subjectAltName = URI:spiffe://incident-manager.test/expired
CNF
openssl ca -batch -config ca-db/ca.cnf -cert ca.pem -keyfile ca.key -in expired.csr -out expired.pem \
    -startdate 20200101000000Z -enddate 20200102000000Z -notext 2>/dev/null
rm -f expired.csr
