//! rustls with rustls-native-certs' roots (or, given CA, that PEM file only).
//! usage: rust-client URL [CA]   exit 0: trusted, the body on stdout; 3: the issuer is not
//! trusted; other: failed for another reason (docs/trust-matrix.md)

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::process::exit;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{CertificateError, ClientConfig, ClientConnection, Error, RootCertStore, StreamOwned};

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("{message}");
    exit(1)
}

/// The roots: the CA file given, else rustls-native-certs' (its errors said on stderr).
fn roots(ca: Option<&String>) -> RootCertStore {
    let certs: Vec<CertificateDer> = match ca {
        Some(path) => CertificateDer::pem_file_iter(path)
            .and_then(|certs| certs.collect())
            .unwrap_or_else(|e| fail(format!("{path}: {e}"))),
        None => {
            let found = rustls_native_certs::load_native_certs();
            for error in &found.errors {
                eprintln!("rustls-native-certs: {error}");
            }
            found.certs
        }
    };
    let mut store = RootCertStore::empty();
    store.add_parsable_certificates(certs);
    store
}

/// host and port of https://HOST:PORT/
fn host_port(url: &str) -> (String, u16) {
    let rest = url
        .strip_prefix("https://")
        .unwrap_or_else(|| fail(format!("not an https URL: {url}")));
    let authority = rest.split('/').next().unwrap_or_default();
    let (host, port) = authority
        .rsplit_once(':')
        .unwrap_or_else(|| fail(format!("no port in {url}")));
    (
        host.to_string(),
        port.parse()
            .unwrap_or_else(|e| fail(format!("port {port}: {e}"))),
    )
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let url = args
        .first()
        .unwrap_or_else(|| fail("usage: rust-client URL [CA]"));
    let (host, port) = host_port(url);
    // ring rather than aws-lc-rs: it builds with a C compiler alone (no cmake); its lack of
    // post-quantum key exchange has nothing to do with which roots are trusted.
    #[allow(deprecated)]
    let provider = rustls::crypto::ring::default_provider();
    let config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_safe_default_protocol_versions()
        .unwrap_or_else(|e| fail(e))
        .with_root_certificates(roots(args.get(1)))
        .with_no_client_auth();
    let name = ServerName::try_from(host.clone()).unwrap_or_else(|e| fail(e));
    let connection = ClientConnection::new(Arc::new(config), name).unwrap_or_else(|e| fail(e));
    let socket = TcpStream::connect((host.as_str(), port))
        .unwrap_or_else(|e| fail(format!("{host}:{port}: {e}")));
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap_or_else(|e| fail(e));
    let mut tls = StreamOwned::new(connection, socket);
    let request = format!("GET / HTTP/1.0\r\nHost: {host}\r\n\r\n");
    let mut response = Vec::new();
    let outcome = tls
        .write_all(request.as_bytes())
        .and_then(|()| tls.read_to_end(&mut response));
    if let Err(error) = outcome {
        let unknown_issuer = error
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<Error>())
            .is_some_and(|e| {
                matches!(
                    e,
                    Error::InvalidCertificate(CertificateError::UnknownIssuer)
                )
            });
        if unknown_issuer {
            println!("untrusted: {error}");
            exit(3);
        }
        if error.kind() != ErrorKind::UnexpectedEof || response.is_empty() {
            fail(error);
        }
    }
    let text = String::from_utf8_lossy(&response);
    match text.split_once("\r\n\r\n") {
        Some((head, body))
            if head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200") =>
        {
            print!("{body}")
        }
        _ => fail(format!("unexpected response: {text}")),
    }
}
