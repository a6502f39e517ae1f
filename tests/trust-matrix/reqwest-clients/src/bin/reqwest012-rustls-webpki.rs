//! reqwest 0.12 with rustls-tls: rustls and the webpki-roots compiled into the binary,
//! nothing read from the machine (the documented negative).
//! usage: CLIENT URL [CA] (lib.rs)
use std::process::ExitCode;

fn main() -> ExitCode {
    trust_matrix_reqwest_clients::fetch!(
        reqwest012::blocking::Client::builder().use_rustls_tls(),
        reqwest012::Certificate::from_pem
    )
}
