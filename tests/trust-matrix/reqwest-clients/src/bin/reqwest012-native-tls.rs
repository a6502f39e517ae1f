//! reqwest 0.12 with its default TLS, native-tls: OpenSSL's default verify paths
//! (SSL_CERT_FILE, SSL_CERT_DIR, then the compiled-in ones), after openssl-probe has
//! pointed those variables at the first bundle file and directory it finds when unset.
//! usage: CLIENT URL [CA] (lib.rs)
use std::process::ExitCode;

fn main() -> ExitCode {
    trust_matrix_reqwest_clients::fetch!(
        reqwest012::blocking::Client::builder().use_native_tls(),
        reqwest012::Certificate::from_pem
    )
}
