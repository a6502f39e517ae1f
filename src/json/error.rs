//! What cannot be read or written: serde_json's refusals, and the
//! splicer's faults.

use super::notes::Refusal;

/// What cannot be read or written.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// What the host's parser refuses beyond the grammar (notes.rs, check.rs).
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// serde_json's own message, for what the host's parser refuses.
    #[error("{0}")]
    Json(String),
    /// The policy's own edits broke the splicer's contract (splice.rs).
    #[error(
        "cainjector could not write its additions into the object (please report this bug): {0}"
    )]
    Splice(#[from] Splice),
}

/// How the policy's own edits broke the splicer's contract: a bug, refused
/// rather than answered with a broken object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Splice {
    /// An edit is not at a piece of the object (or not at a closing bracket).
    #[error("an edit is outside the object")]
    Outside,
    #[error("two edits overlap")]
    Overlap,
}
