//! The scan: one pass over a document that checks JSON's grammar as
//! serde_json has it and notes where every value and key is. What serde_json
//! refuses beyond the grammar is noted as it is met (`Notes`).

use super::notes::{Notes, hex4};

/// Where one value (or key) is: its text, and for an array or object the
/// place in the index past its last descendant.
#[derive(Clone, Copy, Debug)]
pub(super) struct Token {
    pub start: usize,
    pub end: usize,
    pub next: usize,
    /// A string with a `\\` escape, which must be decoded to be read.
    pub escaped: bool,
}

/// A document read once: where every value and key starts and ends, in
/// order, so that reading a nested value never scans again what it steps
/// over, and where the document holds what serde_json would refuse.
#[derive(Debug)]
pub struct Index<'a> {
    pub(super) text: &'a str,
    pub(super) tokens: Vec<Token>,
    pub(super) notes: Notes,
}

/// A text that is not JSON: serde_json, which then reads it, says where and how.
#[derive(Debug, PartialEq)]
pub struct NotJson;

impl<'a> Index<'a> {
    /// Read `text`, a JSON document whose values sit `nested` levels deep in
    /// what the host parses (the object is two levels into the payload).
    // Out of line: inlined into its one caller, the scan's loop takes 3% more
    // guest instructions on a 60-container pod (callgrind).
    #[inline(never)]
    pub fn build(text: &'a str, nested: usize) -> Result<Index<'a>, NotJson> {
        let mut scan = Scan {
            bytes: text.as_bytes(),
            tokens: Vec::with_capacity(text.len() / 6),
            open: Vec::new(),
            notes: Notes::new(nested),
        };
        scan.document()?;
        Ok(Index {
            text,
            tokens: scan.tokens,
            notes: scan.notes,
        })
    }
}

/// What the scan keeps as it reads.
struct Scan<'t> {
    bytes: &'t [u8],
    tokens: Vec<Token>,
    /// The arrays and objects still open (their place in `tokens`, and
    /// whether an object), innermost last.
    open: Vec<(usize, bool)>,
    notes: Notes,
}

impl Scan<'_> {
    /// One value, with whitespace around it; each array and object read in
    /// the same loop, their nesting kept in `open`, so nesting costs no stack.
    fn document(&mut self) -> Result<(), NotJson> {
        let bytes = self.bytes;
        let mut i = skip_space(bytes, 0);
        loop {
            // A value starts at `i`.
            match bytes.get(i) {
                Some(&b @ (b'{' | b'[')) => {
                    let is_object = b == b'{';
                    self.open(i, is_object);
                    i = skip_space(bytes, i.saturating_add(1));
                    let empty = bytes.get(i) == Some(if is_object { &b'}' } else { &b']' });
                    if !empty {
                        if is_object {
                            i = self.key(i)?;
                        }
                        continue;
                    }
                    self.close(i, is_object)?;
                    i = i.saturating_add(1);
                }
                Some(&b) => {
                    let scalar = self.scalar(i, b)?;
                    self.push(i, scalar);
                    i = scalar.0;
                }
                None => return Err(NotJson),
            }
            // After a value: what closes, up to the next value or the end.
            loop {
                i = skip_space(bytes, i);
                let Some(&(_, is_object)) = self.open.last() else {
                    return if i == bytes.len() {
                        Ok(())
                    } else {
                        Err(NotJson)
                    };
                };
                match bytes.get(i) {
                    Some(b',') => {
                        i = skip_space(bytes, i.saturating_add(1));
                        if is_object {
                            i = self.key(i)?;
                        }
                        break;
                    }
                    Some(b'}' | b']') => {
                        self.close(i, bytes.get(i) == Some(&b'}'))?;
                        i = i.saturating_add(1);
                    }
                    _ => return Err(NotJson),
                }
            }
        }
    }

    /// The key at `i` and its colon: where its value starts.
    #[inline(always)]
    fn key(&mut self, i: usize) -> Result<usize, NotJson> {
        if self.bytes.get(i) != Some(&b'"') {
            return Err(NotJson);
        }
        let string = self.string(i)?;
        self.push(i, string);
        let colon = skip_space(self.bytes, string.0);
        if self.bytes.get(colon) != Some(&b':') {
            return Err(NotJson);
        }
        Ok(skip_space(self.bytes, colon.saturating_add(1)))
    }

    /// A `[` or `{` at `i`.
    #[inline(always)]
    fn open(&mut self, i: usize, is_object: bool) {
        self.notes.opened(self.open.len(), i);
        self.open.push((self.tokens.len(), is_object));
        self.push(i, (0, false));
    }

    /// Past the string, number or literal starting with `b` at `i`.
    #[inline(always)]
    fn scalar(&mut self, i: usize, b: u8) -> Result<(usize, bool), NotJson> {
        let end = match b {
            b'"' => return self.string(i),
            b'-' | b'0'..=b'9' => self.number(i)?,
            b't' => literal(self.bytes, i, b"true")?,
            b'f' => literal(self.bytes, i, b"false")?,
            b'n' => literal(self.bytes, i, b"null")?,
            _ => return Err(NotJson),
        };
        Ok((end, false))
    }

    /// A value or key from `start` to `end`; an array or object gets its end
    /// when it closes.
    #[inline(always)]
    fn push(&mut self, start: usize, (end, escaped): (usize, bool)) {
        let next = self.tokens.len().saturating_add(1);
        self.tokens.push(Token {
            start,
            end,
            next,
            escaped,
        });
    }

    /// The `]` (or `}`, `object`) at `i`, which must close the innermost
    /// open bracket.
    #[inline(always)]
    fn close(&mut self, i: usize, object: bool) -> Result<(), NotJson> {
        let (at, is_object) = self.open.pop().ok_or(NotJson)?;
        if is_object != object {
            return Err(NotJson);
        }
        let next = self.tokens.len();
        let token = self.tokens.get_mut(at).ok_or(NotJson)?;
        token.end = i.saturating_add(1);
        token.next = next;
        Ok(())
    }

    /// Past the closing quote of the string at `i`, and whether it has
    /// escapes, which are checked.
    #[inline(always)]
    fn string(&mut self, i: usize) -> Result<(usize, bool), NotJson> {
        let bytes = self.bytes;
        let mut j = i.saturating_add(1);
        let mut escaped = false;
        loop {
            j = string_stop(bytes, j).ok_or(NotJson)?;
            match bytes.get(j..).unwrap_or_default() {
                [b'"', ..] => return Ok((j.saturating_add(1), escaped)),
                [b'\\', b'u', ..] => {
                    escaped = true;
                    let code = hex4(bytes, j.saturating_add(2)).ok_or(NotJson)?;
                    j = self.notes.unicode_escape(bytes, j, code);
                }
                [
                    b'\\',
                    b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't',
                    ..,
                ] => {
                    escaped = true;
                    j = j.saturating_add(2);
                }
                at @ [b'$', ..] => {
                    self.notes.dollar(at, j);
                    j = j.saturating_add(1);
                }
                // A control character, or a bad escape.
                _ => return Err(NotJson),
            }
        }
    }

    /// Past the number at `i`: `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`.
    fn number(&mut self, i: usize) -> Result<usize, NotJson> {
        let bytes = self.bytes;
        let digits = |from: usize| {
            let rest = bytes.get(from..).unwrap_or_default();
            from.saturating_add(rest.iter().take_while(|b| b.is_ascii_digit()).count())
        };
        let mut j = i;
        if bytes.get(j) == Some(&b'-') {
            j = j.saturating_add(1);
        }
        j = match bytes.get(j) {
            Some(b'0') => j.saturating_add(1),
            Some(b'1'..=b'9') => digits(j),
            _ => return Err(NotJson),
        };
        if bytes.get(j) == Some(&b'.') {
            let end = digits(j.saturating_add(1));
            if end == j.saturating_add(1) {
                return Err(NotJson);
            }
            j = end;
        }
        if !matches!(bytes.get(j), Some(b'e' | b'E')) {
            self.notes.number(i, j, false);
            return Ok(j);
        }
        j = j.saturating_add(1);
        if matches!(bytes.get(j), Some(b'+' | b'-')) {
            j = j.saturating_add(1);
        }
        let end = digits(j);
        if end == j {
            return Err(NotJson);
        }
        self.notes.number(i, end, true);
        Ok(end)
    }
}

/// Past `word` at `i`, which must be there.
fn literal(bytes: &[u8], i: usize, word: &[u8]) -> Result<usize, NotJson> {
    let end = i.saturating_add(word.len());
    (bytes.get(i..end) == Some(word))
        .then_some(end)
        .ok_or(NotJson)
}

#[inline(always)]
fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i = i.saturating_add(1);
    }
    i
}

/// A set of bytes as a table: one lookup per byte, however many the set has.
type ByteSet = [bool; 256];

// The table is filled at compile time; a `u8` always indexes it.
#[allow(clippy::indexing_slicing)]
const fn byte_set(members: &[u8], controls: bool) -> ByteSet {
    let mut set = [false; 256];
    let mut i = 0;
    while i < members.len() {
        set[members[i] as usize] = true;
        i += 1;
    }
    let mut c = 0;
    while controls && c < 0x20 {
        set[c] = true;
        c += 1;
    }
    set
}

fn is_in(set: &ByteSet, b: u8) -> bool {
    set.get(usize::from(b)).copied().unwrap_or(false)
}

/// Where reading a string stops: its end, escapes, serde_json's token, and
/// control characters, which JSON does not allow in a string.
const INSIDE_STRINGS: ByteSet = byte_set(b"\"\\$", true);

/// The first byte from `from` on where reading a string stops
/// (`INSIDE_STRINGS`), looked for eight bytes at a time: most of a pod's
/// text is strings, and this is most of the reading.
#[inline(always)]
fn string_stop(bytes: &[u8], from: usize) -> Option<usize> {
    let mut at = from;
    while let Some(word) = bytes
        .get(at..at.saturating_add(8))
        .and_then(|chunk| <[u8; 8]>::try_from(chunk).ok())
    {
        let word = u64::from_le_bytes(word);
        let stops = below(word ^ spread(b'"'), 1)
            | below(word ^ spread(b'\\'), 1)
            | below(word ^ spread(b'$'), 1)
            | below(word, 0x20);
        if stops != 0 {
            // The lowest flag is exact (a false one only follows a true one).
            let byte = usize::try_from(stops.trailing_zeros() / 8).ok()?;
            return Some(at.saturating_add(byte));
        }
        at = at.saturating_add(8);
    }
    let rest = bytes.get(at..)?;
    let k = rest.iter().position(|b| is_in(&INSIDE_STRINGS, *b))?;
    Some(at.saturating_add(k))
}

/// `byte` in each of a word's eight bytes.
const fn spread(byte: u8) -> u64 {
    u64::from_le_bytes([byte; 8])
}

/// The high bit of each byte of `word` that is below `n` (at most 0x80),
/// exact from the lowest byte up to the first such byte.
const fn below(word: u64, n: u8) -> u64 {
    word.wrapping_sub(spread(n)) & !word & spread(0x80)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Eight bytes at a time finds the byte one at a time finds: each stop at
    /// each place of a word, after every kind of byte (UTF-8 and `#`, which
    /// is `"` + 1, included).
    #[test]
    fn string_stops_are_found_a_word_at_a_time() {
        let stops = [b'"', b'\\', b'$', 0x00, 0x1f, 0x0a];
        let fillers = [b'a', b'#', b' ', 0x7f, 0x80, 0xff, b'%', b'[', 0x21];
        for filler in fillers {
            for stop in stops {
                for len in 0..20 {
                    for at in 0..=len {
                        let text: Vec<u8> = (0..len)
                            .map(|n| if n == at { stop } else { filler })
                            .collect();
                        let one_by_one = text.iter().position(|b| is_in(&INSIDE_STRINGS, *b));
                        for from in 0..=len {
                            let expected = one_by_one.filter(|p| *p >= from);
                            let found = string_stop(&text, from);
                            assert_eq!(found, expected, "{filler:#x} {stop:#x} {len} {at} {from}");
                        }
                    }
                }
            }
        }
    }

    type Pieces = Vec<&'static str>;

    /// `items` between `ends`, comma-separated, each after `key`.
    fn wrap(ends: [&'static str; 2], key: &[&'static str], items: Vec<Pieces>) -> Pieces {
        let mut out = vec![ends[0]];
        for (n, item) in items.into_iter().enumerate() {
            out.extend((n > 0).then_some(","));
            out.extend(key);
            out.extend(item);
        }
        out.push(ends[1]);
        out
    }

    /// A JSON text as its pieces: a leaf, or an array or object of texts.
    fn json_pieces() -> impl proptest::strategy::Strategy<Value = Pieces> {
        use proptest::prelude::*;
        let leaf = proptest::sample::select(LEAVES.to_vec()).prop_map(|leaf| vec![leaf]);
        leaf.prop_recursive(4, 24, 4, |inner| {
            let items = proptest::collection::vec(inner, 0..4);
            prop_oneof![
                items.clone().prop_map(|items| wrap(["[", "]"], &[], items)),
                items.prop_map(|values| wrap(["{", "}"], &["\"k\"", " ", ":"], values)),
            ]
        })
    }

    proptest::proptest! {
        /// JSON texts, whole or with a few pieces swapped for others, whole
        /// or broken: the index accepts exactly those serde_json reads.
        #[test]
        fn index_and_serde_json_accept_the_same_texts(
            mut pieces in json_pieces(),
            swaps in proptest::collection::vec(
                (0.0..1.0f64, proptest::sample::select(PIECES.to_vec())),
                0..3,
            ),
        ) {
            for (at, piece) in swaps {
                let n = ((at * pieces.len() as f64) as usize).min(pieces.len() - 1);
                pieces[n] = piece;
            }
            let text = pieces.concat();
            let serde = serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok();
            proptest::prop_assert_eq!(Index::build(&text, 0).is_ok(), serde, "{:?}", text);
        }
    }

    const LEAVES: &[&str] = &[
        "1",
        "-0",
        "1.5e3",
        "0.25",
        "true",
        "false",
        "null",
        "\"a\"",
        "\"\\u00e9\\n\"",
        "\"é\"",
    ];

    const PIECES: &[&str] = &[
        "{",
        "}",
        "[",
        "]",
        ":",
        ",",
        " ",
        "\n",
        "\"a\"",
        "\"",
        "\"\\n\"",
        "\"\\u00e9\"",
        "\"\\u12\"",
        "\"\\q\"",
        "\"\t\"",
        "\"é\"",
        "1",
        "0",
        "-",
        "-1",
        "01",
        "1.5",
        ".",
        "e3",
        "E-2",
        "1e",
        "true",
        "tru",
        "false",
        "null",
        "nul",
        "x",
    ];

    /// The index accepts exactly what serde_json reads as JSON: every text
    /// of at most three pieces, and these.
    #[test]
    fn index_reads_the_grammar_serde_json_reads() {
        let pieces = || [""].into_iter().chain(PIECES.iter().copied());
        let joined = pieces()
            .flat_map(|a| pieces().flat_map(move |b| pieces().map(move |c| [a, b, c].concat())));
        let texts = [
            ".5",
            "1e+",
            "2e3x",
            "\"a",
            "\"\\x\"",
            "\"\\u12g4\"",
            "\"\\u+123\"",
            "\"\u{1}\"",
            "\"\u{7f}\"",
            "[1,]",
            "[1 2]",
            "[1,2]",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":1}",
            "{1:2}",
            "{\"a\":1]",
            "[1] x",
            "[1] ",
            " {\"a\" : [ true , null ] } ",
            "[é]",
            "{\"a\":{\"b\":[]}}",
            "[[[]]",
        ];
        for text in joined.chain(texts.map(String::from)) {
            let serde = serde_json::from_str::<serde::de::IgnoredAny>(&text).is_ok();
            assert_eq!(Index::build(&text, 0).is_ok(), serde, "{text:?}");
        }
    }
}
