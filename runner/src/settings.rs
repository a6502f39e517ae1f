//! Policy settings as kwctl reads them from its command line.

use std::{fs::File, path::Path};

use anyhow::{Result, anyhow};
use serde_json::{Map, Value};

/// Where the settings come from.
#[derive(Debug, Clone, Copy)]
pub enum SettingsSource<'a> {
    /// No settings given: kwctl then sends an empty object.
    None,
    /// A YAML (or JSON, which is YAML) file, as `--settings-path`.
    File(&'a Path),
    /// A JSON string, as `--settings-json`.
    Json(&'a str),
}

/// Loads the settings object. Only an object or `null` (meaning no settings) is
/// accepted, as policy-evaluator's `PolicySettings` does; error texts are kwctl's.
pub fn load(source: SettingsSource<'_>) -> Result<Map<String, Value>> {
    let value = match source {
        SettingsSource::None => return Ok(Map::new()),
        SettingsSource::File(path) => {
            let file = File::open(path)
                .map_err(|e| anyhow!("Cannot open settings file {}: {}", path.display(), e))?;
            yaml_serde::from_reader::<_, Value>(file)
                .map_err(|e| anyhow!("Cannot parse settings file {}: {}", path.display(), e))?
        }
        SettingsSource::Json(text) => serde_json::from_str::<Value>(text)
            .map_err(|e| anyhow!("Cannot parse settings JSON: {}", e))?,
    };
    into_settings(value)
}

fn into_settings(value: Value) -> Result<Map<String, Value>> {
    match value {
        Value::Null => Ok(Map::new()),
        Value::Object(map) => Ok(map),
        _ => Err(anyhow!("Invalid settings in CRD, not an object")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn yaml_file(contents: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "policy-runner-settings-{}-{}",
            std::process::id(),
            contents.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("settings.yaml");
        let mut file = File::create(&path).unwrap();
        file.write_all(contents.as_bytes()).unwrap();
        path
    }

    #[test]
    fn no_settings_is_an_empty_object() {
        assert_eq!(load(SettingsSource::None).unwrap(), Map::new());
    }

    #[test]
    fn yaml_file_becomes_a_json_object() {
        let path =
            yaml_file("configMap: trust-bundle\nsetEnvVar: false\nenvVars:\n  - SSL_CERT_FILE\n");
        let settings = load(SettingsSource::File(&path)).unwrap();
        assert_eq!(
            Value::Object(settings),
            serde_json::json!({"configMap": "trust-bundle", "setEnvVar": false, "envVars": ["SSL_CERT_FILE"]})
        );
    }

    #[test]
    fn json_string_and_null_are_accepted() {
        let settings = load(SettingsSource::Json(r#"{"secret": "s"}"#)).unwrap();
        assert_eq!(settings.get("secret"), Some(&Value::from("s")));
        assert_eq!(load(SettingsSource::Json("null")).unwrap(), Map::new());
    }

    #[test]
    fn settings_that_are_not_an_object_are_refused() {
        let err = load(SettingsSource::Json("[1]")).unwrap_err();
        assert_eq!(err.to_string(), "Invalid settings in CRD, not an object");
    }

    #[test]
    fn unparsable_json_names_the_option() {
        let err = load(SettingsSource::Json("{")).unwrap_err();
        assert!(err.to_string().starts_with("Cannot parse settings JSON: "));
    }

    #[test]
    fn a_missing_file_is_named() {
        let err = load(SettingsSource::File(Path::new("/nonexistent/s.yaml"))).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Cannot open settings file /nonexistent/s.yaml: ")
        );
    }
}
