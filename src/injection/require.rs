//! `action: require`: the policy never mutates. It runs the injection (same
//! plan, same skips, same checks) and refuses the pod when that would change
//! it, naming what the pod lacks; so it accepts exactly the pods that
//! `action: inject` would leave unchanged. The message is read in a
//! PolicyReport and in `kubectl` output: one sentence, containers named in the
//! order the injection visits them, nothing the pod already has.

use crate::injection::inject::{Given, List, SpecChanges};
use crate::settings::JAVA_TOOL_OPTIONS;
use crate::settings::source::{Source, TrustBundle};

/// Why the pod (or, for a workload, its template) is refused: what the
/// injection from `source` would have added (`report`).
pub fn refusal(source: &Source, report: &SpecChanges, template: bool) -> String {
    let what = if template { "pod template" } else { "pod" };
    format!(
        "{what} lacks the trust bundle ({}): {}",
        self::source(source),
        gaps(report)
    )
}

/// The source as the admin named it in the settings (or the pod in its
/// annotations).
fn source(source: &Source) -> String {
    match source {
        Source::ConfigMap(name) => format!("ConfigMap {name:?}"),
        Source::Secret(name) => format!("Secret {name:?}"),
        Source::ClusterTrustBundle(TrustBundle::Name(name)) => {
            format!("ClusterTrustBundle {name:?}")
        }
        Source::ClusterTrustBundle(TrustBundle::Signer { signer_name, .. }) => {
            format!("ClusterTrustBundles of signer {signer_name:?}")
        }
    }
}

/// Each run of neighbouring containers of one list that lack the same
/// things, as `containers "a" and "b" lack ...`, joined by "; ".
fn gaps(report: &SpecChanges) -> String {
    let mut groups: Vec<(&Given, Vec<&str>)> = Vec::new();
    for added in &report.added {
        match groups.last_mut() {
            Some((first, names)) if lacks_the_same(first, added) => names.push(&added.name),
            _ => groups.push((added, vec![&added.name])),
        }
    }
    let parts: Vec<String> = groups
        .iter()
        .map(|(added, names)| {
            let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
            let (noun, verb) = match (added.list, names.len()) {
                (List::Containers, 1) => ("container", "lacks"),
                (List::InitContainers, 1) => ("init container", "lacks"),
                (List::EphemeralContainers, 1) => ("ephemeral container", "lacks"),
                (List::Containers, _) => ("containers", "lack"),
                (List::InitContainers, _) => ("init containers", "lack"),
                (List::EphemeralContainers, _) => ("ephemeral containers", "lack"),
            };
            format!(
                "{noun} {} {verb} {}",
                and(&quoted),
                and(&missing(added, report))
            )
        })
        .collect();
    parts.join("; ")
}

fn lacks_the_same(a: &Given, b: &Given) -> bool {
    a.list == b.list
        && a.mount == b.mount
        && a.store == b.store
        && a.env == b.env
        && a.java_options == b.java_options
}

/// What one container lacks: the mount, the bundle over the system trust
/// store files, the Java trust store over the JDK's, then the env vars in
/// the order the settings list them, then the Java trust store options.
fn missing(added: &Given, report: &SpecChanges) -> Vec<String> {
    let mut items = Vec::with_capacity(added.env.len().saturating_add(4));
    if added.mount {
        items.push(format!("the mount at {}", report.mount_path));
    }
    let (cacerts, system): (Vec<&str>, Vec<&str>) = added
        .store
        .iter()
        .map(String::as_str)
        .partition(|f| report.is_cacerts(f));
    if !system.is_empty() {
        items.push(format!(
            "the bundle over the system trust store {} {}",
            files(&system),
            system.join(", ")
        ));
    }
    if !cacerts.is_empty() {
        items.push(format!(
            "the Java trust store over the JDK trust store {} {}",
            files(&cacerts),
            cacerts.join(", ")
        ));
    }
    items.extend(added.env.iter().cloned());
    if added.java_options {
        items.push(format!("the trust store in {JAVA_TOOL_OPTIONS}"));
    }
    items
}

fn files(list: &[&str]) -> &'static str {
    if list.len() == 1 { "file" } else { "files" }
}

/// `a`, `a and b`, `a, b and c`.
fn and(items: &[String]) -> String {
    match items.split_last() {
        None => String::new(),
        Some((last, [])) => last.clone(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::rc::Rc;

    fn added(list: List, name: &str, mount: bool, env: &[&str]) -> Given {
        Given {
            list,
            name: name.into(),
            mount,
            store: Rc::from([]),
            env: env.iter().map(|e| e.to_string()).collect(),
            java_options: false,
        }
    }

    fn report(added: Vec<Given>) -> SpecChanges {
        SpecChanges {
            cacerts: Vec::new(),
            volume: "cainjector-ca-bundle".into(),
            mount_path: "/cacerts".into(),
            added,
        }
    }

    #[test]
    fn lists_read_as_a_sentence() {
        let items = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(and(&items(&[])), "");
        assert_eq!(and(&items(&["a"])), "a");
        assert_eq!(and(&items(&["a", "b"])), "a and b");
        assert_eq!(and(&items(&["a", "b", "c"])), "a, b and c");
    }

    /// Containers lacking the same are named together, and a container that
    /// sets its own JAVA_TOOL_OPTIONS is told it lacks the trust store there.
    #[test]
    fn containers_are_named_with_what_they_lack() {
        let all = ["SSL_CERT_FILE"];
        let source = Source::ConfigMap("ca-bundle".into());
        let changes = report(vec![
            added(List::Containers, "a", true, &all),
            added(List::Containers, "b", true, &all),
            added(List::Containers, "c", false, &all),
            added(List::InitContainers, "i", false, &all),
            added(List::InitContainers, "j", false, &all),
        ]);
        assert_eq!(
            refusal(&source, &changes, false),
            "pod lacks the trust bundle (ConfigMap \"ca-bundle\"): containers \"a\" and \"b\" \
             lack the mount at /cacerts and SSL_CERT_FILE; container \"c\" lacks SSL_CERT_FILE; \
             init containers \"i\" and \"j\" lack SSL_CERT_FILE"
        );
        let mut java = added(List::EphemeralContainers, "debugger", false, &[]);
        java.java_options = true;
        assert_eq!(
            refusal(&Source::ConfigMap("b".into()), &report(vec![java]), false),
            "pod lacks the trust bundle (ConfigMap \"b\"): ephemeral container \"debugger\" \
             lacks the trust store in JAVA_TOOL_OPTIONS"
        );
    }

    #[test]
    fn every_source_is_named_by_kind_and_name() {
        let one = || vec![added(List::Containers, "app", true, &[])];
        let cases = [
            (Source::Secret("team-ca".into()), "Secret \"team-ca\""),
            (
                Source::ClusterTrustBundle(TrustBundle::Name("example.com:corp:root".into())),
                "ClusterTrustBundle \"example.com:corp:root\"",
            ),
            (
                Source::ClusterTrustBundle(TrustBundle::Signer {
                    signer_name: "example.com/corp".into(),
                    label_selector: json!({}),
                }),
                "ClusterTrustBundles of signer \"example.com/corp\"",
            ),
        ];
        for (source, named) in cases {
            assert_eq!(
                refusal(&source, &report(one()), true),
                format!(
                    "pod template lacks the trust bundle ({named}): container \"app\" lacks the \
                     mount at /cacerts"
                )
            );
        }
    }
}
