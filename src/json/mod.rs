//! The payload as the host sent it: read once into an index, read only
//! where a rule looks, and the object changed by splicing text into it.
//! Every byte the policy does not own comes back exactly as it came in
//! (member order, spacing, number spelling included), and nothing is parsed
//! into a tree or written out again but the small pieces the rules read and
//! the additions. This is the policy's one reader of the payload.
//!
//! The contract with the rest of the crate:
//! - `Index::build` (scan.rs) reads a whole document once: it checks it is
//!   JSON as serde_json's grammar has it (a text it refuses is `NotJson`),
//!   and notes where every value (and key) starts and ends and where each
//!   array and object's last descendant is. Everything after that (members,
//!   items, strings: read.rs) is read from the index without scanning the
//!   text again. A `Raw` is always a value (or a key) found so.
//! - A key given twice in one object: the last one wins (`Object::get`), as
//!   serde_json's `Value` reads it. The earlier values are not read at all.
//! - The host parses our answer with serde_json, which refuses more than the
//!   grammar (notes.rs, check.rs): nesting past its limit, `\\u` escapes of
//!   unpaired UTF-16 surrogates, numbers beyond f64, and objects named with
//!   its private raw-value token. The scan notes where each of these may be,
//!   and `Raw::check` refuses a value that holds one, so that an answer with
//!   our additions in it always parses: `Edits::new` takes only its
//!   `Checked` value, so no edit can be built on an unchecked one.
//! - `Edits` (splice.rs) change one document, their base. Every `Raw` given
//!   to them is a piece of that base, found by its span in the same index; an insertion goes just before a
//!   closing bracket, a replacement covers one whole value, so edits never
//!   overlap, and two insertions at one place keep the order they were made
//!   in. `apply` checks all of it and refuses, naming the fault, instead of
//!   writing a broken object.
//! - What cannot be read or written is an `Error`, not a default.

mod check;
mod error;
mod notes;
mod read;
mod scan;
mod splice;

pub use check::Checked;
pub use error::Error;
pub use read::{Object, Raw, is_null, items, map, string, to_json};
pub use scan::Index;
pub use splice::Edits;

/// The document `text`, indexed (the index lives as long as the test).
#[cfg(test)]
fn raw(text: &str) -> Raw<'_> {
    let index = Box::leak(Box::new(Index::build(text, 0).unwrap()));
    index.root().unwrap()
}
