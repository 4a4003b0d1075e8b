//! `seccompProfile_restricted` (restricted, from v1.19; Windows pods exempt from v1.25;
//! replaces `seccompProfile_baseline` at restricted).
//!
//! **What it checks.** A seccomp profile of type `RuntimeDefault` or `Localhost` must apply
//! to every container: either set at pod level (and no container overriding it with another
//! type) or set in every container. Explicitly bad values are reported first
//! (`pod and container "a" must not set … to "Unconfined"`); otherwise the uncovered
//! containers (`pod or container "a" must set … to "RuntimeDefault" or "Localhost"`).
//!
//! **Why.** Without a seccomp profile a container may call every system call, including the
//! rarely-used ones behind most kernel escapes. A pod with `spec.os.name: windows` is exempt
//! from v1.25 (the API server rejects seccomp there).
//!
//! **Example** (fails, `pod or container "app" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`):
//! ```yaml
//! spec:
//!   containers:
//!   - name: app
//! ```
//!
//! **Fix safety.** Safe: insert pod-level `seccompProfile: {type: RuntimeDefault}`.
//! Unsafe: change `Unconfined` to `RuntimeDefault`.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::seccomp_profile_baseline::valid_type;
use super::{
    containers, containers_phrase, is_windows_pod, join_quote, Applicability, CheckInfo, Finding,
    FixNote, Override,
};
use crate::edit::plan::{Refusal, Want};
use crate::edit::value::Value;
use crate::policy::remedy::{fix_annotations, reset_profiles, Remedy};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "seccompProfile_restricted",
    level: Level::Restricted,
    doc: "a RuntimeDefault or Localhost seccomp profile must apply to every container (pod level or each container)",
    versions: &[19, 25],
    overrides: Some(Override {
        check: "seccompProfile_baseline",
        since: 19,
    }),
    fix_safety: Applicability::Safe,
    fixes: &[
        FixNote {
            safety: Applicability::Safe,
            what: "insert pod-level seccompProfile: {type: RuntimeDefault}",
        },
        FixNote {
            safety: Applicability::Unsafe,
            what: "change seccompProfile type Unconfined to RuntimeDefault",
        },
    ],
    eval,
};

const REASON: &str = "seccompProfile";

fn eval(minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    if minor >= 25 && is_windows_pod(spec) {
        return None;
    }
    let mut setters: Vec<String> = Vec::new();
    let mut bad_values: BTreeSet<&str> = BTreeSet::new();
    let mut pod_set = false;
    if let Some(p) = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.seccomp_profile.as_ref())
    {
        if valid_type(p) {
            pod_set = true;
        } else {
            setters.push("pod".to_string());
            bad_values.insert(&p.type_);
        }
    }
    let mut explicitly_bad: Vec<&str> = Vec::new();
    let mut implicitly_bad: Vec<&str> = Vec::new();
    for c in containers(spec) {
        match c
            .security_context
            .and_then(|sc| sc.seccomp_profile.as_ref())
        {
            Some(p) if !valid_type(p) => {
                explicitly_bad.push(c.name);
                bad_values.insert(&p.type_);
            }
            Some(_) => {}
            None if !pod_set => implicitly_bad.push(c.name),
            None => {}
        }
    }
    if !explicitly_bad.is_empty() {
        setters.push(containers_phrase(&explicitly_bad));
    }
    if !setters.is_empty() {
        return Some(Finding::new(
            REASON,
            format!(
                "{} must not set securityContext.seccompProfile.type to {}",
                setters.join(" and "),
                join_quote(&bad_values)
            ),
        ));
    }
    if !implicitly_bad.is_empty() {
        return Some(Finding::new(
            REASON,
            format!(
                "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                containers_phrase(&implicitly_bad)
            ),
        ));
    }
    None
}

/// The remedy of both seccomp checks (this one and `seccompProfile_baseline`): pod-level
/// `seccompProfile.type: RuntimeDefault` where absent (safe, restricted only; not in a Windows
/// pod), and `Unconfined` types and annotations reset (unsafe).
pub(crate) fn remedy(r: &mut Remedy<'_, '_, '_, '_>) -> Result<(), Refusal> {
    let w = r.w;
    let view = r.view;
    let allow = r.allow;
    let windows = r.windows;
    let pod_sc = r.view.spec.security_context.as_ref();
    let pod_sc_path = r.w.spec.key("securityContext");
    let restricted_seccomp = r.failing("seccompProfile_restricted");
    if restricted_seccomp || r.failing("seccompProfile_baseline") {
        let id = if restricted_seccomp {
            "seccompProfile_restricted"
        } else {
            "seccompProfile_baseline"
        };
        let valid = |t: &str| t == "RuntimeDefault" || t == "Localhost";
        let profile = pod_sc.and_then(|s| s.seccomp_profile.as_ref());
        match profile {
            Some(p) if valid(&p.type_) => {}
            Some(p) if !p.type_.is_empty() => {
                let msg = format!("the pod sets seccompProfile.type {:?}", p.type_);
                r.d.unsafe_fix(allow, id, msg, |d| {
                    d.set(
                        r.planner,
                        id,
                        pod_sc_path.key("seccompProfile").key("type"),
                        Value::str("RuntimeDefault"),
                    )
                })?;
            }
            _ if !restricted_seccomp => {}
            _ if windows => r.d.note(
                id,
                Applicability::Manual,
                "Windows pod, where the API server rejects seccompProfile".to_owned(),
            ),
            _ => r.d.ensure(
                r.planner,
                id,
                &w.spec,
                &["securityContext", "seccompProfile", "type"],
                Want::Present(Value::str("RuntimeDefault")),
            )?,
        }
        let types = r.of(id).into_iter().map(|c| {
            (
                c,
                c.security_context
                    .and_then(|s| s.seccomp_profile.as_ref())
                    .map(|p| p.type_.as_str()),
            )
        });
        reset_profiles(r, id, "seccompProfile", &w.spec, types)?;
        fix_annotations(
            r,
            id,
            view,
            w,
            |k| {
                k == crate::policy::check::SECCOMP_POD_ANNOTATION
                    || k.starts_with(crate::policy::check::SECCOMP_CONTAINER_ANNOTATION_PREFIX)
            },
            crate::policy::check::seccomp_annotation_allowed,
        )?;
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
    fn explicit_then_implicit() {
        let meta = ObjectMeta::default();
        let s = spec(serde_json::json!({"containers": [
            {"name": "a"},
            {"name": "b", "securityContext": {"seccompProfile": {"type": "Unconfined"}}},
            {"name": "c", "securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "p"}}},
        ]}));
        let f = eval(19, &meta, &s).expect("fails");
        assert_eq!(
            f.detail,
            r#"container "b" must not set securityContext.seccompProfile.type to "Unconfined""#
        );
        let s = spec(serde_json::json!({"containers": [{"name": "a"}, {"name": "b"}]}));
        let f = eval(19, &meta, &s).expect("fails");
        assert_eq!(
            f.detail,
            r#"pod or containers "a", "b" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost""#
        );
    }

    #[test]
    fn pod_level_covers_containers() {
        let s = spec(serde_json::json!({
            "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "a"}],
        }));
        assert!(eval(19, &ObjectMeta::default(), &s).is_none());
    }

    #[test]
    fn windows_exempt_from_1_25() {
        let s = spec(serde_json::json!({"os": {"name": "windows"}, "containers": [{"name": "a"}]}));
        assert!(eval(25, &ObjectMeta::default(), &s).is_none());
        assert!(eval(24, &ObjectMeta::default(), &s).is_some());
    }
}
