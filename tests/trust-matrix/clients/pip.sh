#!/bin/sh
# pip (from PyPI, on Debian's /usr/bin/python3): PIP_CERT or --cert when set, else
# truststore (pip 24.2 and later: OpenSSL's default verify paths through Python's ssl);
# or --cert CA. `pip index versions` of the server's simple index, whose one version
# carries the token as its local label.
# usage: pip.sh DIR URL [CA]   (DIR: pip installed with pip install --target DIR)
# exit 0: trusted, the token on stdout; 3: the issuer is not trusted; other: failed for
# another reason
set -u
site=$1
shift
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
# -S: nothing of Debian's dist-packages (its own pip) on the path, only DIR; no pip.conf
# of the machine's (one that names a cert would replace truststore)
PIP_CONFIG_FILE=/dev/null PYTHONPATH="$site" /usr/bin/python3 -S -m pip index versions probe --index-url "${1}simple/" \
  --retries 0 --timeout 10 --no-cache-dir --disable-pip-version-check ${2:+--cert "$2"} >"$out" 2>"$err"
status=$?
if [ $status = 0 ]; then
  sed -n 's/^probe (1\.0+\(.*\))$/\1/p' "$out" | tr -d '\n'
  exit 0
fi
# pip reports the fetch that failed on stdout, the resolution that failed on stderr
if grep -q 'unable to get local issuer certificate' "$out"; then
  echo "untrusted: $(grep -m1 'unable to get local issuer certificate' "$out")"
  exit 3
fi
cat "$out" "$err" >&2
exit 1
