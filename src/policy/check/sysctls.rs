//! `sysctls` (baseline, every version; the allow-list grows at v1.27, v1.29, v1.32 and
//! v1.37).
//!
//! **What it checks.** Every `spec.securityContext.sysctls[].name` must be on the version's
//! list of namespaced, node-isolated ("safe") sysctls:
//! - v1.0: `kernel.shm_rmid_forced`, `net.ipv4.ip_local_port_range`,
//!   `net.ipv4.tcp_syncookies`, `net.ipv4.ping_group_range`,
//!   `net.ipv4.ip_unprivileged_port_start`
//! - v1.27: + `net.ipv4.ip_local_reserved_ports`
//! - v1.29: + `net.ipv4.tcp_keepalive_time`, `net.ipv4.tcp_fin_timeout`,
//!   `net.ipv4.tcp_keepalive_intvl`, `net.ipv4.tcp_keepalive_probes`
//! - v1.32: + `net.ipv4.tcp_rmem`, `net.ipv4.tcp_wmem`
//! - v1.37: + `net.ipv4.tcp_slow_start_after_idle`, `net.ipv4.tcp_notsent_lowat`
//!
//! The detail lists the forbidden names in the order written, comma-separated.
//!
//! **Why.** Other sysctls either affect the whole node or can disable security mechanisms.
//!
//! **Example** (fails, `forbidden sysctls (kernel.msgmax)`):
//! ```yaml
//! spec:
//!   securityContext:
//!     sysctls:
//!     - name: kernel.msgmax
//!       value: "65536"
//! ```
//!
//! **Fix safety.** Manual only: the workload asked for the setting; reported with its reason.

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{Applicability, CheckInfo, Finding, FixNote};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "sysctls",
    level: Level::Baseline,
    doc: "pod sysctls must be on the version's list of safe sysctls",
    versions: &[0, 27, 29, 32, 37],
    overrides: None,
    fix_safety: Applicability::Manual,
    fixes: &[FixNote {
        safety: Applicability::Manual,
        what: "remove the sysctl, or set it on the node instead",
    }],
    eval,
};

/// Each safe sysctl with the first policy version that allows it.
const ALLOWED: [(&str, u32); 14] = [
    ("kernel.shm_rmid_forced", 0),
    ("net.ipv4.ip_local_port_range", 0),
    ("net.ipv4.tcp_syncookies", 0),
    ("net.ipv4.ping_group_range", 0),
    ("net.ipv4.ip_unprivileged_port_start", 0),
    ("net.ipv4.ip_local_reserved_ports", 27),
    ("net.ipv4.tcp_keepalive_time", 29),
    ("net.ipv4.tcp_fin_timeout", 29),
    ("net.ipv4.tcp_keepalive_intvl", 29),
    ("net.ipv4.tcp_keepalive_probes", 29),
    ("net.ipv4.tcp_rmem", 32),
    ("net.ipv4.tcp_wmem", 32),
    ("net.ipv4.tcp_slow_start_after_idle", 37),
    ("net.ipv4.tcp_notsent_lowat", 37),
];

fn allowed(name: &str, minor: u32) -> bool {
    ALLOWED
        .iter()
        .any(|&(safe, since)| safe == name && minor >= since)
}

fn eval(minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let forbidden: Vec<&str> = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.sysctls.as_deref())
        .unwrap_or_default()
        .iter()
        .map(|s| s.name.as_str())
        .filter(|name| !allowed(name, minor))
        .collect();
    if forbidden.is_empty() {
        return None;
    }
    Some(Finding::new("forbidden sysctls", forbidden.join(", ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(names: &[&str]) -> PodSpec {
        let sysctls: Vec<serde_json::Value> = names
            .iter()
            .map(|n| serde_json::json!({"name": n, "value": "1"}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "containers": [],
            "securityContext": {"sysctls": sysctls},
        }))
        .expect("valid spec")
    }

    #[test]
    fn allow_list_grows() {
        let meta = ObjectMeta::default();
        let cases = [
            ("net.ipv4.ip_local_reserved_ports", 27),
            ("net.ipv4.tcp_keepalive_probes", 29),
            ("net.ipv4.tcp_wmem", 32),
            ("net.ipv4.tcp_notsent_lowat", 37),
        ];
        for (name, since) in cases {
            assert!(eval(since - 1, &meta, &spec(&[name])).is_some(), "{name}");
            assert!(eval(since, &meta, &spec(&[name])).is_none(), "{name}");
        }
    }

    #[test]
    fn order_kept() {
        let f = eval(
            37,
            &ObjectMeta::default(),
            &spec(&["b", "kernel.shm_rmid_forced", "a"]),
        )
        .expect("fails");
        assert_eq!(f.reason, "forbidden sysctls");
        assert_eq!(f.detail, "b, a");
    }
}
