//! `--format markdown`: a pull-request body. A title line with the number of workloads the
//! fixes make compliant, then only the sections that have something to say: "Fixed" (a
//! table of each workload and the fields the fixes add, change or remove), "Needs a person"
//! (each violation left, its check ID, the admission controller's message, why pss-fix left
//! it and how it could be fixed), "Passed through unchanged" (documents `post-render` could
//! not safely edit) and "Errors" (files that could not be processed).
//!
//! Free text is escaped so a message never turns into Markdown; `|` is escaped in table
//! cells, code spans included, as GitHub's tables require.

use std::fmt::Write as _;

use super::json::{findings, Finding};
use super::{Command, Outcome, Run};
use crate::engine::WorkloadReport;
use crate::policy::check::{check_info, Applicability};
use crate::policy::remedy::Action;

/// Render the run as a Markdown pull-request body, ending with a newline.
pub fn render(run: &Run<'_>) -> String {
    let mut sections = Sections::default();
    for o in run.files {
        sections.add(run.command, o);
    }
    // Counted where the text and JSON summaries count it, not again here.
    let compliant = super::Totals::of_run(run).workloads_fixed;
    let Sections {
        fixed_rows,
        people,
        passed,
        errors,
    } = sections;
    let verb = if run.command == Command::Fix {
        "made"
    } else {
        "would be made"
    };
    let mut out =
        if fixed_rows.is_empty() && people.is_empty() && passed.is_empty() && errors.is_empty() {
            format!("### pss-fix: nothing to change for {}\n", run.policy)
        } else {
            format!(
                "### pss-fix: {compliant} {} {verb} compliant with {}\n",
                if compliant == 1 {
                    "workload"
                } else {
                    "workloads"
                },
                run.policy
            )
        };
    if !fixed_rows.is_empty() {
        out.push_str("\n#### Fixed\n\n| Workload | File | Fields added |\n| --- | --- | --- |\n");
        for row in &fixed_rows {
            out.push_str(row);
        }
    }
    if !people.is_empty() {
        out.push_str("\n#### Needs a person\n\n");
        out.push_str(&people);
    }
    if !passed.is_empty() {
        out.push_str("\n#### Passed through unchanged\n\n");
        out.push_str(&passed);
    }
    if !errors.is_empty() {
        out.push_str("\n#### Errors\n\n");
        out.push_str(&errors);
    }
    out
}

/// The body's sections, gathered file by file in the run's order.
#[derive(Default)]
struct Sections {
    fixed_rows: Vec<String>,
    people: String,
    passed: String,
    errors: String,
}

impl Sections {
    fn add(&mut self, command: Command, o: &Outcome) {
        let report = match &o.result {
            Ok(r) => r,
            Err(e) => {
                let place = match e.pos {
                    Some(p) => format!("{}:{}:{}", o.path, p.line, p.col),
                    None => o.path.clone(),
                };
                let _ = writeln!(self.errors, "- {}: {}", code(&place), text(&e.message));
                return;
            }
        };
        for p in &report.passed_through {
            let place = format!("{}:{}:{}", o.path, p.line, p.col);
            let _ = writeln!(
                self.passed,
                "- {}: {}: {}",
                code(&place),
                text(&super::passed_what(p)),
                text(&p.message)
            );
        }
        let applied = super::applied(command, o);
        for w in &report.workloads {
            if !w.added.is_empty() {
                self.fixed_rows.push(fixed_row(o, w, applied));
            }
            let left: Vec<Finding<'_>> = findings(Command::Fix, w)
                .into_iter()
                .filter(|f| !(f.fixed && applied))
                .collect();
            if !left.is_empty() {
                self.people.push_str(&needs_a_person(o, w, &left));
            }
        }
    }
}

fn fixed_row(o: &Outcome, w: &WorkloadReport, applied: bool) -> String {
    let mut fields: Vec<String> = Vec::new();
    for a in &w.added {
        let field = match a.action {
            Action::Added => code(&a.path()),
            Action::Changed => format!("{} (changed)", code(&a.path())),
            Action::Removed => format!("{} (removed)", code(&a.path())),
        };
        if !fields.contains(&field) {
            fields.push(field);
        }
    }
    let mut file = code(&format!("{}:{}", o.path, w.line));
    if !applied {
        file.push_str(" (not written)");
    }
    format!(
        "| {} | {} | {} |\n",
        cell(&code(&w.label())),
        cell(&file),
        cell(&fields.join("<br>"))
    )
}

fn needs_a_person(o: &Outcome, w: &WorkloadReport, left: &[Finding<'_>]) -> String {
    let mut out = format!("- {}", code(&w.label()));
    if !w.namespace.is_empty() {
        let _ = write!(out, " in {}", code(&w.namespace));
    }
    let _ = writeln!(out, ", {}", code(&format!("{}:{}", o.path, w.line)));
    for f in left {
        let _ = writeln!(out, "  - {}: {}", code(f.check), text(&f.message));
        if let Some(note) = &f.note {
            let _ = writeln!(out, "    - Why it was left: {}", text(note));
        }
        let _ = writeln!(out, "    - How to fix: {}", how(f));
    }
    out
}

/// How a violation could be fixed, from the check's own list of fixes at the finding's
/// applicability.
fn how(f: &Finding<'_>) -> String {
    let kind = match f.fix_applicability {
        Applicability::Safe => "safe fix, not applied",
        Applicability::Unsafe => "unsafe fix (changes a value the author wrote)",
        Applicability::Manual => "manual",
    };
    let fixes = check_info(f.check).map_or(&[][..], |c| c.fixes);
    let matching: Vec<&str> = fixes
        .iter()
        .filter(|x| x.safety == f.fix_applicability)
        .map(|x| x.what)
        .collect();
    let what: Vec<&str> = if matching.is_empty() {
        fixes.iter().map(|x| x.what).collect()
    } else {
        matching
    };
    if what.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {}", text(&what.join("; ")))
    }
}

/// A code span that holds `s` whatever backticks it contains.
fn code(s: &str) -> String {
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest > 0 || s.starts_with(' ') || s.ends_with(' ') {
        format!("{fence} {s} {fence}")
    } else {
        format!("{fence}{s}{fence}")
    }
}

/// Free text: one line, with Markdown's active characters escaped.
fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\r' | '\n' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' | '~' | '&' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// A table cell: `|` escaped (GitHub requires it inside code spans too), on one line.
fn cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut escaped = false;
    for c in s.chars() {
        match c {
            '|' if !escaped => out.push_str("\\|"),
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
        escaped = c == '\\' && !escaped;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        assert_eq!(code("a"), "`a`");
        assert_eq!(code("a`b"), "`` a`b ``");
        assert_eq!(text("a*b_[c]|\nd"), "a\\*b\\_\\[c\\]\\| d");
        assert_eq!(cell("`a|b` | c"), "`a\\|b` \\| c");
        // Already escaped by text(): not escaped twice.
        assert_eq!(cell(&text("x|y")), "x\\|y");
    }
}
