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
use crate::edit::plan::Refusal;
use crate::edit::value::Value;
use crate::path::Path;
use crate::policy::remedy::{sc_path, Action, Remedy};
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

/// The remedy: `runAsUser: 0` removed, or set to `--run-as-user N` (unsafe), wherever it
/// fails this check or blocks `runAsNonRoot: true`.
pub(crate) fn remedy(r: &mut Remedy<'_, '_, '_, '_>) -> Result<(), Refusal> {
    let w = r.w;
    let allow = r.allow;
    let pod_sc_path = r.w.spec.key("securityContext");
    let pod_uid = r.pod_uid();
    // With runAsNonRoot failing, containers running as UID 0 block its safe remedy: removing
    // their `runAsUser: 0` is then this check's remedy too.
    let root_blocks =
        r.failing("runAsNonRoot") && r.of("runAsNonRoot").iter().any(|c| r.runs_as_root(c));
    if r.failing("runAsUser") || root_blocks {
        const ID: &str = "runAsUser";
        let mut sites: Vec<Path> = Vec::new();
        if pod_uid == Some(0) {
            sites.push(pod_sc_path.clone());
        }
        for c in &r.of(ID) {
            if c.security_context.and_then(|s| s.run_as_user) == Some(0) {
                sites.push(sc_path(c, &w.spec));
            }
        }
        for sc in sites {
            let msg = format!("{sc} sets runAsUser: 0 (root)");
            r.d.unsafe_fix(allow, ID, msg, |d| match allow.run_as_user {
                Some(uid) => d.set(r.planner, ID, sc.key("runAsUser"), Value::Int(uid)),
                None => {
                    let planned = d.hold(r.planner.remove_key(&sc, "runAsUser"));
                    d.record(planned, ID, &sc.key("runAsUser"), Action::Removed);
                    Ok(())
                }
            })?;
        }
    }
    Ok(())
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
