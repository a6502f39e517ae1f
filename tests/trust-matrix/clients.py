"""The TLS clients measured, one per runtime (the files in clients/). Each is run as
`ARGV... URL [CA]` and answers by its exit code: 0 trusted (the body on stdout), 3 the
server's issuer is not trusted, anything else a failure that is not about trust."""

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIENTS = HERE / "clients"
PYTHON = "/usr/bin/python3"  # Debian's, as images based on Debian ship it
MUSL = "x86_64-unknown-linux-musl"


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
        Runtime("Rust rustls-native-certs (static)", [str(static_clients(build)["rust-client"])],
                ["sh", "-c", f"grep -A1 -E '^name = \"(rustls|rustls-native-certs|openssl-probe)\"$' "
                 f"{HERE}/rust-client/Cargo.lock | grep -o '[0-9.]*' | paste -sd ' ' | sed 's/^/rustls, native-certs, probe: /'"]),
    ]


def static_clients(build: Path):
    """The clients that run over any image family's root: {name in the root: binary}."""
    return {"go-client-static": build / "go-client-static", "rust-client": build / "rust-client" / MUSL / "release" /
            "trust-matrix-rust-client", "trustfile": build / "trustfile"}


def build(build: Path):
    """Compiles the Go, Java and Rust clients (Go and Rust also static, with trustfile, for
    the image families); {name: why it cannot run} for failures."""
    static = static_clients(build)
    steps = {
        "Go net/http": ["go", "build", "-o", str(build / "go-client"), str(CLIENTS / "client.go")],
        "Java HttpsURLConnection": ["javac", "-d", str(build / "java"), str(CLIENTS / "Client.java")],
        "go-client-static": ["go", "build", "-o", str(static["go-client-static"]), str(CLIENTS / "client.go")],
        "trustfile": ["go", "build", "-o", str(static["trustfile"]), str(CLIENTS / "trustfile.go")],
        "Rust rustls-native-certs (static)": ["cargo", "build", "--locked", "--release", "--quiet", "--target", MUSL,
                                              "--manifest-path", str(HERE / "rust-client" / "Cargo.toml")],
    }
    go_env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(build), "GOCACHE": str(build / "gocache"),
              "GOPATH": str(build / "gopath"), "GOPROXY": "off", "GO111MODULE": "off"}
    # cargo and rustup as the caller has them (scripts/tools.sh added the musl target).
    cargo_env = {**os.environ, "CARGO_TARGET_DIR": str(build / "rust-client")}
    failed = {}
    for name, argv in steps.items():
        env = cargo_env if argv[0] == "cargo" else {**go_env, "CGO_ENABLED": "0"} if name in static else go_env
        try:
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
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
