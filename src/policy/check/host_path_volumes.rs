//! `hostPathVolumes` (baseline, every version; replaced by `restrictedVolumes` at
//! restricted).
//!
//! **What it checks.** No entry of `spec.volumes` may be a `hostPath` volume.
//!
//! **Why.** A hostPath volume exposes the node's filesystem to the container — credentials,
//! the container runtime's socket, other pods' data.
//!
//! **Example** (fails, `hostPath volumes (volume "logs")`):
//! ```yaml
//! volumes:
//! - name: logs
//!   hostPath:
//!     path: /var/log
//! ```
//!
//! **Fix safety.** Manual only: replacing a volume changes what the workload sees; reported
//! with its reason.

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{join_quote, pluralize, Applicability, CheckInfo, Finding, FixNote};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "hostPathVolumes",
    level: Level::Baseline,
    doc: "volumes must not be hostPath volumes",
    versions: &[0],
    overrides: None,
    fix_safety: Applicability::Manual,
    fixes: &[FixNote {
        safety: Applicability::Manual,
        what: "replace the hostPath volume (e.g. with emptyDir, a PVC or a projected volume)",
    }],
    eval,
};

fn eval(_minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let bad: Vec<&str> = spec
        .volumes
        .iter()
        .flatten()
        .filter(|v| v.host_path.is_some())
        .map(|v| v.name.as_str())
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some(Finding::new(
        "hostPath volumes",
        format!(
            "{} {}",
            pluralize("volume", "volumes", bad.len()),
            join_quote(&bad)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plural_volumes_in_order() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "containers": [],
            "volumes": [
                {"name": "b", "hostPath": {"path": "/b"}},
                {"name": "ok", "emptyDir": {}},
                {"name": "a", "hostPath": {"path": "/a"}},
            ],
        }))
        .expect("valid spec");
        let f = eval(0, &ObjectMeta::default(), &spec).expect("fails");
        assert_eq!(f.detail, r#"volumes "b", "a""#);
    }
}
