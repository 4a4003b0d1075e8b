//! `capabilities_baseline` (baseline, every version; replaced by `capabilities_restricted`
//! at restricted from v1.22).
//!
//! **What it checks.** `securityContext.capabilities.add` of every container may only hold
//! capabilities from the container runtime's default set: AUDIT_WRITE, CHOWN, DAC_OVERRIDE,
//! FOWNER, FSETID, KILL, MKNOD, NET_BIND_SERVICE, SETFCAP, SETGID, SETPCAP, SETUID,
//! SYS_CHROOT. Names are compared exactly (`CAP_SYS_ADMIN` or `net_raw` are not in the set).
//!
//! **Why.** Capabilities beyond the default set (NET_RAW, SYS_ADMIN, …) grant powers that
//! can be used to escape the container or attack the node.
//!
//! **Example** (fails, `container "app" must not include "NET_ADMIN" in securityContext.capabilities.add`):
//! ```yaml
//! containers:
//! - name: app
//!   securityContext:
//!     capabilities:
//!       add: [NET_ADMIN]
//! ```
//!
//! **Fix safety.** Unsafe: remove the `add` entries outside the default set. No safe fix.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{
    containers, containers_phrase, join_quote, Applicability, CheckInfo, Finding, FixNote,
};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "capabilities_baseline",
    level: Level::Baseline,
    doc: "capabilities.add may only hold capabilities from the runtime's default set",
    versions: &[0],
    overrides: None,
    fix_safety: Applicability::Unsafe,
    fixes: &[FixNote {
        safety: Applicability::Unsafe,
        what: "remove capabilities.add entries outside the default set",
    }],
    eval,
};

/// The runtime's default capability set (policy v1.0 onwards, unchanged since).
pub(crate) const ALLOWED: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn eval(_minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let mut bad_containers: Vec<&str> = Vec::new();
    let mut forbidden: BTreeSet<&str> = BTreeSet::new();
    for c in containers(spec) {
        let added = c
            .security_context
            .and_then(|sc| sc.capabilities.as_ref())
            .and_then(|caps| caps.add.as_deref())
            .unwrap_or_default();
        let mut valid = true;
        for cap in added {
            if !ALLOWED.contains(&cap.as_str()) {
                valid = false;
                forbidden.insert(cap);
            }
        }
        if !valid {
            bad_containers.push(c.name);
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    Some(Finding::new(
        "non-default capabilities",
        format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&bad_containers),
            join_quote(&forbidden)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorted_capabilities_and_container_order() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "containers": [
                {"name": "z", "securityContext": {"capabilities": {"add": ["NET_RAW", "CHOWN", "NET_ADMIN"]}}},
                {"name": "a", "securityContext": {"capabilities": {"add": ["KILL"]}}},
                {"name": "m", "securityContext": {"capabilities": {"add": ["NET_RAW"]}}},
            ],
        }))
        .expect("valid spec");
        let f = eval(0, &ObjectMeta::default(), &spec).expect("fails");
        assert_eq!(
            f.detail,
            r#"containers "z", "m" must not include "NET_ADMIN", "NET_RAW" in securityContext.capabilities.add"#
        );
    }
}
