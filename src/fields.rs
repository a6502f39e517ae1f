//! The object's fields read as the API types them: an object, a string, a
//! list (absent, null or its items). Anything else is refused with a message
//! naming where it is.

use std::borrow::Cow;

use crate::diag::At;
use crate::error::{Expected, Subject, ValueError};
use crate::json::{self, Edits, Object, Raw};

/// `{at} must be {expected}, found` what `found` is.
pub fn wrong(at: &At<'_>, expected: Expected, found: Raw<'_>) -> ValueError {
    ValueError::wrong_kind(Subject::path(at), expected, found.kind())
}

/// `{at} is missing`, or `is missing: it must be {needs}`.
pub fn missing(at: &At<'_>, needs: Option<Expected>) -> ValueError {
    ValueError::Missing {
        subject: Subject::path(at),
        needs,
    }
}

/// `raw` as an object, or a message naming where it is.
pub fn object<'a>(raw: Raw<'a>, at: &At<'_>) -> Result<Object<'a>, ValueError> {
    Object::read(raw).ok_or_else(|| wrong(at, Expected::Object, raw))
}

/// A member that must be a string.
pub fn required_string<'a>(
    parent: &Object<'a>,
    at: &At<'_>,
    field: &str,
) -> Result<Cow<'a, str>, ValueError> {
    let at = At::Field(at, field);
    let raw = parent
        .present(field)
        .ok_or_else(|| missing(&at, Some(Expected::String)))?;
    json::string(raw).ok_or_else(|| wrong(&at, Expected::String, raw))
}

/// A list member as found: absent, null, or its items.
pub enum Slot<'a> {
    Absent,
    Null(Raw<'a>),
    List(Raw<'a>, Vec<Raw<'a>>),
}

impl<'a> Slot<'a> {
    pub fn read(parent: &Object<'a>, at: &At<'_>, field: &str) -> Result<Slot<'a>, ValueError> {
        match parent.get(field) {
            None => Ok(Slot::Absent),
            Some(raw) if json::is_null(raw) => Ok(Slot::Null(raw)),
            Some(raw) => json::items(raw)
                .map(|items| Slot::List(raw, items))
                .ok_or_else(|| wrong(&At::Field(at, field), Expected::List, raw)),
        }
    }

    pub fn items(&self) -> &[Raw<'a>] {
        match self {
            Slot::List(_, items) => items,
            _ => &[],
        }
    }

    /// The items, each an object with the string member `key` (`name`,
    /// `mountPath`): where it is (`{at}.{field}[i]`), the object, the string.
    pub fn named<'b, 's: 'b>(
        &'b self,
        at: &'s At<'s>,
        field: &'s str,
        key: &'b str,
    ) -> impl Iterator<Item = Result<Named<'a, 's>, ValueError>> + 'b {
        self.items().iter().enumerate().map(move |(i, item)| {
            let at = At::Item(at, field, i);
            let object = object(*item, &at)?;
            let name = required_string(&object, &at, key)?;
            Ok(Named { at, object, name })
        })
    }

    /// Add `items` (JSON texts; an empty one adds nothing) at the end of the
    /// list, making the list if there is none.
    pub fn extend(&self, edits: &mut Edits<'_>, parent: &Object<'_>, field: &str, items: &[&str]) {
        if items.iter().all(|item| item.is_empty()) {
            return;
        }
        match self {
            Slot::Absent => edits.add_member(parent, field, &list_text(items)),
            Slot::Null(raw) => edits.replace(*raw, list_text(items)),
            Slot::List(raw, list) => edits.append(*raw, list.len(), items),
        }
    }
}

/// An item of a list of objects, read by `Slot::named`.
pub struct Named<'a, 's> {
    pub at: At<'s>,
    pub object: Object<'a>,
    pub name: Cow<'a, str>,
}

/// `[a,b]` from JSON texts, written into one allocation.
fn list_text(items: &[&str]) -> String {
    let size = items.iter().map(|item| item.len().saturating_add(1)).sum();
    let mut text = String::with_capacity(usize::saturating_add(size, 1));
    text.push('[');
    for item in items.iter().filter(|item| !item.is_empty()) {
        if text.len() > 1 {
            text.push(',');
        }
        text.push_str(item);
    }
    text.push(']');
    text
}
