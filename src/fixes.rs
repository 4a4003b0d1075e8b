//! Which fields to add, decided per failed check: the checks say *what* fails (with the
//! admission controller's semantics and versions), this module decides what may be added
//! without changing a value the author wrote, and says why when it may not.
//!
//! Safe fixes only add what is absent: pod-level `runAsNonRoot: true` and `seccompProfile`
//! `RuntimeDefault`, per container `allowPrivilegeEscalation: false` and `ALL` in
//! `capabilities.drop`. They are held back where the API server or the kubelet would reject
//! the result: Linux-only fields in a Windows pod, `allowPrivilegeEscalation: false` next to
//! `privileged: true` or a `SYS_ADMIN` capability, `runAsNonRoot: true` over a container that
//! runs as UID 0.

use crate::check::Violation;
use crate::fix::Applicability;
use crate::path::Path;
use crate::plan::{Planner, Refusal, Want};
use crate::value::Value;
use crate::view::{containers, PodView};
use crate::workload::Workload;

/// Something pss-fix did or would not do for one check, in words for the user.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Note {
    pub check: &'static str,
    pub applicability: Applicability,
    pub message: String,
}

/// A field the plan adds.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Added {
    pub check: &'static str,
    /// Where, from the document root: `spec.template.spec.securityContext.runAsNonRoot`.
    pub path: String,
}

#[derive(Default, Debug)]
pub struct Decisions {
    pub added: Vec<Added>,
    pub notes: Vec<Note>,
}

impl Decisions {
    fn ensure(
        &mut self,
        planner: &mut Planner<'_, '_>,
        check: &'static str,
        base: &Path,
        keys: &[&'static str],
        want: Want,
    ) -> Result<(), Refusal> {
        if planner.ensure(base, keys, want)? {
            let mut path = base.clone();
            for k in keys {
                path = path.key(k);
            }
            self.added.push(Added {
                check,
                path: path.to_string(),
            });
        }
        Ok(())
    }

    fn note(&mut self, check: &'static str, applicability: Applicability, message: String) {
        self.notes.push(Note {
            check,
            applicability,
            message,
        });
    }
}

const SYS_ADMIN: [&str; 2] = ["SYS_ADMIN", "CAP_SYS_ADMIN"];

/// Plan the safe fixes for the failed checks of one workload.
pub fn plan_safe(
    w: &Workload,
    view: &PodView,
    violations: &[Violation],
    planner: &mut Planner<'_, '_>,
) -> Result<Decisions, Refusal> {
    let mut d = Decisions::default();
    let failing = |id: &str| violations.iter().any(|v| v.check == id);
    let spec = &view.spec;
    let windows = spec.os.as_ref().is_some_and(|os| os.name == "windows");
    let pod_sc = spec.security_context.as_ref();
    let all = containers(spec);

    if failing("allowPrivilegeEscalation") {
        const ID: &str = "allowPrivilegeEscalation";
        for c in &all {
            let sc = c.sc;
            match sc.and_then(|s| s.allow_privilege_escalation) {
                Some(false) => {}
                Some(true) => d.note(ID, Applicability::Unsafe, format!(
                    "container {:?} sets allowPrivilegeEscalation: true; changing it to false is an unsafe fix", c.name)),
                None if windows => d.note(ID, Applicability::Manual, format!(
                    "container {:?}: Windows pod, where the API server rejects allowPrivilegeEscalation", c.name)),
                None if sc.and_then(|s| s.privileged) == Some(true) => d.note(ID, Applicability::Manual, format!(
                    "container {:?} is privileged: the API server rejects allowPrivilegeEscalation: false next to privileged: true", c.name)),
                None if sc.and_then(|s| s.capabilities.as_ref()).and_then(|c| c.add.as_ref())
                    .is_some_and(|add| add.iter().any(|a| SYS_ADMIN.contains(&a.as_str()))) => d.note(ID, Applicability::Manual, format!(
                    "container {:?} adds SYS_ADMIN: the API server rejects allowPrivilegeEscalation: false next to it", c.name)),
                None => d.ensure(planner, ID, &c.path(&w.spec), &["securityContext", "allowPrivilegeEscalation"], Want::Present(Value::Bool(false)))?,
            }
        }
    }

    if failing("capabilities_restricted") {
        const ID: &str = "capabilities_restricted";
        for c in &all {
            let caps = c.sc.and_then(|s| s.capabilities.as_ref());
            let drops_all = caps
                .and_then(|c| c.drop.as_ref())
                .is_some_and(|d| d.iter().any(|x| x == "ALL"));
            if !drops_all {
                if windows {
                    d.note(ID, Applicability::Manual, format!(
                        "container {:?}: Windows pod, where the API server rejects capabilities", c.name));
                } else {
                    d.ensure(
                        planner,
                        ID,
                        &c.path(&w.spec),
                        &["securityContext", "capabilities", "drop"],
                        Want::Contains(Value::str("ALL")),
                    )?;
                }
            }
            let extra: Vec<&str> = caps
                .and_then(|c| c.add.as_ref())
                .map(|add| {
                    add.iter()
                        .map(String::as_str)
                        .filter(|a| *a != "NET_BIND_SERVICE")
                        .collect()
                })
                .unwrap_or_default();
            if !extra.is_empty() {
                d.note(ID, Applicability::Unsafe, format!(
                    "container {:?} adds {}; only NET_BIND_SERVICE is allowed, and removing the others is an unsafe fix",
                    c.name, extra.join(", ")));
            }
        }
    }

    if failing("runAsNonRoot") {
        const ID: &str = "runAsNonRoot";
        match pod_sc.and_then(|s| s.run_as_non_root) {
            Some(true) => {}
            Some(false) => d.note(
                ID,
                Applicability::Unsafe,
                "the pod sets runAsNonRoot: false; changing it to true is an unsafe fix".to_owned(),
            ),
            None => {
                let pod_uid = pod_sc.and_then(|s| s.run_as_user);
                let root: Vec<&str> = all
                    .iter()
                    .filter(|c| c.sc.and_then(|s| s.run_as_non_root).is_none())
                    .filter(|c| c.sc.and_then(|s| s.run_as_user).or(pod_uid) == Some(0))
                    .map(|c| c.name)
                    .collect();
                if root.is_empty() {
                    d.ensure(
                        planner,
                        ID,
                        &w.spec,
                        &["securityContext", "runAsNonRoot"],
                        Want::Present(Value::Bool(true)),
                    )?;
                } else {
                    d.note(ID, Applicability::Unsafe, format!(
                        "runAsNonRoot: true not added: {} run{} as UID 0 (runAsUser: 0), and the kubelet would refuse to start {}; \
                         removing runAsUser: 0 or setting a non-root UID is an unsafe fix",
                        quote_names(&root), if root.len() == 1 { "s" } else { "" }, if root.len() == 1 { "it" } else { "them" }));
                }
            }
        }
        for c in &all {
            if c.sc.and_then(|s| s.run_as_non_root) == Some(false) {
                d.note(ID, Applicability::Unsafe, format!(
                    "container {:?} sets runAsNonRoot: false; changing it to true is an unsafe fix", c.name));
            }
        }
    }
    if failing("seccompProfile_restricted") {
        const ID: &str = "seccompProfile_restricted";
        let valid = |t: &str| t == "RuntimeDefault" || t == "Localhost";
        match pod_sc.and_then(|s| s.seccomp_profile.as_ref()) {
            Some(p) if valid(&p.type_) => {}
            Some(p) if !p.type_.is_empty() => d.note(ID, Applicability::Unsafe, format!(
                "the pod sets seccompProfile.type {:?}; changing it to RuntimeDefault is an unsafe fix", p.type_)),
            _ if windows => d.note(ID, Applicability::Manual,
                "Windows pod, where the API server rejects seccompProfile".to_owned()),
            _ => d.ensure(planner, ID, &w.spec, &["securityContext", "seccompProfile", "type"], Want::Present(Value::str("RuntimeDefault")))?,
        }
        for c in &all {
            if let Some(p) = c.sc.and_then(|s| s.seccomp_profile.as_ref()) {
                if !valid(&p.type_) {
                    d.note(ID, Applicability::Unsafe, format!(
                        "container {:?} sets seccompProfile.type {:?}; changing it to RuntimeDefault is an unsafe fix", c.name, p.type_));
                }
            }
        }
    }

    Ok(d)
}

fn quote_names(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!(
        "container{} {}",
        if names.len() == 1 { "" } else { "s" },
        quoted.join(", ")
    )
}
