//! Structured fuzzing of the mutation: the fuzz data picks, from the tables
//! of tests/generators (shared with tests/properties.rs), settings, a kind, a
//! namespace, annotations (up to the API server's budget) and a pod spec
//! whose names collide with ours, with block devices and odd spellings at the
//! mount path, Windows node selectors and affinities, spoilt oldObjects of
//! debug updates, plus unknown fields at every level; now and then any string
//! instead of a table's. Whenever the policy mutates, the result must only add
//! to the original, keep the order of every key sent, add nothing twice, pass
//! the API server's checks of what it wrote, and be accepted unchanged by a
//! second run (tests/invariants, the checks of tests/properties.rs).
#![no_main]

#[path = "../../tests/common/mod.rs"]
mod common;
#[path = "../../tests/generators/mod.rs"]
mod generators;
#[path = "../../tests/invariants/mod.rs"]
mod invariants;

use arbitrary::{Result, Unstructured};
use generators::*;
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// One of `pool`, or (rarely) any string the fuzzer likes.
fn pick(u: &mut Unstructured, pool: &[&str]) -> Result<String> {
    let i = u.choose_index(pool.len() + 1)?;
    match pool.get(i) {
        Some(s) => Ok((*s).to_string()),
        None => u.arbitrary(),
    }
}

fn some_of(u: &mut Unstructured, pool: &[&str], max: usize) -> Result<Vec<String>> {
    let n = u.int_in_range(0..=max)?;
    (0..n).map(|_| pick(u, pool)).collect()
}

/// `Some` of what `f` draws, one time in `one_in`.
fn now_and_then<T>(
    u: &mut Unstructured,
    one_in: u32,
    f: impl FnOnce(&mut Unstructured) -> Result<T>,
) -> Result<Option<T>> {
    if u.ratio(1, one_in)? {
        f(u).map(Some)
    } else {
        Ok(None)
    }
}

fn leaf_value(u: &mut Unstructured) -> Result<Value> {
    let shape = u.int_in_range(0..=LEAF_SHAPES - 1)?;
    Ok(leaf(shape, u.arbitrary()?, u.arbitrary()?, u.arbitrary()?))
}

fn unknown(u: &mut Unstructured) -> Result<Unknown> {
    let n = u.int_in_range(0..=2)?;
    (0..n)
        .map(|_| Ok((pick(u, UNKNOWN_KEYS)?, leaf_value(u)?)))
        .collect()
}

/// An optional list field: absent, null, or a list of `item`s.
fn list(
    u: &mut Unstructured,
    max: usize,
    item: fn(&mut Unstructured) -> Result<Value>,
) -> Result<Option<Value>> {
    Ok(match u.int_in_range(0..=5)? {
        0 => None,
        1 => Some(Value::Null),
        _ => {
            let n = u.int_in_range(0..=max)?;
            Some(Value::Array(
                (0..n).map(|_| item(u)).collect::<Result<_>>()?,
            ))
        }
    })
}

fn mount_value(u: &mut Unstructured) -> Result<Value> {
    let name = pick(u, VOLUME_NAMES)?;
    let path = pick(u, POD_MOUNT_PATHS)?;
    let read_only = now_and_then(u, 2, |u| u.arbitrary())?;
    Ok(mount(&name, &path, read_only, &unknown(u)?))
}

fn env_value(u: &mut Unstructured) -> Result<Value> {
    let name = pick(u, POD_ENV_NAMES)?;
    let value = now_and_then(u, 2, |u| pick(u, POD_ENV_VALUES))?;
    Ok(env_var(&name, value.as_deref(), &unknown(u)?))
}

fn device_value(u: &mut Unstructured) -> Result<Value> {
    let name = pick(u, DEVICE_NAMES)?;
    let path = pick(u, DEVICE_PATHS)?;
    Ok(device(&name, &path, &unknown(u)?))
}

/// Any container: its mounts and devices need not be ones the API server
/// accepts (unlike the property tests').
fn container(u: &mut Unstructured) -> Result<Value> {
    let spec = ContainerSpec {
        name: pick(u, CONTAINER_NAMES)?,
        mounts: list(u, 3, mount_value)?,
        env: list(u, 3, env_value)?,
        devices: now_and_then(u, 5, |u| list(u, 2, device_value))?.flatten(),
        sidecar: u.ratio(1, 8)?,
        unknown: unknown(u)?,
    };
    Ok(spec.to_json())
}

fn volume_value(u: &mut Unstructured) -> Result<Value> {
    let name = pick(u, VOLUME_NAMES)?;
    let source = pick(u, SOURCES)?;
    let shape = *u.choose(&VOLUME_SHAPES)?;
    Ok(volume(&name, &source, shape, &unknown(u)?))
}

fn namespace_globs(u: &mut Unstructured) -> Result<Vec<String>> {
    let pool = if u.ratio(1, 4)? {
        NAMESPACE_CLASS_GLOBS
    } else {
        NAMESPACE_GLOBS
    };
    some_of(u, pool, 2)
}

fn source(u: &mut Unstructured) -> Result<SourceSpec> {
    let name = pick(u, SOURCES)?;
    Ok(match u.int_in_range(0..=4)? {
        0 | 1 => SourceSpec::ConfigMap(name),
        2 | 3 => SourceSpec::Secret(name),
        _ if u.arbitrary()? => SourceSpec::ClusterTrustBundle(name),
        _ => SourceSpec::Signer(name),
    })
}

fn java_trust_store(u: &mut Unstructured) -> Result<JavaTrustStoreSpec> {
    Ok(JavaTrustStoreSpec {
        key: pick(u, TRUST_STORE_KEYS)?,
        store_type: now_and_then(u, 2, |u| pick(u, TRUST_STORE_TYPES))?,
        password: now_and_then(u, 2, |u| pick(u, TRUST_STORE_PASSWORDS))?,
        cacerts: now_and_then(u, 3, cacerts)?,
    })
}

fn cacerts(u: &mut Unstructured) -> Result<StoreSpec> {
    Ok(if u.arbitrary()? {
        StoreSpec::Flag(u.arbitrary()?)
    } else {
        StoreSpec::Files(some_of(u, CACERTS_FILES, 3)?)
    })
}

fn env_values(u: &mut Unstructured) -> Result<Vec<(String, String)>> {
    let count = u.int_in_range(0..=2)?;
    (0..count)
        .map(|_| Ok((pick(u, VALUE_NAMES)?, pick(u, VALUES)?)))
        .collect()
}

fn store(u: &mut Unstructured) -> Result<StoreSpec> {
    Ok(if u.arbitrary()? {
        StoreSpec::Flag(u.arbitrary()?)
    } else {
        StoreSpec::Files(some_of(u, STORE_FILES, 3)?)
    })
}

fn settings(u: &mut Unstructured) -> Result<Value> {
    let spec = SettingsSpec {
        source: source(u)?,
        java_trust_store: now_and_then(u, 4, java_trust_store)?,
        status_annotation: now_and_then(u, 4, |u| u.arbitrary())?,
        cert_file: now_and_then(u, 2, |u| pick(u, CERT_FILES))?,
        mount_path: now_and_then(u, 2, |u| pick(u, MOUNT_PATHS))?,
        set_env_var: now_and_then(u, 2, |u| u.arbitrary())?,
        ssl_cert_file: now_and_then(u, 4, |u| pick(u, SSL_CERT_FILES))?,
        env_vars: now_and_then(u, 2, |u| some_of(u, ENV_NAMES, 4))?,
        exclude_containers: now_and_then(u, 2, |u| some_of(u, CONTAINER_GLOBS, 2))?,
        include_namespaces: now_and_then(u, 2, namespace_globs)?,
        exclude_namespaces: now_and_then(u, 2, namespace_globs)?,
        inject: now_and_then(u, 4, |_| Ok(false))?,
        annotation_prefix: now_and_then(u, 4, |u| pick(u, PREFIXES))?,
        allowed_overrides: now_and_then(u, 4, |u| some_of(u, OVERRIDES, 4))?,
        inject_init_containers: now_and_then(u, 4, |u| u.arbitrary())?,
        system_trust_store: now_and_then(u, 3, store)?,
        env_values: now_and_then(u, 3, env_values)?,
    };
    Ok(spec.to_json())
}

fn annotation(u: &mut Unstructured) -> Result<AnnotationSpec> {
    let under = match u.int_in_range(0..=9)? {
        0 => Under::Other,
        1 => Under::Mirror,
        2 => Under::Default,
        _ => Under::Ours,
    };
    let key = pick(u, ANNOTATION_KEYS)?;
    let value = if u.ratio(1, 16)? {
        leaf_value(u)?
    } else {
        pick(u, ANNOTATION_VALUES)?.into()
    };
    Ok(AnnotationSpec { under, key, value })
}

/// Any requirement: also `In` without values, or `Exists` on the OS label.
fn expression(u: &mut Unstructured) -> Result<Expression> {
    Ok(Expression {
        key: pick(u, OS_LABELS)?,
        operator: pick(u, OS_OPERATORS)?,
        values: some_of(u, OS_NAMES, 2)?,
    })
}

fn affinity(u: &mut Unstructured) -> Result<Vec<Vec<Expression>>> {
    let terms = u.int_in_range(0..=2)?;
    (0..terms)
        .map(|_| {
            let n = u.int_in_range(0..=2)?;
            (0..n).map(|_| expression(u)).collect()
        })
        .collect()
}

fn template(u: &mut Unstructured) -> Result<TemplateSpec> {
    let annotations = if u.int_in_range(0..=4)? > 0 {
        let n = u.int_in_range(0..=4)?;
        Some((0..n).map(|_| annotation(u)).collect::<Result<_>>()?)
    } else {
        None
    };
    let containers = u.int_in_range(0..=3)?;
    Ok(TemplateSpec {
        annotations,
        annotation_slack: now_and_then(u, 20, |u| u.int_in_range(0..=600))?,
        metadata_unknown: unknown(u)?,
        init_containers: list(u, 2, container)?,
        containers: (0..containers)
            .map(|_| container(u))
            .collect::<Result<_>>()?,
        volumes: list(u, 3, volume_value)?,
        os: now_and_then(u, 10, |u| pick(u, OS_NAMES))?,
        node_selector: now_and_then(u, 10, |u| Ok((pick(u, OS_LABELS)?, pick(u, OS_NAMES)?)))?,
        affinity: now_and_then(u, 10, affinity)?,
        spec_unknown: unknown(u)?,
        template_unknown: unknown(u)?,
    })
}

/// `kubectl debug`, now and then with an oldObject the policy cannot read,
/// which it must refuse.
fn debug(u: &mut Unstructured) -> Result<DebugSpec> {
    let n = u.int_in_range(1..=2)?;
    let ephemeral = (0..n).map(|_| container(u)).collect::<Result<Vec<_>>>()?;
    let existing = u.int_in_range(0..=n)?;
    let old_object = if u.ratio(1, 8)? {
        *u.choose(&[
            OldObject::Absent,
            OldObject::Null,
            OldObject::NotAnObject,
            OldObject::ListNotAList,
            OldObject::ItemWithoutName,
        ])?
    } else {
        OldObject::Readable
    };
    Ok(DebugSpec {
        ephemeral,
        existing,
        old_object,
    })
}

fn case(u: &mut Unstructured) -> Result<Case> {
    let kind = *u.choose(KINDS)?;
    let request_namespace = if u.ratio(1, 5)? {
        String::new()
    } else {
        pick(u, NAMESPACES)?
    };
    Ok(Case {
        kind,
        operation: if u.ratio(1, 10)? { "UPDATE" } else { "CREATE" },
        request_namespace,
        object_namespace: now_and_then(u, 2, |u| pick(u, NAMESPACES))?,
        settings: settings(u)?,
        template: template(u)?,
        object_unknown: unknown(u)?,
        debug: if kind.1 == "Pod" {
            now_and_then(u, 4, debug)?
        } else {
            None
        },
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(case) = case(&mut Unstructured::new(data)) {
        invariants::evaluate_checked(&case.request(), &case.settings);
    }
});
