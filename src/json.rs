//! The object as the host sent it, read only where a rule looks, and changed
//! by splicing text into it. Every byte the policy does not own comes back
//! exactly as it came in (member order, spacing, number spelling included),
//! and nothing is parsed into a tree or written out again but the small
//! pieces the rules read and the additions.
//!
//! The contract with the rest of the crate:
//! - A `Raw` is well-formed JSON: serde_json checked the whole request when
//!   it was decoded (a `Raw` comes from a `RawValue`, or is a piece of one
//!   found by reading it), so scanning only finds where values start and
//!   end. `Index::build` refuses what that check leaves out and the host's
//!   parser refuses (nesting, lone surrogates, numbers beyond f64), so that
//!   an answer with our additions in it always parses. Debug builds assert
//!   that every piece found lies inside the value it was read from.
//! - `Edits` change one document, their base. Every `Raw` given to them is a
//!   piece of that base; an insertion goes just before a closing bracket, a
//!   replacement covers one whole value, so edits never overlap, and two
//!   insertions at one place keep the order they were made in. `apply`
//!   checks all of it and refuses, naming the fault, instead of writing a
//!   broken object.
//! - What cannot be read or written is an `Error`, not a default. Scanning
//!   is the one exception, and only for text that breaks the first rule.

use std::borrow::Cow;

use serde::Serialize;
use serde_json::Value;
use serde_json::value::RawValue;

use crate::diag::Kind;
use crate::error::{Error, Splice};

/// serde_json (with its `raw_value` feature, which the decoder needs) reads
/// an object whose first member is named with this private token as a raw
/// value: a member so named means something else to serde_json than to the
/// Kubernetes API. serde_json's private tokens all start so; the test
/// `serde_json_still_spells_its_raw_value_token_so` breaks if serde_json
/// renames it, and this must then follow.
const SERDE_JSON_PRIVATE: &str = "$serde_json::private::";

/// A JSON value left unparsed: its text, borrowed from the request. The
/// payload was checked to be well-formed JSON when it was decoded, so the
/// scanning below only has to find where values start and end.
#[derive(Clone, Copy, Debug)]
pub struct Raw<'a>(&'a str, Option<&'a Index>);

impl<'a> Raw<'a> {
    pub fn get(self) -> &'a str {
        self.0
    }

    /// What kind of value this is, for messages.
    pub fn kind(self) -> Kind {
        Kind::of_text(self.0)
    }

    /// A document whose nesting was indexed in one pass.
    pub fn indexed(text: &'a str, index: &'a Index) -> Raw<'a> {
        Raw(text, Some(index))
    }

    /// A part of this value's text, sharing its index. Scanning well-formed
    /// JSON only finds parts inside it; the empty text stands for one that
    /// is not, which debug builds (tests, fuzzing) refuse to find.
    fn piece(self, from: usize, to: usize) -> Raw<'a> {
        let part = self.0.get(from..to);
        debug_assert!(part.is_some(), "{from}..{to} is outside {:?}", self.0);
        Raw(part.unwrap_or_default(), self.1)
    }
}

impl<'a> From<&'a RawValue> for Raw<'a> {
    fn from(raw: &'a RawValue) -> Self {
        Raw(raw.get(), None)
    }
}

/// Where every array and object of a document ends, found in one pass, so
/// that reading a nested value never scans again what it steps over.
#[derive(Debug, Default)]
pub struct Index {
    /// Addresses of each `[`/`{`, in order, and of the byte past its match.
    starts: Vec<usize>,
    ends: Vec<usize>,
}

impl Index {
    /// Index `text`, refusing what skimming leaves unchecked and the host's
    /// parser refuses: nesting deeper than it goes, and `\\u` escapes of
    /// unpaired UTF-16 surrogates. A document that passes comes back
    /// parseable with our insertions in it.
    pub fn build(text: &str) -> Result<Index, Error> {
        let bytes = text.as_bytes();
        let base = text.as_ptr().addr();
        let mut scan = Scan::default();
        let mut i = 0usize;
        let stop = |b: &u8| is_in(&OUTSIDE_STRINGS, *b);
        while let Some(k) = bytes.get(i..).and_then(|rest| rest.iter().position(stop)) {
            scan.unusual_number |= k > LONG_NUMBER;
            i = i.saturating_add(k);
            match bytes.get(i) {
                Some(b'"') => {
                    i = checked_string_end(bytes, i, &mut scan.token_or_escape)?;
                    continue;
                }
                Some(b'e' | b'E') => {
                    let before = i.checked_sub(1).and_then(|j| bytes.get(j));
                    scan.unusual_number |= before.is_some_and(|b| b.is_ascii_digit() || *b == b'.');
                }
                Some(b'[' | b'{') => scan.open(base.wrapping_add(i))?,
                _ => scan.close(base.wrapping_add(i)),
            }
            i = i.saturating_add(1);
        }
        if scan.unusual_number || scan.token_or_escape {
            serde_json::from_str::<Value>(text).map_err(|e| Error::Json(e.to_string()))?;
        }
        Ok(scan.index)
    }

    /// The address past the match of the bracket at `address`.
    fn end_of(&self, address: usize) -> Option<usize> {
        let n = self.starts.binary_search(&address).ok()?;
        self.ends.get(n).copied().filter(|end| *end != 0)
    }
}

/// What `Index::build` keeps as it scans.
#[derive(Default)]
struct Scan {
    index: Index,
    /// The brackets still open (their place in `index`), innermost last.
    open: Vec<usize>,
    /// Numbers with an exponent or hundreds of digits may be beyond f64,
    /// which serde_json refuses: rare enough to check by parsing.
    unusual_number: bool,
    /// serde_json gives a member named with its raw-value token a meaning of
    /// its own, and a `\\u` escape can spell the token: strings with either
    /// are rare, and checked by parsing.
    token_or_escape: bool,
}

impl Scan {
    /// A `[` or `{` at `address`.
    fn open(&mut self, address: usize) -> Result<(), Error> {
        if self.open.len() >= DEPTH_LIMIT {
            return Err(Error::TooDeep { limit: DEPTH_LIMIT });
        }
        self.open.push(self.index.starts.len());
        self.index.starts.push(address);
        self.index.ends.push(0);
        Ok(())
    }

    /// A `]` or `}` at `address`, which closes the innermost open bracket.
    fn close(&mut self, address: usize) {
        if let Some(end) = self.open.pop().and_then(|n| self.index.ends.get_mut(n)) {
            *end = address.wrapping_add(1);
        }
    }
}

pub fn is_null(raw: Raw<'_>) -> bool {
    raw.0 == "null"
}

/// Where the string starting at `i` (its opening quote) ends, past its closing quote.
fn string_end(bytes: &[u8], i: usize) -> usize {
    let mut j = i.saturating_add(1);
    let quote_or_escape = |rest: &[u8]| rest.iter().position(|b| is_in(&STRING_END, *b));
    while let Some(k) = bytes.get(j..).and_then(quote_or_escape) {
        j = j.saturating_add(k);
        if bytes.get(j) == Some(&b'"') {
            return j.saturating_add(1);
        }
        j = j.saturating_add(2);
    }
    bytes.len()
}

/// Where the value starting at `i` of `raw` ends.
fn value_end(raw: Raw<'_>, i: usize) -> usize {
    let bytes = raw.0.as_bytes();
    match bytes.get(i) {
        Some(b'"') => string_end(bytes, i),
        Some(b'{' | b'[') => {
            let start = raw.0.as_ptr().addr();
            let indexed = raw.1.and_then(|index| index.end_of(start.wrapping_add(i)));
            match indexed {
                Some(end) => end.wrapping_sub(start),
                None => bracket_end(bytes, i),
            }
        }
        _ => {
            let rest = bytes.get(i..).unwrap_or_default();
            let len = rest
                .iter()
                .position(|&b| matches!(b, b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r'))
                .unwrap_or(rest.len());
            i.saturating_add(len)
        }
    }
}

/// Past the bracket that matches the one at `i`, found by scanning (for a
/// text that was not indexed).
fn bracket_end(bytes: &[u8], i: usize) -> usize {
    let mut depth = 0usize;
    let mut j = i;
    while let Some(&b) = bytes.get(j) {
        j = match b {
            b'"' => string_end(bytes, j),
            b'}' | b']' if depth <= 1 => return j.saturating_add(1),
            b'{' | b'[' => {
                depth = depth.saturating_add(1);
                j.saturating_add(1)
            }
            b'}' | b']' => {
                depth -= 1;
                j.saturating_add(1)
            }
            _ => j.saturating_add(1),
        };
    }
    bytes.len()
}

fn skip_space(bytes: &[u8], mut i: usize) -> usize {
    while matches!(bytes.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i = i.saturating_add(1);
    }
    i
}

/// The values of an array or object one level down, with the keys of an
/// object: `(key, value)` pairs where the key is its raw text with quotes.
fn children(raw: Raw<'_>) -> Vec<(Option<Raw<'_>>, Raw<'_>)> {
    let bytes = raw.0.as_bytes();
    let is_object = bytes.first() == Some(&b'{');
    // Most objects and lists of a pod have a few members: start with room for them.
    let mut out = Vec::with_capacity(8);
    let mut i = skip_space(bytes, 1);
    let piece = |from: usize, to: usize| raw.piece(from, to);
    while let Some(&b) = bytes.get(i) {
        if b == b'}' || b == b']' {
            break;
        }
        let key = if is_object {
            let end = string_end(bytes, i);
            let key = piece(i, end);
            // past the key, the colon and the space around it
            i = skip_space(bytes, skip_space(bytes, end).saturating_add(1));
            Some(key)
        } else {
            None
        };
        let end = value_end(raw, i);
        out.push((key, piece(i, end)));
        i = skip_space(bytes, end);
        if bytes.get(i) == Some(&b',') {
            i = skip_space(bytes, i.saturating_add(1));
        }
    }
    out
}

/// How deep an object may nest: serde_json, which the host parses our answer
/// with, refuses a 128th level, and the answer wraps the object in one more.
const DEPTH_LIMIT: usize = 126;

/// A run of this many bytes between two tokens may be a number beyond f64.
const LONG_NUMBER: usize = 300;

fn hex4(bytes: &[u8], at: usize) -> Option<u32> {
    let digits = bytes.get(at..at.saturating_add(4))?;
    u32::from_str_radix(std::str::from_utf8(digits).ok()?, 16).ok()
}

/// Past the `\\uXXXX` escape at `i`, or why serde_json would refuse it.
fn unicode_escape_end(bytes: &[u8], i: usize) -> Result<usize, Error> {
    let code = hex4(bytes, i.saturating_add(2)).unwrap_or_default();
    let next = i.saturating_add(6);
    if (0xDC00..0xE000).contains(&code) {
        return Err(Error::LoneSurrogate { leading: false });
    }
    if (0xD800..0xDC00).contains(&code) {
        let paired = bytes.get(next..next.saturating_add(2)) == Some(b"\\u".as_slice())
            && hex4(bytes, next.saturating_add(2)).is_some_and(|c| (0xDC00..0xE000).contains(&c));
        if !paired {
            return Err(Error::LoneSurrogate { leading: true });
        }
        return Ok(next.saturating_add(6));
    }
    Ok(next)
}

/// A set of bytes as a table: one lookup per byte, however many the set has.
type ByteSet = [bool; 256];

// The table is filled at compile time; a `u8` always indexes it.
#[allow(clippy::indexing_slicing)]
const fn byte_set(members: &[u8]) -> ByteSet {
    let mut set = [false; 256];
    let mut i = 0;
    while i < members.len() {
        set[members[i] as usize] = true;
        i += 1;
    }
    set
}

fn is_in(set: &ByteSet, b: u8) -> bool {
    set.get(usize::from(b)).copied().unwrap_or(false)
}

/// Where the index stops outside strings: brackets, strings, exponents.
const OUTSIDE_STRINGS: ByteSet = byte_set(b"\"[{]}eE");
/// Where it stops inside a string: its end, escapes, serde_json's token.
const INSIDE_STRINGS: ByteSet = byte_set(b"\"\\$");
/// Where a string already checked can end: its closing quote, or an escape.
const STRING_END: ByteSet = byte_set(b"\"\\");

/// Past the closing quote of the string at `i`, checking its escapes; notes a
/// `\\u` escape or serde_json's token in it.
fn checked_string_end(
    bytes: &[u8],
    mut i: usize,
    token_or_escape: &mut bool,
) -> Result<usize, Error> {
    i = i.saturating_add(1);
    loop {
        let rest = bytes.get(i..).unwrap_or_default();
        let Some(k) = rest.iter().position(|b| is_in(&INSIDE_STRINGS, *b)) else {
            return Ok(bytes.len());
        };
        i = i.saturating_add(k);
        match bytes.get(i..) {
            Some([b'"', ..]) => return Ok(i.saturating_add(1)),
            Some(at) if at.starts_with(SERDE_JSON_PRIVATE.as_bytes()) => {
                *token_or_escape = true;
                i = i.saturating_add(1);
            }
            Some([b'$', ..]) => i = i.saturating_add(1),
            Some([_, b'u', ..]) => {
                *token_or_escape = true;
                i = unicode_escape_end(bytes, i)?;
            }
            _ => i = i.saturating_add(2),
        }
    }
}

/// An object's members in order, their values left raw.
#[derive(Debug)]
pub struct Object<'a> {
    pub raw: Raw<'a>,
    members: Vec<(Raw<'a>, Raw<'a>)>,
}

impl<'a> Object<'a> {
    /// `None` when `raw` is not an object.
    pub fn read(raw: Raw<'a>) -> Option<Object<'a>> {
        if !raw.0.starts_with('{') {
            return None;
        }
        let members = children(raw)
            .into_iter()
            .filter_map(|(key, value)| key.map(|k| (k, value)))
            .collect();
        Some(Object { raw, members })
    }

    /// A member's value; with duplicate keys the last one wins, as in
    /// serde_json and Go's decoder.
    pub fn get(&self, key: &str) -> Option<Raw<'a>> {
        self.members
            .iter()
            .rev()
            .find(|(k, _)| key_is(*k, key))
            .map(|(_, v)| *v)
    }

    /// A member, `None` when absent or null (the API treats both alike).
    pub fn present(&self, key: &str) -> Option<Raw<'a>> {
        self.get(key).filter(|raw| !is_null(*raw))
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// Whether the raw key (with its quotes, maybe escaped) spells `key`.
fn key_is(raw: Raw<'_>, key: &str) -> bool {
    let inner = raw
        .0
        .get(1..raw.0.len().saturating_sub(1))
        .unwrap_or_default();
    if inner.contains('\\') {
        string(raw).is_some_and(|k| k == key)
    } else {
        inner == key
    }
}

/// An array's items, left raw. `None` when `raw` is not an array.
pub fn items(raw: Raw<'_>) -> Option<Vec<Raw<'_>>> {
    if !raw.0.starts_with('[') {
        return None;
    }
    Some(children(raw).into_iter().map(|(_, v)| v).collect())
}

/// A string value. `None` when `raw` is not a string.
pub fn string(raw: Raw<'_>) -> Option<Cow<'_, str>> {
    let inner = raw.0.strip_prefix('"')?.strip_suffix('"')?;
    if inner.contains('\\') {
        serde_json::from_str::<String>(raw.0).ok().map(Cow::Owned)
    } else {
        Some(Cow::Borrowed(inner))
    }
}

/// A small piece parsed into a tree, for rules that compare whole values.
pub fn value(raw: Raw<'_>) -> Result<Value, Error> {
    serde_json::from_str(raw.0).map_err(|e| Error::Json(e.to_string()))
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
    /// The first edit that broke the contract, which `apply` reports.
    fault: Option<Error>,
}

impl<'a> Edits<'a> {
    /// Edits to `base`, the object's whole text, of which every raw value is a part.
    pub fn new(base: Raw<'a>) -> Edits<'a> {
        Edits {
            base: base.0,
            list: Vec::new(),
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
        self.check(at.ok_or(Error::Splice(Splice::Outside)))
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
    /// or an earlier edit already put some there.
    fn follows(&self, at: usize, had_content: bool) -> bool {
        had_content || self.list.iter().any(|e| e.at == at && e.remove == 0)
    }

    /// Append `items` (JSON texts) at the end of the array `raw` of `len` items.
    pub fn append(&mut self, raw: Raw<'_>, len: usize, items: &[&str]) {
        let Some(at) = self.before_end(raw) else {
            return;
        };
        let mut text = String::new();
        for item in items {
            if !text.is_empty() || self.follows(at, len > 0) {
                text.push(',');
            }
            text.push_str(item);
        }
        if !text.is_empty() {
            self.list.push(Edit {
                at,
                remove: 0,
                text,
            });
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
        let mut text = String::new();
        if self.follows(at, !object.is_empty()) {
            text.push(',');
        }
        text.push_str(&key);
        text.push(':');
        text.push_str(value);
        self.list.push(Edit {
            at,
            remove: 0,
            text,
        });
    }

    /// Put `value` (JSON text) where `raw` is: a null list, a value the policy owns.
    pub fn replace(&mut self, raw: Raw<'_>, value: String) {
        let span = self.span(raw).ok_or(Error::Splice(Splice::Outside));
        let Some((at, end)) = self.check(span) else {
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

    fn raw(text: &str) -> Raw<'_> {
        let checked: &RawValue = serde_json::from_str(text).unwrap();
        Raw::from(checked)
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
        let token = format!("{SERDE_JSON_PRIVATE}RawValue");
        let text = format!(r#"{{"{token}": "[1]"}}"#);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), json!([1]));
    }

    #[test]
    fn strings_with_escapes_are_decoded() {
        assert_eq!(string(raw(r#""a\u0062c""#)).unwrap(), "abc");
        assert_eq!(string(raw("5")), None);
    }

    #[test]
    fn index_refuses_what_the_host_cannot_parse() {
        let check = |text: &str| Index::build(text).map(|_| ()).map_err(|e| e.to_string());
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

    #[test]
    fn indexed_and_scanned_reads_agree() {
        let text = r#"{"a": [1, {"b": [[], {}]}, "]"], "c": {"d": "}"}, "e": 2}"#;
        let index = Index::build(text).unwrap();
        for r in [raw(text), Raw::indexed(text, &index)] {
            let o = Object::read(r).unwrap();
            let a: Vec<&str> = items(o.get("a").unwrap())
                .unwrap()
                .iter()
                .map(|v| v.get())
                .collect();
            assert_eq!(a, vec!["1", r#"{"b": [[], {}]}"#, r#""]""#]);
            assert_eq!(o.get("c").unwrap().get(), r#"{"d": "}"}"#);
            assert_eq!(o.get("e").unwrap().get(), "2");
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
