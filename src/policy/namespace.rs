//! Levels the input's own Namespace objects enforce: a workload in a namespace labelled
//! `pod-security.kubernetes.io/enforce: baseline` (with `-version`) is checked and fixed at
//! that level, as the admission controller would judge it, unless `--level` says otherwise.

use std::collections::HashMap;

use crate::policy::{Level, Policy, Version};
use crate::yaml::{Documents, Node};

const ENFORCE: &str = "pod-security.kubernetes.io/enforce";
const ENFORCE_VERSION: &str = "pod-security.kubernetes.io/enforce-version";

/// Namespace levels declared in `text`. Files that never mention the label are not parsed.
/// A document that does not parse is skipped here: the run reports it when it gets there.
pub fn scan(text: &str, into: &mut HashMap<String, Policy>) {
    if !mentions(text, ENFORCE) {
        return;
    }
    // Only the documents that mention the label, when they can be read on their own: a
    // large stream with one Namespace in it is not parsed twice.
    let mut ranges: Vec<std::ops::Range<usize>> = Vec::new();
    if crate::yaml::source::independent_documents(text) {
        for (at, _) in text.match_indices(ENFORCE) {
            let r = crate::yaml::source::document_around(text, at);
            if ranges.last() != Some(&r) {
                ranges.push(r);
            }
        }
    } else {
        ranges.push(0..text.len());
    }
    for r in ranges {
        scan_documents(&text[r], into);
    }
}

/// Whether `needle` occurs in `text`: a large text is searched in two halves at once, as this
/// scan runs before any worker starts.
fn mentions(text: &str, needle: &str) -> bool {
    let (b, n) = (text.as_bytes(), needle.as_bytes());
    if b.len() < PARALLEL_FROM {
        return memchr::memmem::find(b, n).is_some();
    }
    let mid = b.len() / 2;
    // The halves overlap by the needle's length, so a match across the middle is in one.
    let (head, tail) = (&b[..(mid + n.len()).min(b.len())], &b[mid..]);
    std::thread::scope(|scope| {
        let in_tail = scope.spawn(|| memchr::memmem::find(tail, n).is_some());
        memchr::memmem::find(head, n).is_some() || in_tail.join().unwrap_or(true)
    })
}

/// Texts from this size on are searched on two threads.
const PARALLEL_FROM: usize = 8 * 1024 * 1024;

fn scan_documents(text: &str, into: &mut HashMap<String, Policy>) {
    for doc in Documents::new(text) {
        let Ok(doc) = doc else { return };
        let objects: Vec<&Node<'_>> = match doc.root.get("items").and_then(Node::as_seq) {
            Some(items) if doc.root.get("kind").and_then(Node::as_str) == Some("List") => {
                items.items.iter().collect()
            }
            _ => vec![&doc.root],
        };
        for o in objects {
            if let Some((name, policy)) = namespace_level(o) {
                into.insert(name, policy);
            }
        }
    }
}

fn namespace_level(o: &Node<'_>) -> Option<(String, Policy)> {
    if o.get("kind")?.as_str()? != "Namespace" || o.get("apiVersion")?.as_str()? != "v1" {
        return None;
    }
    let meta = o.get("metadata")?;
    let name = meta.get("name")?.as_str()?;
    let labels = meta.get("labels")?;
    let level: Level = labels.get(ENFORCE)?.as_str()?.parse().ok()?;
    let version = labels
        .get(ENFORCE_VERSION)
        .and_then(Node::as_str)
        .and_then(|v| v.parse::<Version>().ok())
        .unwrap_or(Version::Latest);
    Some((name.to_owned(), Policy::new(level, version)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A large text is searched in halves: a label anywhere, across the middle too, is seen.
    #[test]
    fn a_large_text_is_searched_everywhere() {
        let filler = "a: 1\n".repeat(PARALLEL_FROM / 5 + 7);
        assert!(!mentions(&filler, ENFORCE));
        let mid = filler.len() / 2;
        for at in [
            0,
            mid - ENFORCE.len() + 1,
            mid - 3,
            mid,
            mid + 1,
            filler.len(),
        ] {
            let text = format!("{}{ENFORCE}{}", &filler[..at], &filler[at..]);
            assert!(mentions(&text, ENFORCE), "at {at}");
        }
    }

    #[test]
    fn reads_enforce_labels() {
        let text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n  labels:\n    \
                    pod-security.kubernetes.io/enforce: baseline\n    \
                    pod-security.kubernetes.io/enforce-version: v1.29\n";
        let mut m = HashMap::new();
        scan(text, &mut m);
        assert_eq!(m["legacy"].to_string(), "baseline:v1.29");
    }

    /// In a stream only the labelled documents are read, so a broken document elsewhere
    /// does not hide them (it is reported when the run gets there).
    #[test]
    fn reads_labelled_documents_of_a_stream() {
        let ns = |name: &str, level: &str| {
            format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n  labels:\n    pod-security.kubernetes.io/enforce: {level}\n")
        };
        let text = format!(
            "a: [unclosed\n---\n{}---\nkind: ConfigMap\n---\n{}",
            ns("one", "baseline"),
            ns("two", "privileged")
        );
        let mut m = HashMap::new();
        scan(&text, &mut m);
        assert_eq!(m["one"].to_string(), "baseline:latest");
        assert_eq!(m["two"].to_string(), "privileged:latest");
    }
}
