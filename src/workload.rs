//! One object's injection, in the order the rules apply: its pod template
//! read (template.rs), the plan from settings and annotations (overrides.rs),
//! the mutation (inject.rs) and the status annotation (status.rs).

use crate::diag::At;
use crate::inject::{inject, inject_ephemeral, Report};
use crate::json::{Edits, Raw};
use crate::overrides::{plan, Plan};
use crate::settings::{Settings, Source};
use crate::status;
use crate::template::{self, existing_ephemeral, Template};

/// Why a pod (or template) is refused.
#[derive(Debug, PartialEq)]
pub enum Refusal {
    /// The object does not have the shape of its kind; says which field.
    Malformed(String),
    /// One of our annotations is invalid or not allowed; names it.
    Annotation(String),
}

/// What was injected: the object's new text, what to check the source for,
/// and what each container was given.
#[derive(Debug, PartialEq)]
pub struct Injected {
    pub object: String,
    pub source: Source,
    /// The keys the pod will read from the source.
    pub keys: Vec<String>,
    pub report: Report,
    /// For the client, when the status annotation was left out.
    pub warning: Option<String>,
}

impl Injected {
    fn new(edits: Edits<'_>, plan: Plan<'_>, report: Report) -> Injected {
        let mut keys = vec![plan.cert_file];
        keys.extend(plan.java_key);
        Injected {
            object: edits.apply(),
            source: plan.source,
            keys,
            report,
            warning: None,
        }
    }
}

/// The template at `path` and its plan; `None` when the pod is skipped.
fn planned<'a, 's>(
    object: Raw<'a>,
    path: &[&'static str],
    settings: &'s Settings,
    namespace: &str,
) -> Result<Option<(Template<'a>, Plan<'s>)>, Refusal> {
    let Some(t) = template::read(object, path).map_err(Refusal::Malformed)? else {
        return Ok(None);
    };
    let plan = plan(settings, t.annotation_map.as_ref(), namespace).map_err(Refusal::Annotation)?;
    Ok(plan.map(|plan| (t, plan)))
}

/// Inject into the pod template found at `path` in `object`, and record what
/// was injected in the `<prefix>/status` annotation when the settings ask.
pub fn inject_template(
    object: Raw<'_>,
    path: &[&'static str],
    settings: &Settings,
    namespace: &str,
) -> Result<Option<Injected>, Refusal> {
    let Some((t, plan)) = planned(object, path, settings, namespace)? else {
        return Ok(None);
    };
    let mut edits = Edits::new(object);
    let Some(report) =
        inject(&mut edits, &t.spec, &At::Root(&t.spec_at), &plan).map_err(Refusal::Malformed)?
    else {
        return Ok(None);
    };
    let warning = if settings.status_annotation {
        status::annotate(&mut edits, &t, settings, &plan, &report)
    } else {
        None
    };
    let mut injected = Injected::new(edits, plan, report);
    injected.warning = warning;
    Ok(Some(injected))
}

/// `kubectl debug` adds ephemeral containers with an UPDATE of the
/// `ephemeralcontainers` subresource: inject the new ones (not in `old`).
/// Returns what was injected, if anything.
pub fn inject_debug_containers(
    object: Raw<'_>,
    old: Option<Raw<'_>>,
    settings: &Settings,
    namespace: &str,
) -> Result<Option<Injected>, Refusal> {
    let Some((t, plan)) = planned(object, &[], settings, namespace)? else {
        return Ok(None);
    };
    let existing = existing_ephemeral(old).map_err(Refusal::Malformed)?;
    let mut edits = Edits::new(object);
    let report = inject_ephemeral(&mut edits, &t.spec, &At::Root(&t.spec_at), &plan, &existing)
        .map_err(Refusal::Malformed)?;
    Ok(report.map(|report| Injected::new(edits, plan, report)))
}
