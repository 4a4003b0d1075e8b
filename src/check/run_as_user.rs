//! `runAsUser` (restricted, from v1.23; user-namespace pods exempt from v1.35).
//!
//! **What it checks.** Neither the pod nor any container may set
//! `securityContext.runAsUser: 0`. Unset is fine (the image decides, and `runAsNonRoot`
//! guards it). From policy v1.35 a pod with `spec.hostUsers: false` passes.
//!
//! **Why.** UID 0 is root; `runAsNonRoot: true` and `runAsUser: 0` together make the kubelet
//! refuse to start the container, and alone it runs the process as root.
//!
//! **Example** (fails, `pod must not set runAsUser=0`):
//! ```yaml
//! spec:
//!   securityContext:
//!     runAsUser: 0
//! ```
//!
//! **Fix safety.** Unsafe: remove `runAsUser: 0`, or set a non-zero UID
//! (`--run-as-user N`).

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{
    containers, containers_phrase, in_user_namespace, Applicability, CheckInfo, Finding, FixNote,
};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "runAsUser",
    level: Level::Restricted,
    doc: "the pod and containers must not set securityContext.runAsUser=0 (allowed with hostUsers: false from v1.35)",
    versions: &[23, 35],
    overrides: None,
    fix_safety: Applicability::Unsafe,
    fixes: &[FixNote {
        safety: Applicability::Unsafe,
        what: "remove runAsUser: 0, or set a non-zero UID",
    }],
    eval,
};

fn eval(minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    if minor >= 35 && in_user_namespace(spec) {
        return None;
    }
    let mut setters: Vec<String> = Vec::new();
    if spec.security_context.as_ref().and_then(|sc| sc.run_as_user) == Some(0) {
        setters.push("pod".to_string());
    }
    let bad: Vec<&str> = containers(spec)
        .filter(|c| c.security_context.and_then(|sc| sc.run_as_user) == Some(0))
        .map(|c| c.name)
        .collect();
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    Some(Finding::new(
        "runAsUser=0",
        format!("{} must not set runAsUser=0", setters.join(" and ")),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_and_containers() {
        let mut spec: PodSpec = serde_json::from_value(serde_json::json!({
            "securityContext": {"runAsUser": 0},
            "containers": [
                {"name": "a", "securityContext": {"runAsUser": 0}},
                {"name": "b", "securityContext": {"runAsUser": 1000}},
            ],
        }))
        .expect("valid spec");
        let meta = ObjectMeta::default();
        let f = eval(23, &meta, &spec).expect("fails");
        assert_eq!(
            f.detail,
            r#"pod and container "a" must not set runAsUser=0"#
        );
        spec.host_users = Some(false);
        assert!(eval(34, &meta, &spec).is_some());
        assert!(eval(35, &meta, &spec).is_none());
    }
}
