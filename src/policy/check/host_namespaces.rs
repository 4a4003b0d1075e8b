//! `hostNamespaces` (baseline, every version).
//!
//! **What it checks.** `spec.hostNetwork`, `spec.hostPID` and `spec.hostIPC` must be unset or
//! `false`. The detail lists the offenders in that order: `hostNetwork=true, hostPID=true`.
//!
//! **Why.** Sharing the node's network, process or IPC namespace lets a container see and
//! reach everything on the node.
//!
//! **Example** (fails, `host namespaces (hostNetwork=true)`):
//! ```yaml
//! spec:
//!   hostNetwork: true
//! ```
//!
//! **Fix safety.** Manual only: a workload asking for the host's namespaces usually needs
//! them (CNI agents, node exporters); reported with its reason.

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Applicability, CheckInfo, Finding, FixNote};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "hostNamespaces",
    level: Level::Baseline,
    doc: "hostNetwork, hostPID and hostIPC must be unset or false",
    versions: &[0],
    overrides: None,
    fix_safety: Applicability::Manual,
    fixes: &[FixNote {
        safety: Applicability::Manual,
        what: "stop sharing the host's namespaces, or run the workload at a lower level",
    }],
    eval,
};

fn eval(_minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let shared: Vec<&str> = [
        (spec.host_network, "hostNetwork=true"),
        (spec.host_pid, "hostPID=true"),
        (spec.host_ipc, "hostIPC=true"),
    ]
    .into_iter()
    .filter(|(set, _)| *set == Some(true))
    .map(|(_, name)| name)
    .collect();
    if shared.is_empty() {
        return None;
    }
    Some(Finding::new("host namespaces", shared.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_three_in_official_order() {
        let spec = PodSpec {
            host_ipc: Some(true),
            host_pid: Some(true),
            host_network: Some(true),
            ..Default::default()
        };
        let f = eval(0, &ObjectMeta::default(), &spec).expect("fails");
        assert_eq!(f.detail, "hostNetwork=true, hostPID=true, hostIPC=true");
        let spec = PodSpec {
            host_network: Some(false),
            ..Default::default()
        };
        assert!(eval(0, &ObjectMeta::default(), &spec).is_none());
    }
}
