"""Python's ssl module through urllib: ssl.create_default_context() loads OpenSSL's default
verify paths (SSL_CERT_FILE, SSL_CERT_DIR, then the compiled-in ones), or cafile=CA.

usage: python3 python_ssl.py URL [CA]   exit 0: trusted, the body on stdout; 3: the
issuer is not trusted; other: failed for another reason
"""

import ssl
import sys
import urllib.error
import urllib.request

UNKNOWN_ISSUER = 20  # X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY


def main(url, ca=None):
    context = ssl.create_default_context(cafile=ca)
    try:
        with urllib.request.urlopen(url, timeout=10, context=context) as response:
            sys.stdout.write(response.read().decode())
    except urllib.error.URLError as error:
        reason = error.reason
        if isinstance(reason, ssl.SSLCertVerificationError) and reason.verify_code == UNKNOWN_ISSUER:
            print(f"untrusted: {reason}")
            return 3
        raise
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
