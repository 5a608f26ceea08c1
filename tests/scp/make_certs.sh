#!/bin/bash
# make_certs.sh DIR - test certificates, made at test time with the openssl command (no key is
# ever committed): a CA; the service (SAN IP:127.0.0.1); a client (CN=viewer, SAN
# DNS:viewer.example and IP:127.0.0.1, the host of its [peer]); a C-MOVE destination (SAN
# IP:127.0.0.1); a destination whose certificate names another host (also a client certificate
# that names another host); a client from a CA the service does not trust; for a peer with
# certificate_name = ws-7.site.example: its certificate (SAN DNS:ws-7.site.example) and three
# that must not pass for it: a wildcard (*.site.example), a partial wildcard
# (ws*.site.example), and one with that name only as its common name (no SAN).
set -eu
cd "$1"
req() { openssl req -new -newkey rsa:2048 -nodes -keyout "$1.key" -subj "/CN=$2" -out "$1.csr" 2>/dev/null; }
sign() { # NAME CA SAN (none when empty)
    { [ -n "$3" ] && printf 'subjectAltName=%s\n' "$3"
      printf 'basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth,clientAuth\n'; } >"$1.ext"
    openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -CAcreateserial -days 2 -sha256 \
        -extfile "$1.ext" -out "$1.pem" 2>/dev/null
}
for ca in ca rogue-ca; do
    openssl req -x509 -new -newkey rsa:2048 -nodes -keyout "$ca.key" -subj "/CN=ChaosMask test $ca" \
        -days 2 -sha256 -out "$ca.pem" 2>/dev/null
done
req service chaosmask-scp && sign service ca "IP:127.0.0.1"
req client viewer && sign client ca "DNS:viewer.example,IP:127.0.0.1"
req dest storescp && sign dest ca "IP:127.0.0.1"
req wrongname storescp && sign wrongname ca "DNS:other.example"
req rogue intruder && sign rogue rogue-ca "DNS:intruder.example"
req roam ws-7.site.example && sign roam ca "DNS:ws-7.site.example"
req wildcard anything && sign wildcard ca "DNS:*.site.example"
req partial anything && sign partial ca "DNS:ws*.site.example"
req cnonly ws-7.site.example && sign cnonly ca ""
chmod 600 ./*.key
