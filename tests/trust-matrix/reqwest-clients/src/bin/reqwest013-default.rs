//! reqwest 0.13 with its default TLS: rustls with rustls-platform-verifier, which on
//! Linux verifies against rustls-native-certs (SSL_CERT_FILE / SSL_CERT_DIR when set,
//! else the first system bundle file and the system directories).
//! usage: CLIENT URL [CA] (lib.rs)
use std::process::ExitCode;

fn main() -> ExitCode {
    trust_matrix_reqwest_clients::fetch!(
        reqwest013::blocking::Client::builder(),
        reqwest013::Certificate::from_pem
    )
}
