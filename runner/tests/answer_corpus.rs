//! Answers of one policy module to a corpus of payloads, for comparing two
//! builds answer for answer (scripts/answer-corpus.sh). Ignored by default:
//! it needs the corpus that tests/properties.rs writes (`write_answer_corpus`).
//!
//! CORPUS: the corpus file, one payload a line (`v <hex>` for `validate`,
//! `s <hex>` for `validate_settings`); POLICY: the module; ANSWERS: the file
//! written, one line a payload: the answer's length and hash (FNV-1a over every
//! byte) and its start, so that a difference shows where it is.

use std::{fmt::Write as _, path::PathBuf};

use policy_runner::{
    callbacks::HostCallbacks,
    policy::{EngineOptions, Policy},
};

fn var(name: &str) -> PathBuf {
    std::env::var_os(name)
        .map(PathBuf::from)
        .unwrap_or_else(|| panic!("{name} must name a file (scripts/answer-corpus.sh sets it)"))
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

fn unhex(text: &str) -> Vec<u8> {
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&text[i..i + 2], 16).expect("hex"))
        .collect()
}

#[test]
#[ignore = "run by scripts/answer-corpus.sh"]
fn answer_corpus() {
    let corpus = std::fs::read_to_string(var("CORPUS")).expect("the corpus is readable");
    let options = EngineOptions::default();
    let policy = Policy::load(&var("POLICY"), HostCallbacks::new(false), options).unwrap();
    let mut out = String::new();
    for (i, line) in corpus.lines().enumerate() {
        let (op, hex) = line.split_once(' ').expect("`op hex`");
        let operation = if op == "s" {
            "validate_settings"
        } else {
            "validate"
        };
        let answer = match policy.call(operation, &unhex(hex)) {
            Ok(bytes) => bytes,
            Err(error) => format!("ERROR {error}").into_bytes(),
        };
        let start: String = String::from_utf8_lossy(&answer).chars().take(160).collect();
        let start = start.replace('\n', "\\n");
        let hash = fnv1a(&answer);
        writeln!(out, "{i} {op} {} {hash:016x} {start}", answer.len()).unwrap();
    }
    std::fs::write(var("ANSWERS"), out).expect("the answers are written");
}
