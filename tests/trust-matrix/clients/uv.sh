#!/bin/sh
# uv (from PyPI): SSL_CERT_FILE when set, and the system store with UV_NATIVE_TLS=1
# (or --native-tls), else the webpki-roots compiled into it; its own option for a CA is
# SSL_CERT_FILE (uv has no flag). `uv run` of the server's script, which prints the token.
# usage: uv.sh UV URL [CA]   exit 0: trusted, the token on stdout; 3: the issuer is not
# trusted; other: failed for another reason
set -u
uv=$1
shift
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
if [ $# -gt 1 ]; then
  export SSL_CERT_FILE="$2"
fi
UV_HTTP_TIMEOUT=10 UV_HTTP_RETRIES=0 UV_NO_CACHE=1 "$uv" run --no-project --no-config \
  --python /usr/bin/python3 --no-python-downloads "${1}probe.py" >"$out" 2>"$err"
status=$?
if [ $status = 0 ]; then
  cat "$out"
  exit 0
fi
if grep -q 'UnknownIssuer' "$err"; then
  echo "untrusted: $(tr '\n' ' ' <"$err")"
  exit 3
fi
cat "$err" >&2
exit 1
