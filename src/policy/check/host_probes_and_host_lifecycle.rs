//! `hostProbesAndHostLifecycle` (baseline, from v1.34).
//!
//! **What it checks.** The liveness, readiness and startup probes and the postStart/preStop
//! lifecycle handlers of every container must not set `httpGet.host` or `tcpSocket.host`.
//! Unlike most checks, the detail names each container once, sorted by name, and the
//! distinct hosts sorted.
//!
//! **Why.** A probe or hook with a `host` makes the kubelet connect to an arbitrary address
//! from the node — a way to reach services that only the node can reach.
//!
//! **Example** (fails, `container "app" uses probe or lifecycle host "10.0.0.1"`):
//! ```yaml
//! containers:
//! - name: app
//!   livenessProbe:
//!     httpGet:
//!       host: 10.0.0.1
//!       port: 8080
//! ```
//!
//! **Fix safety.** Unsafe: remove the `host` (the probe then targets the pod's own IP).

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{LifecycleHandler, PodSpec, Probe};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{containers, join_quote, pluralize, Applicability, CheckInfo, Finding, FixNote};
use crate::edit::plan::Refusal;
use crate::path::Seg;
use crate::policy::remedy::{Action, Remedy};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "hostProbesAndHostLifecycle",
    level: Level::Baseline,
    doc: "probes and lifecycle handlers must not set httpGet.host or tcpSocket.host",
    versions: &[34],
    overrides: None,
    fix_safety: Applicability::Unsafe,
    fixes: &[FixNote {
        safety: Applicability::Unsafe,
        what: "remove the host from the probe or lifecycle handler",
    }],
    eval,
};

fn non_empty(host: Option<&String>) -> Option<&str> {
    host.map(String::as_str).filter(|h| !h.is_empty())
}

fn probe_hosts(probe: Option<&Probe>) -> impl Iterator<Item = &str> {
    let http = probe.and_then(|p| non_empty(p.http_get.as_ref().and_then(|a| a.host.as_ref())));
    let tcp = probe.and_then(|p| non_empty(p.tcp_socket.as_ref().and_then(|a| a.host.as_ref())));
    http.into_iter().chain(tcp)
}

fn handler_hosts(handler: Option<&LifecycleHandler>) -> impl Iterator<Item = &str> {
    let http = handler.and_then(|h| non_empty(h.http_get.as_ref().and_then(|a| a.host.as_ref())));
    let tcp = handler.and_then(|h| non_empty(h.tcp_socket.as_ref().and_then(|a| a.host.as_ref())));
    http.into_iter().chain(tcp)
}

fn eval(_minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let mut bad_containers: BTreeSet<&str> = BTreeSet::new();
    let mut hosts: BTreeSet<&str> = BTreeSet::new();
    for c in containers(spec) {
        let found: Vec<&str> = probe_hosts(c.liveness_probe)
            .chain(probe_hosts(c.readiness_probe))
            .chain(probe_hosts(c.startup_probe))
            .chain(handler_hosts(
                c.lifecycle.and_then(|l| l.post_start.as_ref()),
            ))
            .chain(handler_hosts(c.lifecycle.and_then(|l| l.pre_stop.as_ref())))
            .collect();
        if !found.is_empty() {
            bad_containers.insert(c.name);
            hosts.extend(found);
        }
    }
    if bad_containers.is_empty() {
        return None;
    }
    Some(Finding::new(
        "probe or lifecycle host",
        format!(
            "{} {} {} {} {}",
            pluralize("container", "containers", bad_containers.len()),
            join_quote(&bad_containers),
            pluralize("uses", "use", bad_containers.len()),
            pluralize(
                "probe or lifecycle host",
                "probe or lifecycle hosts",
                hosts.len()
            ),
            join_quote(&hosts)
        ),
    ))
}

/// The remedy: `host` removed from probe and lifecycle handlers (unsafe).
pub(crate) fn remedy(r: &mut Remedy<'_, '_, '_, '_>) -> Result<(), Refusal> {
    let w = r.w;
    let allow = r.allow;
    if r.failing("hostProbesAndHostLifecycle") {
        const ID: &str = "hostProbesAndHostLifecycle";
        for c in &r.of(ID) {
            for handler in host_handlers(c) {
                let path = c.path(&w.spec).extend(&handler);
                let msg = format!("container {:?} sets a host in {path}", c.name);
                r.d.unsafe_fix(allow, ID, msg, |d| {
                    let planned = d.hold(r.planner.remove_key(&path, "host"));
                    d.record(planned, ID, &path.key("host"), Action::Removed);
                    Ok(())
                })?;
            }
        }
    }
    Ok(())
}

/// Paths (below a container) of probe and lifecycle handlers that name a host.
fn host_handlers(c: &super::ContainerView<'_>) -> Vec<Vec<Seg>> {
    let mut out = Vec::new();
    let probes = [
        ("livenessProbe", c.liveness_probe),
        ("readinessProbe", c.readiness_probe),
        ("startupProbe", c.startup_probe),
    ];
    for (name, probe) in probes {
        if let Some(p) = probe {
            if p.http_get
                .as_ref()
                .is_some_and(|h| h.host.as_deref().is_some_and(|s| !s.is_empty()))
            {
                out.push(vec![Seg::key(name), Seg::key("httpGet")]);
            }
            if p.tcp_socket
                .as_ref()
                .is_some_and(|t| t.host.as_deref().is_some_and(|s| !s.is_empty()))
            {
                out.push(vec![Seg::key(name), Seg::key("tcpSocket")]);
            }
        }
    }
    if let Some(l) = c.lifecycle {
        for (name, handler) in [
            ("postStart", l.post_start.as_ref()),
            ("preStop", l.pre_stop.as_ref()),
        ] {
            if let Some(h) = handler {
                if h.http_get
                    .as_ref()
                    .is_some_and(|g| g.host.as_deref().is_some_and(|s| !s.is_empty()))
                {
                    out.push(vec![
                        Seg::key("lifecycle"),
                        Seg::key(name),
                        Seg::key("httpGet"),
                    ]);
                }
                if h.tcp_socket
                    .as_ref()
                    .is_some_and(|t| t.host.as_deref().is_some_and(|s| !s.is_empty()))
                {
                    out.push(vec![
                        Seg::key("lifecycle"),
                        Seg::key(name),
                        Seg::key("tcpSocket"),
                    ]);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_deduplicated_and_sorted() {
        let spec: PodSpec = serde_json::from_value(serde_json::json!({"containers": [
            {"name": "z", "livenessProbe": {"httpGet": {"host": "h2", "port": 80}},
             "lifecycle": {"preStop": {"tcpSocket": {"host": "h1", "port": 80}}}},
            {"name": "a", "readinessProbe": {"tcpSocket": {"host": "h2", "port": 80}}},
            {"name": "ok", "startupProbe": {"httpGet": {"host": "", "port": 80}}},
        ]}))
        .expect("valid spec");
        let f = eval(34, &ObjectMeta::default(), &spec).expect("fails");
        assert_eq!(
            f.detail,
            r#"containers "a", "z" use probe or lifecycle hosts "h1", "h2""#
        );
    }
}
