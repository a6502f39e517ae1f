"""The image families as roots: for each family other than Debian (whose root is the
machine's own), a root laid out as that family's packaging lays out its trust files (real
files and links, with the machine's public roots as content), in which the clients that do
not depend on the image's own libraries run: Go built static (its own root list), Rust
built static on rustls-native-certs / openssl-probe, and trustfile, which says whether the
file the family's OpenSSL and Java would read serves the enterprise CA once runc has
resolved the mounts. docs/trust-matrix.md (Image families) cites each layout's source."""

import base64
import hashlib
import os
import shlex
import shutil
from dataclasses import dataclass
from pathlib import Path

import image_roots
import runc

# Layout entries: (path, what): what is "roots" (the public roots, PEM), "java" (the
# machine's Java store, without the test CA), "hashed" (a directory of one PEM file per
# public root and `<subject hash>.<n>` links to them), ("link", TARGET), or
# ("hash-links", DIR): a `<subject hash>.<n>` link into DIR for each of DIR's.
ROOTS, JAVA, HASHED = "roots", "java", "hashed"


@dataclass
class Family:
    name: str
    layout: list
    openssl_file: str  # OpenSSL's default file and directory: OPENSSLDIR/cert.pem, OPENSSLDIR/certs
    openssl_dir: str
    java: str  # the JDK's default trust store, as its package links it


UBI_LINKS = [
    ("etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem", ROOTS),
    ("etc/pki/ca-trust/extracted/java/cacerts", JAVA),
    ("etc/pki/java/cacerts", ("link", "/etc/pki/ca-trust/extracted/java/cacerts")),
    ("etc/ssl/certs", ("link", "/etc/pki/tls/certs")),
]
FAMILIES = [
    Family("distroless", [
        ("etc/ssl/certs/ca-certificates.crt", ROOTS),
        ("etc/ssl/certs/java/cacerts", JAVA),
    ], "/usr/lib/ssl/cert.pem", "/usr/lib/ssl/certs", "/etc/ssl/certs/java/cacerts"),
    Family("Alpine", [
        ("etc/ssl/certs/ca-certificates.crt", ROOTS),
        ("etc/ssl/cert.pem", ("link", "certs/ca-certificates.crt")),
        ("etc/ssl1.1/certs", ("link", "/etc/ssl/certs")),
        ("etc/ssl1.1/cert.pem", ("link", "/etc/ssl/cert.pem")),
        ("etc/ssl/certs/java/cacerts", JAVA),
    ], "/etc/ssl/cert.pem", "/etc/ssl/certs", "/etc/ssl/certs/java/cacerts"),
    Family("Wolfi / Chainguard", [
        ("etc/ssl/certs/ca-certificates.crt", ROOTS),
        ("etc/ssl/cert.pem", ("link", "certs/ca-certificates.crt")),
        ("etc/pki/tls/certs/ca-bundle.crt", ("link", "../../../ssl/certs/ca-certificates.crt")),
        ("etc/ssl/certs/ca-bundle.crt", ("link", "ca-certificates.crt")),
        ("etc/ssl/certs/java/cacerts", JAVA),
    ], "/etc/ssl/cert.pem", "/etc/ssl/certs", "/etc/ssl/certs/java/cacerts"),
    Family("UBI 8/9, RHEL", UBI_LINKS + [
        ("etc/pki/ca-trust/extracted/openssl/ca-bundle.trust.crt", ROOTS),
        ("etc/pki/tls/cert.pem", ("link", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem")),
        ("etc/pki/tls/certs/ca-bundle.crt", ("link", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem")),
        ("etc/pki/tls/certs/ca-bundle.trust.crt",
         ("link", "/etc/pki/ca-trust/extracted/openssl/ca-bundle.trust.crt")),
        ("etc/ssl/cert.pem", ("link", "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem")),
    ], "/etc/pki/tls/cert.pem", "/etc/pki/tls/certs", "/etc/pki/java/cacerts"),
    Family("Fedora, cert.pem dropped", UBI_LINKS + [
        ("etc/pki/ca-trust/extracted/pem/directory-hash", HASHED),
        ("etc/pki/tls/certs", ("hash-links", "/etc/pki/ca-trust/extracted/pem/directory-hash")),
    ], "/etc/pki/tls/cert.pem", "/etc/pki/tls/certs", "/etc/pki/java/cacerts"),
]
CLIENT_DIR = "/usr/local/bin"  # where the static clients are in each family's root
GO, RUST, TRUSTFILE = "go-client-static", "rust-client", "trustfile"
# The control, in the no-injection container's image layer only: the CA, a hashed directory
# holding it as OpenSSL would look it up, and the bundle's Java store.
CONTROL_CA, CONTROL_DIR, CONTROL_STORE = "/tmp/trust-matrix-ca.pem", "/tmp/trust-matrix-hashed", "/tmp/store.p12"


def rows(family):
    return [f"{family.name}: {what}" for what in (
        "Go (static)", "Rust rustls-native-certs (static)", f"OpenSSL: `SSL_CERT_FILE`, else `{family.openssl_file}`",
        f"OpenSSL: `SSL_CERT_DIR`, else `{family.openssl_dir}`",
        f"Java: `javax.net.ssl.trustStore`, else `{family.java}`")]


def lay_out(family, root: Path, machine_roots: Path, machine_java: Path, clients: dict):
    """Writes FAMILY's root under ROOT: its trust files, /tmp, and the static clients."""
    if root.exists():
        shutil.rmtree(root)
    (root / "tmp").mkdir(parents=True, mode=0o1777)
    (root / "tmp").chmod(0o1777)
    for path, what in family.layout:
        target = root / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if what == ROOTS:
            shutil.copyfile(machine_roots, target)
        elif what == JAVA:
            shutil.copyfile(machine_java, target)
        elif what == HASHED:
            _hashed_directory(target, machine_roots.parent)
        elif what[0] == "link":
            os.symlink(what[1], target)
        else:  # hash-links: one link per hash name of the directory, as the family's update tool copies them
            target.mkdir(exist_ok=True)
            for name in sorted(os.listdir(root / what[1].lstrip("/"))):
                if _is_hash_name(name):
                    os.symlink(f"{what[1]}/{name}", target / name)
    bin_dir = root / CLIENT_DIR.lstrip("/")
    bin_dir.mkdir(parents=True, exist_ok=True)
    for name, binary in clients.items():
        shutil.copy2(binary, bin_dir / name)


def _hashed_directory(directory: Path, machine_certs: Path):
    """p11-kit's pem-directory-hash: a PEM file per root, `<hash>.<n>` links to it; the names
    and hashes are those of the machine's own hashed directory (/etc/ssl/certs)."""
    directory.mkdir(parents=True)
    for name in sorted(os.listdir(machine_certs)):
        if not _is_hash_name(name):
            continue
        pem = machine_certs / name
        label = Path(os.path.realpath(pem)).stem + ".pem"
        if not (directory / label).exists():
            shutil.copyfile(pem, directory / label)
        os.symlink(label, directory / name)


def _is_hash_name(name):
    stem, _, n = name.partition(".")
    return len(stem) == 8 and all(c in "0123456789abcdef" for c in stem) and n.isdigit()


def effective_paths(family, env):
    """The files the family's OpenSSL and Java read in a container with ENV."""
    java = family.java
    for option in shlex.split(env.get("JAVA_TOOL_OPTIONS", "")):
        if option.startswith("-Djavax.net.ssl.trustStore="):
            java = option.split("=", 1)[1]
    return [env.get("SSL_CERT_FILE", family.openssl_file), env.get("SSL_CERT_DIR", family.openssl_dir), java]


def runs(family, plan, url, ca_pem: bytes, store_digest, control):
    """The runs of one container: each static client, and trustfile on the files read."""
    ca = base64.b64encode(ca_pem).decode()
    paths = effective_paths(family, plan["env"])
    found = [{"key": GO, "argv": [f"{CLIENT_DIR}/{GO}", url]},
             {"key": RUST, "argv": [f"{CLIENT_DIR}/{RUST}", url]},
             {"key": TRUSTFILE, "argv": [f"{CLIENT_DIR}/{TRUSTFILE}", ca, store_digest, *paths]}]
    if control:
        found += [{"key": f"control {GO}", "argv": [f"{CLIENT_DIR}/{GO}", url, CONTROL_CA]},
                  {"key": f"control {RUST}", "argv": [f"{CLIENT_DIR}/{RUST}", url, CONTROL_CA]},
                  {"key": f"control {TRUSTFILE}", "argv": [f"{CLIENT_DIR}/{TRUSTFILE}", ca, store_digest, CONTROL_CA,
                                                           CONTROL_DIR, CONTROL_STORE]}]
    return found


def _control_files(upper: Path, ca: Path, truststore: Path):
    hashed = upper / CONTROL_DIR.lstrip("/")
    hashed.mkdir(parents=True)
    shutil.copyfile(ca, hashed / f"{image_roots.subject_hash(ca)}.0")
    shutil.copyfile(ca, upper / CONTROL_CA.lstrip("/"))
    shutil.copyfile(truststore, upper / CONTROL_STORE.lstrip("/"))


def trustfile_cells(result, count):
    """trustfile's verdicts, one per path: 'yes', 'no', or why it could not say."""
    lines = result["stdout"].splitlines()
    if result.get("exit") != 0 or len(lines) != count:
        why = result.get("notRun") or f"exit {result.get('exit')}: {(result['stderr'] or result['stdout'])[-200:]}"
        return [f"error: trustfile: {why}"] * count
    return ["yes" if line.split("\t", 1)[1] == "yes" else "no" for line in lines]


def measure(plans, staging: Path, built, ca: Path, truststore: Path, url, cell, timeout):
    """{column: {row: cell}} over every family; plans: {column: plan}; built: {client name:
    binary} or {client name: why it was not built}; CA: the enterprise CA; TRUSTSTORE: the
    bundle's Java store; cell: the matrix's reading of a client."""
    measured = {column: {} for column in plans}
    digest = hashlib.sha256(truststore.read_bytes()).hexdigest()
    machine = Path("/etc/ssl/certs")
    for family in FAMILIES:
        root = staging / "roots" / family.name.replace(" ", "-").replace("/", "-").replace(",", "")
        missing = {name: why for name, why in built.items() if not isinstance(why, Path)}
        if missing:
            for column in plans:
                measured[column].update({row: f"not run: {missing}" for row in rows(family)})
            continue
        lay_out(family, root, machine / "ca-certificates.crt", machine / "java/cacerts", built)
        for column, plan in plans.items():
            control = column == "no injection"
            run_dir = staging / "runs" / root.name / column.strip("`").replace(" ", "-")
            if control:
                _control_files(runc.image_layer(run_dir), ca, truststore)
            results = runc.run(plan, runs(family, plan, url, ca.read_bytes(), digest, control), run_dir,
                               timeout, lower=root)
            go, rust, openssl_file, openssl_dir, java = rows(family)
            verdicts = trustfile_cells(results[TRUSTFILE], 3)
            measured[column].update({go: cell(results[GO]), rust: cell(results[RUST]), openssl_file: verdicts[0],
                                     openssl_dir: verdicts[1], java: verdicts[2]})
            if control:
                found = trustfile_cells(results[f"control {TRUSTFILE}"], 3)
                measured.setdefault("control", {}).update({
                    go: cell(results[f"control {GO}"]), rust: cell(results[f"control {RUST}"]),
                    openssl_file: found[0], openssl_dir: found[1], java: found[2]})
            for line in results[TRUSTFILE]["stdout"].splitlines():
                print(f"   {family.name}, {column}: {line}")
    return measured
