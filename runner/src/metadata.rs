//! Policy metadata embedded in the module, as `kwctl annotate` embeds it: JSON in
//! the custom section `io.kubewarden.metadata`.
//!
//! The runner reads only `contextAwareResources` from it (what
//! `--allow-context-aware` grants), and can write the section so that a module can
//! be run with `--allow-context-aware` where kwctl is not installed.

use std::{collections::BTreeSet, path::Path};

use anyhow::{Result, anyhow};
use serde::Deserialize;
use serde_json::Value;

use crate::kubernetes::ContextAwareResource;

/// Name of the custom section holding the metadata (policy-evaluator's
/// `KUBEWARDEN_CUSTOM_SECTION_METADATA`).
pub const METADATA_SECTION: &str = "io.kubewarden.metadata";

/// Annotation under which kwctl stores the usage text.
const USAGE_ANNOTATION: &str = "io.kubewarden.policy.usage";

const WASM_HEADER: &[u8] = b"\0asm\x01\0\0\0";

/// What the runner uses of the metadata.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Metadata {
    #[serde(default)]
    context_aware_resources: BTreeSet<ContextAwareResource>,
}

/// One section of a module: its id and where its contents lie.
struct Section<'a> {
    id: u8,
    /// The whole section, id and size included.
    raw: &'a [u8],
    contents: &'a [u8],
}

fn read_u32_leb(bytes: &[u8], at: &mut usize) -> Option<u32> {
    let mut value: u32 = 0;
    for shift in (0..35).step_by(7) {
        let byte = *bytes.get(*at)?;
        *at += 1;
        value |= u32::from(byte & 0x7f).checked_shl(shift)?;
        if byte & 0x80 == 0 {
            return Some(value);
        }
    }
    None
}

fn write_u32_leb(mut value: u32, out: &mut Vec<u8>) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

fn sections(module: &[u8]) -> Result<Vec<Section<'_>>> {
    if !module.starts_with(WASM_HEADER) {
        return Err(anyhow!("not a WebAssembly module (version 1)"));
    }
    let mut at = WASM_HEADER.len();
    let mut found = Vec::new();
    while at < module.len() {
        let start = at;
        let truncated = || anyhow!("truncated section at byte {start}");
        let id = *module.get(at).ok_or_else(truncated)?;
        at += 1;
        let size = read_u32_leb(module, &mut at).ok_or_else(truncated)?;
        let end = at
            .checked_add(usize::try_from(size)?)
            .ok_or_else(truncated)?;
        let contents = module.get(at..end).ok_or_else(truncated)?;
        let raw = module.get(start..end).ok_or_else(truncated)?;
        found.push(Section { id, raw, contents });
        at = end;
    }
    Ok(found)
}

/// Name and data of a custom section.
fn custom_section(contents: &[u8]) -> Option<(&[u8], &[u8])> {
    let mut at = 0;
    let len = usize::try_from(read_u32_leb(contents, &mut at)?).ok()?;
    let name = contents.get(at..at.checked_add(len)?)?;
    Some((name, contents.get(at + len..)?))
}

fn metadata_data<'a>(section: &Section<'a>) -> Option<&'a [u8]> {
    if section.id != 0 {
        return None;
    }
    custom_section(section.contents)
        .filter(|(name, _)| *name == METADATA_SECTION.as_bytes())
        .map(|(_, data)| data)
}

/// The resource types listed in the module's metadata; `None` when the module
/// carries no metadata. The first metadata section counts, as in policy-evaluator.
pub fn context_aware_resources(module: &[u8]) -> Result<Option<BTreeSet<ContextAwareResource>>> {
    for section in sections(module)? {
        if let Some(data) = metadata_data(&section) {
            let metadata: Metadata = serde_json::from_slice(data)
                .map_err(|e| anyhow!("cannot read section {METADATA_SECTION}: {e}"))?;
            return Ok(Some(metadata.context_aware_resources));
        }
    }
    Ok(None)
}

/// The module with `metadata` as its only metadata section, at its end.
pub fn annotate(module: &[u8], metadata: &Value) -> Result<Vec<u8>> {
    let mut out = WASM_HEADER.to_vec();
    for section in sections(module)? {
        if metadata_data(&section).is_none() {
            out.extend_from_slice(section.raw);
        }
    }
    let data = serde_json::to_vec(metadata)?;
    let mut contents = Vec::new();
    write_u32_leb(u32::try_from(METADATA_SECTION.len())?, &mut contents);
    contents.extend_from_slice(METADATA_SECTION.as_bytes());
    contents.extend_from_slice(&data);
    out.push(0);
    write_u32_leb(u32::try_from(contents.len())?, &mut out);
    out.extend_from_slice(&contents);
    Ok(out)
}

/// `annotate`: the metadata file (YAML) as JSON, with the usage text among its
/// annotations as kwctl stores it. Unlike kwctl, the metadata is neither
/// validated nor completed (no protocol version detection).
pub fn annotate_file(
    wasm: &Path,
    metadata_path: &Path,
    usage_path: Option<&Path>,
    output: &Path,
) -> Result<()> {
    let usage = usage_path
        .map(|path| {
            std::fs::read_to_string(path).map_err(|e| anyhow!("Error reading usage file: {e}"))
        })
        .transpose()?;
    let module = std::fs::read(wasm).map_err(|e| anyhow!("Error reading wasm file: {e}"))?;
    let file = std::fs::File::open(metadata_path)
        .map_err(|e| anyhow!("Error opening metadata file: {e}"))?;
    let mut metadata: Value =
        yaml_serde::from_reader(file).map_err(|e| anyhow!("Error unmarshalling metadata {e}"))?;
    let Some(fields) = metadata.as_object_mut() else {
        return Err(anyhow!("Error unmarshalling metadata: not a mapping"));
    };
    if let Some(usage) = usage {
        let annotations = fields
            .entry("annotations")
            .or_insert_with(|| Value::Object(Default::default()));
        let Some(annotations) = annotations.as_object_mut() else {
            return Err(anyhow!(
                "Error unmarshalling metadata: annotations is not a mapping"
            ));
        };
        annotations.insert(USAGE_ANNOTATION.to_owned(), Value::String(usage));
    }
    let annotated =
        annotate(&module, &metadata).map_err(|e| anyhow!("Error parsing wasm module: {e}"))?;
    std::fs::write(output, annotated)
        .map_err(|e| anyhow!("Error writing {}: {e}", output.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn module() -> Vec<u8> {
        wat::parse_str(r#"(module (memory (export "memory") 1) (func (export "f")))"#).unwrap()
    }

    fn resource(api_version: &str, kind: &str) -> ContextAwareResource {
        ContextAwareResource {
            api_version: api_version.into(),
            kind: kind.into(),
        }
    }

    #[test]
    fn a_module_without_metadata_has_none() {
        assert_eq!(context_aware_resources(&module()).unwrap(), None);
    }

    #[test]
    fn annotated_resources_are_read_back_and_the_module_still_compiles() {
        let metadata = json!({
            "rules": [],
            "mutating": true,
            "contextAwareResources": [
                {"apiVersion": "v1", "kind": "Secret"},
                {"apiVersion": "v1", "kind": "ConfigMap"}
            ]
        });
        let annotated = annotate(&module(), &metadata).unwrap();
        assert_eq!(
            context_aware_resources(&annotated).unwrap(),
            Some(BTreeSet::from([
                resource("v1", "ConfigMap"),
                resource("v1", "Secret")
            ]))
        );
        let engine = wasmtime_provider::wasmtime::Engine::default();
        wasmtime_provider::wasmtime::Module::new(&engine, &annotated).unwrap();
    }

    #[test]
    fn annotating_again_replaces_the_metadata() {
        let first = annotate(
            &module(),
            &json!({"contextAwareResources": [{"apiVersion": "v1", "kind": "Secret"}]}),
        )
        .unwrap();
        let second = annotate(&first, &json!({"mutating": true})).unwrap();
        assert_eq!(
            context_aware_resources(&second).unwrap(),
            Some(BTreeSet::new())
        );
        assert_eq!(
            sections(&second)
                .unwrap()
                .iter()
                .filter(|s| metadata_data(s).is_some())
                .count(),
            1
        );
    }

    #[test]
    fn a_long_section_size_is_encoded_over_several_bytes() {
        let big = json!({"annotations": {"io.kubewarden.policy.usage": "x".repeat(20_000)}});
        let annotated = annotate(&module(), &big).unwrap();
        assert_eq!(
            context_aware_resources(&annotated).unwrap(),
            Some(BTreeSet::new())
        );
        let mut bytes = Vec::new();
        write_u32_leb(624_485, &mut bytes);
        assert_eq!(bytes, [0xe5, 0x8e, 0x26]);
        assert_eq!(read_u32_leb(&bytes, &mut 0), Some(624_485));
    }

    #[test]
    fn unreadable_modules_and_metadata_are_errors() {
        assert_eq!(
            context_aware_resources(b"not wasm")
                .unwrap_err()
                .to_string(),
            "not a WebAssembly module (version 1)"
        );
        let mut truncated = module();
        truncated.truncate(truncated.len() - 1);
        assert!(
            context_aware_resources(&truncated)
                .unwrap_err()
                .to_string()
                .starts_with("truncated section at byte ")
        );
        let bad = annotate(&module(), &json!({"contextAwareResources": "v1/ConfigMap"})).unwrap();
        assert!(
            context_aware_resources(&bad)
                .unwrap_err()
                .to_string()
                .starts_with("cannot read section io.kubewarden.metadata: invalid type: string")
        );
    }
}
