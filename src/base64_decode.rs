//! The bytes of base64 text as the API server writes a Secret's `data` and a
//! ConfigMap's `binaryData` (the standard alphabet, padded). What is not of
//! the alphabet (padding, line breaks) is skipped. A trust store of the public
//! roots is some 230 KB of it, so whole groups of four characters are decoded
//! three bytes at a time; the first group with anything else hands the rest to
//! the character-by-character rule.

/// Each byte's six bits, or `SKIPPED` for a byte outside the alphabet: a
/// table, as a match on ranges costs a branch per range and character.
// Filled at compile time, where an index out of bounds fails the build.
#[allow(clippy::indexing_slicing)]
const SEXTETS: [u8; 256] = {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut table = [SKIPPED; 256];
    let mut i: u8 = 0;
    while i < 64 {
        table[alphabet[i as usize] as usize] = i;
        i += 1;
    }
    table
};

const SKIPPED: u8 = 0xff;

fn sextet(b: u8) -> u8 {
    SEXTETS.get(usize::from(b)).copied().unwrap_or(SKIPPED)
}

/// The bytes `text` encodes.
pub fn decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut out = vec![0; bytes.len() / 4 * 3];
    let mut groups = 0;
    for (four, three) in bytes.chunks_exact(4).zip(out.chunks_exact_mut(3)) {
        let (Some(n), [x, y, z]) = (group(four), three) else {
            break;
        };
        [_, *x, *y, *z] = n.to_be_bytes();
        groups += 1;
    }
    out.truncate(groups * 3);
    one_by_one(bytes.get(groups * 4..).unwrap_or_default(), out)
}

/// Four characters of the alphabet as 24 bits, or `None`.
fn group(four: &[u8]) -> Option<u32> {
    let &[a, b, c, d] = four else {
        return None;
    };
    let [a, b, c, d] = [a, b, c, d].map(sextet);
    // A sextet has its two high bits clear; SKIPPED has them set.
    let n = u32::from(a) << 18 | u32::from(b) << 12 | u32::from(c) << 6 | u32::from(d);
    ((a | b | c | d) & 0xc0 == 0).then_some(n)
}

/// The rule: six bits per character of the alphabet, a byte out per eight.
fn one_by_one(bytes: &[u8], mut out: Vec<u8>) -> Vec<u8> {
    let (mut acc, mut bits) = (0u32, 0u32);
    for s in bytes.iter().map(|&b| sextet(b)).filter(|&s| s != SKIPPED) {
        acc = (acc << 6) | u32::from(s);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let [.., byte] = (acc >> bits).to_be_bytes();
            out.push(byte);
            acc &= (1 << bits) - 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;

    #[test]
    fn padding_and_line_breaks_are_skipped() {
        assert_eq!(decode("aGVsbG8="), b"hello");
        assert_eq!(decode("aGVs\nbG8"), b"hello");
        assert_eq!(decode("YQ=="), b"a");
        assert_eq!(decode("Y Q"), b"a");
        assert_eq!(decode(""), b"");
    }

    /// Every length, as the API server writes it, with the padding left out,
    /// and wrapped at 76 columns: the bytes the base64 crate encoded.
    #[test]
    fn whole_groups_and_the_rule_agree_with_the_base64_crate() {
        let mut seed = 0x2545_f491_u32;
        for len in 0..700 {
            let bytes: Vec<u8> = (0..len)
                .map(|_| {
                    seed ^= seed << 13;
                    seed ^= seed >> 17;
                    seed ^= seed << 5;
                    seed.to_le_bytes()[0]
                })
                .collect();
            let text = STANDARD.encode(&bytes);
            let wrapped: Vec<String> = text
                .as_bytes()
                .chunks(76)
                .map(|line| String::from_utf8(line.to_vec()).unwrap())
                .collect();
            for variant in [
                text.clone(),
                text.trim_end_matches('=').to_string(),
                wrapped.join("\n"),
            ] {
                assert_eq!(decode(&variant), bytes, "{variant}");
                assert_eq!(one_by_one(variant.as_bytes(), Vec::new()), bytes);
            }
        }
    }
}
