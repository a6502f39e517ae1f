//! What serde_json refuses beyond JSON's grammar: nesting past its limit,
//! `\\u` escapes of unpaired UTF-16 surrogates, numbers beyond f64, and
//! objects named with its private raw-value token. The host parses our
//! answer with serde_json, so a value holding one of these must be refused
//! before our additions go into it. The scan notes where each may be
//! (`Notes`), and `Raw::check` (check.rs) refuses a value that holds one.

/// How deep an object may nest: serde_json, which the host parses our answer
/// with, refuses a 128th level, and the answer wraps the object in one more.
pub(super) const DEPTH_LIMIT: usize = 126;

/// A number this many bytes long may be beyond f64.
const LONG_NUMBER: usize = 300;

/// serde_json (with its `raw_value` feature, which this crate enables) reads
/// an object whose first member is named with this private token as a raw
/// value: a member so named means something else to serde_json than to the
/// Kubernetes API. serde_json's private tokens all start so; the test
/// `serde_json_still_spells_its_raw_value_token_so` breaks if serde_json
/// renames it, and this must then follow.
pub(super) const SERDE_JSON_PRIVATE: &[u8] = b"$serde_json::private::";

/// What serde_json refuses beyond the grammar, in its words; or its
/// raw-value token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("recursion limit exceeded: nested deeper than {limit} levels")]
    TooDeep { limit: usize },
    #[error("lone {} surrogate in hex escape", if *.leading { "leading" } else { "trailing" })]
    LoneSurrogate { leading: bool },
    /// An object whose first key is serde_json's raw-value token: serde_json
    /// reads it as the JSON text in the member's string, not as an object.
    #[error(
        "an object's first key is \"$serde_json::private::RawValue\", which the host's JSON \
         parser reads as the text in its string, not as a key"
    )]
    RawValueToken,
}

/// Where a document holds what serde_json refuses or may refuse, in order.
#[derive(Debug)]
pub(super) struct Notes {
    /// Where serde_json may refuse what the grammar allows (a `\\u` escape,
    /// a number with an exponent or hundreds of digits, its private token):
    /// rare, and settled by parsing the value that holds one.
    doubtful: Vec<usize>,
    /// Where serde_json refuses for certain, with the reason.
    refused: Vec<(usize, Refusal)>,
    /// A bracket opened this deep is one level too many for serde_json.
    deep: usize,
}

impl Notes {
    /// Notes on a document whose values sit `nested` levels deep in what the
    /// host parses.
    pub(super) fn new(nested: usize) -> Notes {
        Notes {
            doubtful: Vec::new(),
            refused: Vec::new(),
            deep: nested.saturating_add(DEPTH_LIMIT).saturating_add(1),
        }
    }

    /// A `[` or `{` at `i`, inside `open` others.
    #[inline(always)]
    pub(super) fn opened(&mut self, open: usize, i: usize) {
        if open.saturating_add(1) == self.deep {
            self.refused
                .push((i, Refusal::TooDeep { limit: DEPTH_LIMIT }));
        }
    }

    /// The `\\u` escape of `code` at `i`: past it, and past the escape it
    /// pairs with; an unpaired surrogate is noted.
    pub(super) fn unicode_escape(&mut self, bytes: &[u8], i: usize, code: u32) -> usize {
        self.doubtful.push(i);
        let next = i.saturating_add(6);
        if (0xDC00..0xE000).contains(&code) {
            self.refused
                .push((i, Refusal::LoneSurrogate { leading: false }));
        } else if (0xD800..0xDC00).contains(&code) {
            let paired = bytes.get(next..next.saturating_add(2)) == Some(b"\\u".as_slice())
                && hex4(bytes, next.saturating_add(2))
                    .is_some_and(|c| (0xDC00..0xE000).contains(&c));
            if paired {
                return next.saturating_add(6);
            }
            self.refused
                .push((i, Refusal::LoneSurrogate { leading: true }));
        }
        next
    }

    /// A `$` at `i` in a string, `rest` the text from there.
    #[inline(always)]
    pub(super) fn dollar(&mut self, rest: &[u8], i: usize) {
        if rest.starts_with(SERDE_JSON_PRIVATE) {
            self.doubtful.push(i);
        }
    }

    /// A number from `start` to `end`, with an exponent or not.
    #[inline(always)]
    pub(super) fn number(&mut self, start: usize, end: usize, exponent: bool) {
        if exponent || end.saturating_sub(start) > LONG_NUMBER {
            self.doubtful.push(start);
        }
    }

    /// The first refusal for certain within `span`.
    pub(super) fn refused_in(&self, span: &std::ops::Range<usize>) -> Option<Refusal> {
        let first = self.refused.partition_point(|(at, _)| *at < span.start);
        let (at, refusal) = self.refused.get(first)?;
        span.contains(at).then_some(*refusal)
    }

    /// Whether serde_json may refuse something within `span`.
    pub(super) fn doubtful_in(&self, span: &std::ops::Range<usize>) -> bool {
        let first = self.doubtful.partition_point(|at| *at < span.start);
        self.doubtful.get(first).is_some_and(|at| span.contains(at))
    }
}

/// The four hex digits at `at`, as a number.
pub(super) fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = bytes.get(at..at.saturating_add(4))?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}
