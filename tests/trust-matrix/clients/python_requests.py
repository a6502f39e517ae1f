"""Python requests: verify=True uses REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE, else
certifi.where() (certifi's own roots when installed with pip; Debian's python3-certifi
returns /etc/ssl/certs/ca-certificates.crt instead); or verify=CA.

usage: python3 python_requests.py [--site DIR] URL [CA]
  --site DIR: import requests and certifi from DIR (pip install --target DIR), and fail
  if they come from anywhere else (run it with python3 -S, so that nothing of Debian's
  dist-packages, such as a .pth that imports Debian's certifi, is loaded first)
exit 0: trusted, the body on stdout; 3: the issuer is not trusted; other: failed for
another reason
"""

import os
import sys


def import_requests(site):
    if site is not None:
        sys.path.insert(0, site)
    import certifi
    import requests

    if site is not None:
        for module in (requests, certifi):
            if not os.path.realpath(module.__file__).startswith(os.path.realpath(site) + "/"):
                sys.exit(f"{module.__name__} was imported from {module.__file__}, not from {site}")
    return requests


def main(args):
    site = None
    if args[:1] == ["--site"]:
        site, args = args[1], args[2:]
    url, ca = args[0], (args[1] if len(args) > 1 else None)
    requests = import_requests(site)
    try:
        response = requests.get(url, timeout=10, verify=ca or True)
        response.raise_for_status()
    except requests.exceptions.SSLError as error:
        if "unable to get local issuer certificate" in str(error):
            print(f"untrusted: {error}")
            return 3
        raise
    sys.stdout.write(response.text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
