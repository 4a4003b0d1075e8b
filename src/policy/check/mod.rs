//! The nineteen official Pod Security Standards checks, evaluated the way the admission
//! controller (k8s.io/pod-security-admission, `policy/`) evaluates them, at every policy
//! version from v1.0 to the newest.
//!
//! This module owns the registry: which checks exist, at which level, from which policy
//! version each behaviour applies, which restricted check replaces ("overrides") which
//! baseline check, the order in which findings are reported, and the admission controller's
//! message helpers (quoting and joining of names, singular/plural wording). Each check lives
//! in its own file and only answers "does this pod spec pass me at minor version N, and if
//! not, in which words".
//!
//! Version resolution follows the official registry: a check applies from the first minor
//! version in [`CheckInfo::versions`]; at version V the newest behaviour whose minimum
//! version is at most V is used; `latest` and any version above [`NEWEST_MINOR`] behave as
//! the newest version. Order: every baseline check first, sorted by ID (byte order), then
//! every restricted check, sorted by ID — the admission controller sorts the same way "to
//! maintain consistent error messages".
//!
//! Inputs are read-only views (k8s-openapi structs); nothing here panics on missing fields.

use k8s_openapi::api::core::v1::{ContainerPort, Lifecycle, PodSpec, Probe, SecurityContext};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

use crate::policy::{Level, Policy, Version, NEWEST_MINOR};

pub(crate) mod allow_privilege_escalation;
pub(crate) mod app_armor_profile;
mod capabilities_baseline;
pub(crate) mod capabilities_restricted;
mod host_namespaces;
mod host_path_volumes;
mod host_ports;
pub(crate) mod host_probes_and_host_lifecycle;
pub(crate) mod privileged;
mod proc_mount;
pub(crate) mod proc_mount_restricted;
mod restricted_volumes;
pub(crate) mod run_as_non_root;
pub(crate) mod run_as_user;
mod se_linux_options;
mod seccomp_profile_baseline;
pub(crate) mod seccomp_profile_restricted;
mod sysctls;
mod windows_host_process;

pub(crate) use app_armor_profile::{
    allowed_annotation as apparmor_annotation_allowed,
    ANNOTATION_PREFIX as APPARMOR_ANNOTATION_PREFIX,
};
pub(crate) use capabilities_baseline::ALLOWED as BASELINE_CAPABILITIES;
pub(crate) use seccomp_profile_baseline::{
    valid_annotation as seccomp_annotation_allowed,
    CONTAINER_ANNOTATION_PREFIX as SECCOMP_CONTAINER_ANNOTATION_PREFIX,
    POD_ANNOTATION as SECCOMP_POD_ANNOTATION,
};

/// One failed check, in the admission controller's own words.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// The official check ID, e.g. `allowPrivilegeEscalation`, `seccompProfile_restricted`.
    pub check: &'static str,
    /// The short reason, e.g. `allowPrivilegeEscalation != false`.
    pub reason: String,
    /// The detail, e.g. `container "app" must set securityContext.allowPrivilegeEscalation=false`;
    /// may be empty.
    pub detail: String,
}

impl Violation {
    /// `reason (detail)`, or just `reason` when the detail is empty — as the admission
    /// controller renders one finding.
    pub fn message(&self) -> String {
        if self.detail.is_empty() {
            self.reason.clone()
        } else {
            format!("{} ({})", self.reason, self.detail)
        }
    }
}

/// How far a fix for a check can go without a human: the engine's own [`Applicability`].
pub use crate::edit::Applicability;

/// One way of fixing a check's violations.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FixNote {
    pub safety: Applicability,
    /// What the fix does, in one short phrase.
    pub what: &'static str,
}

/// A restricted check replacing a baseline check at restricted level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Override {
    /// The baseline check ID that is skipped.
    pub check: &'static str,
    /// The first minor version at which it is skipped.
    pub since: u32,
}

/// The reason and detail of one failure, before the check ID is attached.
pub(crate) struct Finding {
    pub reason: String,
    pub detail: String,
}

impl Finding {
    pub(crate) fn new(reason: impl Into<String>, detail: impl Into<String>) -> Self {
        Finding {
            reason: reason.into(),
            detail: detail.into(),
        }
    }
}

/// A check body: the (already clamped) minor version, the pod metadata and spec.
type EvalFn = fn(u32, &ObjectMeta, &PodSpec) -> Option<Finding>;

/// Static description of one check.
#[derive(Clone, Copy, Debug)]
pub struct CheckInfo {
    /// The official check ID.
    pub id: &'static str,
    /// The level the check belongs to (baseline checks also run at restricted).
    pub level: Level,
    /// One line: what the check requires.
    pub doc: &'static str,
    /// The minor versions at which the check's behaviour changes, ascending; the first is the
    /// version from which the check applies at all.
    pub versions: &'static [u32],
    /// The baseline check this restricted check replaces, if any.
    pub overrides: Option<Override>,
    /// The best fix available: the highest safety among [`CheckInfo::fixes`], or `Manual`.
    pub fix_safety: Applicability,
    /// Every way of fixing a violation, safest first.
    pub fixes: &'static [FixNote],
    eval: EvalFn,
}

impl CheckInfo {
    /// True when the check runs at all at policy version `version` (ignoring level).
    pub fn applies_at(&self, version: Version) -> bool {
        self.versions
            .first()
            .is_some_and(|&first| effective_minor(version) >= first)
    }

    /// The minimum version of the behaviour used at `version`, or `None` when the check does
    /// not apply yet.
    pub fn behaviour_at(&self, version: Version) -> Option<u32> {
        let v = effective_minor(version);
        self.versions.iter().rev().copied().find(|&m| m <= v)
    }

    /// True when this (baseline) check is replaced by a restricted check at `version`.
    pub fn overridden_at(&self, version: Version) -> bool {
        let v = effective_minor(version);
        all_checks().iter().any(|other| {
            other
                .overrides
                .is_some_and(|o| o.check == self.id && v >= o.since)
                && other.applies_at(version)
        })
    }

    /// Run this one check at `version`, whatever the level; `None` when it passes or does not
    /// apply at that version.
    pub fn run(&self, version: Version, meta: &ObjectMeta, spec: &PodSpec) -> Option<Violation> {
        if !self.applies_at(version) {
            return None;
        }
        (self.eval)(effective_minor(version), meta, spec).map(|f| Violation {
            check: self.id,
            reason: f.reason,
            detail: f.detail,
        })
    }
}

/// Every check, in the official reporting order: baseline checks sorted by ID, then
/// restricted checks sorted by ID.
static ALL_CHECKS: [CheckInfo; 19] = [
    app_armor_profile::INFO,
    capabilities_baseline::INFO,
    host_namespaces::INFO,
    host_path_volumes::INFO,
    host_ports::INFO,
    host_probes_and_host_lifecycle::INFO,
    privileged::INFO,
    proc_mount::INFO,
    se_linux_options::INFO,
    seccomp_profile_baseline::INFO,
    sysctls::INFO,
    windows_host_process::INFO,
    allow_privilege_escalation::INFO,
    capabilities_restricted::INFO,
    proc_mount_restricted::INFO,
    restricted_volumes::INFO,
    run_as_non_root::INFO,
    run_as_user::INFO,
    seccomp_profile_restricted::INFO,
];

/// Static description of every check, in the official reporting order.
pub fn all_checks() -> &'static [CheckInfo] {
    &ALL_CHECKS
}

/// The check with this official ID.
pub fn check_info(id: &str) -> Option<&'static CheckInfo> {
    ALL_CHECKS.iter().find(|c| c.id == id)
}

/// The minor version checks are evaluated at: `latest`, and anything newer than the newest
/// known version, behave as the newest known version.
fn effective_minor(version: Version) -> u32 {
    version.minor().min(NEWEST_MINOR)
}

/// Every check that applies at `policy` (level + version, with overrides: a restricted check
/// replacing its baseline twin at the versions where it does), in the official order,
/// returning the failures. Privileged runs nothing.
pub fn evaluate(policy: Policy, meta: &ObjectMeta, spec: &PodSpec) -> Vec<Violation> {
    if policy.level == Level::Privileged {
        return Vec::new();
    }
    let version = policy.version;
    ALL_CHECKS
        .iter()
        .filter(|c| c.level <= policy.level && c.applies_at(version))
        .filter(|c| !(policy.level == Level::Restricted && c.overridden_at(version)))
        .filter_map(|c| c.run(version, meta, spec))
        .collect()
}

/// The whole warning line the admission controller prints for a workload:
/// `would violate PodSecurity "restricted:latest": reason1 (detail1), reason2 (detail2)`.
/// Findings are joined with `, ` in the order given (use [`evaluate`]'s order); the
/// admission controller only prints the line when there is at least one finding.
pub fn summary_line(policy: Policy, violations: &[Violation]) -> String {
    format!(
        "would violate PodSecurity \"{policy}\": {}",
        joined_messages(violations)
    )
}

/// The line the admission controller uses when it *denies* a Pod under `enforce`:
/// `pod violates PodSecurity "restricted:latest": …`.
pub fn enforce_line(policy: Policy, violations: &[Violation]) -> String {
    format!(
        "pod violates PodSecurity \"{policy}\": {}",
        joined_messages(violations)
    )
}

fn joined_messages(violations: &[Violation]) -> String {
    violations
        .iter()
        .map(Violation::message)
        .collect::<Vec<_>>()
        .join(", ")
}

/// The highest level (Restricted > Baseline > Privileged) whose evaluation at `version`
/// passes.
pub fn highest_level(version: Version, meta: &ObjectMeta, spec: &PodSpec) -> Level {
    for level in [Level::Restricted, Level::Baseline] {
        if passes(Policy::new(level, version), meta, spec) {
            return level;
        }
    }
    Level::Privileged
}

/// Whether the pod passes `policy`: [`evaluate`] finds nothing, known at the first finding.
pub fn passes(policy: Policy, meta: &ObjectMeta, spec: &PodSpec) -> bool {
    policy.level == Level::Privileged
        || !ALL_CHECKS
            .iter()
            .filter(|c| c.level <= policy.level && c.applies_at(policy.version))
            .filter(|c| !(policy.level == Level::Restricted && c.overridden_at(policy.version)))
            .any(|c| c.run(policy.version, meta, spec).is_some())
}

// ---------------------------------------------------------------------------------------
// Shared helpers: the container visitor and PSA's message vocabulary.
// ---------------------------------------------------------------------------------------

/// The security-relevant part of one container, whichever list it came from. This is the
/// one walk over containers: the checks and the fixes both use it.
#[derive(Clone, Copy)]
pub struct ContainerView<'a> {
    /// `initContainers`, `containers` or `ephemeralContainers`.
    pub list: &'static str,
    /// Position in that list.
    pub index: usize,
    pub name: &'a str,
    pub image: Option<&'a str>,
    pub security_context: Option<&'a SecurityContext>,
    pub ports: &'a [ContainerPort],
    pub liveness_probe: Option<&'a Probe>,
    pub readiness_probe: Option<&'a Probe>,
    pub startup_probe: Option<&'a Probe>,
    pub lifecycle: Option<&'a Lifecycle>,
}

impl ContainerView<'_> {
    /// The container's path, given its pod spec's.
    pub fn path(&self, spec: &crate::path::Path) -> crate::path::Path {
        spec.key(self.list).index(self.index)
    }
}

/// `Container` and `EphemeralContainer` are different types with the same fields.
macro_rules! container_view {
    ($list:expr, $index:expr, $c:expr) => {
        ContainerView {
            list: $list,
            index: $index,
            name: &$c.name,
            image: $c.image.as_deref(),
            security_context: $c.security_context.as_ref(),
            ports: $c.ports.as_deref().unwrap_or_default(),
            liveness_probe: $c.liveness_probe.as_ref(),
            readiness_probe: $c.readiness_probe.as_ref(),
            startup_probe: $c.startup_probe.as_ref(),
            lifecycle: $c.lifecycle.as_ref(),
        }
    };
}

/// Every container of the pod in the admission controller's order: initContainers,
/// containers, then ephemeralContainers.
pub fn containers(spec: &PodSpec) -> impl Iterator<Item = ContainerView<'_>> {
    let init = (spec.init_containers.iter().flatten().enumerate())
        .map(|(i, c)| container_view!("initContainers", i, c));
    let regular =
        (spec.containers.iter().enumerate()).map(|(i, c)| container_view!("containers", i, c));
    let ephemeral = (spec.ephemeral_containers.iter().flatten().enumerate())
        .map(|(i, c)| container_view!("ephemeralContainers", i, c));
    init.chain(regular).chain(ephemeral)
}

/// `"a", "b", "c"` — each item in double quotes (not escaped), joined with `, `; empty for
/// no items.
pub(crate) fn join_quote<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    let quoted: Vec<String> = items
        .into_iter()
        .map(|s| format!("\"{}\"", s.as_ref()))
        .collect();
    quoted.join(", ")
}

/// The singular form when `count` is one, else the plural.
pub(crate) fn pluralize(
    singular: &'static str,
    plural: &'static str,
    count: usize,
) -> &'static str {
    if count == 1 {
        singular
    } else {
        plural
    }
}

/// `container "a"` / `containers "a", "b"`.
pub(crate) fn containers_phrase(names: &[&str]) -> String {
    format!(
        "{} {}",
        pluralize("container", "containers", names.len()),
        join_quote(names)
    )
}

/// True for a pod that declares `spec.os.name: windows` (exact, as the API spells it).
pub(crate) fn is_windows_pod(spec: &PodSpec) -> bool {
    spec.os.as_ref().is_some_and(|os| os.name == "windows")
}

/// True for a pod in a user namespace (`spec.hostUsers: false`).
pub(crate) fn in_user_namespace(spec: &PodSpec) -> bool {
    spec.host_users == Some(false)
}

/// Go's `%q` for a string (strconv.Quote): double quotes, with `"` and `\` escaped, the
/// usual C escapes, and non-printable characters as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
pub(crate) fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if !go_is_print(c) => {
                let n = c as u32;
                if n <= 0xffff {
                    out.push_str(&format!("\\u{n:04x}"));
                } else {
                    out.push_str(&format!("\\U{n:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// An approximation of Go's `strconv.IsPrint` for non-ASCII characters: controls, space
/// separators other than U+0020, format characters, private-use and unassigned-noncharacter
/// code points are not printable.
fn go_is_print(c: char) -> bool {
    let n = c as u32;
    if n < 0x80 {
        return (0x20..0x7f).contains(&n);
    }
    !matches!(
        n,
        0x80..=0xa0
            | 0xad
            | 0x600..=0x605
            | 0x61c
            | 0x6dd
            | 0x70f
            | 0x1680
            | 0x180e
            | 0x2000..=0x200f
            | 0x2028..=0x202f
            | 0x205f..=0x2064
            | 0x2066..=0x206f
            | 0x3000
            | 0xd800..=0xf8ff
            | 0xfdd0..=0xfdef
            | 0xfeff
            | 0xfff9..=0xfffb
            | 0xfffe..=0xffff
            | 0x110bd
            | 0x1d173..=0x1d17a
            | 0xe0001
            | 0xe0020..=0xe007f
            | 0xf0000..
    ) && (n & 0xfffe) != 0xfffe
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{Container, PodSecurityContext};

    fn pod(containers: &[&str]) -> PodSpec {
        PodSpec {
            containers: containers
                .iter()
                .map(|n| Container {
                    name: (*n).to_string(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn registry_is_in_official_order() {
        let ids = |level| {
            ALL_CHECKS
                .iter()
                .filter(|c| c.level == level)
                .map(|c| c.id)
                .collect::<Vec<_>>()
        };
        for level in [Level::Baseline, Level::Restricted] {
            let got = ids(level);
            let mut sorted = got.clone();
            sorted.sort_unstable();
            assert_eq!(got, sorted, "{level} checks must be sorted by ID");
        }
        let levels: Vec<Level> = ALL_CHECKS.iter().map(|c| c.level).collect();
        let mut sorted_levels = levels.clone();
        sorted_levels.sort();
        assert_eq!(levels, sorted_levels, "baseline checks come first");
        assert_eq!(ids(Level::Baseline).len(), 12);
        assert_eq!(ids(Level::Restricted).len(), 7);
    }

    #[test]
    fn registry_is_consistent() {
        for c in all_checks() {
            assert!(!c.versions.is_empty(), "{}", c.id);
            assert!(c.versions.windows(2).all(|w| w[0] < w[1]), "{}", c.id);
            assert!(c.versions.iter().all(|&v| v <= NEWEST_MINOR), "{}", c.id);
            let best = c
                .fixes
                .iter()
                .map(|f| f.safety)
                .max()
                .unwrap_or(Applicability::Manual);
            assert_eq!(best, c.fix_safety, "{}", c.id);
            if let Some(o) = c.overrides {
                assert_eq!(c.level, Level::Restricted, "{}", c.id);
                let target = check_info(o.check).expect("override target exists");
                assert_eq!(target.level, Level::Baseline);
                assert_eq!(o.since, c.versions[0], "{}", c.id);
            }
        }
        // The newest behaviour of some check sits at the newest minor version.
        assert!(all_checks()
            .iter()
            .any(|c| c.versions.last() == Some(&NEWEST_MINOR)));
    }

    #[test]
    fn privileged_runs_nothing() {
        let spec = PodSpec {
            host_network: Some(true),
            ..pod(&["a"])
        };
        let meta = ObjectMeta::default();
        assert!(evaluate(
            Policy::new(Level::Privileged, Version::Latest),
            &meta,
            &spec
        )
        .is_empty());
        assert_eq!(
            highest_level(Version::Latest, &meta, &spec),
            Level::Privileged
        );
    }

    #[test]
    fn overrides_replace_baseline_twins() {
        // hostPath fails hostPathVolumes at baseline, restrictedVolumes (only) at restricted.
        let spec: PodSpec = serde_json::from_value(serde_json::json!({
            "containers": [{"name": "a"}],
            "volumes": [{"name": "v", "hostPath": {"path": "/"}}],
        }))
        .expect("valid spec");
        let meta = ObjectMeta::default();
        let base = evaluate(Policy::new(Level::Baseline, Version::Latest), &meta, &spec);
        assert_eq!(base.len(), 1);
        assert_eq!(base[0].check, "hostPathVolumes");
        assert_eq!(base[0].message(), "hostPath volumes (volume \"v\")");
        let restricted = evaluate(
            Policy::new(Level::Restricted, Version::Latest),
            &meta,
            &spec,
        );
        let ids: Vec<_> = restricted.iter().map(|v| v.check).collect();
        assert_eq!(
            ids,
            [
                "allowPrivilegeEscalation",
                "capabilities_restricted",
                "restrictedVolumes",
                "runAsNonRoot",
                "seccompProfile_restricted"
            ]
        );
        // Before 1.22 capabilities_baseline is not overridden, and capabilities_restricted
        // does not exist; before 1.8 allowPrivilegeEscalation does not exist.
        let old = evaluate(Policy::new(Level::Restricted, Version::V1(7)), &meta, &spec);
        let ids: Vec<_> = old.iter().map(|v| v.check).collect();
        assert_eq!(ids, ["restrictedVolumes", "runAsNonRoot"]);
    }

    #[test]
    fn summary_line_joins_like_psa() {
        let spec = PodSpec {
            security_context: Some(PodSecurityContext {
                run_as_non_root: Some(true),
                ..Default::default()
            }),
            ..pod(&["app", "side"])
        };
        let meta = ObjectMeta::default();
        let policy: Policy = "restricted:v1.29".parse().expect("valid policy");
        let v = evaluate(policy, &meta, &spec);
        assert_eq!(
            summary_line(policy, &v),
            "would violate PodSecurity \"restricted:v1.29\": allowPrivilegeEscalation != false \
             (containers \"app\", \"side\" must set securityContext.allowPrivilegeEscalation=false), \
             unrestricted capabilities (containers \"app\", \"side\" must set \
             securityContext.capabilities.drop=[\"ALL\"]), seccompProfile (pod or containers \
             \"app\", \"side\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" \
             or \"Localhost\")"
        );
        assert!(
            enforce_line(policy, &v).starts_with("pod violates PodSecurity \"restricted:v1.29\": ")
        );
    }

    #[test]
    fn versions_above_newest_behave_as_latest() {
        let spec = pod(&["a"]);
        let meta = ObjectMeta::default();
        let latest = evaluate(
            Policy::new(Level::Restricted, Version::Latest),
            &meta,
            &spec,
        );
        let future = evaluate(
            Policy::new(Level::Restricted, Version::V1(99)),
            &meta,
            &spec,
        );
        assert_eq!(latest, future);
        assert_eq!(
            highest_level(Version::Latest, &meta, &spec),
            Level::Baseline
        );
    }

    #[test]
    fn missing_everything_does_not_panic() {
        let spec = PodSpec::default();
        let meta = ObjectMeta::default();
        for minor in 0..=NEWEST_MINOR + 1 {
            for level in [Level::Baseline, Level::Restricted] {
                assert!(evaluate(Policy::new(level, Version::V1(minor)), &meta, &spec).is_empty());
            }
        }
    }

    #[test]
    fn message_without_detail_is_the_reason() {
        let v = Violation {
            check: "x",
            reason: "r".into(),
            detail: String::new(),
        };
        assert_eq!(v.message(), "r");
    }

    #[test]
    fn go_quote_escapes_like_strconv_quote() {
        assert_eq!(go_quote("unconfined"), "\"unconfined\"");
        assert_eq!(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
        assert_eq!(go_quote("x\ny\u{1}"), "\"x\\ny\\x01\"");
        assert_eq!(go_quote("é\u{a0}"), "\"é\\u00a0\"");
        assert_eq!(go_quote("\u{feff}"), "\"\\ufeff\"");
    }

    #[test]
    fn join_quote_and_pluralize() {
        assert_eq!(join_quote(Vec::<&str>::new()), "");
        assert_eq!(join_quote(["a"]), "\"a\"");
        assert_eq!(join_quote(["a", "b"]), "\"a\", \"b\"");
        assert_eq!(containers_phrase(&["a"]), "container \"a\"");
        assert_eq!(containers_phrase(&["a", "b"]), "containers \"a\", \"b\"");
    }
}
