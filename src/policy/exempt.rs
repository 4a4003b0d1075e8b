//! Exemptions: checks a project has decided not to enforce, for everything, for a workload
//! (by kind/namespace/name, or by the object's `pss-fix.dev/ignore` annotation), or for the
//! containers of an image. An exempt check is neither reported nor fixed; it is listed as
//! exempted so nothing disappears silently.
//!
//! A container exemption is exact: the check runs again without the exempt containers, so
//! `runAsNonRoot` still fails when another container needs it.

use k8s_openapi::api::core::v1::PodSpec;

use crate::policy::check::{self, ContainerView, Violation};
use crate::policy::config::{Checks, Config};
use crate::policy::view::PodView;
use crate::policy::workload::Workload;
use crate::policy::Policy;
use crate::yaml::Node;

/// `pss-fix.dev/ignore: "runAsNonRoot,seccompProfile_restricted"` (or `"*"`).
pub const IGNORE_ANNOTATION: &str = "pss-fix.dev/ignore";

/// The exemptions that apply to one workload.
pub struct Scope<'c> {
    config: &'c Config,
    workload: Vec<Checks>,
}

impl<'c> Scope<'c> {
    pub fn new(config: &'c Config, root: &Node<'_>, w: &Workload, view: &PodView) -> Scope<'c> {
        let mut workload = vec![config.exempt_checks.clone()];
        for rule in &config.exempt_workloads {
            let matches =
                |want: &Option<String>, have: &str| want.as_deref().is_none_or(|w| w == have);
            if matches(&rule.kind, &w.kind)
                && matches(&rule.namespace, &w.namespace)
                && matches(&rule.name, &w.name)
            {
                workload.push(rule.checks.clone());
            }
        }
        // The annotation counts on the object itself and on its pod template.
        let object_annotation = root
            .at(w.object.segs())
            .and_then(|o| o.get("metadata"))
            .and_then(|m| m.get("annotations"))
            .and_then(|a| a.get(IGNORE_ANNOTATION))
            .and_then(Node::as_str);
        let template_annotation = view
            .meta
            .annotations
            .as_ref()
            .and_then(|a| a.get(IGNORE_ANNOTATION))
            .map(String::as_str);
        for value in [object_annotation, template_annotation]
            .into_iter()
            .flatten()
        {
            let ids: Vec<String> = value
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            workload.push(if ids.iter().any(|i| i == "*") {
                Checks::All
            } else {
                Checks::Only(ids)
            });
        }
        Scope { config, workload }
    }

    /// The whole workload is exempt from `check`.
    pub fn workload_exempt(&self, check: &str) -> bool {
        self.workload.iter().any(|c| c.covers(check))
    }

    /// This container is exempt from `check` (by its image).
    pub fn container_exempt(&self, check: &str, image: Option<&str>) -> bool {
        let Some(image) = image else { return false };
        self.config
            .exempt_images
            .iter()
            .any(|r| r.checks.covers(check) && r.image.is_match(image))
    }

    /// For the fix planner: skip this container for this check.
    pub fn skips(&self, check: &str, c: &ContainerView<'_>) -> bool {
        self.workload_exempt(check) || self.container_exempt(check, c.image)
    }

    /// Split `violations` into those that count and those exempted.
    pub fn apply(
        &self,
        policy: Policy,
        view: &PodView,
        violations: Vec<Violation>,
    ) -> (Vec<Violation>, Vec<Violation>) {
        let mut kept = Vec::new();
        let mut exempted = Vec::new();
        for v in violations {
            if self.workload_exempt(v.check) {
                exempted.push(v);
                continue;
            }
            let any_exempt =
                check::containers(&view.spec).any(|c| self.container_exempt(v.check, c.image));
            if !any_exempt {
                kept.push(v);
                continue;
            }
            let spec = self.without_exempt(v.check, &view.spec);
            match check::check_info(v.check).and_then(|c| c.run(policy.version, &view.meta, &spec))
            {
                Some(narrowed) => kept.push(narrowed),
                None => exempted.push(v),
            }
        }
        (kept, exempted)
    }

    fn without_exempt(&self, check: &str, spec: &PodSpec) -> PodSpec {
        let mut spec = spec.clone();
        let keep = |image: &Option<String>| !self.container_exempt(check, image.as_deref());
        spec.containers.retain(|c| keep(&c.image));
        if let Some(init) = spec.init_containers.as_mut() {
            init.retain(|c| keep(&c.image));
        }
        if let Some(eph) = spec.ephemeral_containers.as_mut() {
            eph.retain(|c| keep(&c.image));
        }
        spec
    }
}
