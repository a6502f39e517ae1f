//! The object as the host sent it, read only where a rule looks, and changed
//! by splicing text into it. Every byte the policy does not own comes back
//! exactly as it came in (member order, spacing, number spelling included),
//! and nothing is parsed into a tree or written out again but the small
//! pieces the rules read and the additions.
//!
//! The contract with the rest of the crate:
//! - `Index::build` reads a whole document once: it checks it is JSON as
//!   serde_json's grammar has it, and notes where every value (and key)
//!   starts and ends and where each array and object's last descendant is.
//!   Everything after that (members, items, strings) is read from the index
//!   without scanning the text again. A `Raw` is always a value (or, from
//!   an object's members, a key) found so.
//! - The host parses our answer with serde_json, which refuses more than the
//!   grammar: nesting past its limit, `\\u` escapes of unpaired UTF-16
//!   surrogates, numbers beyond f64, and objects named with its private
//!   raw-value token. The build notes where each of these may be, and
//!   `Index::check` refuses a value that holds one, so that an answer with
//!   our additions in it always parses.
//! - `Edits` change one document, their base. Every `Raw` given to them is a
//!   piece of that base; an insertion goes just before a closing bracket, a
//!   replacement covers one whole value, so edits never overlap, and two
//!   insertions at one place keep the order they were made in. `apply`
//!   checks all of it and refuses, naming the fault, instead of writing a
//!   broken object.
//! - What cannot be read or written is an `Error`, not a default.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::diag::Kind;

/// What cannot be read or written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
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
    /// serde_json's own message, for what the host's parser refuses.
    #[error("{0}")]
    Json(String),
    /// The policy's own edits broke the splicer's contract (json.rs): a bug,
    /// refused rather than answered with a broken object.
    #[error(
        "cainjector could not write its additions into the object (please report this bug): {0}"
    )]
    Splice(Splice),
}

/// How the policy's edits to the object broke the splicer's contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Splice {
    /// An edit is not at a piece of the object (or not at a closing bracket).
    #[error("an edit is outside the object")]
    Outside,
    #[error("two edits overlap")]
    Overlap,
}

/// serde_json (with its `raw_value` feature, which the decoder needs) reads
/// an object whose first member is named with this private token as a raw
/// value: a member so named means something else to serde_json than to the
/// Kubernetes API. serde_json's private tokens all start so; the test
/// `serde_json_still_spells_its_raw_value_token_so` breaks if serde_json
/// renames it, and this must then follow.
const SERDE_JSON_PRIVATE: &str = "$serde_json::private::";

/// The one of those tokens that changes how an object reads (serde_json's
/// `raw_value` feature; the `arbitrary_precision` one, which has another, is off).
const RAW_VALUE: &str = "$serde_json::private::RawValue";

/// A JSON value left unparsed: its text, borrowed from the document, and its
/// place in the document's index.
#[derive(Clone, Copy)]
pub struct Raw<'a>(&'a str, &'a Index<'a>, usize);

impl std::fmt::Debug for Raw<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Raw({})", self.0)
    }
}

impl<'a> Raw<'a> {
    pub fn get(self) -> &'a str {
        self.0
    }

    /// What kind of value this is, for messages.
    pub fn kind(self) -> Kind {
        Kind::of_text(self.0)
    }

    /// This value, unless serde_json would refuse something in it.
    pub fn check(self) -> Result<(), Error> {
        self.1.check(self)
    }

    /// Whether this is a string with escapes.
    fn escaped(self) -> bool {
        self.1.tokens.get(self.2).is_some_and(|t| t.escaped)
    }
}

/// Where one value (or key) is: its text, and for an array or object the
/// place in the index past its last descendant.
#[derive(Clone, Copy, Debug)]
struct Token {
    start: usize,
    end: usize,
    next: usize,
    /// A string with a `\\` escape, which must be decoded to be read.
    escaped: bool,
}

/// A document read once: where every value and key starts and ends, in
/// order, so that reading a nested value never scans again what it steps
/// over, and where the document holds what serde_json would refuse.
#[derive(Debug)]
pub struct Index<'a> {
    text: &'a str,
    tokens: Vec<Token>,
    /// Where serde_json may refuse what the grammar allows (a `\\u` escape,
    /// a number with an exponent or hundreds of digits, its private token):
    /// rare, and settled by parsing the value that holds one.
    doubtful: Vec<usize>,
    /// Where serde_json refuses for certain, with the reason, in order.
    refused: Vec<(usize, Refusal)>,
}

#[derive(Clone, Copy, Debug)]
enum Refusal {
    TooDeep,
    LoneSurrogate { leading: bool },
}

/// A text that is not JSON: serde_json, which then reads it, says where and how.
#[derive(Debug, PartialEq)]
pub struct NotJson;

impl<'a> Index<'a> {
    /// Read `text`, a JSON document whose values sit `nested` levels deep in
    /// what the host parses (the object is two levels into the payload).
    pub fn build(text: &'a str, nested: usize) -> Result<Index<'a>, NotJson> {
        let mut build = Build {
            bytes: text.as_bytes(),
            tokens: Vec::with_capacity(text.len() / 6),
            open: Vec::new(),
            doubtful: Vec::new(),
            refused: Vec::new(),
            deep: nested.saturating_add(DEPTH_LIMIT).saturating_add(1),
        };
        build.document()?;
        Ok(Index {
            text,
            tokens: build.tokens,
            doubtful: build.doubtful,
            refused: build.refused,
        })
    }

    /// The document's value.
    pub fn root(&self) -> Option<Raw<'_>> {
        self.raw(0)
    }

    fn raw(&self, at: usize) -> Option<Raw<'_>> {
        let token = self.tokens.get(at)?;
        let text = self.text.get(token.start..token.end)?;
        Some(Raw(text, self, at))
    }

    /// Whether the key at `at` spells `key`, compared in place.
    fn key_is(&self, at: usize, key: &str) -> bool {
        let Some(token) = self.tokens.get(at) else {
            return false;
        };
        if token.escaped {
            return self.raw(at).is_some_and(|raw| key_is(raw, key.as_bytes()));
        }
        // Its length without the quotes first: most keys differ in it.
        let len = token.end.wrapping_sub(token.start).wrapping_sub(2);
        len == key.len()
            && self
                .text
                .as_bytes()
                .get(token.start.wrapping_add(1)..token.end.wrapping_sub(1))
                == Some(key.as_bytes())
    }

    /// The place in the index past the last descendant of the value at `at`.
    fn next(&self, at: usize) -> usize {
        self.tokens.get(at).map_or(at, |t| t.next)
    }

    /// `raw`, unless serde_json would refuse something in it.
    fn check(&self, raw: Raw<'_>) -> Result<(), Error> {
        let span = self.tokens.get(raw.2).map_or(0..0, |t| t.start..t.end);
        let first = self.refused.partition_point(|(at, _)| *at < span.start);
        match self.refused.get(first) {
            Some((at, Refusal::TooDeep)) if span.contains(at) => {
                return Err(Error::TooDeep { limit: DEPTH_LIMIT });
            }
            Some((at, Refusal::LoneSurrogate { leading })) if span.contains(at) => {
                return Err(Error::LoneSurrogate { leading: *leading });
            }
            _ => {}
        }
        let first = self.doubtful.partition_point(|at| *at < span.start);
        if self.doubtful.get(first).is_some_and(|at| span.contains(at)) {
            serde_json::from_str::<Value>(raw.0).map_err(|e| Error::Json(e.to_string()))?;
            // serde_json may read such an object without a fault, as something
            // else; with our additions in it, it would not read at all.
            if self.names_raw_value(raw.2) {
                return Err(Error::RawValueToken);
            }
        }
        Ok(())
    }

    /// Whether the value at `at`, or one inside it, is an object whose first
    /// key is serde_json's raw-value token (escaped or not).
    fn names_raw_value(&self, at: usize) -> bool {
        (at..self.next(at)).any(|i| {
            let first_key = i.saturating_add(1);
            self.raw(i).is_some_and(|raw| raw.0.starts_with('{'))
                && first_key < self.next(i)
                && self
                    .raw(first_key)
                    .is_some_and(|key| key_is(key, RAW_VALUE.as_bytes()))
        })
    }
}

/// What `Index::build` keeps as it reads.
struct Build<'t> {
    bytes: &'t [u8],
    tokens: Vec<Token>,
    /// The arrays and objects still open (their place in `tokens`, and
    /// whether an object), innermost last.
    open: Vec<(usize, bool)>,
    doubtful: Vec<usize>,
    refused: Vec<(usize, Refusal)>,
    /// A bracket opened this deep is one level too many for serde_json.
    deep: usize,
}

impl Build<'_> {
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

    /// A `[` or `{` at `i`, noted when it is one level too deep for serde_json.
    #[inline(always)]
    fn open(&mut self, i: usize, is_object: bool) {
        if self.open.len().saturating_add(1) == self.deep {
            self.refused.push((i, Refusal::TooDeep));
        }
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
    /// escapes; checking them and noting what serde_json may refuse in it.
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
                    self.doubtful.push(j);
                    j = self.unicode_escape(j)?;
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
                    if at.starts_with(SERDE_JSON_PRIVATE.as_bytes()) {
                        self.doubtful.push(j);
                    }
                    j = j.saturating_add(1);
                }
                // A control character, or a bad escape.
                _ => return Err(NotJson),
            }
        }
    }

    /// Past the `\\uXXXX` escape at `i` (and the one it pairs with); an
    /// unpaired surrogate is noted.
    fn unicode_escape(&mut self, i: usize) -> Result<usize, NotJson> {
        let code = hex4(self.bytes, i.saturating_add(2)).ok_or(NotJson)?;
        let next = i.saturating_add(6);
        if (0xDC00..0xE000).contains(&code) {
            self.refused
                .push((i, Refusal::LoneSurrogate { leading: false }));
        } else if (0xD800..0xDC00).contains(&code) {
            let paired = self.bytes.get(next..next.saturating_add(2)) == Some(b"\\u".as_slice())
                && hex4(self.bytes, next.saturating_add(2))
                    .is_some_and(|c| (0xDC00..0xE000).contains(&c));
            if paired {
                return Ok(next.saturating_add(6));
            }
            self.refused
                .push((i, Refusal::LoneSurrogate { leading: true }));
        }
        Ok(next)
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
        if matches!(bytes.get(j), Some(b'e' | b'E')) {
            j = j.saturating_add(1);
            if matches!(bytes.get(j), Some(b'+' | b'-')) {
                j = j.saturating_add(1);
            }
            let end = digits(j);
            if end == j {
                return Err(NotJson);
            }
            self.doubtful.push(i);
            return Ok(end);
        }
        if j.saturating_sub(i) > LONG_NUMBER {
            self.doubtful.push(i);
        }
        Ok(j)
    }
}

/// Past `word` at `i`, which must be there.
fn literal(bytes: &[u8], i: usize, word: &[u8]) -> Result<usize, NotJson> {
    let end = i.saturating_add(word.len());
    (bytes.get(i..end) == Some(word))
        .then_some(end)
        .ok_or(NotJson)
}

pub fn is_null(raw: Raw<'_>) -> bool {
    raw.0 == "null"
}

#[inline(always)]
fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i = i.saturating_add(1);
    }
    i
}

/// How deep an object may nest: serde_json, which the host parses our answer
/// with, refuses a 128th level, and the answer wraps the object in one more.
const DEPTH_LIMIT: usize = 126;

/// A number this many bytes long may be beyond f64.
const LONG_NUMBER: usize = 300;

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = bytes.get(at..at.saturating_add(4))?;
    if !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
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

/// An object's members in order, their values left raw: read from the
/// index as they are asked for, nothing copied.
#[derive(Debug)]
pub struct Object<'a> {
    pub raw: Raw<'a>,
}

impl<'a> Object<'a> {
    /// `None` when `raw` is not an object.
    pub fn read(raw: Raw<'a>) -> Option<Object<'a>> {
        raw.0.starts_with('{').then_some(Object { raw })
    }

    /// The members, `(key, value)`, the key as its raw text with quotes.
    fn members(&self) -> Members<'a> {
        let Raw(_, index, at) = self.raw;
        Members {
            index,
            at: at.saturating_add(1),
            end: index.next(at),
        }
    }

    /// A member's value; with duplicate keys the last one wins, as in
    /// serde_json and Go's decoder.
    pub fn get(&self, key: &str) -> Option<Raw<'a>> {
        let Raw(_, index, at) = self.raw;
        let end = index.next(at);
        let mut found = None;
        let mut key_at = at.saturating_add(1);
        while key_at < end {
            let value = key_at.saturating_add(1);
            if index.key_is(key_at, key) {
                found = Some(value);
            }
            key_at = index.next(value);
        }
        index.raw(found?)
    }

    /// A member, `None` when absent or null (the API treats both alike).
    pub fn present(&self, key: &str) -> Option<Raw<'a>> {
        self.get(key).filter(|raw| !is_null(*raw))
    }

    pub fn is_empty(&self) -> bool {
        self.members().next().is_none()
    }

    /// Whether every key reads as a string: serde_json refuses a key with an
    /// escape of a lone surrogate where it decodes the keys.
    pub fn keys_read(&self) -> bool {
        self.members()
            .all(|(key, _)| !key.escaped() || string(key).is_some())
    }

    /// A member that appears at most once: `None` when it appears more often.
    pub fn unique(&self, key: &str) -> Option<Option<Raw<'a>>> {
        let mut found = self.members().filter(|(k, _)| key_is(*k, key.as_bytes()));
        let first = found.next().map(|(_, v)| v);
        found.next().is_none().then_some(first)
    }

    /// `unique`, with null taken as absent (as serde_json decodes an `Option`).
    pub fn unique_present(&self, key: &str) -> Option<Option<Raw<'a>>> {
        Some(self.unique(key)?.filter(|raw| !is_null(*raw)))
    }
}

/// The members of an object, read from the index: a key, its value, and on
/// past the value's descendants.
struct Members<'a> {
    index: &'a Index<'a>,
    at: usize,
    end: usize,
}

impl<'a> Iterator for Members<'a> {
    type Item = (Raw<'a>, Raw<'a>);

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.end {
            return None;
        }
        let value = self.at.saturating_add(1);
        let member = (self.index.raw(self.at)?, self.index.raw(value)?);
        self.at = self.index.next(value);
        Some(member)
    }
}

/// Whether the raw key (with its quotes, maybe escaped) spells `key`.
fn key_is(raw: Raw<'_>, key: &[u8]) -> bool {
    let text = raw.0.as_bytes();
    let inner = text
        .get(1..text.len().saturating_sub(1))
        .unwrap_or_default();
    inner == key || (raw.escaped() && string(raw).is_some_and(|k| k.as_bytes() == key))
}

/// An array's items, left raw. `None` when `raw` is not an array.
pub fn items(raw: Raw<'_>) -> Option<Vec<Raw<'_>>> {
    if !raw.0.starts_with('[') {
        return None;
    }
    let Raw(_, index, at) = raw;
    let end = index.next(at);
    // Most lists of a pod have a few items: room for them.
    let mut items = Vec::with_capacity(8);
    let mut item = at.saturating_add(1);
    while let Some(value) = index.raw(item).filter(|_| item < end) {
        items.push(value);
        item = index.next(item);
    }
    Some(items)
}

/// A string value. `None` when `raw` is not a string.
pub fn string(raw: Raw<'_>) -> Option<Cow<'_, str>> {
    let inner = raw.0.strip_prefix('"')?.strip_suffix('"')?;
    if raw.escaped() {
        serde_json::from_str::<String>(raw.0).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// A small object parsed into a map, for rules that compare whole values.
pub fn map(object: &Object<'_>) -> Result<Map<String, Value>, Error> {
    serde_json::from_str(object.raw.0).map_err(|e| Error::Json(e.to_string()))
}

/// The JSON text of one of our additions.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String, Error> {
    serde_json::to_string(value).map_err(|e| Error::Json(e.to_string()))
}

/// One change to the object's text: at byte `at`, drop `remove` bytes and put `text`.
#[derive(Debug)]
struct Edit {
    at: usize,
    remove: usize,
    text: String,
}

/// The additions to one object, applied in one pass over its text.
#[derive(Debug)]
pub struct Edits<'a> {
    base: &'a str,
    list: Vec<Edit>,
    /// Where insertions went into arrays and objects that had nothing: one
    /// more there follows content. A set, so that a pod of many empty lists
    /// costs no search of every edit for each.
    filled: BTreeSet<usize>,
    /// The first edit that broke the contract, which `apply` reports.
    fault: Option<Error>,
}

impl<'a> Edits<'a> {
    /// Edits to `base`, the object's whole text, of which every raw value is a part.
    pub fn new(base: Raw<'a>) -> Edits<'a> {
        Edits {
            base: base.0,
            list: Vec::new(),
            filled: BTreeSet::new(),
            fault: None,
        }
    }

    /// Where `raw` starts and ends in the object's text; `None` when it is
    /// not a part of it.
    fn span(&self, raw: Raw<'_>) -> Option<(usize, usize)> {
        let start = raw
            .0
            .as_ptr()
            .addr()
            .checked_sub(self.base.as_ptr().addr())?;
        let end = start.checked_add(raw.0.len())?;
        (end <= self.base.len()).then_some((start, end))
    }

    /// Just before the closing bracket of the array or object `raw`.
    fn before_end(&mut self, raw: Raw<'_>) -> Option<usize> {
        let closed = matches!(raw.0.as_bytes().last(), Some(b']' | b'}'));
        let at = self.span(raw).filter(|_| closed).map(|(_, end)| end - 1);
        if at.is_none() {
            self.fault.get_or_insert(Error::Splice(Splice::Outside));
        }
        at
    }

    /// The value, or `None` with the error recorded for `apply` to report.
    fn check<T>(&mut self, outcome: Result<T, Error>) -> Option<T> {
        match outcome {
            Ok(value) => Some(value),
            Err(error) => {
                self.fault.get_or_insert(error);
                None
            }
        }
    }

    /// Whether an insertion at `at` follows content: the container had some,
    /// or an earlier insertion already put some there.
    fn follows(&self, at: usize, had_content: bool) -> bool {
        had_content || self.filled.contains(&at)
    }

    /// Insert `text` (not empty) at `at`, in a container that had content or not.
    #[inline(always)]
    fn insert(&mut self, at: usize, had_content: bool, text: String) {
        if !had_content {
            self.filled.insert(at);
        }
        self.list.push(Edit {
            at,
            remove: 0,
            text,
        });
    }

    /// Append `items` (JSON texts) at the end of the array `raw` of `len` items.
    pub fn append(&mut self, raw: Raw<'_>, len: usize, items: &[&str]) {
        let Some(at) = self.before_end(raw) else {
            return;
        };
        let size = items.iter().map(|item| item.len().saturating_add(1)).sum();
        let mut text = String::with_capacity(size);
        for item in items.iter().filter(|item| !item.is_empty()) {
            if !text.is_empty() || self.follows(at, len > 0) {
                text.push(',');
            }
            text.push_str(item);
        }
        if !text.is_empty() {
            self.insert(at, len > 0, text);
        }
    }

    /// Add `key` with `value` (JSON text) at the end of `object`.
    pub fn add_member(&mut self, object: &Object<'_>, key: &str, value: &str) {
        let Some(at) = self.before_end(object.raw) else {
            return;
        };
        let Some(key) = self.check(to_json(key)) else {
            return;
        };
        let mut text =
            String::with_capacity(key.len().saturating_add(value.len()).saturating_add(2));
        if self.follows(at, !object.is_empty()) {
            text.push(',');
        }
        text.push_str(&key);
        text.push(':');
        text.push_str(value);
        self.insert(at, !object.is_empty(), text);
    }

    /// Put `value` (JSON text) where `raw` is: a null list, a value the policy owns.
    pub fn replace(&mut self, raw: Raw<'_>, value: String) {
        let Some((at, end)) = self.span(raw) else {
            self.fault.get_or_insert(Error::Splice(Splice::Outside));
            return;
        };
        self.list.push(Edit {
            at,
            remove: end - at,
            text: value,
        });
    }

    /// The object's text with every edit applied, or the fault that keeps
    /// them from being applied.
    pub fn apply(mut self) -> Result<String, Error> {
        if let Some(fault) = self.fault {
            return Err(fault);
        }
        // Stable: insertions at one place keep their order.
        self.list.sort_by_key(|e| e.at);
        let extra: usize = self.list.iter().map(|e| e.text.len()).sum();
        let mut out = String::with_capacity(self.base.len().saturating_add(extra));
        let mut from = 0;
        for edit in &self.list {
            // An edit that starts before the previous one ends overlaps it.
            let kept = self.base.get(from..edit.at);
            out.push_str(kept.ok_or(Error::Splice(Splice::Overlap))?);
            out.push_str(&edit.text);
            from = edit.at.saturating_add(edit.remove);
        }
        let rest = self.base.get(from..);
        out.push_str(rest.ok_or(Error::Splice(Splice::Outside))?);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The document `text`, indexed (the index lives as long as the test).
    fn raw(text: &str) -> Raw<'_> {
        let index = Box::leak(Box::new(Index::build(text, 0).unwrap()));
        index.root().unwrap()
    }

    #[test]
    fn members_keep_order_and_the_last_duplicate_wins() {
        let r = raw(r#"{"b": 1, "a": [2], "b": "x"}"#);
        let o = Object::read(r).unwrap();
        assert_eq!(o.get("a").unwrap().get(), "[2]");
        assert_eq!(o.get("b").unwrap().get(), "\"x\"");
        assert!(Object::read(raw("[1]")).is_none());
    }

    #[test]
    fn append_to_empty_and_full_arrays() {
        let text = r#"{"a": [], "b": [ 1 ,2 ]}"#;
        let r = raw(text);
        let o = Object::read(r).unwrap();
        let mut edits = Edits::new(r);
        edits.append(
            o.get("a").unwrap(),
            0,
            &["1", &to_json(&json!({"k": "v"})).unwrap()],
        );
        edits.append(o.get("b").unwrap(), 2, &["3"]);
        assert_eq!(
            edits.apply(),
            Ok(r#"{"a": [1,{"k":"v"}], "b": [ 1 ,2 ,3]}"#.to_string())
        );
    }

    #[test]
    fn add_members_to_empty_and_full_objects() {
        let text = r#"{"e": {}, "f": {"x":1.0}}"#;
        let r = raw(text);
        let o = Object::read(r).unwrap();
        let e = Object::read(o.get("e").unwrap()).unwrap();
        let f = Object::read(o.get("f").unwrap()).unwrap();
        let mut edits = Edits::new(r);
        edits.add_member(&e, "k", "1");
        edits.add_member(&e, "l", "[]");
        edits.add_member(&f, "y", "\"z\"");
        edits.add_member(&o, "g", "null");
        assert_eq!(
            edits.apply(),
            Ok(r#"{"e": {"k":1,"l":[]}, "f": {"x":1.0,"y":"z"},"g":null}"#.to_string())
        );
    }

    #[test]
    fn replace_swaps_one_value() {
        let text = r#"{"env": null, "n": 1e3}"#;
        let r = raw(text);
        let o = Object::read(r).unwrap();
        let mut edits = Edits::new(r);
        edits.replace(
            o.get("env").unwrap(),
            to_json(&json!([{"name": "A"}])).unwrap(),
        );
        assert_eq!(
            edits.apply(),
            Ok(r#"{"env": [{"name":"A"}], "n": 1e3}"#.to_string())
        );
    }

    #[test]
    fn insertions_at_one_place_keep_their_order() {
        let r = raw(r#"{"a": []}"#);
        let a = Object::read(r).unwrap().get("a").unwrap();
        let mut edits = Edits::new(r);
        edits.append(a, 0, &["1"]);
        edits.append(a, 0, &["2", "3"]);
        assert_eq!(edits.apply(), Ok(r#"{"a": [1,2,3]}"#.to_string()));
        // Empty lists and objects filled in turn: each knows only its own;
        // an empty text is no item.
        let r = raw(r#"{"a": [], "b": [], "c": {}}"#);
        let o = Object::read(r).unwrap();
        let (a, b) = (o.get("a").unwrap(), o.get("b").unwrap());
        let c = Object::read(o.get("c").unwrap()).unwrap();
        let mut edits = Edits::new(r);
        edits.append(a, 0, &[""]);
        edits.append(a, 0, &["1", ""]);
        edits.add_member(&c, "k", "1");
        edits.append(b, 0, &["2"]);
        edits.append(a, 0, &["3"]);
        edits.add_member(&c, "l", "2");
        assert_eq!(
            edits.apply(),
            Ok(r#"{"a": [1,3], "b": [2], "c": {"k":1,"l":2}}"#.to_string())
        );
    }

    #[test]
    fn edits_outside_the_base_are_refused() {
        let r = raw(r#"{"a": []}"#);
        let elsewhere = raw(r#"{"b": []}"#);
        let b = Object::read(elsewhere).unwrap().get("b").unwrap();
        let mut edits = Edits::new(r);
        edits.append(b, 0, &["1"]);
        assert_eq!(edits.apply(), Err(Error::Splice(Splice::Outside)));
        // Inside the base, but not a list: no closing bracket to insert before.
        let r = raw(r#"{"n": 12}"#);
        let n = Object::read(r).unwrap().get("n").unwrap();
        let mut edits = Edits::new(r);
        edits.append(n, 0, &["1"]);
        assert_eq!(edits.apply(), Err(Error::Splice(Splice::Outside)));
    }

    #[test]
    fn overlapping_edits_are_refused() {
        let r = raw(r#"{"env": [1, 2]}"#);
        let env = Object::read(r).unwrap().get("env").unwrap();
        let mut edits = Edits::new(r);
        edits.replace(env, "null".into());
        edits.append(env, 2, &["3"]);
        assert_eq!(edits.apply(), Err(Error::Splice(Splice::Overlap)));
    }

    #[test]
    fn serde_json_still_spells_its_raw_value_token_so() {
        // An object whose one member is named with the token is read as the
        // raw value its string holds: the meaning `Index::build` guards against.
        assert!(RAW_VALUE.starts_with(SERDE_JSON_PRIVATE));
        let text = format!(r#"{{"{RAW_VALUE}": "[1]"}}"#);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), json!([1]));
    }

    /// serde_json reads an object named with the token without a fault when
    /// its string is JSON; the object is refused all the same, wherever it
    /// is, as the first key only, and however the key is spelled.
    #[test]
    fn objects_named_with_the_raw_value_token_are_refused() {
        let check = |text: &str| Index::build(text, 0).unwrap().root().unwrap().check();
        let named = format!(r#"{{"{RAW_VALUE}": "{{}}"}}"#);
        assert_eq!(check(&named), Err(Error::RawValueToken));
        assert_eq!(
            check(&format!(r#"{{"a": [1, {named}]}}"#)),
            Err(Error::RawValueToken)
        );
        let escaped = r#"{"a": {"\u0024serde_json::private::RawValue": "{}"}}"#;
        assert_eq!(check(escaped), Err(Error::RawValueToken));
        // Not the first key, a string value, or a longer key: an object like any other.
        assert_eq!(
            check(&format!(r#"{{"a": 1, "{RAW_VALUE}": "{{}}"}}"#)),
            Ok(())
        );
        assert_eq!(check(&format!(r#"{{"a": "{RAW_VALUE}"}}"#)), Ok(()));
        assert_eq!(check(&format!(r#"{{"{RAW_VALUE}x": "{{}}"}}"#)), Ok(()));
        // A value beside it reads.
        let text = format!(r#"{{"a": {named}, "b": {{"c": 1}}}}"#);
        let index = Index::build(&text, 0).unwrap();
        let o = Object::read(index.root().unwrap()).unwrap();
        assert_eq!(o.get("b").unwrap().check(), Ok(()));
        assert_eq!(o.get("a").unwrap().check(), Err(Error::RawValueToken));
    }

    #[test]
    fn strings_with_escapes_are_decoded() {
        assert_eq!(string(raw(r#""a\u0062c""#)).unwrap(), "abc");
        assert_eq!(string(raw("5")), None);
    }

    #[test]
    fn index_refuses_what_the_host_cannot_parse() {
        let check = |text: &str| {
            let index = Index::build(text, 0).map_err(|_| "not JSON".to_string())?;
            index.root().unwrap().check().map_err(|e| e.to_string())
        };
        assert_eq!(check(r#"{"a": "\ud83d\ude00 [{"}"#), Ok(()));
        assert_eq!(check(r#"{"a": "\\u0000", "b": "\"["}"#), Ok(()));
        assert_eq!(
            check(r#"{"a": "\ud800"}"#),
            Err("lone leading surrogate in hex escape".into())
        );
        assert_eq!(
            check(r#"{"a": "\udc00"}"#),
            Err("lone trailing surrogate in hex escape".into())
        );
        let deep = format!("{}{}", "[".repeat(DEPTH_LIMIT), "]".repeat(DEPTH_LIMIT));
        assert_eq!(check(&deep), Ok(()));
        let deeper = format!("[{deep}]");
        assert_eq!(
            check(&deeper),
            Err("recursion limit exceeded: nested deeper than 126 levels".into())
        );
        assert_eq!(
            check(r#"{"a": 1e400}"#),
            Err("number out of range at line 1 column 11".into())
        );
        assert_eq!(check(r#"{"a": 1.5e3, "t": true}"#), Ok(()));
        assert_eq!(
            check(&format!("[{}]", "9".repeat(400))),
            Err("number out of range at line 1 column 401".into())
        );
        // Every answer that passes parses.
        let parsed: Result<Value, _> = serde_json::from_str(&format!("{{\"o\": {deep}}}"));
        assert!(parsed.is_ok());
    }

    /// What serde_json refuses is noted where it is: a value beside it reads.
    #[test]
    fn refusals_belong_to_the_value_that_holds_them() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        let text =
            format!(r#"{{"a": {{"n": 1e400, "s": "\ud800", "d": {deep}}}, "b": {{"ok": 1}}}}"#);
        let index = Index::build(&text, 0).unwrap();
        let o = Object::read(index.root().unwrap()).unwrap();
        let a = Object::read(o.get("a").unwrap()).unwrap();
        assert_eq!(o.get("b").unwrap().check(), Ok(()));
        assert_eq!(
            a.get("d").unwrap().check(),
            Err(Error::TooDeep { limit: DEPTH_LIMIT })
        );
        assert_eq!(
            a.get("s").unwrap().check(),
            Err(Error::LoneSurrogate { leading: true })
        );
        assert_eq!(
            a.get("n").unwrap().check().map_err(|e| e.to_string()),
            Err("number out of range at line 1 column 5".into())
        );
        // The first refusal in a value is the one given.
        assert_eq!(
            o.get("a").unwrap().check(),
            Err(Error::LoneSurrogate { leading: true })
        );
        // Nested two levels in, the limit comes two levels sooner.
        let index = Index::build(&deep, 2).unwrap();
        let inner = items(index.root().unwrap()).unwrap()[0];
        assert_eq!(inner.check(), Err(Error::TooDeep { limit: DEPTH_LIMIT }));
    }

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
                        let mut text = vec![filler; len];
                        if at < len {
                            text[at] = stop;
                        }
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

    /// A JSON text as its pieces: a leaf, or an array or object of texts.
    fn json_pieces() -> impl proptest::strategy::Strategy<Value = Vec<&'static str>> {
        use proptest::prelude::*;
        let leaf = proptest::sample::select(LEAVES.to_vec()).prop_map(|leaf| vec![leaf]);
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(|items| {
                    let mut out = vec!["["];
                    for (n, item) in items.into_iter().enumerate() {
                        out.extend((n > 0).then_some(","));
                        out.extend(item);
                    }
                    out.push("]");
                    out
                }),
                proptest::collection::vec(inner, 0..4).prop_map(|values| {
                    let mut out = vec!["{"];
                    for (n, value) in values.into_iter().enumerate() {
                        out.extend((n > 0).then_some(","));
                        out.extend(["\"k\"", " ", ":"]);
                        out.extend(value);
                    }
                    out.push("}");
                    out
                }),
            ]
        })
    }

    proptest::proptest! {
        /// JSON texts, whole or with a few pieces swapped for others, whole
        /// or broken: the index accepts exactly those serde_json reads.
        #[test]
        fn index_and_serde_json_accept_the_same_texts(
            pieces in json_pieces(),
            swaps in proptest::collection::vec(
                (0.0..1.0f64, proptest::sample::select(PIECES.to_vec())),
                0..3,
            ),
        ) {
            let mut pieces = pieces;
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

    /// The index accepts exactly what serde_json reads as JSON.
    #[test]
    fn index_reads_the_grammar_serde_json_reads() {
        let texts = [
            "",
            " ",
            "1",
            "-0",
            "-",
            "01",
            "1.",
            "1.5",
            ".5",
            "1e",
            "1e+",
            "1E-2",
            "2e3x",
            "true",
            "tru",
            "truex",
            "null",
            "nul",
            "false",
            "\"",
            "\"a",
            "\"a\"",
            "\"\\x\"",
            "\"\\u12\"",
            "\"\\u12g4\"",
            "\"\\u+123\"",
            "\"\u{1}\"",
            "\"\u{7f}\"",
            "[",
            "]",
            "[]",
            "[,]",
            "[1,]",
            "[1 2]",
            "[1,2]",
            "{}",
            "{,}",
            "{\"a\"}",
            "{\"a\":}",
            "{\"a\":1,}",
            "{\"a\":1}",
            "{1:2}",
            "{\"a\":1]",
            "[1}",
            "[1] x",
            "[1] ",
            " {\"a\" : [ true , null ] } ",
            "\"é\"",
            "[é]",
            "{\"a\":{\"b\":[]}}",
            "[[[]]",
            "[]]",
        ];
        for text in texts {
            let serde = serde_json::from_str::<serde::de::IgnoredAny>(text).is_ok();
            assert_eq!(Index::build(text, 0).is_ok(), serde, "{text:?}");
        }
    }

    #[test]
    fn scanning_finds_values_across_strings_escapes_and_nesting() {
        let text = "{ \"a\\\"]}\" : \"x\\\\\",\n \"n\":-1.5e3 ,\"l\":[ [1,{\"k\":\"]\"}], \"}\" ,true],\"na\\u006de\":\"v\"\t}";
        let o = Object::read(raw(text)).unwrap();
        assert_eq!(o.get("a\"]}").unwrap().get(), "\"x\\\\\"");
        assert_eq!(o.get("n").unwrap().get(), "-1.5e3");
        let l = items(o.get("l").unwrap()).unwrap();
        let l: Vec<&str> = l.iter().map(|r| r.get()).collect();
        assert_eq!(l, vec!["[1,{\"k\":\"]\"}]", "\"}\"", "true"]);
        assert_eq!(o.get("name").unwrap().get(), "\"v\"");
        assert!(items(raw("[]")).unwrap().is_empty());
        assert!(Object::read(raw("{ }")).unwrap().is_empty());
    }
}
