#!/bin/sh
# kubectl (Debian's kubernetes-client, Go crypto/x509): the kubeconfig's or
# --certificate-authority's CA when given, else Go's system roots (SSL_CERT_FILE, else the
# first bundle file of its list; and the files of SSL_CERT_DIR, else /etc/ssl/certs); or
# --certificate-authority CA. `get --raw /` of the server, with no kubeconfig (a made-up
# token, so that it does not ask for a user name).
# usage: kubectl.sh KUBECTL URL [CA]   exit 0: trusted, the token on stdout; 3: the issuer is
# not trusted; other: failed for another reason
set -u
kubectl=$1
shift
err=$(mktemp)
trap 'rm -f "$err"' EXIT
KUBECONFIG=/nonexistent/kubeconfig "$kubectl" --request-timeout=10s --token=trust-matrix --server "$1" \
  ${2:+--certificate-authority "$2"} get --raw / 2>"$err"
status=$?
[ $status = 0 ] && exit 0
if grep -q 'certificate signed by unknown authority' "$err"; then
  echo "untrusted: $(cat "$err")"
  exit 3
fi
cat "$err" >&2
exit 1
