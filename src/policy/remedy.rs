//! Remedies: which fields to add or change, decided per failed check. The checks say *what*
//! fails (with the admission controller's semantics and versions); each check's file also
//! holds its `remedy`, what may be done about it. This module owns what they share: the
//! [`Remedy`] they work on (the workload, its containers, the planner, the decisions), the
//! order they run in ([`plan`]), the guards that hold a fix back ([`is_privileged`],
//! [`adds_sys_admin`], [`Remedy::runs_as_root`], [`Remedy::windows`], exemptions through
//! [`Remedy::of`]), and the record of what was decided ([`Decisions`]).
//!
//! Safe fixes only add what is absent: pod-level `runAsNonRoot: true` (per container beside
//! containers that run as UID 0) and `seccompProfile` `RuntimeDefault`, per container
//! `allowPrivilegeEscalation: false` and `ALL` in `capabilities.drop`. They are held back
//! where the API server or the kubelet would reject the result: Linux-only fields in a
//! Windows pod, `allowPrivilegeEscalation: false` next to `privileged: true` or a `SYS_ADMIN`
//! capability, `runAsNonRoot: true` over a container that runs as UID 0.
//!
//! Unsafe fixes (`--unsafe`) change what the author wrote: `false` → `true` and back,
//! `Unconfined` → `RuntimeDefault`, capabilities removed, `runAsUser: 0` removed (or set to
//! `--run-as-user`), `procMount` reset, probe hosts removed. The engine applies them in
//! rounds, so removing `privileged: true` lets the next round add
//! `allowPrivilegeEscalation: false`.

use std::borrow::Cow;

use crate::edit::plan::{Planner, Refusal, Want};
use crate::edit::value::Value;
use crate::edit::Applicability;
use crate::path::{Path, Seg};
use crate::policy::check::{self, containers, ContainerView, Violation};
use crate::policy::exempt::Scope;
use crate::policy::view::PodView;
use crate::policy::workload::Workload;

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
    pub(crate) fn record(
        &mut self,
        planned: bool,
        check: &'static str,
        path: &Path,
        action: Action,
    ) {
        if planned {
            self.added.push(Added {
                check,
                action,
                at: path.clone(),
            });
        }
    }

    /// Whether the planner planned the edit; a refusal is kept in [`Decisions::held`].
    pub(crate) fn hold(&mut self, planned: Result<bool, Refusal>) -> bool {
        planned.unwrap_or_else(|r| {
            // Several checks may want the same node: say it once.
            if !self.held.iter().any(|h| h.at == r.at) {
                self.held.push(r);
            }
            false
        })
    }

    pub(crate) fn ensure(
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

    pub(crate) fn set(
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

    pub(crate) fn note(
        &mut self,
        check: &'static str,
        applicability: Applicability,
        message: String,
    ) {
        self.notes.push(Note {
            check,
            applicability,
            message,
        });
    }

    /// An unsafe fix exists: apply it when allowed, else say which flag would.
    pub(crate) fn unsafe_fix(
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

pub(crate) fn sc_path(c: &ContainerView<'_>, spec: &Path) -> Path {
    c.path(spec).key("securityContext")
}

pub(crate) fn is_privileged(c: &ContainerView<'_>) -> bool {
    c.security_context.and_then(|s| s.privileged) == Some(true)
}

pub(crate) fn adds_sys_admin(c: &ContainerView<'_>) -> bool {
    c.security_context
        .and_then(|s| s.capabilities.as_ref())
        .and_then(|c| c.add.as_ref())
        .is_some_and(|add| add.iter().any(|a| SYS_ADMIN.contains(&a.as_str())))
}

/// One workload's remedies in progress: what they read, and the planner and decisions they
/// write to. Each check that pss-fix can do something about has its `remedy` beside its
/// evaluation in `src/check/`, taking this; [`plan`] calls them in order.
pub(crate) struct Remedy<'v, 'p, 't, 'a> {
    pub w: &'v Workload,
    pub view: &'v PodView,
    pub allow: Allow,
    pub planner: &'p mut Planner<'t, 'a>,
    pub d: Decisions,
    /// Every container of the pod, whichever list it is in.
    pub all: Vec<ContainerView<'v>>,
    /// `spec.os.name: windows`: the API server rejects Linux-only fields there.
    pub windows: bool,
    violations: &'v [Violation],
    scope: &'v Scope<'v>,
}

impl<'v> Remedy<'v, '_, '_, '_> {
    /// Whether the workload fails the check `id`.
    pub fn failing(&self, id: &str) -> bool {
        self.violations.iter().any(|v| v.check == id)
    }

    /// The containers check `id`'s fixes may touch: exempt ones are left alone.
    pub fn of(&self, id: &'static str) -> Vec<ContainerView<'v>> {
        self.all
            .iter()
            .filter(|c| !self.scope.skips(id, c))
            .copied()
            .collect()
    }

    /// The pod's own `runAsUser`.
    pub fn pod_uid(&self) -> Option<i64> {
        self.view
            .spec
            .security_context
            .as_ref()
            .and_then(|s| s.run_as_user)
    }

    /// A container runs as UID 0 (its own `runAsUser`, else the pod's) and does not say
    /// `runAsNonRoot` itself: `runAsNonRoot: true` over it would stop the kubelet starting it.
    pub fn runs_as_root(&self, c: &ContainerView<'_>) -> bool {
        c.security_context.and_then(|s| s.run_as_non_root).is_none()
            && c.security_context
                .and_then(|s| s.run_as_user)
                .or(self.pod_uid())
                == Some(0)
    }
}

/// Plan the fixes for the failed checks of one workload: each check's remedy, in an order
/// where a value changed by one (`privileged: true` removed) lets a later one add its field
/// in the next round.
pub fn plan(
    w: &Workload,
    view: &PodView,
    violations: &[Violation],
    allow: Allow,
    scope: &Scope<'_>,
    planner: &mut Planner<'_, '_>,
) -> Result<Decisions, Refusal> {
    let mut r = Remedy {
        w,
        view,
        allow,
        planner,
        d: Decisions::default(),
        all: containers(&view.spec).collect(),
        windows: check::is_windows_pod(&view.spec),
        violations,
        scope,
    };
    check::privileged::remedy(&mut r)?;
    check::allow_privilege_escalation::remedy(&mut r)?;
    check::capabilities_restricted::remedy(&mut r)?;
    check::run_as_user::remedy(&mut r)?;
    check::run_as_non_root::remedy(&mut r)?;
    check::seccomp_profile_restricted::remedy(&mut r)?;
    check::app_armor_profile::remedy(&mut r)?;
    check::proc_mount_restricted::remedy(&mut r)?;
    check::host_probes_and_host_lifecycle::remedy(&mut r)?;
    Ok(r.d)
}

/// Containers whose `<field>.type` (seccompProfile, appArmorProfile) is set to anything but
/// `RuntimeDefault` or `Localhost`: reset to `RuntimeDefault` (unsafe).
pub(crate) fn reset_profiles<'c>(
    r: &mut Remedy<'_, '_, '_, '_>,
    id: &'static str,
    field: &'static str,
    spec: &Path,
    types: impl Iterator<Item = (ContainerView<'c>, Option<&'c str>)>,
) -> Result<(), Refusal> {
    for (c, ty) in types {
        let Some(ty) = ty.filter(|t| !t.is_empty() && *t != "RuntimeDefault" && *t != "Localhost")
        else {
            continue;
        };
        let msg = format!("container {:?} sets {field}.type {ty:?}", c.name);
        r.d.unsafe_fix(r.allow, id, msg, |d| {
            d.set(
                r.planner,
                id,
                sc_path(&c, spec).key(field).key("type"),
                Value::str("RuntimeDefault"),
            )
        })?;
    }
    Ok(())
}

/// Annotation values the level forbids (`unconfined`) become `runtime/default`.
pub(crate) fn fix_annotations(
    r: &mut Remedy<'_, '_, '_, '_>,
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
            r.d.unsafe_fix(r.allow, id, msg, |d| {
                d.set(r.planner, id, path, Value::str("runtime/default"))
            })?;
        }
    }
    Ok(())
}

pub(crate) fn quote_names(names: &[&str]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    format!(
        "container{} {}",
        if names.len() == 1 { "" } else { "s" },
        quoted.join(", ")
    )
}
