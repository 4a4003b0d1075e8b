//! `hostPorts` (baseline, every version).
//!
//! **What it checks.** No container port may set `hostPort` (other than `0`). The detail
//! lists the containers in order and the distinct ports sorted *as text*
//! (`10000` before `9090`), as the admission controller does.
//!
//! **Why.** A host port binds the node's network interface directly, bypassing network
//! policy, and limits scheduling.
//!
//! **Example** (fails, `hostPort (container "app" uses hostPort 8080)`):
//! ```yaml
//! containers:
//! - name: app
//!   ports:
//!   - containerPort: 8080
//!     hostPort: 8080
//! ```
//!
//! **Fix safety.** Manual only: removing a host port changes how the workload is reached;
//! reported with its reason.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{containers, join_quote, pluralize, Applicability, CheckInfo, Finding, FixNote};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "hostPorts",
    level: Level::Baseline,
    doc: "containers must not set ports[].hostPort",
    versions: &[0],
    overrides: None,
    fix_safety: Applicability::Manual,
    fixes: &[FixNote {
        safety: Applicability::Manual,
        what: "remove the hostPort and expose the port through a Service",
    }],
    eval,
};

fn eval(_minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let mut bad_containers: Vec<&str> = Vec::new();
    let mut ports: BTreeSet<String> = BTreeSet::new();
    for c in containers(spec) {
        let mut valid = true;
        for port in c.ports {
            if let Some(hp) = port.host_port.filter(|&hp| hp != 0) {
                valid = false;
                ports.insert(hp.to_string());
            }
        }
        if !valid {
            bad_containers.push(c.name);
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    let ports: Vec<String> = ports.into_iter().collect();
    Some(Finding::new(
        "hostPort",
        format!(
            "{} {} {} {} {}",
            pluralize("container", "containers", bad_containers.len()),
            join_quote(&bad_containers),
            pluralize("uses", "use", bad_containers.len()),
            pluralize("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_sorted_as_text() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({"containers": [
            {"name": "a", "ports": [{"containerPort": 1, "hostPort": 9090}, {"containerPort": 2, "hostPort": 0}]},
            {"name": "b", "ports": [{"containerPort": 1, "hostPort": 10000}, {"containerPort": 3, "hostPort": 9090}]},
        ]}))
        .expect("valid spec");
        let f = eval(0, &ObjectMeta::default(), &spec).expect("fails");
        assert_eq!(f.detail, r#"containers "a", "b" use hostPorts 10000, 9090"#);
    }

    #[test]
    fn singular() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({"containers": [
            {"name": "a", "ports": [{"containerPort": 1, "hostPort": 80}]},
        ]}))
        .expect("valid spec");
        let f = eval(0, &ObjectMeta::default(), &spec).expect("fails");
        assert_eq!(f.detail, r#"container "a" uses hostPort 80"#);
    }
}
