//! A read-only typed view of a workload's pod template (k8s-openapi's `PodSpec` and
//! `ObjectMeta`), for the checks. The view is deserialized from the span tree the way the API
//! server reads YAML (through JSON, YAML 1.1 scalars) and never serialized back: typed structs
//! drop unknown fields and reorder keys.

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::{Map, Number, Value as Json};

use crate::path::{Path, Seg};
use crate::plan::Refusal;
use crate::workload::Workload;
use crate::yaml::scalar::{resolve, Resolved};
use crate::yaml::{Kind, Node};

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
    let json = to_json(node)?;
    // The plain path is fast; only a failure pays for tracking where it happened.
    if let Ok(t) = T::deserialize(&json) {
        return Ok(t);
    }
    serde_path_to_error::deserialize(&json).map_err(|e| {
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

/// The node as JSON, as the API server would read it.
pub fn to_json(node: &Node<'_>) -> Result<Json, Refusal> {
    Ok(match &node.kind {
        Kind::Scalar(s) => match resolve(s) {
            Resolved::Null => Json::Null,
            Resolved::Bool(b) => Json::Bool(b),
            Resolved::Int(i) => {
                let n = i64::try_from(i)
                    .map(Number::from)
                    .or_else(|_| u64::try_from(i).map(Number::from))
                    .map_err(|_| Refusal {
                        at: node.start,
                        message: "integer out of range".into(),
                    })?;
                Json::Number(n)
            }
            Resolved::Float(f) => Json::Number(Number::from_f64(f).ok_or_else(|| Refusal {
                at: node.start,
                message: "a NaN or infinite number is not valid here".into(),
            })?),
            Resolved::Str(s) => Json::String(s.into_owned()),
        },
        Kind::Alias => {
            return Err(Refusal {
                at: node.start,
                message: "YAML aliases are not supported inside a pod template; expand them first"
                    .into(),
            })
        }
        Kind::Seq(seq) => Json::Array(seq.items.iter().map(to_json).collect::<Result<_, _>>()?),
        Kind::Map(m) => {
            let mut out = Map::with_capacity(m.entries.len());
            for (k, v) in &m.entries {
                let key = k.as_str().ok_or_else(|| Refusal {
                    at: k.start,
                    message: "a mapping key must be a string here".into(),
                })?;
                if key == "<<"
                    && k.as_scalar()
                        .is_some_and(|s| s.style == crate::yaml::ScalarStyle::Plain)
                {
                    return Err(Refusal {
                        at: k.start,
                        message: "merge keys (<<) are not supported inside a pod template".into(),
                    });
                }
                if out.insert(key.to_owned(), to_json(v)?).is_some() {
                    return Err(Refusal {
                        at: k.start,
                        message: format!("duplicate key {key:?}"),
                    });
                }
            }
            Json::Object(out)
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
        let w = &crate::workload::find(&doc.root, &[])[0];
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
        let w = &crate::workload::find(&doc.root, &[])[0];
        let v = pod_view(&doc.root, w).unwrap().unwrap();
        assert_eq!(v.spec.host_network, Some(true));
    }
}
