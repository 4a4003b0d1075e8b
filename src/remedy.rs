//! Remedies: which fields to add or change, decided per failed check. The checks say *what*
//! fails (with the admission controller's semantics and versions), this module decides what
//! may be edited and says why when it may not.
//!
//! Safe fixes only add what is absent: pod-level `runAsNonRoot: true` (per container beside
//! containers that run as UID 0) and `seccompProfile` `RuntimeDefault`, per container
//! `allowPrivilegeEscalation: false` and `ALL` in `capabilities.drop`. They are held back
//! where the API server or the kubelet would reject the result: Linux-only fields in a Windows pod, `allowPrivilegeEscalation: false` next to
//! `privileged: true` or a `SYS_ADMIN` capability, `runAsNonRoot: true` over a container that
//! runs as UID 0.
//!
//! Unsafe fixes (`--unsafe`) change what the author wrote: `false` → `true` and back,
//! `Unconfined` → `RuntimeDefault`, capabilities removed, `runAsUser: 0` removed (or set to
//! `--run-as-user`), `procMount` reset, probe hosts removed. The engine applies them in
//! rounds, so removing `privileged: true` lets the next round add
//! `allowPrivilegeEscalation: false`.

use std::borrow::Cow;

use crate::check::{self, containers, ContainerView, Violation};
use crate::edit::Applicability;
use crate::exempt::Scope;
use crate::path::{Path, Seg};
use crate::plan::{Planner, Refusal, Want};
use crate::value::Value;
use crate::view::PodView;
use crate::workload::Workload;

/// What the user allows beyond safe fixes.
#[derive(Clone, Copy, Debug, Default)]
pub struct Allow {
    /// `--unsafe`: apply value-changing fixes.
    pub unsafe_fixes: bool,
    /// `--run-as-user N`: the UID to run as instead of root.
    pub run_as_user: Option<i64>,
}

/// Something pss-fix would not do for one check, in words for the user.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Note {
    pub check: &'static str,
    pub applicability: Applicability,
    pub message: String,
}

/// What a fix did to a field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    Added,
    Changed,
    Removed,
}

/// A field the plan adds, changes or removes.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Added {
    pub check: &'static str,
    pub action: Action,
    /// Where, from the document root (see [`Added::path`]).
    #[serde(serialize_with = "display")]
    pub at: Path,
}

impl Added {
    /// Where, for people: `spec.template.spec.securityContext.runAsNonRoot`. Rendered when
    /// asked for, not kept beside every planned fix.
    pub fn path(&self) -> String {
        self.at.to_string()
    }
}

fn display<S: serde::Serializer>(path: &Path, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(path)
}

#[derive(Default, Debug)]
pub struct Decisions {
    pub added: Vec<Added>,
    pub notes: Vec<Note>,
    /// Edits the planner would not make (inside an alias, an anchored node or a merged
    /// mapping, through a duplicate key), each with its node and reason. Only that edit is
    /// held back; the workload's other fixes go ahead.
    pub held: Vec<Refusal>,
}

impl Decisions {
    fn record(&mut self, planned: bool, check: &'static str, path: &Path, action: Action) {
        if planned {
            self.added.push(Added {
                check,
                action,
                at: path.clone(),
            });
        }
    }

    /// Whether the planner planned the edit; a refusal is kept in [`Decisions::held`].
    fn hold(&mut self, planned: Result<bool, Refusal>) -> bool {
        planned.unwrap_or_else(|r| {
            // Several checks may want the same node: say it once.
            if !self.held.iter().any(|h| h.at == r.at) {
                self.held.push(r);
            }
            false
        })
    }

    fn ensure(
        &mut self,
        planner: &mut Planner<'_, '_>,
        check: &'static str,
        base: &Path,
        keys: &[&'static str],
        want: Want,
    ) -> Result<(), Refusal> {
        let planned = self.hold(planner.ensure(base, keys, want));
        let path = keys.iter().fold(base.clone(), |p, k| p.key(k));
        self.record(planned, check, &path, Action::Added);
        Ok(())
    }

    fn set(
        &mut self,
        planner: &mut Planner<'_, '_>,
        check: &'static str,
        path: Path,
        value: Value,
    ) -> Result<(), Refusal> {
        let planned = self.hold(planner.set(&path, value));
        self.record(planned, check, &path, Action::Changed);
        Ok(())
    }

    fn note(&mut self, check: &'static str, applicability: Applicability, message: String) {
        self.notes.push(Note {
            check,
            applicability,
            message,
        });
    }

    /// An unsafe fix exists: apply it when allowed, else say which flag would.
    fn unsafe_fix(
        &mut self,
        allow: Allow,
        check: &'static str,
        message: String,
        apply: impl FnOnce(&mut Self) -> Result<(), Refusal>,
    ) -> Result<(), Refusal> {
        if allow.unsafe_fixes {
            apply(self)
        } else {
            self.note(
                check,
                Applicability::Unsafe,
                format!("{message} (unsafe fix: --unsafe)"),
            );
            Ok(())
        }
    }
}

/// Said wherever `runAsNonRoot: true` is added without a UID to run as.
pub const RUN_AS_NON_ROOT_CAVEAT: &str = "runAsNonRoot: true added: the kubelet refuses to start a container whose image runs as root (UID 0) \
     or names a non-numeric USER; if an image does, rerun with --run-as-user N (a non-root UID it supports)";

const SYS_ADMIN: [&str; 2] = ["SYS_ADMIN", "CAP_SYS_ADMIN"];

fn sc_path(c: &ContainerView<'_>, spec: &Path) -> Path {
    c.path(spec).key("securityContext")
}

fn is_privileged(c: &ContainerView<'_>) -> bool {
    c.security_context.and_then(|s| s.privileged) == Some(true)
}

fn adds_sys_admin(c: &ContainerView<'_>) -> bool {
    c.security_context
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| c.add.as_ref())
        .is_some_and(|add| add.iter().any(|a| SYS_ADMIN.contains(&a.as_str())))
}

/// Plan the fixes for the failed checks of one workload.
pub fn plan(
    w: &Workload,
    view: &PodView,
    violations: &[Violation],
    allow: Allow,
    scope: &Scope<'_>,
    planner: &mut Planner<'_, '_>,
) -> Result<Decisions, Refusal> {
    let mut d = Decisions::default();
    let failing = |id: &str| violations.iter().any(|v| v.check == id);
    let spec = &view.spec;
    let windows = check::is_windows_pod(spec);
    let pod_sc = spec.security_context.as_ref();
    let pod_sc_path = w.spec.key("securityContext");
    let all: Vec<ContainerView<'_>> = containers(spec).collect();
    // The containers a check's fixes may touch: exempt ones are left alone.
    let of = |id: &'static str| all.iter().filter(move |c| !scope.skips(id, c));

    if failing("privileged") {
        for c in of("privileged").filter(|c| is_privileged(c)) {
            let msg = format!("container {:?} sets privileged: true", c.name);
            d.unsafe_fix(allow, "privileged", msg, |d| {
                d.set(
                    planner,
                    "privileged",
                    sc_path(c, &w.spec).key("privileged"),
                    Value::Bool(false),
                )
            })?;
        }
    }

    if failing("allowPrivilegeEscalation") {
        const ID: &str = "allowPrivilegeEscalation";
        for c in of(ID) {
            match c.security_context.and_then(|s| s.allow_privilege_escalation) {
                Some(false) => {}
                _ if windows => d.note(ID, Applicability::Manual, format!(
                    "container {:?}: Windows pod, where the API server rejects allowPrivilegeEscalation", c.name)),
                _ if is_privileged(c) => d.note(ID, Applicability::Manual, format!(
                    "container {:?} is privileged: the API server rejects allowPrivilegeEscalation: false next to privileged: true", c.name)),
                _ if adds_sys_admin(c) => d.note(ID, Applicability::Manual, format!(
                    "container {:?} adds SYS_ADMIN: the API server rejects allowPrivilegeEscalation: false next to it", c.name)),
                Some(true) => {
                    let msg = format!("container {:?} sets allowPrivilegeEscalation: true", c.name);
                    d.unsafe_fix(allow, ID, msg, |d| {
                        d.set(planner, ID, sc_path(c, &w.spec).key("allowPrivilegeEscalation"), Value::Bool(false))
                    })?;
                }
                None => d.ensure(planner, ID, &c.path(&w.spec), &["securityContext", "allowPrivilegeEscalation"], Want::Present(Value::Bool(false)))?,
            }
        }
    }

    let restricted_caps = failing("capabilities_restricted");
    if restricted_caps || failing("capabilities_baseline") {
        let id = if restricted_caps {
            "capabilities_restricted"
        } else {
            "capabilities_baseline"
        };
        for c in of(id) {
            let caps = c.security_context.and_then(|s| s.capabilities.as_ref());
            let drops_all = caps
                .and_then(|c| c.drop.as_ref())
                .is_some_and(|d| d.iter().any(|x| x == "ALL"));
            if restricted_caps && !drops_all {
                if windows {
                    d.note(id, Applicability::Manual, format!(
                        "container {:?}: Windows pod, where the API server rejects capabilities", c.name));
                } else {
                    d.ensure(
                        planner,
                        id,
                        &c.path(&w.spec),
                        &["securityContext", "capabilities", "drop"],
                        Want::Contains(Value::str("ALL")),
                    )?;
                }
            }
            let allowed = |a: &str| {
                if restricted_caps {
                    a == "NET_BIND_SERVICE"
                } else {
                    check::BASELINE_CAPABILITIES.contains(&a)
                }
            };
            let extra: Vec<String> = caps
                .and_then(|c| c.add.as_ref())
                .map(|add| add.iter().filter(|a| !allowed(a)).cloned().collect())
                .unwrap_or_default();
            if !extra.is_empty() {
                let msg = format!(
                    "container {:?} adds {}, which the level does not allow",
                    c.name,
                    extra.join(", ")
                );
                d.unsafe_fix(allow, id, msg, |d| {
                    let path = sc_path(c, &w.spec).key("capabilities").key("add");
                    let planned = d.hold(planner.remove_items(&path, extra));
                    d.record(planned, id, &path, Action::Removed);
                    Ok(())
                })?;
            }
        }
    }

    // Containers that run as root stop `runAsNonRoot: true` from being added safely.
    let pod_uid = pod_sc.and_then(|s| s.run_as_user);
    let runs_as_root = |c: &ContainerView<'_>| {
        c.security_context.and_then(|s| s.run_as_non_root).is_none()
            && c.security_context.and_then(|s| s.run_as_user).or(pod_uid) == Some(0)
    };
    // Root containers exempt from runAsNonRoot still block a pod-level `true` (it would
    // apply to them too); only the others are fixed or reported.
    let any_root = all.iter().any(runs_as_root);
    let root: Vec<&ContainerView<'_>> = of("runAsNonRoot").filter(|c| runs_as_root(c)).collect();
    let non_root_failing = failing("runAsNonRoot");
    if failing("runAsUser") || non_root_failing && !root.is_empty() {
        const ID: &str = "runAsUser";
        let mut sites: Vec<Path> = Vec::new();
        if pod_uid == Some(0) {
            sites.push(pod_sc_path.clone());
        }
        for c in of(ID) {
            if c.security_context.and_then(|s| s.run_as_user) == Some(0) {
                sites.push(sc_path(c, &w.spec));
            }
        }
        for sc in sites {
            let msg = format!("{sc} sets runAsUser: 0 (root)");
            d.unsafe_fix(allow, ID, msg, |d| match allow.run_as_user {
                Some(uid) => d.set(planner, ID, sc.key("runAsUser"), Value::Int(uid)),
                None => {
                    let planned = d.hold(planner.remove_key(&sc, "runAsUser"));
                    d.record(planned, ID, &sc.key("runAsUser"), Action::Removed);
                    Ok(())
                }
            })?;
        }
    }

    if non_root_failing {
        const ID: &str = "runAsNonRoot";
        match pod_sc.and_then(|s| s.run_as_non_root) {
            Some(true) => {}
            Some(false) => {
                let msg = "the pod sets runAsNonRoot: false".to_owned();
                d.unsafe_fix(allow, ID, msg, |d| {
                    d.set(
                        planner,
                        ID,
                        pod_sc_path.key("runAsNonRoot"),
                        Value::Bool(true),
                    )
                })?;
            }
            None => {
                // Where `runAsNonRoot: true` goes, the UID already in force there, and whether
                // a container it covers has none (then its image decides, hence the caveat).
                // A pod-level `true` would reach the root containers too, exempt or not, so
                // beside them each other container is marked on its own.
                let sites: Vec<(Path, Option<i64>, bool)> = if any_root {
                    of(ID)
                        .filter(|c| {
                            c.security_context.and_then(|s| s.run_as_non_root).is_none()
                                && !runs_as_root(c)
                        })
                        .map(|c| {
                            let uid = c.security_context.and_then(|s| s.run_as_user).or(pod_uid);
                            (c.path(&w.spec), uid, uid.is_none())
                        })
                        .collect()
                } else {
                    let unset = pod_uid.is_none()
                        && all
                            .iter()
                            .any(|c| c.security_context.and_then(|s| s.run_as_user).is_none());
                    vec![(w.spec.clone(), pod_uid, unset)]
                };
                let mut caveat = false;
                for (base, uid, unset) in sites {
                    d.ensure(
                        planner,
                        ID,
                        &base,
                        &["securityContext", "runAsNonRoot"],
                        Want::Present(Value::Bool(true)),
                    )?;
                    if let (Some(uid), None) = (allow.run_as_user, uid) {
                        d.ensure(
                            planner,
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
                    d.note(ID, Applicability::Safe, RUN_AS_NON_ROOT_CAVEAT.to_owned());
                }
                if !root.is_empty() {
                    let names: Vec<&str> = root.iter().map(|c| c.name).collect();
                    d.note(ID, Applicability::Unsafe, format!(
                        "runAsNonRoot: true not added: {} run{} as UID 0, and the kubelet would refuse to start {}; \
                         --unsafe removes runAsUser: 0, --unsafe --run-as-user N sets a non-root UID instead",
                        quote_names(&names), if names.len() == 1 { "s" } else { "" }, if names.len() == 1 { "it" } else { "them" }));
                }
            }
        }
        for c in
            of(ID).filter(|c| c.security_context.and_then(|s| s.run_as_non_root) == Some(false))
        {
            let msg = format!("container {:?} sets runAsNonRoot: false", c.name);
            d.unsafe_fix(allow, ID, msg, |d| {
                d.set(
                    planner,
                    ID,
                    sc_path(c, &w.spec).key("runAsNonRoot"),
                    Value::Bool(true),
                )
            })?;
        }
    }

    let restricted_seccomp = failing("seccompProfile_restricted");
    if restricted_seccomp || failing("seccompProfile_baseline") {
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
                d.unsafe_fix(allow, id, msg, |d| {
                    d.set(
                        planner,
                        id,
                        pod_sc_path.key("seccompProfile").key("type"),
                        Value::str("RuntimeDefault"),
                    )
                })?;
            }
            _ if !restricted_seccomp => {}
            _ if windows => d.note(
                id,
                Applicability::Manual,
                "Windows pod, where the API server rejects seccompProfile".to_owned(),
            ),
            _ => d.ensure(
                planner,
                id,
                &w.spec,
                &["securityContext", "seccompProfile", "type"],
                Want::Present(Value::str("RuntimeDefault")),
            )?,
        }
        let types = of(id).map(|c| {
            (
                c,
                c.security_context
                    .and_then(|s| s.seccomp_profile.as_ref())
                    .map(|p| p.type_.as_str()),
            )
        });
        reset_profiles(&mut d, planner, allow, id, "seccompProfile", &w.spec, types)?;
        fix_annotations(
            &mut d,
            planner,
            allow,
            id,
            view,
            w,
            |k| {
                k == check::SECCOMP_POD_ANNOTATION
                    || k.starts_with(check::SECCOMP_CONTAINER_ANNOTATION_PREFIX)
            },
            check::seccomp_annotation_allowed,
        )?;
    }

    if failing("appArmorProfile") {
        const ID: &str = "appArmorProfile";
        let bad = |t: &str| t != "RuntimeDefault" && t != "Localhost";
        if let Some(p) = pod_sc
            .and_then(|s| s.app_armor_profile.as_ref())
            .filter(|p| bad(&p.type_))
        {
            let msg = format!("the pod sets appArmorProfile.type {:?}", p.type_);
            d.unsafe_fix(allow, ID, msg, |d| {
                d.set(
                    planner,
                    ID,
                    pod_sc_path.key("appArmorProfile").key("type"),
                    Value::str("RuntimeDefault"),
                )
            })?;
        }
        let types = of(ID).map(|c| {
            (
                c,
                c.security_context
                    .and_then(|s| s.app_armor_profile.as_ref())
                    .map(|p| p.type_.as_str()),
            )
        });
        reset_profiles(
            &mut d,
            planner,
            allow,
            ID,
            "appArmorProfile",
            &w.spec,
            types,
        )?;
        fix_annotations(
            &mut d,
            planner,
            allow,
            ID,
            view,
            w,
            |k| k.starts_with(check::APPARMOR_ANNOTATION_PREFIX),
            check::apparmor_annotation_allowed,
        )?;
    }

    let restricted_proc = failing("procMount_restricted");
    if restricted_proc || failing("procMount") {
        let id = if restricted_proc {
            "procMount_restricted"
        } else {
            "procMount"
        };
        for c in of(id) {
            let pm = c.security_context.and_then(|s| s.proc_mount.as_deref());
            if let Some(pm) = pm.filter(|pm| *pm != "Default") {
                let msg = format!("container {:?} sets procMount: {pm}", c.name);
                d.unsafe_fix(allow, id, msg, |d| {
                    d.set(
                        planner,
                        id,
                        sc_path(c, &w.spec).key("procMount"),
                        Value::str("Default"),
                    )
                })?;
            }
        }
    }

    if failing("hostProbesAndHostLifecycle") {
        const ID: &str = "hostProbesAndHostLifecycle";
        for c in of(ID) {
            for handler in host_handlers(c) {
                let path = c.path(&w.spec).extend(&handler);
                let msg = format!("container {:?} sets a host in {path}", c.name);
                d.unsafe_fix(allow, ID, msg, |d| {
                    let planned = d.hold(planner.remove_key(&path, "host"));
                    d.record(planned, ID, &path.key("host"), Action::Removed);
                    Ok(())
                })?;
            }
        }
    }
    Ok(d)
}

/// Containers whose `<field>.type` (seccompProfile, appArmorProfile) is set to anything but
/// `RuntimeDefault` or `Localhost`: reset to `RuntimeDefault` (unsafe).
fn reset_profiles<'c>(
    d: &mut Decisions,
    planner: &mut Planner<'_, '_>,
    allow: Allow,
    id: &'static str,
    field: &'static str,
    spec: &Path,
    types: impl Iterator<Item = (&'c ContainerView<'c>, Option<&'c str>)>,
) -> Result<(), Refusal> {
    for (c, ty) in types {
        let Some(ty) = ty.filter(|t| !t.is_empty() && *t != "RuntimeDefault" && *t != "Localhost")
        else {
            continue;
        };
        let msg = format!("container {:?} sets {field}.type {ty:?}", c.name);
        d.unsafe_fix(allow, id, msg, |d| {
            d.set(
                planner,
                id,
                sc_path(c, spec).key(field).key("type"),
                Value::str("RuntimeDefault"),
            )
        })?;
    }
    Ok(())
}

/// Annotation values the level forbids (`unconfined`) become `runtime/default`.
#[allow(clippy::too_many_arguments)]
fn fix_annotations(
    d: &mut Decisions,
    planner: &mut Planner<'_, '_>,
    allow: Allow,
    id: &'static str,
    view: &PodView,
    w: &Workload,
    governed: impl Fn(&str) -> bool,
    allowed: fn(&str) -> bool,
) -> Result<(), Refusal> {
    for (k, v) in view.meta.annotations.iter().flatten() {
        if governed(k) && !allowed(v) {
            let path = w
                .meta
                .key("annotations")
                .join(Seg::Key(Cow::Owned(k.clone())));
            let msg = format!("annotation {k} is {v:?}");
            d.unsafe_fix(allow, id, msg, |d| {
                d.set(planner, id, path, Value::str("runtime/default"))
            })?;
        }
    }
    Ok(())
}

/// Paths (below a container) of probe and lifecycle handlers that name a host.
fn host_handlers(c: &ContainerView<'_>) -> Vec<Vec<Seg>> {
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

fn quote_names(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!(
        "container{} {}",
        if names.len() == 1 { "" } else { "s" },
        quoted.join(", ")
    )
}
