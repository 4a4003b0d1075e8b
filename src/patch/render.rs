//! Patches as YAML to paste: a kustomization's `patches:` list, or a Flux HelmRelease's
//! `postRenderers:` entry holding the same list. Each patch's operations are a YAML list in a
//! `patch: |-` block, as kustomize and Flux take them.
//!
//! The YAML is written here rather than by a serializer so the output is the same in every
//! release and reads as a person would write it; strings are quoted whenever go-yaml v2 (the
//! reader kustomize and Flux parse patches with) would take them for anything but a string.

use std::borrow::Cow;

use super::{Json, Patch};
use crate::yaml::scalar;

/// Where the patches go.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Output {
    /// A `patches:` list for kustomization.yaml.
    Kustomize,
    /// A `postRenderers:` list for a Flux HelmRelease's `spec` (helm.toolkit.fluxcd.io/v2).
    Flux,
}

/// The patches as one YAML document.
pub fn render(patches: &[Patch], output: Output) -> String {
    let mut out = String::new();
    let indent = match output {
        Output::Kustomize => {
            out.push_str("# pss-fix patch: JSON 6902 patches; paste into kustomization.yaml\n");
            out.push_str("patches:");
            2
        }
        Output::Flux => {
            out.push_str(
                "# pss-fix patch: a Flux post-renderer; paste under the HelmRelease's `spec:` \
                 (helm.toolkit.fluxcd.io/v2)\n",
            );
            out.push_str("postRenderers:\n  - kustomize:\n      patches:");
            8
        }
    };
    if patches.is_empty() {
        out.push_str(" []\n");
        return out;
    }
    out.push('\n');
    for p in patches {
        patch(p, indent, &mut out);
    }
    out
}

fn patch(p: &Patch, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    let t = &p.target;
    let mut who = String::new();
    if let Some(ns) = &t.namespace {
        who.push_str(ns);
        who.push('/');
    }
    who.push_str(&t.name);
    let mut comment = format!(
        "{} {} ({}:{}:{})",
        t.kind, who, p.file, p.pos.line, p.pos.col
    );
    if !p.checks.is_empty() {
        comment.push_str(": fixes ");
        comment.push_str(&p.checks.join(", "));
    }
    out.push_str(&format!("{pad}# {}\n", one_line(&comment)));
    out.push_str(&format!("{pad}- target:\n"));
    let field = |out: &mut String, k: &str, v: &str| {
        out.push_str(&format!(
            "{pad}    {k}: {}\n",
            scalar(&Json::Str(v.to_owned()))
        ));
    };
    if let Some(g) = &t.group {
        field(out, "group", g);
    }
    field(out, "version", &t.version);
    field(out, "kind", &t.kind);
    field(out, "name", &t.name);
    if let Some(ns) = &t.namespace {
        field(out, "namespace", ns);
    }
    out.push_str(&format!("{pad}  patch: |-\n"));
    let ops = Json::Seq(
        p.operations
            .iter()
            .map(|o| {
                let mut m = vec![
                    ("op".to_owned(), Json::Str(o.op.as_str().to_owned())),
                    ("path".to_owned(), Json::Str(o.pointer())),
                ];
                if let Some(v) = &o.value {
                    m.push(("value".to_owned(), v.clone()));
                }
                Json::Map(m)
            })
            .collect(),
    );
    block(&ops, indent + 4, out);
}

/// A comment stays one line whatever a name holds.
fn one_line(s: &str) -> Cow<'_, str> {
    if s.chars().any(char::is_control) {
        Cow::Owned(
            s.chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .collect(),
        )
    } else {
        Cow::Borrowed(s)
    }
}

/// A non-empty collection as block lines at `indent`; anything else as one line.
fn block(v: &Json, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match v {
        Json::Map(m) if !m.is_empty() => {
            for (k, v) in m {
                let key = scalar(&Json::Str(k.clone()));
                if is_block(v) {
                    out.push_str(&format!("{pad}{key}:\n"));
                    block(v, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}{key}: {}\n", scalar(v)));
                }
            }
        }
        Json::Seq(items) if !items.is_empty() => {
            for item in items {
                if is_block(item) {
                    // The item's first line goes on the dash's line: `- op: add`.
                    let mut inner = String::new();
                    block(item, indent + 2, &mut inner);
                    out.push_str(&pad);
                    out.push_str("- ");
                    out.push_str(&inner[indent + 2..]);
                } else {
                    out.push_str(&format!("{pad}- {}\n", scalar(item)));
                }
            }
        }
        _ => out.push_str(&format!("{pad}{}\n", scalar(v))),
    }
}

fn is_block(v: &Json) -> bool {
    match v {
        Json::Map(m) => !m.is_empty(),
        Json::Seq(s) => !s.is_empty(),
        _ => false,
    }
}

/// A scalar (or an empty collection) as go-yaml v2 reads it back to the same value.
fn scalar(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => b.to_string(),
        Json::Int(i) => i.to_string(),
        Json::Float(f) if f.is_nan() => ".nan".into(),
        Json::Float(f) if f.is_infinite() => if *f > 0.0 { ".inf" } else { "-.inf" }.into(),
        Json::Float(f) => {
            let s = f.to_string();
            if s.contains('.') {
                s
            } else {
                format!("{s}.0")
            }
        }
        Json::Str(s) => scalar::string(s),
        Json::Seq(_) => "[]".into(),
        Json::Map(_) => "{}".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_that_would_change_type_are_quoted() {
        for s in [
            "yes", "on", "1", "0x1F", "1.5", "null", "~", "", "a: b", "-x", "a b",
        ] {
            assert!(scalar(&Json::Str(s.into())).starts_with('"'), "{s}");
        }
        for s in [
            "RuntimeDefault",
            "ALL",
            "/spec/template/spec/containers/0",
            "v1",
        ] {
            assert_eq!(scalar(&Json::Str(s.into())), s);
        }
        assert_eq!(
            scalar::double_quoted("a\"b\\\u{1}"),
            "\"a\\\"b\\\\\\u0001\""
        );
    }

    #[test]
    fn nested_values_are_block_yaml() {
        let v = Json::Seq(vec![Json::Map(vec![
            ("op".into(), Json::Str("add".into())),
            (
                "value".into(),
                Json::Map(vec![(
                    "drop".into(),
                    Json::Seq(vec![Json::Str("ALL".into())]),
                )]),
            ),
            ("empty".into(), Json::Map(vec![])),
        ])]);
        let mut out = String::new();
        block(&v, 2, &mut out);
        assert_eq!(
            out,
            "  - op: add\n    value:\n      drop:\n        - ALL\n    empty: {}\n"
        );
    }
}
