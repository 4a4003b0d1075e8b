//! `windowsHostProcess` (baseline, every version).
//!
//! **What it checks.** Neither the pod nor any container may set
//! `securityContext.windowsOptions.hostProcess: true`.
//!
//! **Why.** A Windows HostProcess container runs directly on the host with the host's
//! privileges — the Windows counterpart of a privileged container.
//!
//! **Example** (fails, `pod must not set securityContext.windowsOptions.hostProcess=true`):
//! ```yaml
//! spec:
//!   securityContext:
//!     windowsOptions:
//!       hostProcess: true
//! ```
//!
//! **Fix safety.** Manual only: a HostProcess workload needs the host; reported with its
//! reason.

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{containers, containers_phrase, Applicability, CheckInfo, Finding, FixNote};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "windowsHostProcess",
    level: Level::Baseline,
    doc: "the pod and containers must not set windowsOptions.hostProcess=true",
    versions: &[0],
    overrides: None,
    fix_safety: Applicability::Manual,
    fixes: &[FixNote {
        safety: Applicability::Manual,
        what: "run the workload without HostProcess, or at a lower level",
    }],
    eval,
};

fn eval(_minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let bad: Vec<&str> = containers(spec)
        .filter(|c| {
            c.security_context
                .and_then(|sc| sc.windows_options.as_ref())
                .and_then(|w| w.host_process)
                == Some(true)
        })
        .map(|c| c.name)
        .collect();
    let pod = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.windows_options.as_ref())
        .and_then(|w| w.host_process)
        == Some(true);
    let mut setters: Vec<String> = Vec::new();
    if pod {
        setters.push("pod".to_string());
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    Some(Finding::new(
        "hostProcess",
        format!(
            "{} must not set securityContext.windowsOptions.hostProcess=true",
            setters.join(" and ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pod_and_containers() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "securityContext": {"windowsOptions": {"hostProcess": true}},
            "containers": [
                {"name": "a", "securityContext": {"windowsOptions": {"hostProcess": true}}},
                {"name": "b", "securityContext": {"windowsOptions": {"hostProcess": true}}},
                {"name": "c", "securityContext": {"windowsOptions": {"hostProcess": false}}},
            ],
        }))
        .expect("valid spec");
        let f = eval(0, &ObjectMeta::default(), &spec).expect("fails");
        assert_eq!(
            f.detail,
            r#"pod and containers "a", "b" must not set securityContext.windowsOptions.hostProcess=true"#
        );
    }
}
