//! The injection half: one object's pod template read, the pod's annotations
//! over the settings' values (one plan), our additions spliced into its text,
//! the status annotation; and what `action: require` says a pod lacks.

mod inject;
mod overrides;
mod require;
mod status;
mod template;
mod workload;

pub use require::refusal;
pub use workload::{Error, InjectedObject, Target, inject_object};
