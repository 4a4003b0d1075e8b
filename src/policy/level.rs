//! The target a run checks against: a Pod Security Standards level and a policy version,
//! written the way Pod Security Admission writes them (`restricted:v1.29`, `baseline:latest`).
//!
//! Versions are ordered so that "the newest check entry whose minimum version is at most V"
//! is a plain comparison; `latest` sorts above every numbered version.

use std::fmt;
use std::str::FromStr;

/// The newest policy version this build knows. `latest` behaves as this version for every
/// check, and a numbered version above it behaves the same (as the admission controller does).
pub const NEWEST_MINOR: u32 = 37;

/// A Pod Security Standards level. `Privileged` allows everything; it exists so that "the
/// highest level a workload passes" can be named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    Privileged,
    Baseline,
    Restricted,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        }
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Level {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "privileged" => Ok(Level::Privileged),
            "baseline" => Ok(Level::Baseline),
            "restricted" => Ok(Level::Restricted),
            other => Err(format!(
                "unknown level {other:?}: expected baseline, restricted or privileged"
            )),
        }
    }
}

/// A policy version: `v1.N` or `latest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Version {
    /// `v1.<minor>`
    V1(u32),
    Latest,
}

impl Version {
    /// The minor version checks are evaluated at (`latest` is the newest known one).
    pub fn minor(self) -> u32 {
        match self {
            Version::V1(m) => m,
            Version::Latest => NEWEST_MINOR,
        }
    }

    /// True when this version is at least `v1.<minor>`.
    pub fn at_least(self, minor: u32) -> bool {
        self.minor() >= minor
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::V1(m) => write!(f, "v1.{m}"),
            Version::Latest => f.write_str("latest"),
        }
    }
}

impl FromStr for Version {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "latest" {
            return Ok(Version::Latest);
        }
        let minor = s
            .strip_prefix("v1.")
            .and_then(|m| (!m.is_empty() && m.bytes().all(|b| b.is_ascii_digit())).then_some(m))
            .and_then(|m| m.parse::<u32>().ok());
        match minor {
            Some(m) => Ok(Version::V1(m)),
            None => Err(format!(
                "invalid policy version {s:?}: expected \"latest\" or \"v1.N\" (e.g. v1.29)"
            )),
        }
    }
}

/// A level at a version, e.g. `restricted:v1.29`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Policy {
    pub level: Level,
    pub version: Version,
}

impl Policy {
    pub const fn new(level: Level, version: Version) -> Self {
        Policy { level, version }
    }
}

impl serde::Serialize for Policy {
    /// As PSA writes it: `restricted:v1.29`.
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::new(Level::Restricted, Version::Latest)
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.level, self.version)
    }
}

impl FromStr for Policy {
    type Err = String;
    /// `LEVEL` or `LEVEL:VERSION`; a bare level means `latest`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (level, version) = match s.split_once(':') {
            Some((l, v)) => (l.parse()?, v.parse()?),
            None => (s.parse()?, Version::Latest),
        };
        Ok(Policy::new(level, version))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_psa_forms() {
        assert_eq!(
            "restricted:v1.29".parse::<Policy>().unwrap(),
            Policy::new(Level::Restricted, Version::V1(29))
        );
        assert_eq!(
            "baseline:latest".parse::<Policy>().unwrap(),
            Policy::new(Level::Baseline, Version::Latest)
        );
        assert_eq!(
            "baseline".parse::<Policy>().unwrap().version,
            Version::Latest
        );
        assert!("restricted:1.29".parse::<Policy>().is_err());
        assert!("strict".parse::<Policy>().is_err());
        assert!("restricted:v1.".parse::<Policy>().is_err());
    }

    #[test]
    fn latest_sorts_above_numbers() {
        assert!(Version::Latest > Version::V1(99));
        assert!(Version::V1(25) > Version::V1(8));
        assert!(Version::Latest.at_least(NEWEST_MINOR));
        assert_eq!(Policy::default().to_string(), "restricted:latest");
    }
}
