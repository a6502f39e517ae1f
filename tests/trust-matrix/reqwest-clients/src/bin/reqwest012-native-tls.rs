//! reqwest 0.12 with its default TLS, native-tls: OpenSSL's default verify paths, plus the
//! file and directories openssl-probe finds (SSL_CERT_FILE / SSL_CERT_DIR when set, else
//! the first system bundle file and the system directories).
//! usage: CLIENT URL [CA] (lib.rs)
use std::process::ExitCode;

fn main() -> ExitCode {
    trust_matrix_reqwest_clients::fetch!(
        reqwest012::blocking::Client::builder().use_native_tls(),
        reqwest012::Certificate::from_pem
    )
}
