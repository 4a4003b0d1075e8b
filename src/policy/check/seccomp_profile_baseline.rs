//! `seccompProfile_baseline` (baseline; annotations before v1.19, fields from v1.19;
//! replaced by `seccompProfile_restricted` at restricted from v1.19).
//!
//! **What it checks.** Before v1.19: the annotations
//! `seccomp.security.alpha.kubernetes.io/pod` and
//! `container.seccomp.security.alpha.kubernetes.io/<container name>` must be
//! `runtime/default`, `docker/default` or `localhost/<profile>` when present. From v1.19:
//! `securityContext.seccompProfile.type` at pod level and in every container must be
//! `RuntimeDefault` or `Localhost` when set (the annotations are then ignored).
//!
//! **Why.** `Unconfined` turns off the system-call filter the runtime applies by default.
//!
//! **Example** (fails, `pod must not set securityContext.seccompProfile.type to "Unconfined"`):
//! ```yaml
//! spec:
//!   securityContext:
//!     seccompProfile:
//!       type: Unconfined
//! ```
//!
//! **Fix safety.** Unsafe: change the type (or annotation) to `RuntimeDefault`
//! (`runtime/default`). No safe fix: the author chose the value.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{PodSpec, SeccompProfile};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{
    containers, containers_phrase, go_quote, join_quote, pluralize, Applicability, CheckInfo,
    Finding, FixNote,
};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "seccompProfile_baseline",
    level: Level::Baseline,
    doc: "seccomp profile, if set, must be RuntimeDefault or Localhost (annotations before v1.19)",
    versions: &[0, 19],
    overrides: None,
    fix_safety: Applicability::Unsafe,
    fixes: &[FixNote {
        safety: Applicability::Unsafe,
        what: "change the seccomp profile type to RuntimeDefault",
    }],
    eval,
};

pub(crate) const POD_ANNOTATION: &str = "seccomp.security.alpha.kubernetes.io/pod";
pub(crate) const CONTAINER_ANNOTATION_PREFIX: &str =
    "container.seccomp.security.alpha.kubernetes.io/";

/// A seccomp profile type a pod may set (shared with the restricted check).
pub(super) fn valid_type(profile: &SeccompProfile) -> bool {
    matches!(profile.type_.as_str(), "RuntimeDefault" | "Localhost")
}

pub(crate) fn valid_annotation(value: &str) -> bool {
    value == "runtime/default" || value == "docker/default" || value.starts_with("localhost/")
}

fn eval(minor: u32, meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    if minor >= 19 {
        fields(spec)
    } else {
        annotations(meta, spec)
    }
}

fn annotations(meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let annotations = meta.annotations.as_ref()?;
    let mut forbidden: BTreeSet<String> = BTreeSet::new();
    if let Some(v) = annotations.get(POD_ANNOTATION) {
        if !valid_annotation(v) {
            forbidden.insert(format!("{POD_ANNOTATION}={}", go_quote(v)));
        }
    }
    for c in containers(spec) {
        let key = format!("{CONTAINER_ANNOTATION_PREFIX}{}", c.name);
        if let Some(v) = annotations.get(&key) {
            if !valid_annotation(v) {
                forbidden.insert(format!("{key}={}", go_quote(v)));
            }
        }
    }
    if forbidden.is_empty() {
        return None;
    }
    let list: Vec<String> = forbidden.into_iter().collect();
    Some(Finding::new(
        "seccompProfile",
        format!(
            "forbidden {} {}",
            pluralize("annotation", "annotations", list.len()),
            list.join(", ")
        ),
    ))
}

fn fields(spec: &PodSpec) -> Option<Finding> {
    let mut setters: Vec<String> = Vec::new();
    let mut bad_values: BTreeSet<&str> = BTreeSet::new();
    if let Some(p) = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.seccomp_profile.as_ref())
    {
        if !valid_type(p) {
            setters.push("pod".to_string());
            bad_values.insert(&p.type_);
        }
    }
    let mut bad: Vec<&str> = Vec::new();
    for c in containers(spec) {
        if let Some(p) = c
            .security_context
            .and_then(|sc| sc.seccomp_profile.as_ref())
        {
            if !valid_type(p) {
                bad.push(c.name);
                bad_values.insert(&p.type_);
            }
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    Some(Finding::new(
        "seccompProfile",
        format!(
            "{} must not set securityContext.seccompProfile.type to {}",
            setters.join(" and "),
            join_quote(&bad_values)
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn annotations_before_1_19_fields_after() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "securityContext": {"seccompProfile": {"type": "Unconfined"}},
            "containers": [{"name": "a", "securityContext": {"seccompProfile": {"type": "RuntimeDefault"}}},
                           {"name": "b", "securityContext": {"seccompProfile": {"type": "Unconfined"}}}],
        }))
        .expect("valid spec");
        let meta: ObjectMeta = serde_json::from_value(serde_json::json!({"annotations": {
            "seccomp.security.alpha.kubernetes.io/pod": "unconfined",
            "container.seccomp.security.alpha.kubernetes.io/a": "docker/default",
            "container.seccomp.security.alpha.kubernetes.io/b": "unconfined",
            "container.seccomp.security.alpha.kubernetes.io/gone": "unconfined",
        }}))
        .expect("valid meta");
        let f = eval(18, &meta, &spec).expect("fails");
        assert_eq!(
            f.detail,
            r#"forbidden annotations container.seccomp.security.alpha.kubernetes.io/b="unconfined", seccomp.security.alpha.kubernetes.io/pod="unconfined""#
        );
        let f = eval(19, &meta, &spec).expect("fails");
        assert_eq!(
            f.detail,
            r#"pod and container "b" must not set securityContext.seccompProfile.type to "Unconfined""#
        );
        assert!(eval(18, &ObjectMeta::default(), &spec).is_none());
    }
}
