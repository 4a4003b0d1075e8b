//! `privileged` (baseline, every version).
//!
//! **What it checks.** No container may set `securityContext.privileged: true`.
//!
//! **Why.** A privileged container has every capability and full access to the node's
//! devices; it disables most of the isolation a container provides.
//!
//! **Example** (fails, `container "app" must not set securityContext.privileged=true`):
//! ```yaml
//! containers:
//! - name: app
//!   securityContext:
//!     privileged: true
//! ```
//!
//! **Fix safety.** Unsafe: change `true` to `false` (the workload may need the privilege).

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{containers, containers_phrase, Applicability, CheckInfo, Finding, FixNote};
use crate::edit::plan::Refusal;
use crate::edit::value::Value;
use crate::policy::remedy::{is_privileged, sc_path, Remedy};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "privileged",
    level: Level::Baseline,
    doc: "containers must not set securityContext.privileged=true",
    versions: &[0],
    overrides: None,
    fix_safety: Applicability::Unsafe,
    fixes: &[FixNote {
        safety: Applicability::Unsafe,
        what: "change privileged: true to false",
    }],
    eval,
};

fn eval(_minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let bad: Vec<&str> = containers(spec)
        .filter(|c| c.security_context.and_then(|sc| sc.privileged) == Some(true))
        .map(|c| c.name)
        .collect();
    if bad.is_empty() {
        return None;
    }
    Some(Finding::new(
        "privileged",
        format!(
            "{} must not set securityContext.privileged=true",
            containers_phrase(&bad)
        ),
    ))
}

/// The remedy: `privileged: true` becomes `false` (unsafe).
pub(crate) fn remedy(r: &mut Remedy<'_, '_, '_, '_>) -> Result<(), Refusal> {
    let w = r.w;
    let allow = r.allow;
    if r.failing("privileged") {
        for c in r.of("privileged").iter().filter(|c| is_privileged(c)) {
            let msg = format!("container {:?} sets privileged: true", c.name);
            r.d.unsafe_fix(allow, "privileged", msg, |d| {
                d.set(
                    r.planner,
                    "privileged",
                    sc_path(c, &w.spec).key("privileged"),
                    Value::Bool(false),
                )
            })?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ephemeral_containers_count() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "containers": [{"name": "a", "securityContext": {"privileged": false}}],
            "ephemeralContainers": [{"name": "debug", "securityContext": {"privileged": true}}],
        }))
        .expect("valid spec");
        let f = eval(0, &ObjectMeta::default(), &spec).expect("fails");
        assert_eq!(
            f.detail,
            r#"container "debug" must not set securityContext.privileged=true"#
        );
    }
}
