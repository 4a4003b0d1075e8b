//! What a lossless edit is, as the tests referee it: the one line-preservation check
//! (`lines_kept`) that the corpus tests (P3) and the generated-manifest property tests ((b))
//! both apply to pss-fix's output, with the words a safe fix may write, the checks it can make
//! pass, and the small readers both need (`documents`, `key_name`). A fix may insert whole
//! lines of its own vocabulary, fill an empty value or grow a flow collection or JSON line in
//! place, and nothing else; a change to what counts as lossless is made here, once.

// Shared by several test crates, each of which uses only a part.
#![allow(dead_code)]

pub use super::invariants::{documents, key_name};

/// The checks a safe fix can make pass.
pub const SAFE_CHECKS: [&str; 4] = [
    "runAsNonRoot",
    "allowPrivilegeEscalation",
    "seccompProfile_restricted",
    "capabilities_restricted",
];

/// Every word a safe fix may write, in YAML or JSON.
pub const VOCABULARY: [&str; 11] = [
    "securityContext",
    "runAsNonRoot",
    "allowPrivilegeEscalation",
    "seccompProfile",
    "type",
    "RuntimeDefault",
    "capabilities",
    "drop",
    "ALL",
    "true",
    "false",
];

/// Punctuation a safe fix may write between those words.
pub const PUNCTUATION: &str = " \t\r,:{}[]\"'-";

/// The empty values a fix may fill, and the bytes that may follow one on its line.
const EMPTY_VALUES: [&str; 6] = ["{}", "[]", "null", "Null", "NULL", "~"];
const AFTER_EMPTY_VALUE: &[u8] = b" \t\r,#}]";

/// Lines a fix added, and original lines it changed in place.
#[derive(Debug, Default)]
pub struct LineStats {
    pub inserted: usize,
    pub changed: usize,
}

/// A line for a message: at most 120 characters, control characters escaped.
pub fn show(line: &str) -> String {
    let mut s: String = line.chars().take(120).collect();
    if line.chars().count() > 120 {
        s.push('…');
    }
    format!("{s:?}")
}

/// Every original line is found, in order, in the output, unchanged or changed in one of the
/// allowed ways; every output line not matched to an original line is an inserted field.
///
/// Lines keep their `\r`, so a line whose ending changed counts as changed (and fails), and a
/// CRLF input may not gain a bare LF, not even on an inserted line.
pub fn lines_kept<'a>(text: &'a str, out: &'a str) -> Result<LineStats, String> {
    let orig: Vec<&str> = text.split('\n').collect();
    let new: Vec<&str> = out.split('\n').collect();
    // Counted rather than forbidden outright, so that an input mixing both endings may keep
    // its own bare LFs; for a CRLF-only input this is "no bare LF at all".
    let bare_lf = |lines: &[&str]| {
        let ended = &lines[..lines.len() - 1];
        ended.iter().filter(|l| !l.ends_with('\r')).count()
    };
    let crlf = text.contains("\r\n");
    if crlf && bare_lf(&new) > bare_lf(&orig) {
        return Err("a CRLF input gained a bare LF line ending".into());
    }
    let last = orig.len() - 1;
    let mut matched = vec![false; new.len()];
    let mut stats = LineStats::default();
    let mut next = 0;
    for (i, &line) in orig.iter().enumerate() {
        // A last line without an ending gains the file's ending when lines follow it.
        let fit = |n: &'a str| -> &'a str {
            if i == last && crlf && !line.ends_with('\r') {
                n.strip_suffix('\r').unwrap_or(n)
            } else {
                n
            }
        };
        let found = if line.trim() == "{}" {
            // An own-line `{}` (Helm's `toYaml` of an empty map) stays right where it was, or
            // is filled by the lines after its key and gone: a match further on would be
            // another document's `{}`, and would skip every line between.
            (new.get(next).map(|n| fit(n)) == Some(line)).then_some(next)
        } else {
            // Greedy earliest match is optimal for an in-order matching, whatever the relation.
            (next..new.len()).find(|&k| fit(new[k]) == line || allowed_change(line, fit(new[k])))
        };
        match found {
            Some(k) => {
                stats.changed += usize::from(new[k] != line);
                matched[k] = true;
                next = k + 1;
            }
            None if line.trim() == "{}" => {}
            None => {
                let near = new
                    .get(next.min(new.len().saturating_sub(1)))
                    .map_or("end of file".into(), |l| show(l));
                return Err(format!(
                    "original line {} {} is missing, reindented or changed beyond filling a value \
                     (output from line {}: {near})",
                    i + 1,
                    show(line),
                    next + 1
                ));
            }
        }
    }
    for (k, line) in new.iter().enumerate() {
        if !matched[k] && !inserted_line_ok(line) {
            return Err(format!(
                "output line {} {} is neither an original line nor an inserted safe-fix field",
                k + 1,
                show(line)
            ));
        }
        stats.inserted += usize::from(!matched[k]);
    }
    Ok(stats)
}

/// Identifiers, split the way YAML and JSON keys are: `_` belongs to a word, so `NET_RAW` is
/// one word and never reads as fix text.
pub fn words(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .filter(|w| !w.is_empty())
}

/// Text written by a safe fix: only its vocabulary and punctuation.
pub fn fix_text(s: &str) -> bool {
    s.chars()
        .all(|c| c.is_alphanumeric() || c == '_' || PUNCTUATION.contains(c))
        && words(s).all(|w| VOCABULARY.contains(&w))
}

/// A whole line a fix inserted: a field, a list entry, or (JSON) a closing bracket; never a
/// blank line or stray punctuation.
pub fn inserted_line_ok(line: &str) -> bool {
    let content = line.trim();
    if content.is_empty() {
        return false;
    }
    fix_text(line) && (words(line).next().is_some() || content.trim_end_matches(',').len() == 1)
}

pub fn indent(line: &str) -> usize {
    line.len() - line.trim_start_matches([' ', '\t']).len()
}

/// `new` is `orig` changed as a fix may change a line: fix text inserted at word boundaries
/// after the indentation (flow collections gaining entries, a JSON line gaining its comma),
/// or an empty value removed, replaced by a flow collection of fix text, or opened as a
/// multi-line JSON collection.
pub fn allowed_change(orig: &str, new: &str) -> bool {
    let at = indent(orig);
    (new.len() > orig.len()
        && new.get(..at) == orig.get(..at)
        && insertions_only(&orig.as_bytes()[at..], &new.as_bytes()[at..]))
        || empty_value_filled(orig, new)
}

/// `n` is `o` with chunks of fix text inserted, each between words, and empty values taken
/// out where they were filled.
///
/// Several chunks, not one: a line in flow style may hold the pod's and a container's
/// security contexts, each filled (the generated manifests have them). Each chunk must start
/// and end between words, so no fix word is glued onto an original one (`xtrue`).
fn insertions_only(o: &[u8], n: &[u8]) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    // ok[i][j]: n[j..] is o[i..] plus insertions (never one at the very start), filled from
    // the ends: every step looks only at larger i or j.
    let w = n.len() + 1;
    let mut ok = vec![false; (o.len() + 1) * w];
    for i in (0..=o.len()).rev() {
        for j in (0..=n.len()).rev() {
            let at = |i: usize, j: usize, ok: &[bool]| ok[i * w + j];
            let same = i < o.len() && j < n.len() && o[i] == n[j] && at(i + 1, j + 1, &ok);
            // An empty value (after `: `) that a fix fills may go.
            let filled = i > 1
                && &o[i - 2..i] == b": "
                && EMPTY_VALUES.iter().any(|t| {
                    o[i..].starts_with(t.as_bytes())
                        && o.get(i + t.len())
                            .is_none_or(|c| AFTER_EMPTY_VALUE.contains(c))
                        && at(i + t.len(), j, &ok)
                });
            // A chunk n[j..k] of fix text, grown a byte at a time, ending between words.
            let mut inserted = false;
            if j > 0 && !(j < n.len() && word(n[j]) && word(n[j - 1])) {
                let (mut k, mut word_start) = (j, None);
                while k < n.len() && (word(n[k]) || PUNCTUATION.as_bytes().contains(&n[k])) {
                    if word(n[k]) && word_start.is_none() {
                        word_start = Some(k);
                    }
                    k += 1;
                    if let Some(ws) = word_start {
                        if k < n.len() && word(n[k]) {
                            continue;
                        }
                        if !VOCABULARY.contains(&std::str::from_utf8(&n[ws..k]).unwrap_or("")) {
                            break;
                        }
                        word_start = None;
                    }
                    if !n[j..k].iter().all(u8::is_ascii_whitespace) && at(i, k, &ok) {
                        inserted = true;
                        break;
                    }
                }
            }
            ok[i * w + j] = (i == o.len() && j == n.len()) || same || filled || inserted;
        }
    }
    ok[0]
}

/// `orig` holds an empty value that `new` fills: the value removed (block content follows on
/// new lines), replaced by a flow collection, or opened as a multi-line JSON collection.
///
/// `[]` and the capitalised nulls are empty values too (`drop: []` gains `ALL`; YAML reads
/// `Null` and `NULL` as null). JSON opens an object for `{}` and an array for `[]`, either for
/// `null`, and never for `~`, which is not JSON.
pub fn empty_value_filled(orig: &str, new: &str) -> bool {
    for token in EMPTY_VALUES {
        for (pos, _) in orig.match_indices(token) {
            let head = &orig[..pos];
            let tail = &orig[pos + token.len()..];
            let value_position = head.trim_end().ends_with(':');
            let token_ends = tail
                .bytes()
                .next()
                .is_none_or(|c| AFTER_EMPTY_VALUE.contains(&c));
            if !value_position || !token_ends {
                continue;
            }
            let key = head.trim_end();
            // `securityContext: {}` → `securityContext:` (a comment may follow).
            if new == format!("{key}{tail}") || new == format!("{key}{}", tail.trim_start()) {
                return true;
            }
            // `"securityContext": {},` → `"securityContext": {` (JSON opened over lines).
            let open = new.trim_end();
            let opens = |bracket: &str| open == format!("{key} {bracket}");
            let json_open = match token {
                "{}" => opens("{"),
                "[]" => opens("["),
                "~" => false,
                _ => opens("{") || opens("["),
            };
            if json_open {
                return true;
            }
            // `securityContext: null` → `securityContext: {runAsNonRoot: true}`.
            if let Some(rest) = new.strip_prefix(head).and_then(|r| r.strip_suffix(tail)) {
                let flow = (rest.starts_with('{') && rest.ends_with('}'))
                    || (rest.starts_with('[') && rest.ends_with(']'));
                if flow && fix_text(rest) {
                    return true;
                }
            }
        }
    }
    false
}

// The referee itself: it must accept the allowed changes and catch real damage. It runs in
// every test crate that includes `support`, which costs milliseconds.
#[test]
fn line_check_accepts_fills_and_catches_damage() {
    let ok = |a: &str, b: &str| {
        assert!(
            lines_kept(a, b).is_ok(),
            "should pass:\n{a}\n=>\n{b}\n{:?}",
            lines_kept(a, b).err()
        )
    };
    let bad = |a: &str, b: &str| assert!(lines_kept(a, b).is_err(), "should fail:\n{a}\n=>\n{b}");
    let base = "spec:\n  # note\n  containers:\n  - name: a\n    image: x\n";
    ok(
        base,
        "spec:\n  # note\n  containers:\n  - name: a\n    image: x\n    securityContext:\n      allowPrivilegeEscalation: false\n",
    );
    ok(
        "c:\n  securityContext: {}\n  b: 1\n",
        "c:\n  securityContext:\n    runAsNonRoot: true\n  b: 1\n",
    );
    ok(
        "c:\n  securityContext: {} # keep\n",
        "c:\n  securityContext: # keep\n    runAsNonRoot: true\n",
    );
    ok(
        "c:\n  securityContext: ~\n",
        "c:\n  securityContext:\n    runAsNonRoot: true\n",
    );
    ok(
        "c:\n  securityContext: null\n",
        "c:\n  securityContext: {runAsNonRoot: true}\n",
    );
    ok(
        "c:\n  drop: [NET_RAW] # why\n",
        "c:\n  drop: [NET_RAW, ALL] # why\n",
    );
    ok(
        "{\n  \"a\": 1\n}\n",
        "{\n  \"a\": 1,\n  \"securityContext\": {\n    \"runAsNonRoot\": true\n  }\n}\n",
    );
    ok(
        "{\n  \"securityContext\": {},\n  \"a\": 1\n}\n",
        "{\n  \"securityContext\": {\n    \"runAsNonRoot\": true\n  },\n  \"a\": 1\n}\n",
    );
    ok("c:\n  drop: []\n", "c:\n  drop: [ALL]\n");
    ok(
        "c:\n  securityContext: {}\n",
        "c:\n  securityContext: {runAsNonRoot: true}\n",
    );
    ok("c:\n  runAsNonRoot:\n", "c:\n  runAsNonRoot: true\n");
    ok(
        "c:\n  allowPrivilegeEscalation: # why\n",
        "c:\n  allowPrivilegeEscalation: false # why\n",
    );
    ok(
        "c:\n  allowPrivilegeEscalation: # why\n",
        "c:\n  allowPrivilegeEscalation: # why\n    false\n",
    );
    // A dropped line.
    bad(base, "spec:\n  # note\n  containers:\n  - name: a\n");
    // A reindented line.
    bad(
        base,
        "spec:\n  # note\n  containers:\n    - name: a\n    image: x\n",
    );
    // A changed value.
    bad(
        base,
        "spec:\n  # note\n  containers:\n  - name: a\n    image: y\n",
    );
    // A line that is not a safe-fix field.
    bad(
        base,
        "spec:\n  # note\n  containers:\n  - name: a\n    image: x\n    runAsUser: 1000\n",
    );
    // A moved comment.
    bad(
        base,
        "spec:\n  containers:\n  # note\n  - name: a\n    image: x\n",
    );
    // An inserted blank line.
    bad(
        base,
        "spec:\n  # note\n\n  containers:\n  - name: a\n    image: x\n",
    );
    // Line endings changed.
    bad("a: 1\r\nb: 2\r\n", "a: 1\nb: 2\n");
    // A flow list gaining something else.
    bad("drop: [NET_RAW]\n", "drop: [NET_RAW, SYS_ADMIN]\n");
    // Own-line `{}`, lines without an ending, JSON fragments and block scalars.
    ok(
        "a:\n  securityContext: {}\n",
        "a:\n  securityContext:\n    runAsNonRoot: true\n",
    );
    ok(
        "a:\n  securityContext:\n    {}\n",
        "a:\n  securityContext:\n    runAsNonRoot: true\n",
    );
    // A filled `{}` before a kept one of a later document (a proptest find).
    ok(
        "- a:\n    {}\n  b: 1\n---\n- a:\n    {}\n  b: 1\n",
        "- a:\n    runAsNonRoot: true\n  b: 1\n---\n- a:\n    {}\n  b: 1\n",
    );
    ok("  drop: [NET_RAW]", "  drop: [NET_RAW, ALL]");
    ok(
        "securityContext: null # c",
        "securityContext: {runAsNonRoot: true} # c",
    );
    ok(
        "  \"image\": \"a\"\n  }",
        "  \"image\": \"a\",\n  \"securityContext\": {\"allowPrivilegeEscalation\": false}\n  }",
    );
    bad("a: 1\nb: 2\n", "b: 2\na: 1\n");
    bad("a: 1\n", "a: 1\nimage: evil\n");
    bad("a:\n  b: 1\n", "a:\n   b: 1\n");
    bad("x: |+\n  a\n\n", "x: |+\n  a\n");
    // Line endings: a CRLF last line without one gains it when fields follow, and nothing
    // else changes an ending.
    ok(
        "a: 1\r\nsecurityContext: {}",
        "a: 1\r\nsecurityContext:\r\n  runAsNonRoot: true",
    );
    bad("a: 1\r\n", "a: 1\r\n  runAsNonRoot: true\n");
    bad("a: 1\nb: 2\n", "a: 1\r\nb: 2\n");
    // Fix text glued onto an original word.
    bad("drop: [NET_RAW]\n", "drop: [NET_RAWALL]\n");
}
