//! The answer every trust-matrix client gives (tests/trust-matrix/clients.py): exit 0 with
//! the body when the server was trusted, 3 when the only problem is an unknown issuer,
//! 1 for anything else.

use std::error::Error;
use std::process::ExitCode;

/// What rustls (`UnknownIssuer`) and OpenSSL (X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY)
/// say when no trusted root issued the server's certificate.
const UNKNOWN_ISSUER: [&str; 2] = ["UnknownIssuer", "unable to get local issuer certificate"];

/// The whole chain of an error, outermost first, on one line.
fn chain(error: &(dyn Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

pub fn answer(result: Result<String, Box<dyn Error>>) -> ExitCode {
    match result {
        Ok(body) => {
            print!("{body}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            let text = chain(error.as_ref());
            if UNKNOWN_ISSUER.iter().any(|marker| text.contains(marker)) {
                println!("untrusted: {text}");
                ExitCode::from(3)
            } else {
                eprintln!("{text}");
                ExitCode::FAILURE
            }
        }
    }
}

/// URL and, for the control run, the CA file: `CLIENT URL [CA]`.
pub fn arguments() -> (String, Option<Vec<u8>>) {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_default();
    let ca = args
        .next()
        .map(|path| std::fs::read(path).unwrap_or_default());
    (url, ca)
}

/// The body of each client's `main`: BUILDER (a blocking reqwest ClientBuilder, with its
/// TLS stack chosen) with a 10 s timeout and, given a CA, that certificate (parsed by
/// CERTIFICATE, reqwest's `Certificate::from_pem` of the same version) added; one GET.
#[macro_export]
macro_rules! fetch {
    ($builder:expr, $certificate:path) => {{
        let (url, ca) = $crate::arguments();
        $crate::answer((|| {
            let mut builder = $builder.timeout(std::time::Duration::from_secs(10));
            if let Some(pem) = ca {
                builder = builder.add_root_certificate($certificate(&pem)?);
            }
            Ok(builder
                .build()?
                .get(&url)
                .send()?
                .error_for_status()?
                .text()?)
        })())
    }};
}
