//! `capabilities_restricted` (restricted, from v1.22; Windows pods exempt from v1.25;
//! replaces `capabilities_baseline` at restricted).
//!
//! **What it checks.** Every container must list `ALL` in `securityContext.capabilities.drop`
//! and may add nothing but `NET_BIND_SERVICE`. Both failures are reported in one finding,
//! separated by `; `.
//!
//! **Why.** Dropping every capability and adding back only the one needed to bind low ports
//! leaves a process with no kernel privileges to abuse. A pod with `spec.os.name: windows`
//! is exempt from v1.25 (the API server rejects capabilities there).
//!
//! **Example** (fails, `container "app" must set securityContext.capabilities.drop=["ALL"]`):
//! ```yaml
//! containers:
//! - name: app
//!   securityContext:
//!     capabilities:
//!       drop: [NET_RAW]
//! ```
//!
//! **Fix safety.** Safe: add `ALL` to `capabilities.drop` (keeping `add: [NET_BIND_SERVICE]`).
//! Unsafe: remove the other `add` entries.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{
    containers, containers_phrase, is_windows_pod, join_quote, Applicability, CheckInfo, Finding,
    FixNote, Override,
};
use crate::edit::plan::{Refusal, Want};
use crate::edit::value::Value;
use crate::policy::remedy::{sc_path, Action, Remedy};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "capabilities_restricted",
    level: Level::Restricted,
    doc: "every container must drop ALL capabilities and may only add NET_BIND_SERVICE",
    versions: &[22, 25],
    overrides: Some(Override {
        check: "capabilities_baseline",
        since: 22,
    }),
    fix_safety: Applicability::Safe,
    fixes: &[
        FixNote {
            safety: Applicability::Safe,
            what: "add ALL to capabilities.drop",
        },
        FixNote {
            safety: Applicability::Unsafe,
            what: "remove capabilities.add entries other than NET_BIND_SERVICE",
        },
    ],
    eval,
};

fn eval(minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    if minor >= 25 && is_windows_pod(spec) {
        return None;
    }
    let mut missing_drop_all: Vec<&str> = Vec::new();
    let mut adding_forbidden: Vec<&str> = Vec::new();
    let mut forbidden: BTreeSet<&str> = BTreeSet::new();
    for c in containers(spec) {
        let Some(caps) = c.security_context.and_then(|sc| sc.capabilities.as_ref()) else {
            missing_drop_all.push(c.name);
            continue;
        };
        if !caps.drop.iter().flatten().any(|d| d == "ALL") {
            missing_drop_all.push(c.name);
        }
        let mut added_forbidden = false;
        for cap in caps.add.iter().flatten() {
            if cap != "NET_BIND_SERVICE" {
                added_forbidden = true;
                forbidden.insert(cap);
            }
        }
        if added_forbidden {
            adding_forbidden.push(c.name);
        }
    }
    let mut details: Vec<String> = Vec::new();
    if !missing_drop_all.is_empty() {
        details.push(format!(
            "{} must set securityContext.capabilities.drop=[\"ALL\"]",
            containers_phrase(&missing_drop_all)
        ));
    }
    if !adding_forbidden.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding_forbidden),
            join_quote(&forbidden)
        ));
    }
    if details.is_empty() {
        return None;
    }
    Some(Finding::new(
        "unrestricted capabilities",
        details.join("; "),
    ))
}

/// The remedy of both capability checks (this one and `capabilities_baseline`): `ALL` added to
/// `capabilities.drop` (safe; not in a Windows pod), and capabilities the level does not allow
/// removed from `add` (unsafe).
pub(crate) fn remedy(r: &mut Remedy<'_, '_, '_, '_>) -> Result<(), Refusal> {
    let w = r.w;
    let allow = r.allow;
    let windows = r.windows;
    let restricted_caps = r.failing("capabilities_restricted");
    if restricted_caps || r.failing("capabilities_baseline") {
        let id = if restricted_caps {
            "capabilities_restricted"
        } else {
            "capabilities_baseline"
        };
        for c in &r.of(id) {
            let caps = c.security_context.and_then(|s| s.capabilities.as_ref());
            let drops_all = caps
                .and_then(|c| c.drop.as_ref())
                .is_some_and(|d| d.iter().any(|x| x == "ALL"));
            if restricted_caps && !drops_all {
                if windows {
                    r.d.note(id, Applicability::Manual, format!(
                        "container {:?}: Windows pod, where the API server rejects capabilities", c.name));
                } else {
                    r.d.ensure(
                        r.planner,
                        id,
                        &c.path(&w.spec),
                        &["securityContext", "capabilities", "drop"],
                        Want::Contains(Value::str("ALL")),
                    )?;
                }
            }
            let allowed = |a: &str| {
                if restricted_caps {
                    a == "NET_BIND_SERVICE"
                } else {
                    crate::policy::check::BASELINE_CAPABILITIES.contains(&a)
                }
            };
            let extra: Vec<String> = caps
                .and_then(|c| c.add.as_ref())
                .map(|add| add.iter().filter(|a| !allowed(a)).cloned().collect())
                .unwrap_or_default();
            if !extra.is_empty() {
                let msg = format!(
                    "container {:?} adds {}, which the level does not allow",
                    c.name,
                    extra.join(", ")
                );
                r.d.unsafe_fix(allow, id, msg, |d| {
                    let path = sc_path(c, &w.spec).key("capabilities").key("add");
                    let planned = d.hold(r.planner.remove_items(&path, extra));
                    d.record(planned, id, &path, Action::Removed);
                    Ok(())
                })?;
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
    fn both_parts_joined() {
        let s = spec(serde_json::json!({"containers": [
            {"name": "a"},
            {"name": "b", "securityContext": {"capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE", "SYS_TIME"]}}},
            {"name": "c", "securityContext": {"capabilities": {"add": ["CHOWN"]}}},
        ]}));
        let f = eval(25, &ObjectMeta::default(), &s).expect("fails");
        assert_eq!(f.reason, "unrestricted capabilities");
        assert_eq!(
            f.detail,
            r#"containers "a", "c" must set securityContext.capabilities.drop=["ALL"]; containers "b", "c" must not include "CHOWN", "SYS_TIME" in securityContext.capabilities.add"#
        );
    }

    #[test]
    fn drop_all_is_case_sensitive() {
        let s = spec(serde_json::json!({"containers": [
            {"name": "a", "securityContext": {"capabilities": {"drop": ["all"]}}},
        ]}));
        assert!(eval(22, &ObjectMeta::default(), &s).is_some());
    }

    #[test]
    fn windows_exempt_from_1_25() {
        let s = spec(serde_json::json!({"os": {"name": "windows"}, "containers": [{"name": "a"}]}));
        assert!(eval(25, &ObjectMeta::default(), &s).is_none());
        assert!(eval(24, &ObjectMeta::default(), &s).is_some());
    }
}
