#!/bin/sh
# git over HTTPS (Debian's /usr/bin/git, libcurl-gnutls): GIT_SSL_CAINFO or http.sslCAInfo,
# else GnuTLS's system trust, compiled in as /etc/ssl/certs/ca-certificates.crt; or
# -c http.sslCAInfo=CA. `git ls-remote` of the server's dumb-protocol ref list, whose one
# tag is the token.
# usage: git.sh URL [CA]   exit 0: trusted, the token on stdout; 3: the issuer is not
# trusted; other: failed for another reason
set -u
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
GIT_TERMINAL_PROMPT=0 timeout 10 /usr/bin/git ${2:+-c http.sslCAInfo="$2"} ls-remote "${1}repo.git" >"$out" 2>"$err"
status=$?
if [ $status = 0 ]; then
  sed -n 's|^[0-9a-f]*\trefs/tags/||p' "$out" | tr -d '\n'
  exit 0
fi
# libcurl-gnutls's words for a chain GnuTLS found invalid (the name and the dates are
# checked apart, with messages of their own); it names no finer reason
if grep -q 'server certificate verification failed' "$err"; then
  echo "untrusted: $(cat "$err")"
  exit 3
fi
cat "$err" >&2
exit 1
