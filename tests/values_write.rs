//! Merging values overlays into files (`pss-fix values --write`): golden snapshots of the
//! diff each fixture under `fixtures/values/` gets from a helm-create-like overlay (with
//! existing values kept, and with overwriting allowed), and properties checked on every
//! merge, with the fixtures' overlay and with generated ones:
//! - the output reads back, with an independent reader (serde_yaml_ng), as the input with the
//!   overlay merged at the values root as Helm merges values (mappings key by key, the rest
//!   replaced), minus the keys reported kept;
//! - without overwriting, every input line is in the output, in order (a flow collection
//!   may gain entries, a `{}` or null value may become a block below its key);
//! - a CRLF file gets CRLF lines;
//! - merging the same overlay into the output changes nothing.

use std::fs;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use pss_fix::report::diff;
use pss_fix::values::{merge, Merged, Overlay, Value};
use pss_fix::Seg;
use serde_yaml_ng::{Mapping, Value as Yaml};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/values");
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files
}

/// What a helm-create chart with a Bitnami-style component needs: (dotted path, value,
/// comment).
fn overlay() -> Overlay {
    let drop_all = Value::Seq(vec![Value::Str("ALL".into())]);
    let table = [
        (
            "podSecurityContext.runAsNonRoot",
            Value::Bool(true),
            "Deployment/web: runAsNonRoot",
        ),
        (
            "podSecurityContext.seccompProfile.type",
            Value::Str("RuntimeDefault".into()),
            "Deployment/web: seccompProfile",
        ),
        (
            "securityContext.allowPrivilegeEscalation",
            Value::Bool(false),
            "Deployment/web: allowPrivilegeEscalation",
        ),
        (
            "securityContext.capabilities.drop",
            drop_all,
            "Deployment/web: capabilities",
        ),
        (
            "securityContext.runAsUser",
            Value::Int(1000),
            "Deployment/web: runAsNonRoot",
        ),
        (
            "primary.containerSecurityContext.enabled",
            Value::Bool(true),
            "StatefulSet/web-primary: runAsNonRoot",
        ),
    ];
    let mut o = Overlay::new();
    for (path, value, comment) in table {
        let path: Vec<String> = path.split('.').map(str::to_owned).collect();
        o.insert(&path, value, comment.to_owned());
    }
    o
}

fn rel(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap()
        .to_string_lossy()
        .into_owned()
}

/// The snapshot body of one merge, checking the properties on the way.
fn run(path: &Path, overwrite: bool) -> String {
    let name = rel(path);
    let text = fs::read_to_string(path).unwrap();
    let o = overlay();
    let merged = match merge(&name, &text, &o, overwrite) {
        Ok(m) => m,
        Err(e) => return format!("error: {e}\n"),
    };
    check(&text, &o, &merged, overwrite).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut out = format!("values at: {}\n", shown(&merged.root));
    for p in &merged.added {
        out.push_str(&format!("added: {p}\n"));
    }
    for k in &merged.kept {
        out.push_str(&format!("kept: {}:{}: {}\n", k.line, k.col, k.message));
    }
    for p in &merged.uncommented {
        out.push_str(&format!("no comment: {p}\n"));
    }
    out.push_str("diff:\n");
    match &merged.output {
        None => out.push_str("(no change)\n"),
        Some(new) => out.push_str(&diff::unified(&text, new, &name)),
    }
    out
}

fn shown(p: &pss_fix::Path) -> String {
    if p.segs().is_empty() {
        "(root)".into()
    } else {
        p.to_string()
    }
}

#[test]
fn fixtures_match_their_snapshots() {
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("../snapshots");
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for path in fixtures() {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let kept = run(&path, false);
            let overwritten = run(&path, true);
            // Where nothing differs from the file, overwriting changes nothing more.
            if overwritten != kept {
                insta::assert_snapshot!(format!("values__{file}@overwrite"), overwritten);
            }
            insta::assert_snapshot!(format!("values__{file}"), kept);
        }
    });
}

// ---------------------------------------------------------------------------------------------
// The properties

fn documents(text: &str) -> Result<Vec<Yaml>, String> {
    use serde::Deserialize;
    serde_yaml_ng::Deserializer::from_str(text)
        .map(|d| Yaml::deserialize(d).map_err(|e| e.to_string()))
        .collect()
}

/// Helm's merge of values: mappings key by key, everything else replaced.
fn helm_merge(into: &mut Yaml, over: &Yaml) {
    match (into, over) {
        (Yaml::Mapping(a), Yaml::Mapping(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(av) => helm_merge(av, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (a, b) => *a = b.clone(),
    }
}

/// The node at `path`, mappings created where absent or null.
fn at_path<'y>(mut node: &'y mut Yaml, path: &[Seg]) -> Result<&'y mut Yaml, String> {
    for seg in path {
        if node.is_null() {
            *node = Yaml::Mapping(Mapping::new());
        }
        node = match (seg, node) {
            (Seg::Key(k), Yaml::Mapping(m)) => {
                m.entry(Yaml::String(k.to_string())).or_insert(Yaml::Null)
            }
            (Seg::Index(i), Yaml::Sequence(items)) => items
                .get_mut(*i)
                .ok_or_else(|| format!("no item {i} on the way to the values"))?,
            (seg, _) => return Err(format!("{seg:?} on the way to the values is not there")),
        };
    }
    Ok(node)
}

/// `over` without the value at `path` (a key kept as the file has it).
fn remove(over: &mut Yaml, path: &[Seg]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut node = over;
    for seg in parents {
        let Seg::Key(k) = seg else { return };
        match node.get_mut(k.as_ref()) {
            Some(n) => node = n,
            None => return,
        }
    }
    if let (Seg::Key(k), Yaml::Mapping(m)) = (last, node) {
        m.remove(k.as_ref());
    }
}

/// Whether `short` is `long` with characters left out.
fn subsequence(short: &str, long: &str) -> bool {
    let mut l = long.chars();
    short.chars().all(|c| l.any(|x| x == c))
}

/// An input line the merge may have edited in place: a flow collection that gained entries
/// (every character kept), or a `{}` / `[]` / `~` / `null` value that became a block below
/// its key (only that value removed).
fn edited_in_place(orig: &str, new: &str) -> bool {
    let (orig, new) = (orig.trim_end(), new.trim_end());
    let grew = subsequence(orig, new) && (new.contains('{') || new.contains('['));
    let filled = ["{}", "[]", "~", "null"].iter().any(|v| {
        orig.split_once(v)
            .is_some_and(|(a, b)| format!("{}{b}", a.trim_end()) == new)
    });
    grew || filled
}

/// Every line of `before` is in `after`, in order, as it was or edited in place.
fn lines_in_order(before: &str, after: &str) -> Result<(), String> {
    let mut out = after.split_inclusive('\n');
    for line in before.split_inclusive('\n') {
        let found = out.any(|o| o == line || edited_in_place(line, o));
        if !found {
            return Err(format!("input line {line:?} is missing or out of order"));
        }
    }
    Ok(())
}

fn check(text: &str, o: &Overlay, m: &Merged, overwrite: bool) -> Result<(), String> {
    let Some(out) = &m.output else {
        return if m.added.is_empty() {
            Ok(())
        } else {
            Err("keys reported added but nothing changed".into())
        };
    };
    let mut expected = documents(text)?;
    if expected.is_empty() {
        expected.push(Yaml::Null);
    }
    let mut over = documents(&o.to_yaml())?.remove(0);
    for k in &m.kept {
        remove(&mut over, k.path.segs());
    }
    let doc = expected
        .get_mut(m.document)
        .ok_or("no such document in the input")?;
    helm_merge(at_path(doc, m.root.segs())?, &over);
    let got = documents(out)?;
    if got != expected {
        return Err(format!(
            "the output does not read as the input merged with the overlay:\n{out}\nexpected {expected:?}\ngot {got:?}"
        ));
    }
    if !overwrite {
        lines_in_order(text, out)?;
    }
    if text.contains("\r\n") && out.matches('\n').count() != out.matches("\r\n").count() {
        return Err("a line of the output lost the file's CRLF line ending".into());
    }
    let again = merge("again", out, o, overwrite).map_err(|e| e.to_string())?;
    if again.output.is_some() || !again.added.is_empty() {
        return Err(format!(
            "a second merge changes something: {:?}",
            again.output
        ));
    }
    Ok(())
}

/// Keys YAML readers disagree on or misread, and keys the fixtures have.
const KEYS: &[&str] = &[
    "podSecurityContext",
    "securityContext",
    "containerSecurityContext",
    "primary",
    "image",
    "enabled",
    "runAsUser",
    "capabilities",
    "drop",
    "on",
    "yes",
    "a: b",
    "#x",
    "",
    "ключ",
    "- x",
    "null",
];

fn key() -> impl Strategy<Value = String> {
    prop::sample::select(KEYS).prop_map(str::to_owned)
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5000).prop_map(Value::Int),
        key().prop_map(|k| Value::Str(k.into())),
        prop::collection::vec(key().prop_map(|k| Value::Str(k.into())), 0..3).prop_map(Value::Seq),
        prop::collection::vec((key(), any::<bool>()), 0..3).prop_map(|e| Value::Map(
            e.into_iter()
                .map(|(k, b)| (k.into(), Value::Bool(b)))
                .collect()
        )),
    ]
}

fn overlays() -> impl Strategy<Value = Overlay> {
    let insert = (prop::collection::vec(key(), 1..4), leaf(), key());
    prop::collection::vec(insert, 1..6).prop_map(|inserts| {
        let mut o = Overlay::new();
        for (path, value, comment) in inserts {
            o.insert(&path, value, format!("fixes {comment}"));
        }
        o
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        // 256 cases (each merging into every fixture); PROPTEST_CASES sets another number.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_overlays_merge_losslessly(o in overlays(), overwrite in any::<bool>()) {
        for path in fixtures() {
            let text = fs::read_to_string(&path).unwrap();
            let m = merge(&rel(&path), &text, &o, overwrite)
                .map_err(|e| TestCaseError::fail(format!("{e}\n{}", o.to_yaml())))?;
            check(&text, &o, &m, overwrite)
                .map_err(|e| TestCaseError::fail(format!("{}: {e}\n{}", rel(&path), o.to_yaml())))?;
        }
    }
}
