#!/bin/sh
# AWS CLI v1 (from PyPI, on Debian's /usr/bin/python3): AWS_CA_BUNDLE or --ca-bundle when
# set, else certifi's file when certifi is installed beside it, else the cacert.pem of its
# own botocore; SSL_CERT_FILE is not read; or --ca-bundle CA. `aws s3api list-buckets`
# against the server, whose one bucket is named after the token.
# usage: aws.sh DIR URL [CA]   (DIR: awscli installed with pip install --target DIR)
# exit 0: trusted, the token on stdout; 3: the issuer is not trusted; other: failed for
# another reason
set -u
site=$1
shift
out=$(mktemp) err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT
# -S: nothing of Debian's dist-packages (such as its certifi) on the path, only DIR.
# Made-up credentials: the request is signed, never checked.
AWS_ACCESS_KEY_ID=trust-matrix AWS_SECRET_ACCESS_KEY=trust-matrix AWS_DEFAULT_REGION=us-east-1 \
  AWS_CONFIG_FILE=/nonexistent AWS_SHARED_CREDENTIALS_FILE=/nonexistent AWS_MAX_ATTEMPTS=1 \
  PYTHONPATH="$site" /usr/bin/python3 -S "$site/bin/aws" s3api list-buckets --endpoint-url "${1}aws" \
  --cli-connect-timeout 10 --cli-read-timeout 10 --query 'Buckets[0].Name' --output text \
  ${2:+--ca-bundle "$2"} >"$out" 2>"$err"
status=$?
if [ $status = 0 ]; then
  tr -d '\n' <"$out"
  exit 0
fi
if grep -q 'unable to get local issuer certificate' "$err"; then
  echo "untrusted: $(cat "$err")"
  exit 3
fi
cat "$err" >&2
exit 1
