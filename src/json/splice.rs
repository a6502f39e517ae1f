//! Splicing our additions into the object's text: each edit is an insertion
//! before a closing bracket or the replacement of one whole value, and
//! `apply` writes them all in one pass, or refuses, naming the fault.

use std::collections::BTreeSet;

use super::check::Checked;
use super::error::{Error, Splice};
use super::read::{Object, Raw, to_json};
use super::scan::Index;

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
    /// The base's document, and where the base starts in it.
    index: &'a Index<'a>,
    start: usize,
    list: Vec<Edit>,
    /// Where insertions went into arrays and objects that had nothing: one
    /// more there follows content. A set, so that a pod of many empty lists
    /// costs no search of every edit for each.
    filled: BTreeSet<usize>,
    /// The first edit that broke the contract, which `apply` reports.
    fault: Option<Error>,
}

impl<'a> Edits<'a> {
    /// Edits to `base`, the object's whole value (checked: serde_json reads
    /// it as it is), of which every raw value edited is a part.
    pub fn new(base: Checked<'a>) -> Edits<'a> {
        let base = base.raw();
        Edits {
            base: base.text,
            index: base.index,
            start: base.span().start,
            list: Vec::new(),
            filled: BTreeSet::new(),
            fault: None,
        }
    }

    /// Where `raw` starts and ends in the object's text; `None` when it is
    /// not a part of it.
    fn span(&self, raw: Raw<'_>) -> Option<(usize, usize)> {
        if !std::ptr::eq(raw.index, self.index) {
            return None;
        }
        let span = raw.span();
        let start = span.start.checked_sub(self.start)?;
        let end = span.end.checked_sub(self.start)?;
        (end <= self.base.len()).then_some((start, end))
    }

    /// Just before the closing bracket of the array or object `raw`.
    fn before_end(&mut self, raw: Raw<'_>) -> Option<usize> {
        let closed = matches!(raw.text.as_bytes().last(), Some(b']' | b'}'));
        let at = self.span(raw).filter(|_| closed).map(|(_, end)| end - 1);
        if at.is_none() {
            self.fault.get_or_insert(Error::Splice(Splice::Outside));
        }
        at
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

    /// Append `items` at the end of the array `raw` of `len` items. Each item
    /// is JSON text written as given: one value, or a run of values already
    /// joined by commas (`1,2`), which appends as those values one by one
    /// would; an empty one adds nothing.
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
        let key = match to_json(key) {
            Ok(key) => key,
            Err(error) => {
                self.fault.get_or_insert(error);
                return;
            }
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
    use super::super::{Object, raw, to_json};
    use super::*;
    use serde_json::json;

    /// The edits `plan` makes in `text`'s object, applied to `text`.
    fn edited(text: &str, plan: impl FnOnce(&Object, &mut Edits)) -> Result<String, Error> {
        let r = raw(text);
        let mut edits = Edits::new(r.check().unwrap());
        plan(&Object::read(r).unwrap(), &mut edits);
        edits.apply()
    }

    #[test]
    fn append_to_empty_and_full_arrays() {
        let got = edited(r#"{"a": [], "b": [ 1 ,2 ]}"#, |o, edits| {
            let k = to_json(&json!({"k": "v"})).unwrap();
            edits.append(o.get("a").unwrap(), 0, &["1", &k]);
            edits.append(o.get("b").unwrap(), 2, &["3"]);
        });
        let want = r#"{"a": [1,{"k":"v"}], "b": [ 1 ,2 ,3]}"#;
        assert_eq!(got.as_deref(), Ok(want));
    }

    #[test]
    fn add_members_to_empty_and_full_objects() {
        let got = edited(r#"{"e": {}, "f": {"x":1.0}}"#, |o, edits| {
            let e = Object::read(o.get("e").unwrap()).unwrap();
            let f = Object::read(o.get("f").unwrap()).unwrap();
            edits.add_member(&e, "k", "1");
            edits.add_member(&e, "l", "[]");
            edits.add_member(&f, "y", "\"z\"");
            edits.add_member(o, "g", "null");
        });
        let want = r#"{"e": {"k":1,"l":[]}, "f": {"x":1.0,"y":"z"},"g":null}"#;
        assert_eq!(got.as_deref(), Ok(want));
    }

    #[test]
    fn replace_swaps_one_value() {
        let got = edited(r#"{"env": null, "n": 1e3}"#, |o, edits| {
            let env = to_json(&json!([{"name": "A"}])).unwrap();
            edits.replace(o.get("env").unwrap(), env);
        });
        assert_eq!(got.as_deref(), Ok(r#"{"env": [{"name":"A"}], "n": 1e3}"#));
    }

    #[test]
    fn insertions_at_one_place_keep_their_order() {
        let got = edited(r#"{"a": []}"#, |o, edits| {
            edits.append(o.get("a").unwrap(), 0, &["1"]);
            edits.append(o.get("a").unwrap(), 0, &["2", "3"]);
        });
        assert_eq!(got.as_deref(), Ok(r#"{"a": [1,2,3]}"#));
        // Empty lists and objects filled in turn: each knows only its own;
        // an empty text is no item.
        let got = edited(r#"{"a": [], "b": [], "c": {}}"#, |o, edits| {
            let (a, b) = (o.get("a").unwrap(), o.get("b").unwrap());
            let c = Object::read(o.get("c").unwrap()).unwrap();
            edits.append(a, 0, &[""]);
            edits.append(a, 0, &["1", ""]);
            edits.add_member(&c, "k", "1");
            edits.append(b, 0, &["2"]);
            edits.append(a, 0, &["3"]);
            edits.add_member(&c, "l", "2");
        });
        let want = r#"{"a": [1,3], "b": [2], "c": {"k":1,"l":2}}"#;
        assert_eq!(got.as_deref(), Ok(want));
    }

    #[test]
    fn edits_outside_the_base_or_overlapping_are_refused() {
        let elsewhere = Object::read(raw(r#"{"b": []}"#)).unwrap().get("b").unwrap();
        let got = edited(r#"{"a": []}"#, |_, e| e.append(elsewhere, 0, &["1"]));
        assert_eq!(got, Err(Error::Splice(Splice::Outside)));
        // Inside the base, but not a list: no closing bracket to insert before.
        let got = edited(r#"{"n": 12}"#, |o, e| {
            e.append(o.get("n").unwrap(), 0, &["1"])
        });
        assert_eq!(got, Err(Error::Splice(Splice::Outside)));
        // Two edits of one place.
        let got = edited(r#"{"env": [1, 2]}"#, |o, edits| {
            let env = o.get("env").unwrap();
            edits.replace(env, "null".into());
            edits.append(env, 2, &["3"]);
        });
        assert_eq!(got, Err(Error::Splice(Splice::Overlap)));
    }
}
