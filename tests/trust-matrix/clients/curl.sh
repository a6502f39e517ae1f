#!/bin/sh
# curl (the command, built on OpenSSL in Debian): CURL_CA_BUNDLE, else its compiled-in
# /etc/ssl/certs/ca-certificates.crt, or --cacert CA.
# usage: curl.sh URL [CA]   exit 0: trusted, the body on stdout; 3: the issuer is not
# trusted; other: failed for another reason
set -u
err=$(mktemp)
trap 'rm -f "$err"' EXIT
curl -sS --fail --max-time 10 ${2:+--cacert "$2"} "$1" 2>"$err"
status=$?
[ $status = 0 ] && exit 0
# 60: CURLE_PEER_FAILED_VERIFICATION
if [ $status = 60 ] && grep -q 'unable to get local issuer certificate' "$err"; then
  echo "untrusted: $(cat "$err")"
  exit 3
fi
cat "$err" >&2
exit 1
