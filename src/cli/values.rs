//! `pss-fix values CHART`: the values overlay that makes a chart render its workloads fixed.
//!
//! Renders: the plain render (what fails, what `fix` would set), one probe render (or a few,
//! when probe values break a template: the probe set is halved until the keys that break it
//! are isolated and left out), then the overlay's render, again after any key verification
//! drops. The overlay goes to stdout, the summary to stderr. With `--write FILE` the verified
//! overlay is merged into FILE instead ([`pss_fix::values::merge`]): its diff goes to stdout,
//! the file is replaced atomically, and values the file already sets otherwise are kept and
//! count as remaining.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use pss_fix::report::Format;
use pss_fix::values::plan::{self, Need, Plan};
use pss_fix::values::probe::{self, Mark, Seen};
use pss_fix::values::tree::{parse_stream, parse_values, to_yaml, Step, Tree};
use pss_fix::values::verify::{self, Claim, Difference};
use pss_fix::values::{merge, Kept, Overlay};
use pss_fix::{Allow, Config, Context, FileReport, Options, Policy};

use crate::cli::helm::{chart_values, Failed, Helm};
use crate::cli::run::ExitStatus;
use crate::cli::write::atomic_write;
use crate::cli::ValuesArgs;

/// Probe renders at most, bisecting included: past this, the keys not yet probed are left.
const MAX_PROBE_RENDERS: usize = 16;
/// Overlay renders at most (each after verification drops keys).
const MAX_VERIFY_RENDERS: usize = 3;

const WAY_OUT: &str =
    "a value does not reach it; use `pss-fix post-render` as Helm's post-renderer";

pub fn run(args: &ValuesArgs) -> io::Result<ExitStatus> {
    match values(args) {
        Ok(status) => Ok(status),
        Err(Stop::Io(e)) => Err(e),
        Err(Stop::Error(msg)) => {
            eprintln!("pss-fix: {}", msg.trim_end());
            Ok(ExitStatus::Error)
        }
    }
}

enum Stop {
    Io(io::Error),
    Error(String),
}

impl From<io::Error> for Stop {
    fn from(e: io::Error) -> Stop {
        Stop::Io(e)
    }
}

impl From<pss_fix::Error> for Stop {
    fn from(e: pss_fix::Error) -> Stop {
        Stop::Error(e.to_string())
    }
}

fn failed(f: Failed, what: &str) -> Stop {
    match f {
        Failed::NoHelm(m) => Stop::Error(m),
        Failed::Refused(stderr) => Stop::Error(format!("{what}: helm template failed:\n{stderr}")),
    }
}

fn options(args: &ValuesArgs) -> Result<Options, Stop> {
    let common = &args.common;
    let policy_args = crate::cli::resolve_policy(common).map_err(Stop::Error)?;
    let config = match &common.config {
        Some(file) => Config::load(file)?,
        None => match Config::discover(&args.chart) {
            Some(file) => Config::load(&file)?,
            None => Config::default(),
        },
    };
    let mut policy = policy_args
        .explicit
        .or(config.level)
        .unwrap_or_else(Policy::default);
    if let Some(v) = policy_args.version {
        policy.version = v;
    }
    Ok(Options {
        policy,
        allow: Allow {
            unsafe_fixes: common.unsafe_fixes,
            run_as_user: common.run_as_user.or(config.run_as_user),
        },
        pass_through: true,
        context: Arc::new(Context {
            config,
            namespaces: HashMap::new(),
            level_locked: policy_args.explicit.is_some(),
        }),
        ..Options::default()
    })
}

/// What the run found, for every output format.
struct Outcome {
    overlay: Overlay,
    /// The overlay as data (the JSON output's).
    data: Tree,
    /// Key → the needs it meets.
    fixes: Vec<(Vec<String>, Vec<usize>)>,
    needs: Vec<Need>,
    /// (workload, container, check, reason)
    remaining: Vec<[String; 4]>,
    /// (key, reason)
    dropped: Vec<(String, String)>,
    failing: usize,
    fixed: usize,
    renders: usize,
    /// `--write`: whether FILE was written, and the values it kept.
    written: Option<Written>,
}

struct Written {
    file: String,
    diff: String,
    changed: bool,
    kept: Vec<Kept>,
}

fn values(args: &ValuesArgs) -> Result<ExitStatus, Stop> {
    if args.common.format == Format::Sarif {
        return Err(Stop::Error("`values` prints text, json or markdown".into()));
    }
    let opts = options(args)?;
    let helm = helm_of(args);
    let chart_name = args.chart.to_string_lossy().into_owned();
    // The user's values files first: a bad one is named with its line and column.
    let values = user_values(args)?;
    let plain = plain_render(&helm, &opts, &chart_name)?;
    let marks = probe::marks(&values);
    let tmp = tempfile::tempdir()?;
    let probed = probe_all(&helm, &values, &marks, &plain.needs, tmp.path())?;
    let search = Search {
        helm: &helm,
        chart_name: &chart_name,
        tmp: tmp.path(),
        plain: &plain,
        marks: &marks,
        values: &values,
        seen: &probed.seen,
        unsafe_fixes: opts.allow.unsafe_fixes,
    };
    let verified = verified_plan(&search)?;
    let after = pss_fix::process("helm template (overlay)", &verified.text, &opts)?;
    let mut outcome = outcome(
        &verified.plan,
        plain.needs,
        &after,
        plain.failing,
        verified.dropped,
        helm.renders.get(),
    );
    if let Some(file) = &args.write {
        let show = matches!(args.common.format, Format::Text);
        outcome.written = Some(write_into(
            file,
            &outcome.overlay,
            opts.allow.unsafe_fixes,
            show,
        )?);
    }
    print(args.common.format, &outcome, &probed.left_out, &marks)?;
    let kept = outcome.written.as_ref().is_some_and(|w| !w.kept.is_empty());
    Ok(if outcome.remaining.is_empty() && !kept {
        ExitStatus::Clean
    } else {
        ExitStatus::Findings
    })
}

fn helm_of(args: &ValuesArgs) -> Helm {
    Helm {
        bin: args
            .helm
            .clone()
            .or_else(|| std::env::var_os("HELM_BIN").map(PathBuf::from))
            .unwrap_or_else(|| "helm".into()),
        chart: args.chart.clone(),
        release: args.release.clone(),
        namespace: args.namespace.clone(),
        values: args.values.clone(),
        set: args.set.clone(),
        renders: Default::default(),
    }
}

/// The chart's values with the user's `-f` files merged over them, as Helm merges them.
fn user_values(args: &ValuesArgs) -> Result<Tree, Stop> {
    let mut values = chart_values(&args.chart)?;
    for f in &args.values {
        let text = std::fs::read_to_string(f)
            .map_err(|e| Stop::Error(format!("{}: cannot read: {e}", f.display())))?;
        values.merge(&parse_values(&f.to_string_lossy(), &text)?);
    }
    Ok(values)
}

/// The chart rendered with no overlay, and what `fix` would set in it.
struct Plain {
    text: String,
    docs: Vec<Tree>,
    needs: Vec<Need>,
    /// Workloads failing the policy.
    failing: usize,
}

fn plain_render(helm: &Helm, opts: &Options, chart_name: &str) -> Result<Plain, Stop> {
    let text = helm
        .template(&[], false)
        .map_err(|f| failed(f, chart_name))?;
    let report = pss_fix::process("helm template", &text, opts)?;
    let docs = parse_stream("helm template", &text)?;
    let fixed = match &report.output {
        Some(t) => parse_stream("helm template (fixed)", t)?,
        None => docs.clone(),
    };
    let needs = plan::needs(&report, &docs, &fixed);
    let failing = report
        .workloads
        .iter()
        .filter(|w| !w.before.is_empty())
        .count();
    Ok(Plain {
        text,
        docs,
        needs,
        failing,
    })
}

/// Where the probe markers showed up, and the marks no render could take.
struct Probed {
    seen: HashMap<usize, Vec<Seen>>,
    left_out: Vec<usize>,
}

/// Probe every mark, unless nothing needs fixing.
fn probe_all(
    helm: &Helm,
    values: &Tree,
    marks: &[Mark],
    needs: &[Need],
    tmp: &Path,
) -> Result<Probed, Stop> {
    let mut probed = Probed {
        seen: HashMap::new(),
        left_out: Vec::new(),
    };
    if !needs.is_empty() {
        let all: Vec<usize> = (0..marks.len()).collect();
        let (seen, left_out) = (&mut probed.seen, &mut probed.left_out);
        probe_renders(helm, values, marks, &all, tmp, seen, left_out)?;
    }
    Ok(probed)
}

/// What the overlay search works from, round after round.
struct Search<'a> {
    helm: &'a Helm,
    chart_name: &'a str,
    tmp: &'a Path,
    plain: &'a Plain,
    marks: &'a [Mark],
    values: &'a Tree,
    seen: &'a HashMap<usize, Vec<Seen>>,
    unsafe_fixes: bool,
}

/// The plan kept, the render that verified it, and the keys verification dropped on the way.
struct Verified {
    plan: Plan,
    text: String,
    /// (key, reason)
    dropped: Vec<(String, String)>,
}

/// One overlay render: verified, or the keys to drop (with why) before the next.
enum Round {
    Verified(String),
    Drop(Vec<(Vec<String>, String)>),
}

/// Plan, render with the overlay, drop what verification refuses, again.
fn verified_plan(s: &Search) -> Result<Verified, Stop> {
    let mut skip: Vec<Vec<String>> = Vec::new();
    let mut dropped: Vec<(String, String)> = Vec::new();
    for round in 0..MAX_VERIFY_RENDERS {
        let plan = round_plan(s, &skip);
        if plan.keys.is_empty() {
            let text = s.plain.text.clone();
            return Ok(Verified {
                plan,
                text,
                dropped,
            });
        }
        match render_round(s, &plan, round)? {
            Round::Verified(text) => {
                return Ok(Verified {
                    plan,
                    text,
                    dropped,
                })
            }
            Round::Drop(keys) => {
                for (key, why) in keys {
                    dropped.push((key.join("."), why));
                    skip.push(key);
                }
            }
        }
    }
    // Every attempt was refused: nothing is claimed.
    let plan = Plan {
        unmet: (0..s.plain.needs.len())
            .map(|i| (i, "verification dropped every key that reached it".into()))
            .collect(),
        ..Plan::default()
    };
    let text = s.plain.text.clone();
    Ok(Verified {
        plan,
        text,
        dropped,
    })
}

/// The plan of one round, less the keys it must not or need not write.
fn round_plan(s: &Search, skip: &[Vec<String>]) -> Plan {
    let needs = &s.plain.needs;
    let mut plan = plan::plan(needs, s.marks, s.seen, s.values, s.unsafe_fixes, skip);
    // A key whose value the values already hold changes nothing.
    plan.keys
        .retain(|k, (v, _)| s.values.at(&Step::keys(k)) != Some(v));
    unwritable(&mut plan);
    plan
}

/// Render with the plan's overlay and compare with the plain render.
fn render_round(s: &Search, plan: &Plan, round: usize) -> Result<Round, Stop> {
    let needs = &s.plain.needs;
    // The render verifies the very text printed (or merged).
    let overlay_file = s.tmp.join(format!("overlay-{round}.yaml"));
    std::fs::write(&overlay_file, overlay_of(plan, needs).to_yaml())?;
    let text = match s.helm.template(&[&overlay_file], false) {
        Ok(t) => t,
        Err(Failed::Refused(stderr)) => {
            let why = format!("the chart does not render with it: {}", stderr.trim());
            let keys = plan.keys.keys().map(|k| (k.clone(), why.clone()));
            return Ok(Round::Drop(keys.collect()));
        }
        Err(f) => return Err(failed(f, s.chart_name)),
    };
    let after = parse_stream("helm template (overlay)", &text)?;
    let claims = claims(plan, needs);
    let open: Vec<_> = enabled_locs(plan, needs);
    let diffs = verify::differences(&s.plain.docs, &after, &claims, &open);
    if diffs.is_empty() {
        Ok(Round::Verified(text))
    } else {
        Ok(Round::Drop(blame(plan, needs, &diffs)))
    }
}

/// Merge the verified overlay into `file` and write it, when the merge changes anything; a
/// merge that refuses writes nothing and is an error (`file:line:col: reason`). With `show`,
/// the diff goes to stdout before the file is written, as `fix` does.
fn write_into(
    file: &Path,
    overlay: &Overlay,
    overwrite: bool,
    show: bool,
) -> Result<Written, Stop> {
    let name = file.to_string_lossy().into_owned();
    let text = std::fs::read_to_string(file)
        .map_err(|e| Stop::Error(format!("{name}: cannot read: {e}")))?;
    let merged = merge(&name, &text, overlay, overwrite)?;
    let mut written = Written {
        diff: String::new(),
        changed: false,
        kept: merged.kept,
        file: name,
    };
    if let Some(new) = merged.output.filter(|new| *new != text) {
        written.diff = pss_fix::report::diff::unified(&text, &new, &written.file);
        if show {
            let mut out = io::stdout().lock();
            write!(out, "{}", written.diff)?;
            out.flush()?;
        }
        atomic_write(file, None, text.as_bytes(), &new)
            .map_err(|e| Stop::Error(format!("{}: not written: {e}", written.file)))?;
        written.changed = true;
    }
    Ok(written)
}

/// Keys whose value pss-fix does not write into values (a null, which deletes a key in
/// Helm's merge, or a float) leave the plan: their needs are unmet, left to the
/// post-renderer.
fn unwritable(plan: &mut Plan) {
    let keys: Vec<Vec<String>> = plan
        .keys
        .iter()
        .filter(|(_, (v, _))| v.to_value().is_none())
        .map(|(k, _)| k.clone())
        .collect();
    for k in keys {
        if let Some((v, who)) = plan.keys.remove(&k) {
            let what = if matches!(v, Tree::Null) {
                "the fix removes a field, which a values overlay would do with null; pss-fix writes no null into values"
            } else {
                "the value is a float, which pss-fix does not write into values"
            };
            plan.unmet.extend(
                who.into_iter()
                    .map(|i| (i, format!("{}: {what}", k.join(".")))),
            );
        }
    }
}

/// The overlay of a plan: each key with a comment naming the workloads and checks it fixes
/// (one comment per place; the overlay prints them on one line, `; ` between).
fn overlay_of(plan: &Plan, needs: &[Need]) -> Overlay {
    let mut overlay = Overlay::new();
    for (key, (value, who)) in &plan.keys {
        let Some(value) = value.to_value() else {
            continue;
        };
        let mut lines: Vec<String> = Vec::new();
        if plan.turns_on(key) {
            lines.push(
                "turns on the chart's own securityContext here (its defaults come along)".into(),
            );
        }
        let mut by_place: BTreeMap<String, Vec<&str>> = BTreeMap::new();
        for &i in who {
            let e = by_place.entry(needs[i].place()).or_default();
            for c in &needs[i].checks {
                if !e.contains(c) {
                    e.push(c);
                }
            }
        }
        for (p, checks) in by_place {
            lines.push(format!("{p}: {}", checks.join(", ")));
        }
        if lines.is_empty() {
            lines.push(String::new());
        }
        for line in lines {
            overlay.insert(key, value.clone(), line);
        }
    }
    overlay
}

/// Render with the probe values of `ids`; when Helm refuses, halve and try each half, down
/// to single keys, which are left out.
#[allow(clippy::too_many_arguments)]
fn probe_renders(
    helm: &Helm,
    values: &Tree,
    marks: &[Mark],
    ids: &[usize],
    tmp: &Path,
    seen: &mut HashMap<usize, Vec<Seen>>,
    left_out: &mut Vec<usize>,
) -> Result<(), Stop> {
    if ids.is_empty() {
        return Ok(());
    }
    if helm.renders.get() > MAX_PROBE_RENDERS {
        left_out.extend_from_slice(ids);
        return Ok(());
    }
    let file = tmp.join(format!("probe-{}.yaml", helm.renders.get()));
    std::fs::write(&file, to_yaml(&probe::values_for(values, marks, ids)))?;
    match helm.template(&[&file], true) {
        Ok(text) => {
            // A render whose output pss-fix cannot read tells nothing: treated as refused.
            if let Ok(docs) = parse_stream("probe", &text) {
                for (id, s) in probe::locate(&docs) {
                    seen.entry(id).or_default().extend(s);
                }
                return Ok(());
            }
        }
        Err(Failed::NoHelm(m)) => return Err(Stop::Error(m)),
        Err(Failed::Refused(_)) => {}
    }
    if ids.len() == 1 {
        left_out.push(ids[0]);
        return Ok(());
    }
    let (a, b) = ids.split_at(ids.len() / 2);
    probe_renders(helm, values, marks, a, tmp, seen, left_out)?;
    probe_renders(helm, values, marks, b, tmp, seen, left_out)
}

/// The overlay as data: every key with its value.
fn overlay_tree(plan: &Plan) -> Tree {
    let mut t = Tree::empty_map();
    for (k, (v, _)) in &plan.keys {
        t.set_path(k, v.clone());
    }
    t
}

fn claims(plan: &Plan, needs: &[Need]) -> Vec<Claim> {
    let met: std::collections::BTreeSet<usize> = plan
        .keys
        .values()
        .flat_map(|(_, who)| who.iter().copied())
        .collect();
    met.into_iter()
        .map(|i| Claim {
            loc: needs[i].loc.clone(),
            field: needs[i].field.clone(),
            value: needs[i].value.clone(),
        })
        .collect()
}

/// Places a key turns on (`enabled: true`): the chart's defaults there come along.
fn enabled_locs(plan: &Plan, needs: &[Need]) -> Vec<pss_fix::values::probe::Loc> {
    plan.keys
        .iter()
        .filter(|(k, _)| plan.turns_on(k))
        .flat_map(|(_, (_, who))| who.iter().map(|&i| needs[i].loc.clone()))
        .collect()
}

/// The keys to drop for `diffs`: those meeting needs in an object that changed beyond its
/// claims (all keys when no object tells).
fn blame(plan: &Plan, needs: &[Need], diffs: &[Difference]) -> Vec<(Vec<String>, String)> {
    let mut out: Vec<(Vec<String>, String)> = Vec::new();
    for d in diffs {
        let mut hit: Vec<&Vec<String>> = plan
            .keys
            .iter()
            .filter(|(_, (_, who))| {
                who.iter()
                    .any(|&i| Some(&needs[i].loc.object) == d.object.as_ref())
            })
            .map(|(k, _)| k)
            .collect();
        if hit.is_empty() {
            hit = plan.keys.keys().collect();
        }
        for k in hit {
            if !out.iter().any(|(o, _)| o == k) {
                out.push((k.clone(), format!("verification: {}", d.describe())));
            }
        }
    }
    out
}

fn outcome(
    plan: &Plan,
    needs: Vec<Need>,
    after: &FileReport,
    failing: usize,
    dropped: Vec<(String, String)>,
    renders: usize,
) -> Outcome {
    let overlay = overlay_of(plan, &needs);
    let fixes: Vec<(Vec<String>, Vec<usize>)> = plan
        .keys
        .iter()
        .map(|(key, (_, who))| (key.clone(), who.clone()))
        .collect();
    // What the overlay's render still needs fixed, per workload and check.
    let mut unmet: HashMap<(String, &str), &str> = HashMap::new();
    for (i, why) in &plan.unmet {
        for c in &needs[*i].checks {
            unmet.insert((needs[*i].loc.object.label(), *c), why.as_str());
        }
    }
    let mut remaining = Vec::new();
    for w in after.workloads.iter().filter(|w| !w.added.is_empty()) {
        let mut checks: Vec<&str> = w.added.iter().map(|a| a.check).collect();
        checks.dedup();
        for c in checks {
            let why = unmet.get(&(w.label(), c)).copied().unwrap_or("");
            let reason = if why.is_empty() {
                WAY_OUT.to_string()
            } else {
                format!("{why}; use `pss-fix post-render` as Helm's post-renderer")
            };
            remaining.push([w.label(), String::new(), c.to_string(), reason]);
        }
    }
    let still: usize = after
        .workloads
        .iter()
        .filter(|w| !w.before.is_empty())
        .count();
    Outcome {
        overlay,
        data: overlay_tree(plan),
        fixes,
        needs,
        remaining,
        dropped,
        failing,
        fixed: failing.saturating_sub(still),
        renders,
        written: None,
    }
}

fn json_of(t: &Tree) -> serde_json::Value {
    use serde_json::Value as J;
    match t {
        Tree::Null => J::Null,
        Tree::Bool(b) => J::Bool(*b),
        Tree::Int(i) => i64::try_from(*i).map_or_else(|_| J::String(i.to_string()), J::from),
        Tree::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Tree::Str(s) => J::String(s.clone()),
        Tree::Seq(s) => J::Array(s.iter().map(json_of).collect()),
        Tree::Map(m) => J::Object(m.iter().map(|(k, v)| (k.clone(), json_of(v))).collect()),
    }
}

fn print(format: Format, o: &Outcome, left_out: &[usize], marks: &[Mark]) -> io::Result<()> {
    // No key, no text (rather than `{}`): nothing to apply.
    let yaml = if o.overlay.is_empty() {
        String::new()
    } else {
        o.overlay.to_yaml()
    };
    let summary = summary(o, left_out, marks);
    let mut out = io::stdout().lock();
    match format {
        Format::Json => {
            let v = json(o);
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            )?;
        }
        Format::Markdown => write!(out, "{}", markdown(o, &yaml))?,
        _ => {
            // With --write the diff is already out.
            if o.written.is_none() {
                write!(out, "{yaml}")?;
            }
            out.flush()?;
            eprint!("{}", pss_fix::report::sanitize(&summary));
        }
    }
    out.flush()?;
    Ok(())
}

/// The text summary (stderr): counts, then what remains, was dropped, kept, written and
/// not probed.
fn summary(o: &Outcome, left_out: &[usize], marks: &[Mark]) -> String {
    let mut summary = format!(
        "pss-fix values: {} workload(s) failing, {} pass with the overlay, {} key(s), {} render(s)\n",
        o.failing,
        o.fixed,
        o.fixes.len(),
        o.renders
    );
    for [w, _, c, why] in &o.remaining {
        summary.push_str(&format!("  remaining: {w}: {c}: {why}\n"));
    }
    for (k, why) in &o.dropped {
        summary.push_str(&format!("  dropped: {k}: {why}\n"));
    }
    if let Some(w) = &o.written {
        for k in &w.kept {
            summary.push_str(&format!(
                "  kept: {}:{}:{}: {}: {}\n",
                w.file, k.line, k.col, k.path, k.message
            ));
        }
        summary.push_str(&if w.changed {
            format!("  written: {}\n", w.file)
        } else {
            format!("  not written: {} needs no change\n", w.file)
        });
    }
    if !left_out.is_empty() {
        let keys: Vec<String> = left_out
            .iter()
            .map(|&i| verify::show(&marks[i].path))
            .collect();
        summary.push_str(&format!(
            "  not probed (the chart does not render with a probe value there): {}\n",
            keys.join(", ")
        ));
    }
    summary
}

fn json(o: &Outcome) -> serde_json::Value {
    let mut v = serde_json::json!({
        "overlay": json_of(&o.data),
        "fixes": fixes_json(o),
        "remaining": o.remaining.iter().map(|[w, _, c, why]| serde_json::json!({"workload": w, "check": c, "reason": why})).collect::<Vec<_>>(),
        "dropped": o.dropped.iter().map(|(k, why)| serde_json::json!({"key": k, "reason": why})).collect::<Vec<_>>(),
        "failing": o.failing,
        "fixed": o.fixed,
        "renders": o.renders,
    });
    if let Some(w) = &o.written {
        v["file"] = serde_json::json!(w.file);
        v["written"] = serde_json::json!(w.changed);
        v["kept"] = w
            .kept
            .iter()
            .map(|k| serde_json::json!({"key": k.path.to_string(), "line": k.line, "column": k.col, "reason": k.message}))
            .collect();
    }
    v
}

/// Key → the places it fixes, for the JSON output.
fn fixes_json(o: &Outcome) -> serde_json::Map<String, serde_json::Value> {
    o.fixes
        .iter()
        .map(|(k, who)| {
            let list: Vec<_> = who
                .iter()
                .map(|&i| {
                    let n = &o.needs[i];
                    serde_json::json!({
                        "workload": n.loc.object.label(),
                        "namespace": n.loc.object.namespace,
                        "container": n.loc.container.as_ref().map(|c| c.1.clone()),
                        "field": n.field.join("."),
                        "checks": n.checks,
                    })
                })
                .collect();
            (k.join("."), serde_json::Value::Array(list))
        })
        .collect()
}

fn markdown(o: &Outcome, yaml: &str) -> String {
    let mut md = format!(
        "### pss-fix values\n\n{} of {} failing workload(s) pass with this values overlay.\n\n",
        o.fixed, o.failing
    );
    if !yaml.is_empty() {
        md.push_str(&format!("```yaml\n{yaml}```\n\n"));
    }
    if !o.remaining.is_empty() {
        md.push_str("| Workload | Check | Why it remains |\n| --- | --- | --- |\n");
        for [w, _, c, why] in &o.remaining {
            md.push_str(&format!("| {w} | `{c}` | {} |\n", why.replace('|', "\\|")));
        }
        md.push('\n');
    }
    for (k, why) in &o.dropped {
        md.push_str(&format!("- dropped `{k}`: {why}\n"));
    }
    if let Some(w) = &o.written {
        for k in &w.kept {
            md.push_str(&format!(
                "- kept `{}` ({}:{}:{}): {}\n",
                k.path, w.file, k.line, k.col, k.message
            ));
        }
        if w.changed {
            md.push_str(&format!(
                "\nWritten to `{}`:\n\n```diff\n{}```\n",
                w.file, w.diff
            ));
        }
    }
    md
}
