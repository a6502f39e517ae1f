//! One object's injection, in the order the rules apply: its pod template
//! read (template.rs), the plan from settings and annotations (overrides.rs),
//! the mutation (inject.rs) and the status annotation (status.rs).

use crate::diag::At;
use crate::injection::inject::{SpecChanges, inject, inject_ephemeral};
use crate::injection::overrides::{self, Plan, plan};
use crate::injection::status;
use crate::injection::template::{self, Malformed, Template, existing_ephemeral};
use crate::json::{self, Checked, Edits, Raw};
use crate::route::Route;
use crate::settings::{Settings, Source};

/// One object's injection refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The object does not have the shape of its kind.
    #[error("malformed {kind}: {problem}")]
    Malformed {
        kind: String,
        problem: Box<Malformed>,
    },
    #[error(transparent)]
    Annotation(#[from] overrides::Error),
    /// The splicer's or serde_json's refusal of our own additions.
    #[error(transparent)]
    Json(#[from] json::Error),
}

/// The object of one admission request, as the injection reads it.
#[derive(Clone, Copy)]
pub struct Target<'a> {
    /// Its kind, which messages name.
    pub kind: &'a str,
    /// Checked before it is read: our additions go into it.
    pub object: Checked<'a>,
    /// `oldObject`, which a debug update must carry.
    pub old: Option<Raw<'a>>,
    pub namespace: &'a str,
    /// Whether the plan's system trust store files are mounted (`sourceCheck:
    /// warn` injects a thin bundle without them).
    pub system_store: bool,
    /// Whether the plan's JDK trust store files are mounted (`sourceCheck:
    /// warn` injects without them, and without the store, a store the JDK
    /// cannot read).
    pub cacerts: bool,
}

/// What was injected: the object's new text, what to check the source for,
/// and what each container was given.
#[derive(Debug, PartialEq)]
pub struct InjectedObject {
    pub object: String,
    pub source: Source,
    /// The keys the pod will read from the source.
    pub keys: Vec<String>,
    /// The key put over the system trust store files, when a container got it.
    pub store_key: Option<String>,
    /// The key put over the JDK trust store files, when a container got it.
    pub cacerts_key: Option<String>,
    pub report: SpecChanges,
    /// For the client, when the status annotation was left out.
    pub warning: Option<status::LeftOut>,
}

impl InjectedObject {
    fn new(edits: Edits<'_>, plan: Plan<'_>, report: SpecChanges) -> Result<InjectedObject, Error> {
        let got = |cacerts: bool| {
            let mut files = report.added.iter().flat_map(|added| added.store.iter());
            files.any(|f| report.is_cacerts(f) == cacerts)
        };
        let store_key = got(false).then(|| plan.cert_file.clone());
        let cacerts_key = plan.java_key.clone().filter(|_| got(true));
        let mut keys = vec![plan.cert_file];
        keys.extend(plan.java_key);
        Ok(InjectedObject {
            object: edits.apply()?,
            source: plan.source,
            keys,
            store_key,
            cacerts_key,
            report,
            warning: None,
        })
    }
}

/// Inject what the route asks for; `None` when the object is left as it is.
/// A refusal names the field (`malformed Deployment: ...`) or the annotation.
pub fn inject_object(
    route: Route,
    target: &Target<'_>,
    settings: &Settings,
) -> Result<Option<InjectedObject>, Error> {
    match route {
        Route::Template(path) => inject_template(target, path, settings),
        Route::Debug => inject_debug_containers(target, settings),
    }
}

/// `problem` with the object, named as a malformed `kind`.
fn malformed(kind: &str) -> impl Fn(Malformed) -> Error + '_ {
    move |problem| Error::Malformed {
        kind: kind.to_string(),
        problem: Box::new(problem),
    }
}

/// The template at `path` and its plan; `None` when the pod is skipped.
fn planned<'a, 's>(
    target: &Target<'a>,
    path: &[&'static str],
    settings: &'s Settings,
) -> Result<Option<(Template<'a>, Plan<'s>)>, Error> {
    let read = template::read(target.object.raw(), path).map_err(malformed(target.kind))?;
    let Some(t) = read else {
        return Ok(None);
    };
    let mut plan = plan(settings, t.annotation_map(), target.namespace)?;
    if let Some(plan) = &mut plan {
        if !target.system_store {
            plan.system_store = &[];
        }
        // Nothing else points Java at the store: the status names none.
        if !target.cacerts {
            plan.cacerts = &[];
            plan.java_key = None;
        }
    }
    Ok(plan.map(|plan| (t, plan)))
}

/// Inject into the pod template found at `path`, and record what was
/// injected in the `<prefix>/status` annotation when the settings ask.
fn inject_template(
    target: &Target<'_>,
    path: &[&'static str],
    settings: &Settings,
) -> Result<Option<InjectedObject>, Error> {
    let Some((t, plan)) = planned(target, path, settings)? else {
        return Ok(None);
    };
    let mut edits = Edits::new(target.object);
    let report = inject(&mut edits, &t.spec, &At::Root(&t.spec_at), &plan);
    let Some(report) = report.map_err(malformed(target.kind))? else {
        return Ok(None);
    };
    let warning = if settings.status_annotation {
        status::annotate(&mut edits, &t, settings, &plan, &report)?
    } else {
        None
    };
    let mut injected = InjectedObject::new(edits, plan, report)?;
    injected.warning = warning;
    Ok(Some(injected))
}

/// `kubectl debug` adds ephemeral containers with an UPDATE of the
/// `ephemeralcontainers` subresource: inject the new ones (not in `old`).
fn inject_debug_containers(
    target: &Target<'_>,
    settings: &Settings,
) -> Result<Option<InjectedObject>, Error> {
    let Some((t, plan)) = planned(target, &[], settings)? else {
        return Ok(None);
    };
    let existing = existing_ephemeral(target.old).map_err(malformed(target.kind))?;
    let mut edits = Edits::new(target.object);
    let spec_at = At::Root(&t.spec_at);
    let report = inject_ephemeral(&mut edits, &t.spec, &spec_at, &plan, &existing);
    let report = report.map_err(malformed(target.kind))?;
    report
        .map(|report| InjectedObject::new(edits, plan, report))
        .transpose()
}
