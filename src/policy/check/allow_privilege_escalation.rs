//! `allowPrivilegeEscalation` (restricted, from v1.8; Windows pods exempt from v1.25).
//!
//! **What it checks.** Every container — init, regular and ephemeral — must set
//! `securityContext.allowPrivilegeEscalation: false`. Unset counts as a failure: the runtime
//! default is to allow escalation.
//!
//! **Why.** With escalation allowed, a process can gain more privileges than its parent
//! (set-user-ID binaries, file capabilities). From policy v1.25 a pod with
//! `spec.os.name: windows` is exempt, because the API server rejects the field there.
//!
//! **Example** (fails, `container "app" must set securityContext.allowPrivilegeEscalation=false`):
//! ```yaml
//! containers:
//! - name: app
//!   securityContext:
//!     allowPrivilegeEscalation: true   # or unset
//! ```
//!
//! **Fix safety.** Safe: insert `allowPrivilegeEscalation: false` where it is absent.
//! Unsafe: change `true` to `false`. Manual: next to `privileged: true` or a
//! `SYS_ADMIN` capability, where the API server rejects `false`.

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{
    containers, containers_phrase, is_windows_pod, Applicability, CheckInfo, Finding, FixNote,
};
use crate::edit::plan::{Refusal, Want};
use crate::edit::value::Value;
use crate::policy::remedy::{adds_sys_admin, is_privileged, sc_path, Remedy};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "allowPrivilegeEscalation",
    level: Level::Restricted,
    doc: "every container must set securityContext.allowPrivilegeEscalation=false",
    versions: &[8, 25],
    overrides: None,
    fix_safety: Applicability::Safe,
    fixes: &[
        FixNote {
            safety: Applicability::Safe,
            what: "insert allowPrivilegeEscalation: false where it is absent",
        },
        FixNote {
            safety: Applicability::Unsafe,
            what: "change allowPrivilegeEscalation: true to false",
        },
        FixNote {
            safety: Applicability::Manual,
            what: "remove privileged: true or the SYS_ADMIN capability first (the API server rejects allowPrivilegeEscalation: false next to them), then set it to false",
        },
    ],
    eval,
};

fn eval(minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    if minor >= 25 && is_windows_pod(spec) {
        return None;
    }
    let bad: Vec<&str> = containers(spec)
        .filter(|c| {
            c.security_context
                .and_then(|sc| sc.allow_privilege_escalation)
                .unwrap_or(true)
        })
        .map(|c| c.name)
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some(Finding::new(
        "allowPrivilegeEscalation != false",
        format!(
            "{} must set securityContext.allowPrivilegeEscalation=false",
            containers_phrase(&bad)
        ),
    ))
}

/// The remedy: `allowPrivilegeEscalation: false` where absent (safe), `true` becomes `false`
/// (unsafe); never beside `privileged: true` or `SYS_ADMIN`, nor in a Windows pod, where the
/// API server rejects it.
pub(crate) fn remedy(r: &mut Remedy<'_, '_, '_, '_>) -> Result<(), Refusal> {
    let w = r.w;
    let allow = r.allow;
    let windows = r.windows;
    if r.failing("allowPrivilegeEscalation") {
        const ID: &str = "allowPrivilegeEscalation";
        for c in &r.of(ID) {
            match c.security_context.and_then(|s| s.allow_privilege_escalation) {
                Some(false) => {}
                _ if windows => r.d.note(ID, Applicability::Manual, format!(
                    "container {:?}: Windows pod, where the API server rejects allowPrivilegeEscalation", c.name)),
                _ if is_privileged(c) => r.d.note(ID, Applicability::Manual, format!(
                    "container {:?} is privileged: the API server rejects allowPrivilegeEscalation: false next to privileged: true", c.name)),
                _ if adds_sys_admin(c) => r.d.note(ID, Applicability::Manual, format!(
                    "container {:?} adds SYS_ADMIN: the API server rejects allowPrivilegeEscalation: false next to it", c.name)),
                Some(true) => {
                    let msg = format!("container {:?} sets allowPrivilegeEscalation: true", c.name);
                    r.d.unsafe_fix(allow, ID, msg, |d| {
                        d.set(r.planner, ID, sc_path(c, &w.spec).key("allowPrivilegeEscalation"), Value::Bool(false))
                    })?;
                }
                None => r.d.ensure(r.planner, ID, &c.path(&w.spec), &["securityContext", "allowPrivilegeEscalation"], Want::Present(Value::Bool(false)))?,
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: serde_json::Value) -> PodSpec {
        serde_json::from_value(v).expect("valid pod spec")
    }

    #[test]
    fn plural_and_order() {
        let s = spec(serde_json::json!({
            "initContainers": [{"name": "i"}],
            "containers": [
                {"name": "a"},
                {"name": "b", "securityContext": {}},
                {"name": "c", "securityContext": {"allowPrivilegeEscalation": true}},
                {"name": "d", "securityContext": {"allowPrivilegeEscalation": false}},
            ],
            "ephemeralContainers": [{"name": "e"}],
        }));
        let f = eval(25, &ObjectMeta::default(), &s).expect("fails");
        assert_eq!(f.reason, "allowPrivilegeEscalation != false");
        assert_eq!(
            f.detail,
            r#"containers "i", "a", "b", "c", "e" must set securityContext.allowPrivilegeEscalation=false"#
        );
    }

    #[test]
    fn windows_exempt_from_1_25() {
        let s = spec(serde_json::json!({"os": {"name": "windows"}, "containers": [{"name": "a"}]}));
        assert!(eval(25, &ObjectMeta::default(), &s).is_none());
        let f = eval(24, &ObjectMeta::default(), &s).expect("fails before 1.25");
        assert_eq!(
            f.detail,
            r#"container "a" must set securityContext.allowPrivilegeEscalation=false"#
        );
    }
}
