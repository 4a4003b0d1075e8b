//! Git-style unified diffs of a file before and after fixing. Patience, not Myers: on large
//! insert-only changes Myers prints spurious -/+ pairs (DESIGN §5), and Patience is faster.

use similar::{Algorithm, TextDiff};

/// `--- a/path` / `+++ b/path` and hunks with three lines of context; empty when equal.
pub fn unified(old: &str, new: &str, path: &str) -> String {
    if old == new {
        return String::new();
    }
    let path = path.trim_start_matches("./").trim_start_matches('/');
    TextDiff::configure()
        .algorithm(Algorithm::Patience)
        .diff_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// The diff with ANSI colours, as `git diff` shows it on a terminal.
pub fn colorize(diff: &str) -> String {
    use anstyle::{AnsiColor, Style};
    let bold = Style::new().bold();
    let red = Style::new().fg_color(Some(AnsiColor::Red.into()));
    let green = Style::new().fg_color(Some(AnsiColor::Green.into()));
    let cyan = Style::new().fg_color(Some(AnsiColor::Cyan.into()));
    let mut out = String::with_capacity(diff.len() + diff.len() / 8);
    for line in diff.split_inclusive('\n') {
        let style = if line.starts_with("--- ") || line.starts_with("+++ ") {
            bold
        } else if line.starts_with("@@") {
            cyan
        } else if line.starts_with('+') {
            green
        } else if line.starts_with('-') {
            red
        } else {
            Style::new()
        };
        let (body, nl) = match line.strip_suffix('\n') {
            Some(b) => (b, "\n"),
            None => (line, ""),
        };
        if style == Style::new() {
            out.push_str(line);
        } else {
            out.push_str(&format!("{style}{body}{style:#}{nl}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn insert_only_change_shows_only_additions() {
        let old = "a: 1\nb: 2\n";
        let new = "a: 1\n  x: 3\nb: 2\n";
        let d = unified(old, new, "f.yaml");
        assert!(d.starts_with("--- a/f.yaml\n+++ b/f.yaml\n"));
        assert!(d.contains("\n+  x: 3\n"));
        assert!(!d
            .lines()
            .any(|l| l.starts_with('-') && !l.starts_with("---")));
        assert!(colorize(&d).contains("\u{1b}[32m+  x: 3\u{1b}[0m\n"));
    }
}
