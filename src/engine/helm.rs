//! Where an object of a Helm render came from (its template), for messages: Helm 4 says it
//! in an annotation, Helm 3 in a `# Source:` comment at the top of each document.

use crate::yaml::Node;

/// Where a Helm-rendered object came from: Helm 4's annotation on the object, else the
/// `# Source:` comment Helm 3 writes at the top of the document.
pub(super) fn helm_source(
    text: &str,
    doc_start: usize,
    root: &Node<'_>,
    object: Option<&Node<'_>>,
) -> Option<String> {
    const ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";
    let annotated = object
        .and_then(|o| o.get("metadata"))
        .and_then(|m| m.get("annotations"))
        .and_then(|a| a.get(ANNOTATION))
        .and_then(Node::as_str);
    if let Some(file) = annotated {
        return Some(file.to_owned());
    }
    source_comment(text.get(doc_start..root.start)?)
}

/// The template named by Helm 3's `# Source:` comment in the head of a document.
pub(super) fn source_comment(head: &str) -> Option<String> {
    head.lines()
        .find_map(|l| l.trim_start().strip_prefix("# Source: "))
        .map(|s| s.trim_end().to_owned())
}

/// The head of a document that could not be read: its marker, blank and comment lines.
pub(super) fn unread_head(piece: &str) -> &str {
    let mut end = 0;
    for line in piece.split_inclusive('\n') {
        use crate::yaml::source::{blank_or_comment, is_document_marker};
        if !(blank_or_comment(line) || is_document_marker(line, 0)) {
            break;
        }
        end += line.len();
    }
    &piece[..end]
}
