"""The test's PKI, made afresh for each run with openssl: an enterprise CA and a certificate
for localhost (127.0.0.1, ::1) that it issued, for the enterprise server; a second CA, which
stands for a public CA that images trust, and a certificate it issued, for the public
server; and the trust bundle as trust-manager builds it, twice: with useDefaultCAs (the
enterprise CA, the machine's public roots and the stand-in public CA) and without (the
enterprise CA alone). Each bundle comes with its PKCS#12 trust stores for Java: one without a
password, as examples/trust-manager-bundle.yaml has trust-manager write it, and one with."""

import subprocess
from dataclasses import dataclass
from pathlib import Path

PUBLIC_ROOTS = Path("/etc/ssl/certs/ca-certificates.crt")
TRUSTSTORE_PASSWORD = "changeit"  # the store of tests/trust-matrix/settings/java-cacerts-password.yaml
HERE = Path(__file__).resolve().parent
WITH_DEFAULT_CAS, ENTERPRISE_ONLY = "useDefaultCAs: true", "useDefaultCAs: false"


@dataclass
class Bundle:
    pem: Path
    with_password: Path  # PKCS#12, password TRUSTSTORE_PASSWORD
    passwordless: Path  # PKCS#12 without a password, as trust-manager writes it when given none


@dataclass
class Pki:
    ca: Path  # the enterprise CA alone
    server_cert: Path
    server_key: Path
    public_ca: Path  # the stand-in public CA, made part of the image's own roots (image_roots.py)
    public_cert: Path
    public_key: Path
    bundles: dict  # WITH_DEFAULT_CAS / ENTERPRISE_ONLY -> Bundle


def run(*argv):
    done = subprocess.run([str(a) for a in argv], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"FAIL: {' '.join(map(str, argv))}: {done.stderr.strip()}")
    return done.stdout


def java_store(out: Path, store_type, password, *sources):
    """A Java trust store of the certificates of SOURCES (PEM files or key stores)."""
    run("java", HERE / "MakeTrustStore.java", out, store_type, password, *sources)


def certificate_authority(directory, name, subject):
    ca, key = directory / f"{name}.crt", directory / f"{name}.key"
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", ca, "-days", "2", "-subj", subject,
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return ca, key


def localhost_certificate(directory, name, ca, ca_key):
    cert, key, csr = directory / f"{name}.crt", directory / f"{name}.key", directory / f"{name}.csr"
    run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    extensions = directory / "server.ext"
    extensions.write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-days", "2", "-extfile", extensions, "-out", cert)
    return cert, key


def bundle(directory, name, pem_bytes):
    pem = directory / f"{name}.pem"
    pem.write_bytes(pem_bytes)
    with_password, passwordless = directory / f"{name}.p12", directory / f"{name}-passwordless.p12"
    java_store(with_password, "PKCS12", TRUSTSTORE_PASSWORD, pem)
    java_store(passwordless, "PKCS12", "", pem)
    return Bundle(pem, with_password, passwordless)


def make(directory: Path, name="Test Enterprise Root CA") -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = certificate_authority(directory, "ca", f"/O=cainjector trust matrix/CN={name}")
    server_cert, server_key = localhost_certificate(directory, "server", ca, ca_key)
    public_ca, public_ca_key = certificate_authority(directory, "public-ca",
                                                     "/O=cainjector trust matrix/CN=Test Public Root CA")
    public_cert, public_key = localhost_certificate(directory, "public-server", public_ca, public_ca_key)
    bundles = {
        WITH_DEFAULT_CAS: bundle(directory, "bundle", ca.read_bytes() + PUBLIC_ROOTS.read_bytes()
                                 + public_ca.read_bytes()),
        ENTERPRISE_ONLY: bundle(directory, "bundle-enterprise-only", ca.read_bytes()),
    }
    return Pki(ca, server_cert, server_key, public_ca, public_cert, public_key, bundles)
