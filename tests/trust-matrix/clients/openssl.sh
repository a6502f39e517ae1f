#!/bin/sh
# openssl s_client: OpenSSL's default verify paths (SSL_CERT_FILE, SSL_CERT_DIR, then
# the compiled-in /usr/lib/ssl/cert.pem and certs/), or -CAfile CA.
# usage: openssl.sh URL [CA]   exit 0: trusted, the body on stdout; 3: the issuer is
# not trusted; other: failed for another reason (docs/trust-matrix.md)
set -u
hostport=${1#https://}
hostport=${hostport%%/*}
host=${hostport%:*}
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
printf 'GET / HTTP/1.0\r\nHost: %s\r\n\r\n' "$host" |
  timeout 10 openssl s_client -quiet -verify_return_error -verify_hostname "$host" \
    -servername "$host" -connect "$hostport" ${2:+-CAfile "$2"} >"$out" 2>"$err"
status=$?
if [ $status = 0 ]; then
  sed '1,/^\r$/d' "$out" # the body: what follows the headers' blank line
  exit 0
fi
if grep -qE 'verify error:num=(2|20):' "$err"; then
  echo "untrusted: $(grep -m1 'verify error' "$err")"
  exit 3
fi
cat "$err" >&2
exit 1
