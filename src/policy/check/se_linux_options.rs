//! `seLinuxOptions` (baseline, every version; `container_engine_t` allowed from v1.31).
//!
//! **What it checks.** `securityContext.seLinuxOptions` at pod level and in every container:
//! `type` must be empty/unset or one of `container_t`, `container_init_t`,
//! `container_kvm_t` (and `container_engine_t` from v1.31); `user` and `role` must be empty.
//!
//! **Why.** Custom SELinux types, users or roles can lift the confinement SELinux gives a
//! container.
//!
//! **Example** (fails, `pod set forbidden securityContext.seLinuxOptions: type "spc_t"`):
//! ```yaml
//! spec:
//!   securityContext:
//!     seLinuxOptions:
//!       type: spc_t
//! ```
//!
//! **Fix safety.** Manual only: the SELinux label is a host-policy decision; reported with
//! its reason.

use std::collections::BTreeSet;

use k8s_openapi::api::core::v1::{PodSpec, SELinuxOptions};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use super::{
    containers, containers_phrase, join_quote, pluralize, Applicability, CheckInfo, Finding,
    FixNote,
};
use crate::policy::Level;

pub(super) const INFO: CheckInfo = CheckInfo {
    id: "seLinuxOptions",
    level: Level::Baseline,
    doc: "seLinuxOptions.type must be a container type (container_t, container_init_t, container_kvm_t; container_engine_t from v1.31); user and role unset",
    versions: &[0, 31],
    overrides: None,
    fix_safety: Applicability::Manual,
    fixes: &[FixNote {
        safety: Applicability::Manual,
        what: "use an allowed SELinux type and remove user/role",
    }],
    eval,
};

const TYPES_1_0: [&str; 4] = ["", "container_t", "container_init_t", "container_kvm_t"];
const TYPE_1_31: &str = "container_engine_t";

struct Tally<'a> {
    minor: u32,
    bad_types: BTreeSet<&'a str>,
    set_user: bool,
    set_role: bool,
}

impl<'a> Tally<'a> {
    fn valid(&mut self, opts: &'a SELinuxOptions) -> bool {
        let mut valid = true;
        let t = opts.type_.as_deref().unwrap_or("");
        if !(TYPES_1_0.contains(&t) || (self.minor >= 31 && t == TYPE_1_31)) {
            valid = false;
            self.bad_types.insert(t);
        }
        if opts.user.as_deref().is_some_and(|u| !u.is_empty()) {
            valid = false;
            self.set_user = true;
        }
        if opts.role.as_deref().is_some_and(|r| !r.is_empty()) {
            valid = false;
            self.set_role = true;
        }
        valid
    }
}

fn eval(minor: u32, _meta: &ObjectMeta, spec: &PodSpec) -> Option<Finding> {
    let mut tally = Tally {
        minor,
        bad_types: BTreeSet::new(),
        set_user: false,
        set_role: false,
    };
    let mut setters: Vec<String> = Vec::new();
    if let Some(opts) = spec
        .security_context
        .as_ref()
        .and_then(|sc| sc.se_linux_options.as_ref())
    {
        if !tally.valid(opts) {
            setters.push("pod".to_string());
        }
    }
    let mut bad: Vec<&str> = Vec::new();
    for c in containers(spec) {
        if let Some(opts) = c
            .security_context
            .and_then(|sc| sc.se_linux_options.as_ref())
        {
            if !tally.valid(opts) {
                bad.push(c.name);
            }
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    if setters.is_empty() {
        return None;
    }
    let mut data: Vec<String> = Vec::new();
    if !tally.bad_types.is_empty() {
        data.push(format!(
            "{} {}",
            pluralize("type", "types", tally.bad_types.len()),
            join_quote(&tally.bad_types)
        ));
    }
    if tally.set_user {
        data.push("user may not be set".to_string());
    }
    if tally.set_role {
        data.push("role may not be set".to_string());
    }
    Some(Finding::new(
        "seLinuxOptions",
        format!(
            "{} set forbidden securityContext.seLinuxOptions: {}",
            setters.join(" and "),
            data.join("; ")
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> PodSpec {
        serde_json::from_value(serde_json::json!({
            "securityContext": {"seLinuxOptions": {"type": "foo", "user": "bar", "role": "baz"}},
            "containers": [
                {"name": "a", "securityContext": {"seLinuxOptions": {"type": "container_t"}}},
                {"name": "d", "securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}},
                {"name": "e", "securityContext": {"seLinuxOptions": {"type": "bar"}}},
                {"name": "f", "securityContext": {"seLinuxOptions": {"user": "bar"}}},
            ],
        }))
        .expect("valid spec")
    }

    #[test]
    fn engine_type_from_1_31() {
        let meta = ObjectMeta::default();
        let f = eval(31, &meta, &spec()).expect("fails");
        assert_eq!(
            f.detail,
            r#"pod and containers "e", "f" set forbidden securityContext.seLinuxOptions: types "bar", "foo"; user may not be set; role may not be set"#
        );
        let f = eval(30, &meta, &spec()).expect("fails");
        assert_eq!(
            f.detail,
            r#"pod and containers "d", "e", "f" set forbidden securityContext.seLinuxOptions: types "bar", "container_engine_t", "foo"; user may not be set; role may not be set"#
        );
    }

    #[test]
    fn user_only() {
        let s: PodSpec = serde_json::from_value(serde_json::json!({
            "securityContext": {"seLinuxOptions": {"user": "u"}},
            "containers": [],
        }))
        .expect("valid spec");
        let f = eval(0, &ObjectMeta::default(), &s).expect("fails");
        assert_eq!(
            f.detail,
            "pod set forbidden securityContext.seLinuxOptions: user may not be set"
        );
    }
}
