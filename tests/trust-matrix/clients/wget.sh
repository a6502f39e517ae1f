#!/bin/sh
# wget (GnuTLS in Debian): GnuTLS's system trust, compiled in as
# /etc/ssl/certs/ca-certificates.crt; no variable; or --ca-certificate=CA.
# usage: wget.sh URL [CA]   exit 0: trusted, the body on stdout; 3: the issuer is not
# trusted; other: failed for another reason
set -u
err=$(mktemp)
trap 'rm -f "$err"' EXIT
wget -nv -O - --timeout=10 --tries=1 ${2:+--ca-certificate="$2"} "$1" 2>"$err"
status=$?
[ $status = 0 ] && exit 0
# 5: SSL verification failure
if [ $status = 5 ] && grep -q "doesn't have a known issuer" "$err"; then
  echo "untrusted: $(grep -m1 'known issuer' "$err")"
  exit 3
fi
cat "$err" >&2
exit 1
