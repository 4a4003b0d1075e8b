//! Running Helm for `pss-fix values`: `helm template` with the user's values and flags plus
//! extra values files, counted; and reading a chart's default values (its `values.yaml` and
//! its subcharts', a packaged chart unpacked first) into one tree, as Helm merges them.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;

use pss_fix::values::tree::{parse_values, Tree};
use pss_fix::Error;

/// `helm template` as the user would run it.
pub struct Helm {
    pub bin: PathBuf,
    pub chart: PathBuf,
    pub release: String,
    pub namespace: Option<String>,
    pub values: Vec<PathBuf>,
    pub set: Vec<String>,
    /// Renders made so far.
    pub renders: Cell<usize>,
}

/// Why a render failed.
pub enum Failed {
    /// Helm could not be started.
    NoHelm(String),
    /// Helm ran and refused: its stderr.
    Refused(String),
}

impl Helm {
    /// Render with `extra` values files after the user's; `probe` skips the chart's schema
    /// (probe values are off-schema by design; the overlay's render keeps it).
    pub fn template(&self, extra: &[&Path], probe: bool) -> Result<String, Failed> {
        let mut cmd = Command::new(&self.bin);
        cmd.arg("template").arg(&self.release).arg(&self.chart);
        if let Some(ns) = &self.namespace {
            cmd.arg("--namespace").arg(ns);
        }
        for f in self
            .values
            .iter()
            .map(PathBuf::as_path)
            .chain(extra.iter().copied())
        {
            cmd.arg("--values").arg(f);
        }
        for s in &self.set {
            cmd.arg("--set").arg(s);
        }
        if probe {
            cmd.arg("--skip-schema-validation");
        }
        self.renders.set(self.renders.get() + 1);
        let out = cmd.output().map_err(|e| {
            Failed::NoHelm(format!(
                "cannot run {}: {e} (give --helm PATH or set HELM_BIN)",
                self.bin.display()
            ))
        })?;
        if !out.status.success() {
            return Err(Failed::Refused(
                String::from_utf8_lossy(&out.stderr).into_owned(),
            ));
        }
        String::from_utf8(out.stdout)
            .map_err(|_| Failed::Refused("helm printed something that is not UTF-8".into()))
    }
}

/// Sanity bound on a chart archive's unpacked size.
const MAX_CHART_BYTES: u64 = 256 * 1024 * 1024;

/// The chart's default values with its subcharts' under their names (aliases honoured),
/// the chart's own values for a subchart winning over the subchart's defaults.
pub fn chart_values(chart: &Path) -> Result<Tree, Error> {
    if chart.is_dir() {
        return dir_values(chart);
    }
    if !chart.is_file() {
        return Err(Error::new(
            chart.to_string_lossy(),
            None,
            "no such chart (give a chart directory or a packaged .tgz)",
        ));
    }
    let dir = tempfile::tempdir()
        .map_err(|e| Error::new(chart.to_string_lossy(), None, format!("cannot unpack: {e}")))?;
    let top = unpack(chart, dir.path())?;
    dir_values(&top)
}

/// Unpack a `.tgz` chart into `into`; the chart's own folder.
fn unpack(archive: &Path, into: &Path) -> Result<PathBuf, Error> {
    let name = archive.to_string_lossy();
    let fail = |e: std::io::Error| Error::new(name.as_ref(), None, format!("cannot unpack: {e}"));
    let file = std::fs::File::open(archive).map_err(fail)?;
    let gz = flate2::read::GzDecoder::new(file);
    let mut tar = tar::Archive::new(std::io::Read::take(gz, MAX_CHART_BYTES));
    // `unpack` keeps every entry inside `into` (no `..`, no absolute paths).
    tar.unpack(into).map_err(fail)?;
    let mut dirs = std::fs::read_dir(into)
        .map_err(fail)?
        .filter_map(Result::ok)
        .filter(|e| e.path().join("Chart.yaml").is_file());
    match dirs.next() {
        Some(d) => Ok(d.path()),
        None => Err(Error::new(
            name.as_ref(),
            None,
            "no Chart.yaml in the archive",
        )),
    }
}

fn read_values(path: &Path) -> Result<Tree, Error> {
    match std::fs::read_to_string(path) {
        Ok(text) => parse_values(&path.to_string_lossy(), &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Tree::empty_map()),
        Err(e) => Err(Error::new(
            path.to_string_lossy(),
            None,
            format!("cannot read: {e}"),
        )),
    }
}

fn dir_values(dir: &Path) -> Result<Tree, Error> {
    let mut values = read_values(&dir.join("values.yaml"))?;
    let chart = read_values(&dir.join("Chart.yaml"))?;
    let Ok(entries) = std::fs::read_dir(dir.join("charts")) else {
        return Ok(values);
    };
    let mut subs: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
    subs.sort();
    for sub in subs {
        let tmp;
        let sub_dir = if sub.is_dir() {
            sub
        } else if sub.extension().is_some_and(|e| e == "tgz") {
            tmp = tempfile::tempdir().map_err(|e| {
                Error::new(sub.to_string_lossy(), None, format!("cannot unpack: {e}"))
            })?;
            unpack(&sub, tmp.path())?
        } else {
            continue;
        };
        let meta = read_values(&sub_dir.join("Chart.yaml"))?;
        let Some(name) = meta.get("name").and_then(Tree::scalar_text) else {
            continue;
        };
        let key = alias(&chart, &name).unwrap_or(name);
        let mut sub_values = dir_values(&sub_dir)?;
        if let Some(own) = values.get(&key) {
            sub_values.merge(own);
        }
        values.set(&key, sub_values);
    }
    Ok(values)
}

/// The alias a chart's `dependencies` give the subchart `name`.
fn alias(chart: &Tree, name: &str) -> Option<String> {
    let Some(Tree::Seq(deps)) = chart.get("dependencies") else {
        return None;
    };
    deps.iter()
        .find(|d| d.get("name").and_then(Tree::scalar_text).as_deref() == Some(name))
        .and_then(|d| d.get("alias"))
        .and_then(Tree::scalar_text)
}
