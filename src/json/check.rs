//! `Raw::check`: a value refused, before any edit goes into it, when it holds
//! what serde_json (which the host parses our answer with) refuses beyond
//! the grammar; the scan noted where (notes.rs).

use serde_json::Value;

use super::error::Error;
use super::notes::Refusal;
use super::read::{Raw, key_is};
use super::scan::Index;

/// The one of those tokens that changes how an object reads (serde_json's
/// `raw_value` feature; the `arbitrary_precision` one, which has another, is off).
const RAW_VALUE: &str = "$serde_json::private::RawValue";

/// A value serde_json would read as it is: the only base `Edits` take, so
/// that no edit goes into a value that was not checked.
#[derive(Clone, Copy, Debug)]
pub struct Checked<'a>(Raw<'a>);

impl<'a> Checked<'a> {
    pub fn raw(self) -> Raw<'a> {
        self.0
    }
}

impl<'a> Raw<'a> {
    /// This value, unless serde_json would refuse something in it.
    pub fn check(self) -> Result<Checked<'a>, Error> {
        let notes = &self.index.notes;
        let span = self.span();
        if let Some(refusal) = notes.refused_in(&span) {
            return Err(refusal.into());
        }
        if notes.doubtful_in(&span) {
            serde_json::from_str::<Value>(self.text).map_err(|e| Error::Json(e.to_string()))?;
            // serde_json may read such an object without a fault, as something
            // else; with our additions in it, it would not read at all.
            if names_raw_value(self.index, self.at) {
                return Err(Refusal::RawValueToken.into());
            }
        }
        Ok(Checked(self))
    }
}

/// Whether the value at `at`, or one inside it, is an object whose first
/// key is serde_json's raw-value token (escaped or not).
fn names_raw_value(index: &Index<'_>, at: usize) -> bool {
    (at..index.next(at)).any(|i| {
        let first_key = i.saturating_add(1);
        index.raw(i).is_some_and(|raw| raw.text.starts_with('{'))
            && first_key < index.next(i)
            && index
                .raw(first_key)
                .is_some_and(|key| key_is(key, RAW_VALUE.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::super::notes::{DEPTH_LIMIT, SERDE_JSON_PRIVATE};
    use super::super::{Object, items, raw};
    use super::*;
    use serde_json::json;

    #[test]
    fn serde_json_still_spells_its_raw_value_token_so() {
        // An object whose one member is named with the token is read as the
        // raw value its string holds: the meaning `Raw::check` guards against.
        assert!(RAW_VALUE.as_bytes().starts_with(SERDE_JSON_PRIVATE));
        let text = format!(r#"{{"{RAW_VALUE}": "[1]"}}"#);
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), json!([1]));
    }

    /// serde_json reads an object named with the token without a fault when
    /// its string is JSON; the object is refused all the same, wherever it
    /// is, as the first key only, and however the key is spelled.
    #[test]
    fn objects_named_with_the_raw_value_token_are_refused() {
        let check = |text: &str| raw(text).check().map(drop);
        let refused: Result<(), Error> = Err(Refusal::RawValueToken.into());
        let named = format!(r#"{{"{RAW_VALUE}": "{{}}"}}"#);
        assert_eq!(check(&named), refused);
        assert_eq!(check(&format!(r#"{{"a": [1, {named}]}}"#)), refused);
        let escaped = r#"{"a": {"\u0024serde_json::private::RawValue": "{}"}}"#;
        assert_eq!(check(escaped), refused);
        // Not the first key, a string value, or a longer key: an object like any other.
        let not_first = format!(r#"{{"a": 1, "{RAW_VALUE}": "{{}}"}}"#);
        assert_eq!(check(&not_first), Ok(()));
        assert_eq!(check(&format!(r#"{{"a": "{RAW_VALUE}"}}"#)), Ok(()));
        assert_eq!(check(&format!(r#"{{"{RAW_VALUE}x": "{{}}"}}"#)), Ok(()));
        // A value beside it reads.
        let text = format!(r#"{{"a": {named}, "b": {{"c": 1}}}}"#);
        let o = Object::read(raw(&text)).unwrap();
        assert_eq!(o.get("b").unwrap().check().map(drop), Ok(()));
        assert_eq!(o.get("a").unwrap().check().map(drop), refused);
    }

    #[test]
    fn index_refuses_what_the_host_cannot_parse() {
        let check = |text: &str| {
            let index = Index::build(text, 0).map_err(|_| "not JSON".to_string())?;
            let root = index.root().unwrap();
            root.check().map(drop).map_err(|e| e.to_string())
        };
        let deep = format!("{}{}", "[".repeat(DEPTH_LIMIT), "]".repeat(DEPTH_LIMIT));
        assert_eq!(check(r#"{"a": "\ud83d\ude00 [{"}"#), Ok(()));
        assert_eq!(check(r#"{"a": "\\u0000", "b": "\"["}"#), Ok(()));
        assert_eq!(check(&deep), Ok(()));
        assert_eq!(check(r#"{"a": 1.5e3, "t": true}"#), Ok(()));
        let (deeper, nines) = (format!("[{deep}]"), format!("[{}]", "9".repeat(400)));
        for (text, message) in [
            (r#"{"a": "\ud800"}"#, "lone leading surrogate in hex escape"),
            (
                r#"{"a": "\udc00"}"#,
                "lone trailing surrogate in hex escape",
            ),
            (
                &deeper,
                "recursion limit exceeded: nested deeper than 126 levels",
            ),
            (r#"{"a": 1e400}"#, "number out of range at line 1 column 11"),
            (&nines, "number out of range at line 1 column 401"),
        ] {
            assert_eq!(check(text), Err(message.to_string()), "{text}");
        }
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
        let o = Object::read(raw(&text)).unwrap();
        let a = Object::read(o.get("a").unwrap()).unwrap();
        let check = |o: &Object<'_>, key| o.get(key).unwrap().check().map(drop);
        let too_deep: Result<(), Error> = Err(Refusal::TooDeep { limit: DEPTH_LIMIT }.into());
        let lone: Result<(), Error> = Err(Refusal::LoneSurrogate { leading: true }.into());
        assert_eq!(check(&o, "b"), Ok(()));
        assert_eq!(check(&a, "d"), too_deep);
        assert_eq!(check(&a, "s"), lone);
        let out_of_range = Err("number out of range at line 1 column 5".into());
        assert_eq!(check(&a, "n").map_err(|e| e.to_string()), out_of_range);
        // The first refusal in a value is the one given.
        assert_eq!(check(&o, "a"), lone);
        // Nested two levels in, the limit comes two levels sooner.
        let index = Index::build(&deep, 2).unwrap();
        let inner = items(index.root().unwrap()).unwrap()[0];
        assert_eq!(inner.check().map(drop), too_deep);
    }
}
