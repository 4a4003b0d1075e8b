//! `runAsNonRoot` (restricted, every version; user-namespace pods exempt from v1.35).
//!
//! **What it checks.** Either the pod sets `securityContext.runAsNonRoot: true` and no
//! container sets it to `false`, or every container sets it to `true`. Explicit `false`
//! values are reported first (`pod and containers "a" must not set …=false`); otherwise the
//! containers left uncovered (`pod or container "a" must set …=true`). From policy v1.35 a
//! pod with `spec.hostUsers: false` passes whatever it sets.
//!
//! **Why.** Root in a container is root on the node when isolation fails; with
//! `runAsNonRoot` the kubelet refuses to start a container whose user is UID 0.
//!
//! **Example** (fails, `pod or container "app" must set securityContext.runAsNonRoot=true`):
//! ```yaml
//! spec:
//!   containers:
//!   - name: app
//!     image: nginx
//! ```
//!
//! **Fix safety.** Safe: insert pod-level `runAsNonRoot: true` (not where a container's
//! effective runAsUser is 0). Unsafe: change a container's `false` to `true`.

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::ContainerView;
use super::{
    containers, containers_phrase, in_user_namespace, Applicability, CheckInfo, Finding, FixNote,
};
use crate::edit::plan::{Refusal, Want};
use crate::edit::value::Value;
use crate::path::Path;
use crate::policy::remedy::{quote_names, sc_path, Remedy, RUN_AS_NON_ROOT_CAVEAT};
use crate::policy::Level;

const ID: &str = INFO.id;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "runAsNonRoot",
    level: Level::Restricted,
    doc: "the pod, or every container, must set securityContext.runAsNonRoot=true (not required with hostUsers: false from v1.35)",
    versions: &[0, 35],
    overrides: None,
    fix_safety: Applicability::Safe,
    fixes: &[
        FixNote {
            safety: Applicability::Safe,
            what: "insert pod-level runAsNonRoot: true",
        },
        FixNote {
            safety: Applicability::Unsafe,
            what: "change a container's runAsNonRoot: false to true",
        },
    ],
    eval,
};

const REASON: &str = "runAsNonRoot != true";

fn eval(minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    if minor >= 35 && in_user_namespace(spec) {
        return None;
    }
    let mut setters: Vec<String> = Vec::new();
    let pod_value = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.run_as_non_root);
    if pod_value == Some(false) {
        setters.push("pod".to_string());
    }
    let pod_non_root = pod_value == Some(true);

    let mut explicitly_bad: Vec<&str> = Vec::new();
    let mut implicitly_bad: Vec<&str> = Vec::new();
    for c in containers(spec) {
        match c.security_context.and_then(|sc| sc.run_as_non_root) {
            Some(false) => explicitly_bad.push(c.name),
            Some(true) => {}
            None if !pod_non_root => implicitly_bad.push(c.name),
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
                "{} must not set securityContext.runAsNonRoot=false",
                setters.join(" and ")
            ),
        ));
    }
    if !implicitly_bad.is_empty() {
        return Some(Finding::new(
            REASON,
            format!(
                "pod or {} must set securityContext.runAsNonRoot=true",
                containers_phrase(&implicitly_bad)
            ),
        ));
    }
    None
}

/// The remedy: `runAsNonRoot: true`, pod-level, or per container beside containers that run
/// as UID 0, which are reported instead (safe); `false` becomes `true` (unsafe).
pub(crate) fn remedy(r: &mut Remedy<'_, '_, '_, '_>) -> Result<(), Refusal> {
    if !r.failing(ID) {
        return Ok(());
    }
    let w = r.w;
    let allow = r.allow;
    let pod_sc = r.view.spec.security_context.as_ref();
    match pod_sc.and_then(|s| s.run_as_non_root) {
        Some(true) => {}
        Some(false) => {
            let msg = "the pod sets runAsNonRoot: false".to_owned();
            r.d.unsafe_fix(allow, ID, msg, |d| {
                d.set(
                    r.planner,
                    ID,
                    w.spec.key("securityContext").key("runAsNonRoot"),
                    Value::Bool(true),
                )
            })?;
        }
        None => add_true(r)?,
    }
    for c in r
        .of(ID)
        .into_iter()
        .filter(|c| c.security_context.and_then(|s| s.run_as_non_root) == Some(false))
    {
        let msg = format!("container {:?} sets runAsNonRoot: false", c.name);
        r.d.unsafe_fix(allow, ID, msg, |d| {
            d.set(
                r.planner,
                ID,
                sc_path(&c, &w.spec).key("runAsNonRoot"),
                Value::Bool(true),
            )
        })?;
    }
    Ok(())
}

/// Where `runAsNonRoot: true` goes.
struct Site {
    base: Path,
    /// The UID already in force there.
    uid: Option<i64>,
    /// A container it covers has no UID: its image decides, hence the caveat.
    unset: bool,
}

/// The pod sets no `runAsNonRoot`: add `true` at each [`Site`] (with `--run-as-user`'s UID
/// where none is in force), and report the containers that run as UID 0 instead of fixing
/// them, since the kubelet would refuse to start them.
fn add_true(r: &mut Remedy<'_, '_, '_, '_>) -> Result<(), Refusal> {
    let allow = r.allow;
    let root: Vec<ContainerView<'_>> = r.of(ID).into_iter().filter(|c| r.runs_as_root(c)).collect();
    let mut caveat = false;
    for Site { base, uid, unset } in sites(r) {
        r.d.ensure(
            r.planner,
            ID,
            &base,
            &["securityContext", "runAsNonRoot"],
            Want::Present(Value::Bool(true)),
        )?;
        if let (Some(uid), None) = (allow.run_as_user, uid) {
            r.d.ensure(
                r.planner,
                ID,
                &base,
                &["securityContext", "runAsUser"],
                Want::Present(Value::Int(uid)),
            )?;
        } else {
            caveat |= unset;
        }
    }
    if caveat {
        r.d.note(ID, Applicability::Safe, RUN_AS_NON_ROOT_CAVEAT.to_owned());
    }
    if !root.is_empty() {
        let names: Vec<&str> = root.iter().map(|c| c.name).collect();
        r.d.note(ID, Applicability::Unsafe, format!(
            "runAsNonRoot: true not added: {} run{} as UID 0, and the kubelet would refuse to start {}; \
             --unsafe removes runAsUser: 0, --unsafe --run-as-user N sets a non-root UID instead",
            quote_names(&names), if names.len() == 1 { "s" } else { "" }, if names.len() == 1 { "it" } else { "them" }));
    }
    Ok(())
}

/// The pod spec, or, when any container runs as UID 0, each other container that sets no
/// `runAsNonRoot`: a pod-level `true` would reach the root containers too, exempt from the
/// check or not, and block them.
fn sites(r: &Remedy<'_, '_, '_, '_>) -> Vec<Site> {
    let w = r.w;
    let pod_uid = r.pod_uid();
    if r.all.iter().any(|c| r.runs_as_root(c)) {
        r.of(ID)
            .into_iter()
            .filter(|c| {
                c.security_context.and_then(|s| s.run_as_non_root).is_none() && !r.runs_as_root(c)
            })
            .map(|c| {
                let uid = c.security_context.and_then(|s| s.run_as_user).or(pod_uid);
                Site {
                    base: c.path(&w.spec),
                    uid,
                    unset: uid.is_none(),
                }
            })
            .collect()
    } else {
        let unset = pod_uid.is_none()
            && r.all
                .iter()
                .any(|c| c.security_context.and_then(|s| s.run_as_user).is_none());
        vec![Site {
            base: w.spec.clone(),
            uid: pod_uid,
            unset,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(v: serde_json::Value) -> PodSpec {
        serde_json::from_value(v).expect("valid pod spec")
    }

    #[test]
    fn explicit_false_wins_over_missing() {
        let s = spec(serde_json::json!({
            "securityContext": {"runAsNonRoot": false},
            "containers": [
                {"name": "a"},
                {"name": "b", "securityContext": {"runAsNonRoot": false}},
                {"name": "c", "securityContext": {"runAsNonRoot": false}},
            ],
        }));
        let f = eval(0, &ObjectMeta::default(), &s).expect("fails");
        assert_eq!(
            f.detail,
            r#"pod and containers "b", "c" must not set securityContext.runAsNonRoot=false"#
        );
    }

    #[test]
    fn missing_containers() {
        let s = spec(serde_json::json!({"containers": [
            {"name": "a"},
            {"name": "b", "securityContext": {}},
            {"name": "c", "securityContext": {"runAsNonRoot": true}},
        ]}));
        let f = eval(0, &ObjectMeta::default(), &s).expect("fails");
        assert_eq!(
            f.detail,
            r#"pod or containers "a", "b" must set securityContext.runAsNonRoot=true"#
        );
        let s = spec(serde_json::json!({
            "securityContext": {"runAsNonRoot": true},
            "containers": [{"name": "a"}],
        }));
        assert!(eval(0, &ObjectMeta::default(), &s).is_none());
    }

    #[test]
    fn user_namespace_exempt_from_1_35() {
        let s = spec(serde_json::json!({"hostUsers": false, "containers": [{"name": "a"}]}));
        assert!(eval(35, &ObjectMeta::default(), &s).is_none());
        assert!(eval(34, &ObjectMeta::default(), &s).is_some());
    }
}
