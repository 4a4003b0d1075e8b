//! `appArmorProfile` (baseline, every version).
//!
//! **What it checks.** The AppArmor profile type at pod level and in every container
//! (`securityContext.appArmorProfile.type`) must be `RuntimeDefault` or `Localhost` when set;
//! the deprecated annotations `container.apparmor.security.beta.kubernetes.io/<name>` must be
//! empty, `runtime/default` or `localhost/<profile>`. Both channels are checked at every
//! policy version (the field check was added to the v1.0 behaviour itself).
//!
//! **Why.** `Unconfined` (or the `unconfined` annotation) turns off the confinement the
//! runtime applies by default.
//!
//! **Example** (fails, `container "app" must not set AppArmor profile type to "Unconfined"`):
//! ```yaml
//! containers:
//! - name: app
//!   securityContext:
//!     appArmorProfile:
//!       type: Unconfined
//! ```
//!
//! **Fix safety.** Unsafe: reset the type to `RuntimeDefault` (or remove the profile /
//! annotation). No safe fix: the author chose the value.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{AppArmorProfile, PodSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{
    containers, containers_phrase, go_quote, join_quote, pluralize, Applicability, CheckInfo,
    Finding, FixNote,
};
use crate::edit::plan::Refusal;
use crate::edit::value::Value;
use crate::policy::remedy::{fix_annotations, reset_profiles, Remedy};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "appArmorProfile",
    level: Level::Baseline,
    doc: "AppArmor profile type, if set, must be RuntimeDefault or Localhost (annotations: runtime/default or localhost/*)",
    versions: &[0],
    overrides: None,
    fix_safety: Applicability::Unsafe,
    fixes: &[FixNote {
        safety: Applicability::Unsafe,
        what: "reset the AppArmor profile to RuntimeDefault, or remove it",
    }],
    eval,
};

pub(crate) const ANNOTATION_PREFIX: &str = "container.apparmor.security.beta.kubernetes.io/";

fn allowed_type(profile: &AppArmorProfile) -> bool {
    matches!(profile.type_.as_str(), "RuntimeDefault" | "Localhost")
}

pub(crate) fn allowed_annotation(value: &str) -> bool {
    value.is_empty() || value == "runtime/default" || value.starts_with("localhost/")
}

fn eval(_minor: u32, meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let mut setters: Vec<String> = Vec::new();
    let mut bad_values: BTreeSet<String> = BTreeSet::new();

    if let Some(profile) = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.app_armor_profile.as_ref())
    {
        if !allowed_type(profile) {
            setters.push("pod".to_string());
            bad_values.insert(profile.type_.clone());
        }
    }

    let mut bad_containers: Vec<&str> = Vec::new();
    for c in containers(spec) {
        if let Some(profile) = c
            .security_context
            .and_then(|sc| sc.app_armor_profile.as_ref())
        {
            if !allowed_type(profile) {
                bad_containers.push(c.name);
                bad_values.insert(profile.type_.clone());
            }
        }
    }
    if !bad_containers.is_empty() {
        setters.push(containers_phrase(&bad_containers));
    }

    let mut annotations: Vec<String> = meta
        .annotations
        .iter()
        .flatten()
        .filter(|(k, v)| k.starts_with(ANNOTATION_PREFIX) && !allowed_annotation(v))
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect();

    let mut values: Vec<String> = bad_values.into_iter().collect();
    if !annotations.is_empty() {
        annotations.sort();
        setters.push(pluralize("annotation", "annotations", annotations.len()).to_string());
        values.extend(annotations);
    }

    if setters.is_empty() {
        return None;
    }
    Some(Finding::new(
        pluralize(
            "forbidden AppArmor profile",
            "forbidden AppArmor profiles",
            values.len(),
        ),
        format!(
            "{} must not set AppArmor profile type to {}",
            setters.join(" and "),
            join_quote(&values)
        ),
    ))
}

/// The remedy: AppArmor profile types and annotations the level forbids reset to
/// `RuntimeDefault` (unsafe).
pub(crate) fn remedy(r: &mut Remedy<'_, '_, '_, '_>) -> Result<(), Refusal> {
    let w = r.w;
    let view = r.view;
    let allow = r.allow;
    let pod_sc = r.view.spec.security_context.as_ref();
    let pod_sc_path = r.w.spec.key("securityContext");
    if r.failing("appArmorProfile") {
        const ID: &str = "appArmorProfile";
        let bad = |t: &str| t != "RuntimeDefault" && t != "Localhost";
        if let Some(p) = pod_sc
            .and_then(|s| s.app_armor_profile.as_ref())
            .filter(|p| bad(&p.type_))
        {
            let msg = format!("the pod sets appArmorProfile.type {:?}", p.type_);
            r.d.unsafe_fix(allow, ID, msg, |d| {
                d.set(
                    r.planner,
                    ID,
                    pod_sc_path.key("appArmorProfile").key("type"),
                    Value::str("RuntimeDefault"),
                )
            })?;
        }
        let types = r.of(ID).into_iter().map(|c| {
            (
                c,
                c.security_context
                    .and_then(|s| s.app_armor_profile.as_ref())
                    .map(|p| p.type_.as_str()),
            )
        });
        reset_profiles(r, ID, "appArmorProfile", &w.spec, types)?;
        fix_annotations(
            r,
            ID,
            view,
            w,
            |k| k.starts_with(crate::policy::check::APPARMOR_ANNOTATION_PREFIX),
            crate::policy::check::apparmor_annotation_allowed,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_annotations() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "securityContext": {"appArmorProfile": {"type": "Unconfined"}},
            "containers": [
                {"name": "a", "securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "p"}}},
                {"name": "b", "securityContext": {"appArmorProfile": {"type": "Unconfined"}}},
            ],
        }))
        .expect("valid spec");
        let meta: ObjectMeta = serde_json::from_value(serde_json::json!({"annotations": {
            "container.apparmor.security.beta.kubernetes.io/b": "unconfined",
            "container.apparmor.security.beta.kubernetes.io/a": "localhost/x",
        }}))
        .expect("valid meta");
        let f = eval(0, &meta, &spec).expect("fails");
        assert_eq!(f.reason, "forbidden AppArmor profiles");
        assert_eq!(
            f.detail,
            r#"pod and container "b" and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/b="unconfined"""#
        );
    }

    #[test]
    fn single_annotation_is_singular() {
        let meta: ObjectMeta = serde_json::from_value(serde_json::json!({"annotations": {
            "container.apparmor.security.beta.kubernetes.io/a": "unconfined",
        }}))
        .expect("valid meta");
        let f = eval(0, &meta, &PodSpec::default()).expect("fails");
        assert_eq!(f.reason, "forbidden AppArmor profile");
        assert!(f.detail.starts_with("annotation must not set"));
    }
}
