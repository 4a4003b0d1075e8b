//! A read-only typed view of a workload's pod template (k8s-openapi's `PodSpec` and
//! `ObjectMeta`), for the checks. The view is deserialized from the span tree the way the API
//! server reads YAML (through JSON, YAML 1.1 scalars) and never serialized back: typed structs
//! drop unknown fields and reorder keys.

mod de;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::edit::plan::Refusal;
use crate::path::{Path, Seg};
use crate::policy::workload::Workload;
use crate::yaml::Node;
use de::{NodeDeserializer, Order};

pub struct PodView {
    pub meta: ObjectMeta,
    pub spec: PodSpec,
}

/// The typed pod template of `w`, or `None` when the object has no pod spec (a partial
/// object such as a kustomize patch without one).
pub fn pod_view(root: &Node<'_>, w: &Workload) -> Result<Option<PodView>, Refusal> {
    let Some(spec_node) = root.at(w.spec.segs()) else {
        return Ok(None);
    };
    if spec_node.is_null() {
        return Ok(None);
    }
    let spec = typed::<PodSpec>(spec_node, &w.spec)?;
    let meta = match root.at(w.meta.segs()) {
        Some(m) if !m.is_null() => typed::<ObjectMeta>(m, &w.meta)?,
        _ => ObjectMeta::default(),
    };
    Ok(Some(PodView { meta, spec }))
}

fn typed<T: serde::de::DeserializeOwned>(node: &Node<'_>, at: &Path) -> Result<T, Refusal> {
    de::vet(node)?;
    // The plain path is fast; only a failure pays for tracking where it happened, read in
    // key order so the error named is the one the JSON reading named.
    if let Ok(t) = T::deserialize(NodeDeserializer::new(node, Order::Written)) {
        return Ok(t);
    }
    serde_path_to_error::deserialize(NodeDeserializer::new(node, Order::Keys)).map_err(|e| {
        let mut segs = Vec::new();
        for seg in e.path().iter() {
            match seg {
                serde_path_to_error::Segment::Map { key } => {
                    segs.push(Seg::Key(key.clone().into()))
                }
                serde_path_to_error::Segment::Seq { index } => segs.push(Seg::Index(*index)),
                _ => {}
            }
        }
        // Point at the deepest node that exists on the failing path.
        let mut blame = node;
        for seg in &segs {
            match blame.child(seg) {
                Some(n) => blame = n,
                None => break,
            }
        }
        let full = at.extend(&segs);
        Refusal {
            at: blame.start,
            message: format!("{full}: {}", e.inner()),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::Documents;

    #[test]
    fn wrong_types_name_their_path() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  securityContext:\n    runAsNonRoot: \"yes\"\n  containers: []\n";
        let doc = Documents::new(text).next().unwrap().unwrap();
        let w = &crate::policy::workload::find(&doc.root, &[])[0];
        let err = pod_view(&doc.root, w).err().unwrap();
        assert!(
            err.message
                .starts_with("spec.securityContext.runAsNonRoot: invalid type"),
            "{}",
            err.message
        );
        assert_eq!(&text[err.at..err.at + 5], "\"yes\"");
    }

    #[test]
    fn yaml_1_1_booleans_read_as_booleans() {
        let text = "apiVersion: v1\nkind: Pod\nspec:\n  hostNetwork: yes\n";
        let doc = Documents::new(text).next().unwrap().unwrap();
        let w = &crate::policy::workload::find(&doc.root, &[])[0];
        let v = pod_view(&doc.root, w).unwrap().unwrap();
        assert_eq!(v.spec.host_network, Some(true));
    }
}
