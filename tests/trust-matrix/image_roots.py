"""The image's own roots, with the stand-in public CA made part of them, as an image
built `FROM debian` plus `update-ca-certificates` (and the runtimes' own stores updated)
would have them: the files an image layer on top of the machine's root holds.

`layer` answers {absolute path in the image: content}; `write` lays them out in a
directory, the upper layer the container's root filesystem is built with. The mounts of
the policy's output go on top of that root, so the policy's files win where they meet.

The places each runtime keeps its own roots come from clients.py (Runtime.own_roots);
roots compiled into a binary (Node.js, Deno's default store, uv, webpki-roots) have no
such file: the stand-in cannot be added to them (Runtime.compiled_roots; the matrix fails
when a client said to have them trusts the public server with no injection)."""

import subprocess
import tempfile
from pathlib import Path

import pki

SYSTEM_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")  # Debian's, which OpenSSL's default file links to
HASHED_DIR = Path("/etc/ssl/certs")  # OpenSSL's default directory, and Go's and GnuTLS's


def subject_hash(pem: Path):
    done = subprocess.run(["openssl", "x509", "-hash", "-noout", "-in", str(pem)], capture_output=True,
                          text=True, check=True)
    return done.stdout.strip()


def layer(public_ca: Path, own_roots):
    """{path: bytes}: the system bundle and the hashed directory with PUBLIC_CA added, and each
    of OWN_ROOTS (("pem", path) | ("java", path, type, password)) with it added too."""
    pem = public_ca.read_bytes()
    files = {
        str(SYSTEM_BUNDLE): SYSTEM_BUNDLE.read_bytes() + pem,
        # as update-ca-certificates links it (c_rehash's name: subject hash, then .0)
        str(HASHED_DIR / f"{subject_hash(public_ca)}.0"): pem,
    }
    for root in own_roots:
        kind, path = root[0], Path(root[1])
        if kind == "pem":
            files[str(path)] = path.read_bytes() + pem
        elif kind == "java":
            files[str(path)] = java_store_with(path, root[2], root[3], public_ca)
        else:
            raise ValueError(f"unknown kind of roots {kind!r} for {path}")
    return files


def java_store_with(store: Path, store_type, password, public_ca):
    """The bytes of STORE rewritten with PUBLIC_CA added, in its own type and password."""
    with tempfile.TemporaryDirectory(prefix="trust-matrix-store.") as scratch:
        out = Path(scratch) / "cacerts"
        pki.java_store(out, store_type, password, store, public_ca)
        return out.read_bytes()


def write(files, upper: Path):
    for path, content in files.items():
        target = upper / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
        target.chmod(0o644)
