"""The TLS clients measured, one per runtime (the files in clients/). Each is run as
`ARGV... URL [CA]` and answers by its exit code: 0 trusted (the body on stdout), 3 the
server's issuer is not trusted, anything else a failure that is not about trust."""

import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIENTS = HERE / "clients"
PYTHON = "/usr/bin/python3"  # Debian's, as images based on Debian ship it


@dataclass
class Runtime:
    name: str
    argv: list
    version: list  # prints the version measured


def runtimes(build: Path, pip_site: Path):
    c = CLIENTS
    return [
        Runtime("openssl s_client", ["sh", f"{c}/openssl.sh"], ["openssl", "version"]),
        Runtime("curl", ["sh", f"{c}/curl.sh"], ["curl", "--version"]),
        Runtime("wget (GnuTLS)", ["sh", f"{c}/wget.sh"], ["wget", "--version"]),
        Runtime("Python ssl (urllib)", [PYTHON, f"{c}/python_ssl.py"], [PYTHON, "--version"]),
        Runtime("Python requests, Debian's python3-requests", [PYTHON, f"{c}/python_requests.py"],
                [PYTHON, "-c", "import requests, certifi; print('requests', requests.__version__, certifi.where())"]),
        Runtime("Python requests, pip (certifi's roots)", [PYTHON, "-S", f"{c}/python_requests.py", "--site", str(pip_site)],
                [PYTHON, "-S", "-c", f"import sys; sys.path.insert(0, {str(pip_site)!r}); import requests, certifi; "
                 "print('requests', requests.__version__, 'certifi', certifi.__version__)"]),
        Runtime("Node.js https", ["node", f"{c}/node.js"], ["node", "--version"]),
        Runtime("Java HttpsURLConnection", ["java", "-cp", str(build / "java"), "Client"], ["java", "-version"]),
        Runtime("Go net/http", [str(build / "go-client")], ["go", "version"]),
        Runtime("Ruby net/http", ["ruby", f"{c}/ruby.rb"], ["ruby", "--version"]),
        Runtime("PHP streams (file_get_contents)", ["php", f"{c}/php_streams.php"], ["php", "--version"]),
        Runtime("PHP curl (libcurl)", ["php", f"{c}/php_curl.php"],
                ["php", "-r", "echo 'libcurl ', curl_version()['version'], ' ', curl_version()['ssl_version'];"]),
    ]


def build(build: Path):
    """Compiles the Go and Java clients; {runtime name: why it cannot run} for failures."""
    steps = {
        "Go net/http": ["go", "build", "-o", str(build / "go-client"), str(CLIENTS / "client.go")],
        "Java HttpsURLConnection": ["javac", "-d", str(build / "java"), str(CLIENTS / "Client.java")],
    }
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(build), "GOCACHE": str(build / "gocache"),
           "GOPATH": str(build / "gopath"), "GOPROXY": "off", "GO111MODULE": "off"}
    failed = {}
    for name, argv in steps.items():
        try:
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
        except OSError as error:
            failed[name] = f"{argv[0]} cannot be run: {error}"
            continue
        if done.returncode != 0:
            failed[name] = f"{' '.join(argv[:2])} failed: {done.stderr.strip()}"
    return failed


def version(runtime):
    try:
        done = subprocess.run(runtime.version, capture_output=True, text=True, timeout=60)
    except OSError as error:
        return f"cannot be run: {error}"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else f"unknown ({' '.join(runtime.version)} failed)"
