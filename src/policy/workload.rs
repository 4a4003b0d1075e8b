//! Which objects carry a pod spec, and where: exactly the kinds the admission controller
//! checks, matched on kind *and* API group, plus the items of a `kind: List`. Everything else
//! is not a workload and is left alone.

use crate::path::{Path, Seg};
use crate::policy::config::CustomKind;
use crate::yaml::Node;

/// Where an object kind keeps its pod template.
struct KindSpec {
    group: &'static str,
    kind: &'static str,
    /// Path of the pod template's metadata and spec parent (`[]` for a Pod itself).
    template: &'static [Seg],
}

const TEMPLATE: &[Seg] = &[Seg::key("spec"), Seg::key("template")];

const KINDS: &[KindSpec] = &[
    KindSpec {
        group: "",
        kind: "Pod",
        template: &[],
    },
    KindSpec {
        group: "",
        kind: "PodTemplate",
        template: &[Seg::key("template")],
    },
    KindSpec {
        group: "",
        kind: "ReplicationController",
        template: TEMPLATE,
    },
    KindSpec {
        group: "apps",
        kind: "ReplicaSet",
        template: TEMPLATE,
    },
    KindSpec {
        group: "apps",
        kind: "Deployment",
        template: TEMPLATE,
    },
    KindSpec {
        group: "apps",
        kind: "StatefulSet",
        template: TEMPLATE,
    },
    KindSpec {
        group: "apps",
        kind: "DaemonSet",
        template: TEMPLATE,
    },
    KindSpec {
        group: "batch",
        kind: "Job",
        template: TEMPLATE,
    },
    KindSpec {
        group: "batch",
        kind: "CronJob",
        template: &[
            Seg::key("spec"),
            Seg::key("jobTemplate"),
            Seg::key("spec"),
            Seg::key("template"),
        ],
    },
];

/// Whether an object whose top-level `kind` is `kind` may carry a pod spec: a workload kind,
/// a `List` or `ResourceList` (whose items may), or a configured custom kind. The API group
/// is not looked at: a superset of what [`find`] accepts, so a `false` here is safe to skip.
pub fn may_be_kind(kind: &str, custom: &[CustomKind]) -> bool {
    KINDS.iter().any(|k| k.kind == kind)
        || kind == "List"
        || kind == "ResourceList"
        || custom.iter().any(|c| c.kind == kind)
}

/// A workload found in a document.
#[derive(Clone, Debug)]
pub struct Workload {
    pub kind: String,
    pub name: String,
    pub namespace: String,
    /// The object's own path (`[]`, or `[items, i]` inside a List).
    pub object: Path,
    /// The pod template's `metadata` mapping (may be absent).
    pub meta: Path,
    /// The pod spec mapping.
    pub spec: Path,
    /// Byte offset of the object's first key, for messages.
    pub at: usize,
    /// 1-based item index inside a `kind: List`.
    pub item: Option<usize>,
}

impl Workload {
    /// `Deployment/web`, as messages name it.
    #[cfg(test)]
    pub fn label(&self) -> String {
        format!("{}/{}", self.kind, self.name)
    }
}

/// The API group of an `apiVersion` (`apps/v1` → `apps`, `v1` → core).
fn group_of(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Every workload in a document's root node; `custom` adds kinds from the configuration.
pub fn find(root: &Node<'_>, custom: &[CustomKind]) -> Vec<Workload> {
    let mut out = Vec::new();
    let kind = root.get("kind").and_then(Node::as_str);
    let api = root.get("apiVersion").and_then(Node::as_str).unwrap_or("");
    // A `kind: List`, and the ResourceList a KRM function (kustomize, kpt) receives.
    let list = match kind {
        Some("List") => group_of(api).is_empty(),
        Some("ResourceList") => group_of(api) == "config.kubernetes.io",
        _ => false,
    };
    if list {
        if let Some(items) = root.get("items").and_then(Node::as_seq) {
            for (i, item) in items.items.iter().enumerate() {
                let path = Path::root().key("items").index(i);
                if let Some(mut w) = classify(item, path, custom) {
                    w.item = Some(i + 1);
                    out.push(w);
                }
            }
        }
    } else if let Some(w) = classify(root, Path::root(), custom) {
        out.push(w);
    }
    out
}

fn classify(object: &Node<'_>, path: Path, custom: &[CustomKind]) -> Option<Workload> {
    let kind = object.get("kind")?.as_str()?;
    let api = object.get("apiVersion")?.as_str()?;
    let group = group_of(api);
    let template = match KINDS.iter().find(|k| k.kind == kind && k.group == group) {
        Some(spec) => path.extend(spec.template),
        None => {
            let c = custom.iter().find(|c| c.kind == kind && c.group == group)?;
            path.extend(&c.template)
        }
    };
    let meta = object.get("metadata");
    let field = |k: &str| {
        meta.and_then(|m| m.get(k))
            .and_then(Node::as_str)
            .unwrap_or("")
            .to_owned()
    };
    Some(Workload {
        kind: kind.to_owned(),
        name: field("name"),
        namespace: field("namespace"),
        meta: template.key("metadata"),
        spec: template.key("spec"),
        object: path,
        at: object.start,
        item: None,
    })
}

#[cfg(test)]
mod tests {

    /// Every kind `find` classifies passes the kind test, so no workload is ever skimmed.
    #[test]
    fn every_workload_kind_is_a_may_be_kind() {
        for k in KINDS {
            assert!(may_be_kind(k.kind, &[]), "{}", k.kind);
        }
        assert!(may_be_kind("List", &[]) && may_be_kind("ResourceList", &[]));
        assert!(!may_be_kind("ConfigMap", &[]));
        let custom = CustomKind {
            group: "example.com".into(),
            kind: "Runner".into(),
            template: Vec::new(),
        };
        assert!(may_be_kind("Runner", std::slice::from_ref(&custom)));
    }

    use super::*;
    use crate::yaml::Documents;

    #[test]
    fn matches_kind_and_group() {
        let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n---\n\
                    apiVersion: example.com/v1\nkind: Deployment\n---\n\
                    apiVersion: v1\nkind: List\nitems:\n- apiVersion: batch/v1\n  kind: CronJob\n  metadata: {name: c}\n";
        let docs: Vec<_> = Documents::new(text).map(Result::unwrap).collect();
        let w = find(&docs[0].root, &[]);
        assert_eq!(w.len(), 1);
        assert_eq!(w[0].spec.to_string(), "spec.template.spec");
        assert!(find(&docs[1].root, &[]).is_empty());
        let custom = [CustomKind {
            group: "example.com".into(),
            kind: "Deployment".into(),
            template: vec![Seg::key("spec"), Seg::key("podTemplate")],
        }];
        assert_eq!(
            find(&docs[1].root, &custom)[0].spec.to_string(),
            "spec.podTemplate.spec"
        );
        let l = find(&docs[2].root, &[]);
        assert_eq!(l[0].label(), "CronJob/c");
        assert_eq!(
            l[0].spec.to_string(),
            "items[0].spec.jobTemplate.spec.template.spec"
        );
    }
}
