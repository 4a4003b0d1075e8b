//! The per-project policy file, `.pss-fix.yaml`: found upward from the paths being fixed (as
//! other tools find theirs) or named with `--config`. Unknown keys are errors with their line
//! and column, so a typo never silently turns a rule off.
//!
//! ```yaml
//! level: restricted:v1.29          # default LEVEL[:VERSION]
//! runAsUser: 1000                  # as --run-as-user
//! paths:                           # levels per path glob (relative to this file); first match wins
//!   - glob: "legacy/**"
//!     level: baseline
//! exempt:
//!   checks: [hostPathVolumes]      # never report or fix these
//!   workloads:                     # omitted fields match anything; checks default to all ("*")
//!     - {kind: DaemonSet, namespace: monitoring, name: node-exporter, checks: [hostNamespaces, hostPorts]}
//!   images:                        # container-level checks, for containers whose image matches
//!     - {image: "registry.k8s.io/kube-proxy:*", checks: [privileged]}
//! kinds:                           # custom resources with a pod template
//!   - {apiVersion: argoproj.io/v1alpha1, kind: Rollout, podTemplate: [spec, template]}
//! ```

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Pos};
use crate::path::Seg;
use crate::policy::Policy;

pub const FILE_NAME: &str = ".pss-fix.yaml";

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Raw {
    level: Option<String>,
    run_as_user: Option<i64>,
    #[serde(default)]
    paths: Vec<RawPath>,
    #[serde(default)]
    exempt: RawExempt,
    #[serde(default)]
    kinds: Vec<RawKind>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPath {
    glob: String,
    level: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExempt {
    #[serde(default)]
    checks: Vec<String>,
    #[serde(default)]
    workloads: Vec<RawWorkload>,
    #[serde(default)]
    images: Vec<RawImage>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWorkload {
    kind: Option<String>,
    namespace: Option<String>,
    name: Option<String>,
    checks: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawImage {
    image: String,
    checks: Option<Vec<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawKind {
    api_version: String,
    kind: String,
    pod_template: Vec<String>,
}

/// A syntax or shape error at its line and column; the message drops the position
/// serde-saphyr appends, since [`Error`] prints it.
fn syntax_error(name: &str, e: &serde_saphyr::Error) -> Error {
    let pos = e.location().map(|l| Pos {
        line: l.line() as usize,
        col: l.column() as usize,
    });
    let mut message = e.without_snippet().to_string();
    if let Some(p) = pos {
        let suffix = format!(" at line {}, column {}", p.line, p.col);
        if let Some(m) = message.strip_suffix(&suffix) {
            message = m.to_owned();
        }
    }
    Error::new(name, pos, message)
}

impl Raw {
    /// The checked configuration, or the first section's message (in file order).
    fn validate(self) -> Result<Config, String> {
        let level = self.level.as_deref().map(str::parse).transpose()?;
        let paths = self
            .paths
            .into_iter()
            .map(RawPath::compile)
            .collect::<Result<_, _>>()?;
        let exempt_checks =
            Checks::parse(Some(self.exempt.checks)).map_err(|e| format!("exempt.checks: {e}"))?;
        let exempt_workloads = self
            .exempt
            .workloads
            .into_iter()
            .map(RawWorkload::rule)
            .collect::<Result<_, _>>()?;
        let exempt_images = self
            .exempt
            .images
            .into_iter()
            .map(RawImage::rule)
            .collect::<Result<_, _>>()?;
        let kinds = self
            .kinds
            .into_iter()
            .map(RawKind::custom)
            .collect::<Result<_, _>>()?;
        Ok(Config {
            file: None,
            level,
            run_as_user: self.run_as_user,
            paths,
            exempt_checks,
            exempt_workloads,
            exempt_images,
            kinds,
        })
    }
}

impl RawPath {
    fn compile(self) -> Result<(globset::GlobMatcher, Policy), String> {
        let glob = globset::Glob::new(&self.glob)
            .map_err(|e| format!("paths: bad glob {:?}: {e}", self.glob))?
            .compile_matcher();
        Ok((glob, self.level.parse().map_err(|e| format!("paths: {e}"))?))
    }
}

impl RawWorkload {
    fn rule(self) -> Result<WorkloadRule, String> {
        Ok(WorkloadRule {
            kind: self.kind,
            namespace: self.namespace,
            name: self.name,
            checks: Checks::parse(self.checks).map_err(|e| format!("exempt.workloads: {e}"))?,
        })
    }
}

impl RawImage {
    fn rule(self) -> Result<ImageRule, String> {
        let image = globset::Glob::new(&self.image)
            .map_err(|e| format!("exempt.images: bad pattern {:?}: {e}", self.image))?
            .compile_matcher();
        Ok(ImageRule {
            image,
            checks: Checks::parse(self.checks).map_err(|e| format!("exempt.images: {e}"))?,
        })
    }
}

impl RawKind {
    fn custom(self) -> Result<CustomKind, String> {
        if self.pod_template.is_empty() {
            return Err(format!("kinds: {}: podTemplate is empty", self.kind));
        }
        let group = self
            .api_version
            .rsplit_once('/')
            .map_or("", |(g, _)| g)
            .to_owned();
        Ok(CustomKind {
            group,
            kind: self.kind,
            template: self
                .pod_template
                .into_iter()
                .map(|s| Seg::Key(s.into()))
                .collect(),
        })
    }
}

/// Which checks a rule covers: all, or these IDs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Checks {
    All,
    Only(Vec<String>),
}

impl Checks {
    pub fn covers(&self, id: &str) -> bool {
        match self {
            Checks::All => true,
            Checks::Only(ids) => ids.iter().any(|c| c == id),
        }
    }

    /// `"*"` or a list of check IDs, each validated against the known checks.
    pub fn parse(ids: Option<Vec<String>>) -> Result<Checks, String> {
        let Some(ids) = ids else {
            return Ok(Checks::All);
        };
        if ids.iter().any(|c| c == "*") {
            return Ok(Checks::All);
        }
        for id in &ids {
            if crate::policy::check::check_info(id).is_none() {
                return Err(format!("unknown check ID {id:?}"));
            }
        }
        Ok(Checks::Only(ids))
    }
}

#[derive(Clone, Debug)]
pub struct WorkloadRule {
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: Option<String>,
    pub checks: Checks,
}

#[derive(Clone, Debug)]
pub struct ImageRule {
    pub image: globset::GlobMatcher,
    pub checks: Checks,
}

/// A custom resource kind and where its pod template is.
#[derive(Clone, Debug)]
pub struct CustomKind {
    pub group: String,
    pub kind: String,
    pub template: Vec<Seg>,
}

/// A loaded, validated configuration.
#[derive(Clone, Debug, Default)]
pub struct Config {
    /// The file it came from (its directory anchors the path globs).
    pub file: Option<PathBuf>,
    pub level: Option<Policy>,
    pub run_as_user: Option<i64>,
    pub paths: Vec<(globset::GlobMatcher, Policy)>,
    pub exempt_checks: Checks,
    pub exempt_workloads: Vec<WorkloadRule>,
    pub exempt_images: Vec<ImageRule>,
    pub kinds: Vec<CustomKind>,
}

impl Default for Checks {
    fn default() -> Self {
        Checks::Only(Vec::new())
    }
}

impl Config {
    /// The `.pss-fix.yaml` nearest to `start` (itself, or a parent directory's).
    pub fn discover(start: &Path) -> Option<PathBuf> {
        let abs = std::fs::canonicalize(start).ok()?;
        let dir = if abs.is_dir() {
            abs.as_path()
        } else {
            abs.parent()?
        };
        dir.ancestors()
            .map(|d| d.join(FILE_NAME))
            .find(|f| f.is_file())
    }

    pub fn load(file: &Path) -> Result<Config, Error> {
        let name = file.to_string_lossy().into_owned();
        let text = std::fs::read_to_string(file)
            .map_err(|e| Error::new(&name, None, format!("cannot read: {e}")))?;
        let mut config = Config::parse(&name, &text)?;
        config.file = Some(file.to_path_buf());
        Ok(config)
    }

    /// Parse and validate a configuration's text; `name` is for messages.
    pub fn parse(name: &str, text: &str) -> Result<Config, Error> {
        let raw: Raw = serde_saphyr::from_str(text).map_err(|e| syntax_error(name, &e))?;
        raw.validate()
            .map_err(|message| Error::new(name, None, message))
    }

    /// The level for a file, by the first path glob that matches it (relative to the
    /// configuration's directory), else the configuration's default.
    pub fn level_for(&self, file: &Path) -> Option<Policy> {
        let rel = match (&self.file, std::fs::canonicalize(file)) {
            (Some(cfg), Ok(abs)) => cfg
                .parent()
                .and_then(|d| std::fs::canonicalize(d).ok())
                .and_then(|d| abs.strip_prefix(d).ok().map(Path::to_path_buf))
                .unwrap_or(abs),
            _ => file.to_path_buf(),
        };
        self.paths
            .iter()
            .find(|(glob, _)| glob.is_match(&rel))
            .map(|(_, p)| *p)
            .or(self.level)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_are_errors_with_position() {
        let err = Config::parse(
            "c.yaml",
            "level: baseline\nexempt:\n  chekcs: [privileged]\n",
        )
        .unwrap_err();
        assert_eq!(err.pos, Some(Pos { line: 3, col: 3 }));
        assert!(
            err.message.contains("unknown field `chekcs`"),
            "{}",
            err.message
        );
        assert!(!err.message.contains("at line"), "{}", err.message);
    }

    #[test]
    fn parses_every_section() {
        let c = Config::parse(
            "c.yaml",
            "level: restricted:v1.29\nrunAsUser: 1000\npaths:\n- {glob: 'legacy/**', level: baseline}\n\
             exempt:\n  checks: [hostPathVolumes]\n  workloads:\n  - {kind: DaemonSet, name: agent}\n\
             \x20 images:\n  - {image: 'busybox*', checks: [runAsNonRoot]}\n\
             kinds:\n- {apiVersion: argoproj.io/v1alpha1, kind: Rollout, podTemplate: [spec, template]}\n",
        )
        .unwrap();
        assert_eq!(c.level.unwrap().to_string(), "restricted:v1.29");
        assert!(c.exempt_checks.covers("hostPathVolumes"));
        assert_eq!(c.exempt_workloads[0].checks, Checks::All);
        assert!(c.exempt_images[0].image.is_match("busybox:1.36"));
        assert_eq!(c.kinds[0].group, "argoproj.io");
        assert_eq!(
            c.level_for(Path::new("legacy/a.yaml")).unwrap().to_string(),
            "baseline:latest"
        );
    }

    #[test]
    fn unknown_check_ids_are_errors() {
        let err = Config::parse("c.yaml", "exempt:\n  checks: [runAsNonroot]\n").unwrap_err();
        assert!(
            err.message.contains("unknown check ID \"runAsNonroot\""),
            "{}",
            err.message
        );
    }
}
