//! `procMount_restricted` (restricted, from v1.35; replaces `procMount` at restricted).
//!
//! **What it checks.** `securityContext.procMount` of every container must be unset or
//! `Default` — even for a pod with `spec.hostUsers: false`, which baseline relaxes from
//! v1.35. Before v1.35 the baseline `procMount` check did the same job at restricted.
//!
//! **Why.** The restricted level keeps the default /proc masks unconditionally.
//!
//! **Example** (fails at restricted, passes at baseline from v1.35):
//! ```yaml
//! spec:
//!   hostUsers: false
//!   containers:
//!   - name: app
//!     securityContext:
//!       procMount: Unmasked
//! ```
//!
//! **Fix safety.** Unsafe: reset to `Default` or remove the field.

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{proc_mount, Applicability, CheckInfo, Finding, Override};
use crate::edit::plan::Refusal;
use crate::edit::value::Value;
use crate::policy::remedy::{sc_path, Remedy};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "procMount_restricted",
    level: Level::Restricted,
    doc: "securityContext.procMount must be unset or Default, even with hostUsers: false",
    versions: &[35],
    overrides: Some(Override {
        check: "procMount",
        since: 35,
    }),
    fix_safety: Applicability::Unsafe,
    fixes: &[proc_mount::FIX],
    eval,
};

fn eval(_minor: u32, meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    proc_mount::unmasked(meta, spec)
}

/// The remedy of both procMount checks (this one and `procMount`): `procMount` reset to
/// `Default` (unsafe).
pub(crate) fn remedy(r: &mut Remedy<'_, '_, '_, '_>) -> Result<(), Refusal> {
    let w = r.w;
    let allow = r.allow;
    let restricted_proc = r.failing("procMount_restricted");
    if restricted_proc || r.failing("procMount") {
        let id = if restricted_proc {
            "procMount_restricted"
        } else {
            "procMount"
        };
        for c in &r.of(id) {
            let pm = c.security_context.and_then(|s| s.proc_mount.as_deref());
            if let Some(pm) = pm.filter(|pm| *pm != "Default") {
                let msg = format!("container {:?} sets procMount: {pm}", c.name);
                r.d.unsafe_fix(allow, id, msg, |d| {
                    d.set(
                        r.planner,
                        id,
                        sc_path(c, &w.spec).key("procMount"),
                        Value::str("Default"),
                    )
                })?;
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_relaxed_for_user_namespaces() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "hostUsers": false,
            "containers": [{"name": "a", "securityContext": {"procMount": "Unmasked"}}],
        }))
        .expect("valid spec");
        let f = eval(35, &ObjectMeta::default(), &spec).expect("fails");
        assert_eq!(f.reason, "procMount");
    }
}
