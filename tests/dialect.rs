//! Differential test of the reader against libyaml, the parser of go-yaml's family (go-yaml
//! is a port of it, and Kubernetes reads manifests with go-yaml): over generated inputs that
//! put every multi-line construct at every column, and over every real file at hand
//! (`fixtures/`, `../shared/`), pss-fix must accept what the reference accepts, read the same
//! data (go-yaml v2's scalar resolution, aliases and merge keys resolved), and keep every
//! span on the author's bytes.
//!
//! The reference is `tests/support/libyaml_reference.py` (PyYAML's binding to libyaml; `.ci/run`
//! installs it). Where python3 or PyYAML is missing the test says so and does not run,
//! except in CI, where it must.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pss_fix::yaml::scalar::{resolve, Resolved};
use pss_fix::yaml::{Documents, Kind, Node, ScalarStyle};
use pss_fix_testkit::manifests_under;
use serde_json::{json, Value};

mod support;

/// Inputs the reference refuses and pss-fix reads, each with why that is acceptable. saphyr
/// reads them; refusing them would take a check of our own for input Kubernetes never sees
/// from its own tools.
const READ_THOUGH_REFUSED: &[(&str, &str)] = &[
    (
        "tab-after-dash",
        "a tab after `- ` (libyaml: no tab where a simple key may start)",
    ),
    ("tab-after-complex-value", "a tab after a line-leading `:`"),
    ("bom-inside", "a byte order mark before a later `---`"),
    ("nel-in-plain", "U+0085 (NEL) inside a plain scalar"),
    (
        "duplicate-anchor",
        "an anchor name used twice (go-yaml takes the later one; PyYAML's composer refuses)",
    ),
    (
        "tab-block-scalar-blank",
        "a tab alone on a blank line inside a block scalar",
    ),
];

/// Writes a construct's first line under a parent at a column.
type Parent = fn(usize, &str) -> String;

/// Generated inputs: each multi-line construct (flow sequence, flow mapping, quoted scalars,
/// plain scalars inside flow) under a mapping key, a sequence item and a key in a sequence
/// item, at three depths, with its continuation lines and its closing line at every column
/// from 0 to past the key; then tabs and a list of single constructs.
fn generated() -> Vec<(String, String)> {
    let mut cases = Vec::new();
    let parents: [(&str, Parent); 3] = [
        ("map", |k, v| format!("{}key: {v}", " ".repeat(k))),
        ("seqmap", |k, v| format!("{}- key: {v}", " ".repeat(k))),
        ("seq", |k, v| format!("{}- {v}", " ".repeat(k))),
    ];
    let constructs: [(&str, &str, &[&str], &str); 6] = [
        ("flowseq", "[", &["\"x\", y,"], "]"),
        ("flowmap", "{", &["a: 1,", "\"b\": c,"], "}"),
        ("sq", "'one", &["two"], "'"),
        ("dq", "\"one", &["two"], "\""),
        ("plainflow", "[one", &["two"], "]"),
        ("nested", "[{a: 'x", &["y'}, [1,", "2]"], "]"),
    ];
    for (pname, parent) in parents {
        for k in [0usize, 2, 4] {
            let outer = match k {
                0 => "",
                2 => "outer:\n",
                _ => "a:\n  b:\n",
            };
            for c in 0..k + 6 {
                for (kind, first, lines, close) in constructs {
                    for place in ["items", "close", "both"] {
                        let ic = if place == "close" { k + 4 } else { c };
                        let cc = if place == "items" { k + 4 } else { c };
                        let mut body = format!("{outer}{}\n", parent(k, first));
                        for l in lines {
                            body.push_str(&format!("{}{l}\n", " ".repeat(ic)));
                        }
                        body.push_str(&format!("{}{close}\n", " ".repeat(cc)));
                        let next = match pname {
                            "seq" => "- n\n",
                            "seqmap" => "- next: 1\n",
                            _ => "next: 1\n",
                        };
                        body.push_str(&format!("{}{next}", " ".repeat(k)));
                        let name = format!("{pname}-k{k}-c{c}-{kind}-{place}");
                        if k == 2 {
                            cases.push((format!("{name}-crlf"), body.replace('\n', "\r\n")));
                        }
                        if c > 0 && place != "close" {
                            // The continuation lines led by a tab instead of their first space.
                            let lead = format!("\n{}", " ".repeat(c));
                            let tabbed = format!("\n\t{}", " ".repeat(c - 1));
                            let mut t = String::new();
                            for (i, line) in body.split_inclusive('\n').enumerate() {
                                let is_item = lines
                                    .iter()
                                    .any(|l| line.trim_end() == format!("{}{l}", " ".repeat(ic)));
                                if i > 0 && is_item {
                                    t.push_str(&line.replacen(&lead[1..], &tabbed[1..], 1));
                                } else {
                                    t.push_str(line);
                                }
                            }
                            cases.push((format!("{name}-tab"), t));
                        }
                        cases.push((name, body));
                    }
                }
            }
        }
    }
    let singles: &[(&str, &str)] = &[
        ("tab-after-key", "key:\tvalue\n"),
        ("tab-in-flow", "key: [a,\tb]\n"),
        ("tab-after-dash", "- \ta\n"),
        ("tab-before-flow", "key:\t[a]\n"),
        ("tab-quoted-continuation", "key: 'a\n\tb'\n"),
        ("tab-indent", "key:\n\t- a\n"),
        ("tab-flow-continuation", "a:\n  b: [\n\tc]\n"),
        ("tab-before-comment", "a: 1 \t# c\n"),
        ("tab-trailing", "a:\n  - b\t\n"),
        ("tab-block-scalar-blank", "a: |\n  x\n\t\n"),
        ("tab-after-flow", "{a: 1}\t\n"),
        ("tab-after-empty-key", "a:\t\n  b: 1\n"),
        ("tab-in-item-key", "- a:\t1\n"),
        ("tab-after-complex-value", "? a\n:\tb\n"),
        ("glued-comment-dq", "a: \"x\"#c\n"),
        ("glued-comment-sq", "a: 'x'#c\n"),
        ("glued-comment-flow", "a: [x]#c\n"),
        ("glued-comment-in-flow", "a: ['x'#c\n  ]\n"),
        ("plain-hash", "a: x#y\n"),
        ("doc-literal", "--- |\n  text\n"),
        ("doc-folded", "--- >\n text\n"),
        ("doc-quoted", "--- 'x'\n"),
        ("doc-tab", "---\tx\n"),
        ("yaml-1.1", "%YAML 1.1\n---\na: 1\n"),
        (
            "tag-directive",
            "%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n",
        ),
        ("anchor-alias", "a: &x\n  b: 1\nc: *x\n"),
        ("anchored-key", "&x a: b\n"),
        ("tagged-str-next-line", "a: !!str\n  x\n"),
        ("comment-before-value", "key:    # comment\n  value\n"),
        ("json-glued", "{\"a\":b}\n"),
        ("flow-key-only", "{a: 1, b}\n"),
        ("flow-trailing-comma", "[a, ]\n"),
        ("flow-map-trailing-comma", "{a: 1, }\n"),
        ("flow-pair", "[a: b, c]\n"),
        ("indentless", "a:\n- b\n- c\n"),
        ("nested-seq", "- - a\n  - b\n"),
        ("explicit-key", "? a\n: b\n"),
        ("explicit-block-key", "? |\n  a\n: b\n"),
        ("plain-continuation", "a: x\n b\n"),
        ("plain-comment-continuation", "a: x\n  # c\n  b\n"),
        ("plain-quote-inside", "a: it's [x]\n  and 'y\nb: 1\n"),
        ("dash-value", "a: -\n"),
        ("indicator-keep", "a: |2\n   x\n"),
        ("block-strip-leading-blank", "a: |-\n\n  x\n"),
        ("block-keep", "a: >+\n  x\n\n"),
        ("block-comment-less-indented", "a: |\n  x\n # c\n"),
        ("block-then-key", "a: |\n  x\n#c\nb: 1\n"),
        ("block-quotes", "a: |\n  'x\n  [y\nb: \"z\n  w\"\n"),
        ("quoted-blank-line", "a: 'x\n\n  y'\n"),
        ("quoted-escaped-break", "a: \"x\\\n y\"\n"),
        ("end-marker", "a: b\n...\n---\nc: d\n"),
        ("end-marker-comment", "a: b\n... # c\n"),
        ("empty-last-doc", "a: b\n---\n"),
        ("empty-docs", "---\n---\n"),
        ("comment-only", "# only\n"),
        ("empty", ""),
        ("bom", "\u{feff}a: 1\n"),
        ("bom-inside", "a: 1\n\u{feff}---\nb: 2\n"),
        ("nel-in-plain", "a: x\u{85}b\n"),
        ("reserved-at", "a: @x\n"),
        ("colon-glued", "a:x\n"),
        ("alias-redefined", "a: &x 1\nb: *x\n"),
        ("duplicate-anchor", "a: &x 1\nb: *x\nc: &x 2\nd: *x\n"),
        ("alias-seq", "a: &x [1, 2]\nb: *x\n"),
        ("merge", "base: &b {x: 1, y: 1}\nm:\n  <<: *b\n  y: 2\n"),
        (
            "merge-list",
            "a: &a {x: 1}\nb: &b {x: 2, y: 2}\nm:\n  <<: [*a, *b]\n",
        ),
        ("merge-inline", "m:\n  <<: [{x: 1}, {y: 2}]\n"),
        ("merge-before-key", "b: &b {x: 1}\nm:\n  x: 0\n  <<: *b\n"),
        ("tagged-int", "a: !!int '12'\n"),
        ("tagged-bool", "a: !!bool yes\n"),
        ("octal-o", "a: 0o17\n"),
        ("underscore", "a: 1_000\n"),
        ("sexagesimal", "a: 1:20\n"),
        ("inf", "a: .inf\n"),
        ("hex", "a: 0x1F\n"),
        ("plus", "a: +12\n"),
        ("date", "a: 2001-12-14\n"),
        ("tilde", "a: ~\n"),
        ("yes", "a: Yes\n"),
        ("y", "a: y\n"),
        ("exp", "a: 1e3\n"),
        ("octal-0", "a: 012\n"),
        ("minus-zero", "a: -0\n"),
        ("binary-int", "a: 0b101\n"),
        ("float-underscore", "a: 685_230.15\n"),
        ("equals", "a: =\n"),
        ("merge-word", "a: <<\n"),
        ("under-indented-key", "a:\n  b: 1\n c: 2\n"),
        ("seq-under-indented", "- a\n - b\n"),
        ("empty-flow-lines", "a: [\n]\n"),
        ("empty-flow-map-lines", "a: {\n}\n"),
        ("flow-at-col-0", "a: [b,\nc]\n"),
        ("quote-escape", "a: 'b''c'\n"),
        ("dq-escapes", "a: \"\\x41\\u263A\\U0001F600\\N\\_\\L\\P\"\n"),
        ("dq-slash", "a: \"\\/\"\n"),
        ("crlf", "a: x\r\nb: y\r\n"),
        ("crlf-quoted", "a: 'x\r\ny'\r\nb: [1,\r\n2]\r\n"),
        ("ls-in-quoted", "a: \"x\u{2028}y\"\n"),
        ("tagged-map", "a: !!map {x: 1}\n"),
        ("tagged-seq", "a: !!seq\n- 1\n"),
        ("deep-flow", "a: [a, [b, {c: d}]]\n"),
        ("complex-key-flow-seq", "[a, b]: c\n"),
        ("complex-key-explicit", "? [a]\n: b\n"),
        ("seq-item-block", "-\n  a: 1\n"),
        ("anchored-doc", "--- &a\nx: 1\n"),
        ("non-ascii", "é: 'ü\n  ß'\nk: [ä,\n ö]\n"),
    ];
    for (name, text) in singles {
        cases.push(((*name).to_owned(), (*text).to_owned()));
    }
    cases
}

fn shared() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared");
    dir.is_dir().then_some(dir)
}

fn real_files() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = manifests_under(&root.join("fixtures"));
    if let Some(shared) = shared() {
        paths.extend(manifests_under(&shared));
    }
    paths
        .into_iter()
        .filter_map(|p| {
            let text = String::from_utf8(std::fs::read(&p).ok()?).ok()?;
            // A file with a BOM or a NUL the reader's own tests cover; `{{` is a template.
            if text.contains('\0')
                || text.contains("{{") && p.to_string_lossy().contains("/templates/")
            {
                return None;
            }
            Some((
                p.strip_prefix(root).unwrap_or(&p).display().to_string(),
                text,
            ))
        })
        .collect()
}

/// The reference's answers by case name, or `None` when it cannot run here.
fn reference(cases: &[(String, String)]) -> Option<BTreeMap<String, Value>> {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/libyaml_reference.py");
    let mut child = Command::new("python3")
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let input: Vec<Value> = cases
        .iter()
        .map(|(n, t)| json!({"name": n, "text": t}))
        .collect();
    let mut stdin = child.stdin.take().unwrap();
    let body = serde_json::to_vec(&input).unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let out = child.wait_with_output().ok()?;
    writer.join().unwrap().ok()?;
    if !out.status.success() {
        eprintln!(
            "the reference did not run: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        return None;
    }
    let answers = String::from_utf8(out.stdout).unwrap();
    Some(
        answers
            .lines()
            .map(|l| {
                let v: Value = serde_json::from_str(l).unwrap();
                (v["name"].as_str().unwrap().to_owned(), v)
            })
            .collect(),
    )
}

/// Without the reference the test says so and passes, except in CI, where it must run.
fn not_run() {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run the differential test: install python3 and PyYAML (.ci/run does)"
    );
    eprintln!("dialect: python3 with PyYAML (libyaml) not found; not run");
}

/// pss-fix's reading of one node, written as the reference writes its own.
fn canonical(node: &Node<'_>) -> Value {
    match &node.kind {
        Kind::Scalar(s) => match resolve(s) {
            Resolved::Null => json!({"null": ""}),
            Resolved::Bool(b) => json!({"bool": b.to_string()}),
            Resolved::Int(i) => json!({"int": i.to_string()}),
            Resolved::Float(f) => json!({"float": f.to_string()}),
            Resolved::Str(v) => json!({"str": v}),
        },
        Kind::Seq(seq) => Value::Array(seq.items.iter().map(canonical).collect()),
        Kind::Map(m) => json!({"map": m
            .entries
            .iter()
            .map(|(k, v)| json!([canonical(k), canonical(v)]))
            .collect::<Vec<_>>()}),
        Kind::Alias(_) => json!({"alias": ""}),
    }
}

/// Equal as data: floats compare as numbers (the two sides spell them differently).
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Object(x), Value::Object(y))
            if x.contains_key("float") && y.contains_key("float") =>
        {
            let f = |v: &Value| {
                v["float"]
                    .as_str()
                    .unwrap_or("")
                    .replace("inf", "Infinity")
                    .parse::<f64>()
            };
            match (f(a), f(b)) {
                (Ok(p), Ok(q)) => p == q || p.is_nan() && q.is_nan(),
                _ => false,
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
        }
        _ => a == b,
    }
}

/// Every span lies on the author's bytes: within the text, on character boundaries, and
/// for scalars on the scalar's own text.
fn spans_hold(text: &str, node: &Node<'_>, problems: &mut Vec<String>) {
    let ok = node.start <= node.end
        && node.end <= text.len()
        && text.is_char_boundary(node.start)
        && text.is_char_boundary(node.end);
    if !ok {
        problems.push(format!("span {}..{} is off the text", node.start, node.end));
        return;
    }
    let written = &text[node.start..node.end];
    match &node.kind {
        Kind::Scalar(s) => {
            let holds = match s.style {
                ScalarStyle::Plain if !s.value.contains(['\n', ' ']) && s.tag.is_none() => {
                    written == s.value || s.value.is_empty()
                }
                ScalarStyle::SingleQuoted => written.starts_with('\'') && written.ends_with('\''),
                ScalarStyle::DoubleQuoted => written.starts_with('"') && written.ends_with('"'),
                _ => true,
            };
            if !holds {
                problems.push(format!(
                    "scalar {:?} has the span {}..{} = {written:?}",
                    s.value, node.start, node.end
                ));
            }
        }
        Kind::Seq(seq) => {
            if seq.flow && !(written.starts_with('[') && written.ends_with(']')) {
                problems.push(format!("flow sequence span {written:?}"));
            }
            seq.items.iter().for_each(|i| spans_hold(text, i, problems));
        }
        Kind::Map(m) => {
            if m.flow && !(written.starts_with('{') && written.ends_with('}')) {
                problems.push(format!("flow mapping span {written:?}"));
            }
            for (k, v) in &m.entries {
                spans_hold(text, k, problems);
                spans_hold(text, v, problems);
            }
        }
        Kind::Alias(_) => {}
    }
}

/// pss-fix's reading of a stream: its documents as data, or the error.
fn ours(text: &str, problems: &mut Vec<String>) -> Result<Vec<Value>, String> {
    let mut docs = Vec::new();
    for doc in Documents::new(text) {
        let doc = doc.map_err(|e| e.message)?;
        spans_hold(text, &doc.root, problems);
        let data = doc.data().map_err(|u| u.message.clone())?;
        docs.push(canonical(data));
    }
    Ok(docs)
}

#[test]
fn pss_fix_reads_what_libyaml_reads() {
    let generated = generated();
    let real = real_files();
    let mut cases = generated.clone();
    cases.extend(real.iter().cloned());
    let Some(answers) = reference(&cases) else {
        return not_run();
    };
    if shared().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI has ../shared/ beside the checkout"
        );
        eprintln!("dialect: ../shared/ not found; only fixtures and generated inputs were read");
    }
    let mut failures = Vec::new();
    let mut read_though_refused = Vec::new();
    let mut accepted = 0;
    for (name, text) in &cases {
        let answer = &answers[name];
        let mut problems = Vec::new();
        let got = ours(text, &mut problems);
        for p in problems {
            failures.push(format!("{name}: {p}"));
        }
        match (answer["ok"].as_bool().unwrap(), got) {
            (true, Ok(docs)) => {
                accepted += 1;
                let want = answer["docs"].as_array().unwrap();
                let docs_same =
                    docs.len() == want.len() && docs.iter().zip(want).all(|(a, b)| same(a, b));
                if !docs_same {
                    failures.push(format!(
                        "{name}: read differently\n  ours:      {}\n  reference: {}\n  text: {text:?}",
                        Value::Array(docs),
                        Value::Array(want.clone())
                    ));
                }
            }
            (true, Err(e)) => failures.push(format!(
                "{name}: refused what libyaml reads: {e}\n  text: {text:?}"
            )),
            (false, Ok(_)) => read_though_refused.push(name.clone()),
            (false, Err(_)) => {}
        }
    }
    let allowed: Vec<&str> = READ_THOUGH_REFUSED.iter().map(|(n, _)| *n).collect();
    for name in &read_though_refused {
        if !allowed.contains(&name.as_str()) {
            failures.push(format!(
                "{name}: read though libyaml refuses it ({})",
                answers[name]["error"]
            ));
        }
    }
    eprintln!(
        "dialect: {} inputs ({} generated, {} real files), {accepted} read by both, {} read by pss-fix only (listed)",
        cases.len(),
        generated.len(),
        real.len(),
        read_though_refused.len()
    );
    if std::env::var_os("PSS_FIX_DIALECT_VERBOSE").is_some() {
        for f in &failures {
            eprintln!("DISAGREE {f}");
        }
    }
    assert!(
        failures.is_empty(),
        "{} disagreements with libyaml:\n{}",
        failures.len(),
        failures
            .iter()
            .take(25)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(real.len() > 30, "the real files were found");
}

/// What pss-fix writes into a file in go-yaml's dialect is read by libyaml too: every
/// dialect fixture, fixed, reads back as its input's data with only keys added.
#[test]
fn fixed_dialect_fixtures_are_read_by_libyaml() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/dialect");
    let paths = manifests_under(&dir);
    let mut cases = Vec::new();
    for p in &paths {
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(p).unwrap();
        let report = pss_fix::process(&name, &text, &pss_fix::Options::default())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let Some(out) = report.output else { continue };
        cases.push((format!("{name} input"), text));
        cases.push((format!("{name} output"), out));
    }
    assert!(cases.len() >= 8, "the dialect fixtures were fixed");
    let Some(answers) = reference(&cases) else {
        return not_run();
    };
    for pair in cases.chunks(2) {
        let (before, after) = (&answers[&pair[0].0], &answers[&pair[1].0]);
        assert_eq!(
            after["ok"],
            json!(true),
            "{}: {}",
            pair[1].0,
            after["error"]
        );
        let (b, a) = (
            before["docs"].as_array().unwrap(),
            after["docs"].as_array().unwrap(),
        );
        assert_eq!(a.len(), b.len(), "{}: document count", pair[1].0);
        for (x, y) in b.iter().zip(a) {
            let mut problems = Vec::new();
            only_added(x, y, "", &mut problems);
            assert!(problems.is_empty(), "{}: {problems:?}", pair[1].0);
        }
    }
}

/// `after` holds everything `before` holds, and more only where a mapping gained keys.
fn only_added(before: &Value, after: &Value, path: &str, problems: &mut Vec<String>) {
    match (before.get("map"), after.get("map")) {
        (Some(b), Some(a)) => {
            let a = a.as_array().unwrap();
            for entry in b.as_array().unwrap() {
                let key = &entry[0];
                match a.iter().find(|e| same(&e[0], key)) {
                    Some(e) => only_added(&entry[1], &e[1], &format!("{path}.{key}"), problems),
                    None => problems.push(format!("{path}.{key} is gone")),
                }
            }
        }
        // A null filled with a mapping.
        (None, Some(_)) if before.get("null").is_some() => {}
        _ => match (before.as_array(), after.as_array()) {
            (Some(b), Some(a)) if a.len() >= b.len() => {
                for (i, (x, y)) in b.iter().zip(a).enumerate() {
                    only_added(x, y, &format!("{path}[{i}]"), problems);
                }
            }
            _ if same(before, after) => {}
            _ => problems.push(format!("{path}: {before} became {after}")),
        },
    }
}

/// Skimming reads as building does: on every real file and every generated input, a reader
/// that skims the documents whose kind cannot hold a workload (and cuts long block scalars
/// short, see `src/yaml/elide.rs`) finds the same documents at the same places, and refuses
/// the same inputs at the same position with the same words. Each input is also read as one
/// document of a dashboard-sized stream, so that its block scalars are long enough to be cut.
#[test]
fn skimming_reads_as_building() {
    use pss_fix::yaml::Documents;
    let mut cases = generated();
    cases.extend(real_files());
    let read = |text: &str, skim: bool| -> Vec<Result<(usize, usize), String>> {
        let mut docs = Documents::new(text);
        if skim && pss_fix::yaml::source::independent_documents(text) {
            docs = docs.skimming_kinds(Box::new(|kind| kind == "Pod"));
        }
        docs.map(|d| {
            d.map(|d| (d.index, d.start))
                .map_err(|e| format!("{:?}: {}", e.pos, e.message))
        })
        .collect()
    };
    let dashboard: String = (0..200)
        .map(|i| format!("    {{\"panel\": {i}, \"expr\": \"sum(rate(x[5m])) | y\"}}\n"))
        .collect();
    let mut differ = Vec::new();
    for (name, text) in &cases {
        let padded = text.replace(": |\n", &format!(": |\n{dashboard}"));
        for text in [text, &padded] {
            if read(text, true) != read(text, false) {
                differ.push(name.clone());
            }
        }
    }
    assert!(differ.is_empty(), "skimming reads differently: {differ:?}");
}
