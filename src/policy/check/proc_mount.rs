//! `procMount` (baseline, every version; relaxed for user-namespace pods from v1.35;
//! replaced by `procMount_restricted` at restricted from v1.35).
//!
//! **What it checks.** `securityContext.procMount` of every container must be unset or
//! `Default`. From policy v1.35 a pod with `spec.hostUsers: false` may use any value at
//! baseline (its /proc is already isolated by the user namespace).
//!
//! **Why.** `Unmasked` removes the masks over sensitive /proc paths that protect the node.
//!
//! **Example** (fails, `container "app" must not set securityContext.procMount to "Unmasked"`):
//! ```yaml
//! containers:
//! - name: app
//!   securityContext:
//!     procMount: Unmasked
//! ```
//!
//! **Fix safety.** Unsafe: reset to `Default` or remove the field.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{
    containers, containers_phrase, in_user_namespace, join_quote, Applicability, CheckInfo,
    Finding, FixNote,
};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "procMount",
    level: Level::Baseline,
    doc: "securityContext.procMount must be unset or Default (any value with hostUsers: false from v1.35)",
    versions: &[0, 35],
    overrides: None,
    fix_safety: Applicability::Unsafe,
    fixes: &[FIX],
    eval,
};

/// The fix shared with `procMount_restricted`.
pub(super) const FIX: FixNote = FixNote {
    safety: Applicability::Unsafe,
    what: "reset procMount to Default, or remove it",
};

fn eval(minor: u32, meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    if minor >= 35 && in_user_namespace(spec) {
        return None;
    }
    unmasked(meta, spec)
}

/// The unconditional check: any container with a procMount other than `Default` fails.
pub(super) fn unmasked(_meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let mut bad: Vec<&str> = Vec::new();
    let mut types: BTreeSet<&str> = BTreeSet::new();
    for c in containers(spec) {
        if let Some(pm) = c.security_context.and_then(|sc| sc.proc_mount.as_deref()) {
            if pm != "Default" {
                bad.push(c.name);
                types.insert(pm);
            }
        }
    }
    if bad.is_empty() {
        return None;
    }
    Some(Finding::new(
        "procMount",
        format!(
            "{} must not set securityContext.procMount to {}",
            containers_phrase(&bad),
            join_quote(&types)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(host_users: Option<bool>) -> PodSpec {
        let mut s: PodSpec = serde_json::from_value(serde_json::json!({"containers": [
            {"name": "a", "securityContext": {"procMount": "Unmasked"}},
            {"name": "b", "securityContext": {"procMount": "Default"}},
            {"name": "c", "securityContext": {"procMount": ""}},
        ]}))
        .expect("valid spec");
        s.host_users = host_users;
        s
    }

    #[test]
    fn relaxed_for_user_namespaces_from_1_35() {
        let meta = ObjectMeta::default();
        let f = eval(34, &meta, &spec(Some(false))).expect("fails before 1.35");
        assert_eq!(
            f.detail,
            r#"containers "a", "c" must not set securityContext.procMount to "", "Unmasked""#
        );
        assert!(eval(35, &meta, &spec(Some(false))).is_none());
        assert!(eval(35, &meta, &spec(Some(true))).is_some());
        assert!(eval(35, &meta, &spec(None)).is_some());
    }
}
