"""The test's PKI, made afresh for each run with openssl: an enterprise CA, a certificate
for localhost (127.0.0.1, ::1) that it issued for the server, and the bundle as
trust-manager builds it with useDefaultCAs (the CA and the machine's public roots), with the
PKCS#12 trust store of the same certificates for Java (examples/trust-manager-bundle.yaml)."""

import subprocess
from dataclasses import dataclass
from pathlib import Path

PUBLIC_ROOTS = Path("/etc/ssl/certs/ca-certificates.crt")
TRUSTSTORE_PASSWORD = "changeit"  # policy-settings/language-env.yaml
HERE = Path(__file__).resolve().parent


@dataclass
class Pki:
    ca: Path  # the enterprise CA alone
    server_cert: Path
    server_key: Path
    bundle: Path  # PEM: the CA, then the public roots
    truststore: Path  # PKCS#12 of the bundle, password TRUSTSTORE_PASSWORD


def run(*argv):
    subprocess.run([str(a) for a in argv], check=True, capture_output=True, text=True)


def make(directory: Path, name="Test Enterprise Root CA") -> Pki:
    directory.mkdir(parents=True, exist_ok=True)
    ca, ca_key = directory / "ca.crt", directory / "ca.key"
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", ca_key, "-out", ca, "-days", "2", "-subj", f"/O=cainjector trust matrix/CN={name}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    server_cert, server_key, csr = directory / "server.crt", directory / "server.key", directory / "server.csr"
    run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", server_key, "-out", csr, "-subj", "/CN=localhost")
    extensions = directory / "server.ext"
    extensions.write_text(
        "subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1\n"
        "basicConstraints=critical,CA:FALSE\n"
        "keyUsage=critical,digitalSignature\n"
        "extendedKeyUsage=serverAuth\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
        "-days", "2", "-extfile", extensions, "-out", server_cert)
    bundle = directory / "bundle.pem"
    bundle.write_bytes(ca.read_bytes() + PUBLIC_ROOTS.read_bytes())
    truststore = directory / "truststore.p12"
    run("java", HERE / "MakeTrustStore.java", bundle, truststore, TRUSTSTORE_PASSWORD)
    return Pki(ca, server_cert, server_key, bundle, truststore)
