//! Text the user reads: findings per workload in the admission controller's words, the notes
//! on what could not be fixed and why, and the closing summary. Printers return strings; the
//! CLI decides where they go (stderr whenever stdout carries YAML).

use crate::check::summary_line;
use crate::engine::{FileReport, WorkloadReport};
use crate::policy::Policy;

/// `Deployment/web (path:12)`
fn place(file: &str, w: &WorkloadReport) -> String {
    format!("{} ({}:{})", w.label(), file, w.line)
}

/// Lines for `check`: each failing workload with its violations as found.
pub fn check_text(file: &str, report: &FileReport, policy: Policy) -> String {
    let mut out = String::new();
    for w in &report.workloads {
        if let Some(why) = &w.skipped {
            out.push_str(&format!("{}: not checked: {why}\n", place(file, w)));
        } else if !w.before.is_empty() {
            out.push_str(&format!(
                "{}: {}\n",
                place(file, w),
                summary_line(policy, &w.before)
            ));
        }
    }
    out
}

/// Lines for `fix`/`diff`: what is left after fixing, and why each part was left.
pub fn remaining_text(file: &str, report: &FileReport, policy: Policy) -> String {
    let mut out = String::new();
    for w in &report.workloads {
        if w.after.is_empty() {
            continue;
        }
        out.push_str(&format!(
            "{}: {}\n",
            place(file, w),
            summary_line(policy, &w.after)
        ));
        for n in &w.notes {
            out.push_str(&format!(
                "  {} ({}): {}\n",
                n.check,
                n.applicability.as_str(),
                n.message
            ));
        }
        let explained = |id: &str| w.notes.iter().any(|n| n.check == id);
        for v in w.after.iter().filter(|v| !explained(v.check)) {
            let how = crate::check::check_info(v.check).map_or("manual", |c| c.fix_safety.as_str());
            out.push_str(&format!("  {} ({how}): {}\n", v.check, v.message()));
        }
    }
    out
}

/// Totals of a run, for the closing line.
#[derive(Debug, Default, Clone, Copy)]
pub struct Totals {
    pub files_changed: usize,
    pub workloads_fixed: usize,
    pub violations_left: usize,
    pub errors: usize,
}

impl Totals {
    pub fn add(&mut self, report: &FileReport) {
        if report.output.is_some() {
            self.files_changed += 1;
        }
        for w in &report.workloads {
            if !w.added.is_empty() {
                self.workloads_fixed += 1;
            }
            self.violations_left += w.after.len();
        }
    }

    pub fn line(&self, verb: &str) -> String {
        let plural = |n: usize, s: &str| format!("{n} {s}{}", if n == 1 { "" } else { "s" });
        let mut line = format!(
            "pss-fix: {} {verb}, {} fixed, {} left",
            plural(self.files_changed, "file"),
            plural(self.workloads_fixed, "workload"),
            plural(self.violations_left, "violation"),
        );
        if self.errors > 0 {
            line.push_str(&format!(", {}", plural(self.errors, "error")));
        }
        line
    }
}
