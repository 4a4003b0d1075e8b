//! Property tests over generated Kubernetes manifests (proptest).
//!
//! The generator builds each manifest as a small model (maps, sequences, scalars, block
//! scalars, empty values) and renders it in a style drawn per document: indentation 2, 3 or
//! 4; indentless or indented sequences; flow collections from some depth on, or a single
//! flow mapping here and there; own-line comments at the key's column, at column 0 or one
//! step deeper, and trailing comments; plain, single- and double-quoted keys and values;
//! block scalars (`|`, `|-`, `|+`, `>`, `>-`) as the last value of containers and of
//! metadata; `{}` / `null` / `~` / empty / Helm's `{}`-on-its-own-line security contexts at
//! pod and container level, and partial ones; whole documents as JSON. Streams mix documents
//! with `---` / `...` markers, LF or CRLF, a BOM, and a missing final newline. Fine-grained
//! choices come from a byte vector that proptest shrinks towards "no comment, plain style".
//!
//! Before the properties, the rendered text must read back (serde_yaml_ng) as the model: a
//! generator bug fails loudly instead of weakening the test.
//!
//! Properties, with safe fixes (`pss-fix fix`) and with `--unsafe`:
//! - `process` succeeds (the inputs are valid manifests) and never panics;
//! - (a) a second `process` on the output changes nothing;
//! - (d) after fixing, every workload passes the four safe-fix checks (runAsNonRoot,
//!   allowPrivilegeEscalation, seccompProfile_restricted, capabilities_restricted), or a note
//!   for that check says why not;
//! - the output has as many documents as the input.
//!
//! With safe fixes only, also:
//! - (b) every input line is in the output, in order: unchanged, or a `{}`/`null`/`~`/empty
//!   value filled, or a flow collection or JSON line that gained an entry or a comma; every
//!   other output line is an inserted safe-fix field;
//! - (c) the output reads as the input plus only safe-fix fields (every input key with its
//!   value; a null may become a mapping; a `drop` list may gain `ALL`), and every field the
//!   report says it added is in the output.
//!
//! Cases: 256 by default; set `PROPTEST_CASES` for more. A failure prints the shrunk input;
//! keep it in `fixtures/fuzz/` (see `tests/fuzz_regressions.rs`).

use proptest::prelude::*;
use pss_fix::Seg;
use pss_fix::{process, FileReport, Options};
use pss_fix::{Action, Allow};
use serde_yaml_ng::{Mapping, Value};

mod support;

use support::invariants::contains;
use support::lossless::{documents, lines_kept, SAFE_CHECKS};

// ---------------------------------------------------------------------------------------------
// The model

#[derive(Clone, Debug)]
enum Y {
    Str(String),
    Bool(bool),
    Int(i64),
    Map(Vec<(String, Y)>),
    Seq(Vec<Y>),
    Block(Block, Vec<String>),
    Empty(Empty),
}

#[derive(Clone, Copy, Debug)]
enum Block {
    Literal,
    Strip,
    /// `|+` followed by this many blank lines.
    Keep(usize),
    Folded,
    FoldedStrip,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Empty {
    /// `{}`
    Braces,
    /// `key:` then `{}` on its own line (Helm's `toYaml` of an empty map)
    HelmBraces,
    Null,
    Tilde,
    /// `key:` and nothing
    Nothing,
}

impl Block {
    fn header(self) -> &'static str {
        match self {
            Block::Literal => "|",
            Block::Strip => "|-",
            Block::Keep(_) => "|+",
            Block::Folded => ">",
            Block::FoldedStrip => ">-",
        }
    }

    /// The string a YAML reader makes of these content lines.
    fn text(self, lines: &[String]) -> String {
        match self {
            Block::Literal => lines.join("\n") + "\n",
            Block::Strip => lines.join("\n"),
            Block::Keep(n) => lines.join("\n") + "\n" + &"\n".repeat(n),
            Block::Folded => lines.join(" ") + "\n",
            Block::FoldedStrip => lines.join(" "),
        }
    }
}

fn s(v: &str) -> Y {
    Y::Str(v.to_owned())
}

fn map(entries: Vec<(&str, Y)>) -> Y {
    Y::Map(
        entries
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
    )
}

/// What serde_yaml_ng must read the rendered model as.
fn value(y: &Y) -> Value {
    match y {
        Y::Str(s) => Value::String(s.clone()),
        Y::Bool(b) => Value::Bool(*b),
        Y::Int(i) => Value::Number((*i).into()),
        Y::Map(es) => Value::Mapping(
            es.iter()
                .map(|(k, v)| (Value::String(k.clone()), value(v)))
                .collect(),
        ),
        Y::Seq(xs) => Value::Sequence(xs.iter().map(value).collect()),
        Y::Block(b, lines) => Value::String(b.text(lines)),
        Y::Empty(Empty::Braces | Empty::HelmBraces) => Value::Mapping(Mapping::new()),
        Y::Empty(_) => Value::Null,
    }
}

fn json(y: &Y) -> serde_json::Value {
    match y {
        Y::Str(s) => s.clone().into(),
        Y::Bool(b) => (*b).into(),
        Y::Int(i) => (*i).into(),
        Y::Map(es) => {
            serde_json::Value::Object(es.iter().map(|(k, v)| (k.clone(), json(v))).collect())
        }
        Y::Seq(xs) => xs.iter().map(json).collect(),
        Y::Block(b, lines) => b.text(lines).into(),
        Y::Empty(Empty::Braces | Empty::HelmBraces) => serde_json::json!({}),
        Y::Empty(_) => serde_json::Value::Null,
    }
}

// ---------------------------------------------------------------------------------------------
// Generated parameters

#[derive(Clone, Copy, Debug)]
enum Kind {
    Pod,
    Deployment,
    StatefulSet,
    DaemonSet,
    ReplicaSet,
    Job,
    CronJob,
    PodTemplate,
    ReplicationController,
}

/// A security-context field the generator may write.
#[derive(Clone, Copy, Debug)]
enum F {
    RunAsNonRoot(bool),
    RunAsUser(i64),
    FsGroup,
    Seccomp(&'static str),
    SeccompEmpty(Empty),
    // container only
    Ape(bool),
    Privileged,
    ReadOnly,
    Caps(Drop, Option<&'static str>),
}

#[derive(Clone, Copy, Debug)]
enum Drop {
    Absent,
    /// `drop:` / `drop: null` / `drop: ~`
    Empty(Empty),
    /// `drop: []`
    None,
    NetRaw,
    All,
}

#[derive(Clone, Debug)]
enum Sc {
    Absent,
    Empty(Empty),
    Fields(Vec<F>),
}

#[derive(Clone, Debug)]
struct Container {
    sc: Sc,
    /// Where the securityContext goes among the container's keys.
    sc_at: usize,
    ports: bool,
    env: bool,
    /// The container's last value: an `args` list ending in a block scalar.
    script: Option<Block>,
}

#[derive(Clone, Debug)]
struct Workload {
    kind: Kind,
    pod_sc: Sc,
    sc_at: usize,
    containers: Vec<Container>,
    init: Vec<Container>,
    windows: bool,
    /// metadata ends with an annotation holding a block scalar
    note: Option<Block>,
}

#[derive(Clone, Debug)]
enum Content {
    /// One workload, or (with several) a `kind: List` of them.
    Workloads(Vec<Workload>),
    ConfigMap(Block),
}

#[derive(Clone, Debug)]
struct Style {
    indent: usize,
    indentless: bool,
    /// Collections at this depth or deeper are written in flow style.
    flow_from: Option<usize>,
    json: bool,
}

#[derive(Clone, Debug)]
struct Doc {
    content: Content,
    style: Style,
    helm_source: bool,
    /// Fine-grained choices (comments, quoting), 0 = the plain default when exhausted.
    choices: Vec<u8>,
}

#[derive(Clone, Debug)]
struct Stream {
    docs: Vec<Doc>,
    crlf: bool,
    bom: bool,
    final_newline: bool,
    leading_marker: bool,
    end_markers: bool,
}

fn empty() -> impl Strategy<Value = Empty> {
    prop_oneof![
        Just(Empty::Braces),
        Just(Empty::HelmBraces),
        Just(Empty::Null),
        Just(Empty::Tilde),
        Just(Empty::Nothing),
    ]
}

fn block() -> impl Strategy<Value = Block> {
    prop_oneof![
        Just(Block::Literal),
        Just(Block::Strip),
        (0usize..3).prop_map(Block::Keep),
        Just(Block::Folded),
        Just(Block::FoldedStrip),
    ]
}

fn drop_list() -> impl Strategy<Value = Drop> {
    prop_oneof![
        Just(Drop::Absent),
        prop_oneof![Just(Empty::Null), Just(Empty::Tilde), Just(Empty::Nothing)]
            .prop_map(Drop::Empty),
        Just(Drop::None),
        Just(Drop::NetRaw),
        Just(Drop::All),
    ]
}

fn pod_field() -> impl Strategy<Value = F> {
    prop_oneof![
        4 => any::<bool>().prop_map(F::RunAsNonRoot),
        2 => prop_oneof![Just(0i64), Just(1000)].prop_map(F::RunAsUser),
        1 => Just(F::FsGroup),
        2 => prop_oneof![Just("RuntimeDefault"), Just("Unconfined")].prop_map(F::Seccomp),
        1 => empty().prop_map(F::SeccompEmpty),
    ]
}

fn container_field() -> impl Strategy<Value = F> {
    prop_oneof![
        2 => any::<bool>().prop_map(F::RunAsNonRoot),
        2 => prop_oneof![Just(0i64), Just(1000)].prop_map(F::RunAsUser),
        1 => prop_oneof![Just("RuntimeDefault"), Just("Unconfined")].prop_map(F::Seccomp),
        4 => any::<bool>().prop_map(F::Ape),
        1 => Just(F::Privileged),
        2 => Just(F::ReadOnly),
        4 => (drop_list(), prop_oneof![
            4 => Just(None),
            1 => Just(Some("NET_BIND_SERVICE")),
            1 => Just(Some("SYS_ADMIN")),
        ])
            .prop_map(|(d, a)| F::Caps(d, a)),
    ]
}

fn sc(field: impl Strategy<Value = F>) -> impl Strategy<Value = Sc> {
    prop_oneof![
        3 => Just(Sc::Absent),
        3 => empty().prop_map(Sc::Empty),
        4 => prop::collection::vec(field, 1..4).prop_map(Sc::Fields),
    ]
}

fn container() -> impl Strategy<Value = Container> {
    (
        sc(container_field()),
        0usize..6,
        any::<bool>(),
        any::<bool>(),
        prop::option::weighted(0.4, block()),
    )
        .prop_map(|(sc, sc_at, ports, env, script)| Container {
            sc,
            sc_at,
            ports,
            env,
            script,
        })
}

fn kind() -> impl Strategy<Value = Kind> {
    prop_oneof![
        Just(Kind::Pod),
        Just(Kind::Deployment),
        Just(Kind::StatefulSet),
        Just(Kind::DaemonSet),
        Just(Kind::ReplicaSet),
        Just(Kind::Job),
        Just(Kind::CronJob),
        Just(Kind::PodTemplate),
        Just(Kind::ReplicationController),
    ]
}

fn workload() -> impl Strategy<Value = Workload> {
    (
        kind(),
        sc(pod_field()),
        0usize..4,
        prop::collection::vec(container(), 1..3),
        prop::collection::vec(container(), 0..2),
        prop::bool::weighted(0.05),
        prop::option::weighted(0.2, block()),
    )
        .prop_map(
            |(kind, pod_sc, sc_at, containers, init, windows, note)| Workload {
                kind,
                pod_sc,
                sc_at,
                containers,
                init,
                windows,
                note,
            },
        )
}

fn style() -> impl Strategy<Value = Style> {
    (
        prop_oneof![Just(2usize), Just(3), Just(4)],
        any::<bool>(),
        prop::option::weighted(0.2, 1usize..8),
        prop::bool::weighted(0.08),
    )
        .prop_map(|(indent, indentless, flow_from, json)| Style {
            indent,
            indentless,
            flow_from,
            json,
        })
}

fn doc() -> impl Strategy<Value = Doc> {
    (
        prop_oneof![
            8 => prop::collection::vec(workload(), 1..2).prop_map(Content::Workloads),
            1 => prop::collection::vec(workload(), 2..4).prop_map(Content::Workloads),
            1 => block().prop_map(Content::ConfigMap),
        ],
        style(),
        any::<bool>(),
        prop::collection::vec(any::<u8>(), 0..600),
    )
        .prop_map(|(content, style, helm_source, choices)| Doc {
            content,
            style,
            helm_source,
            choices,
        })
}

fn stream() -> impl Strategy<Value = Stream> {
    (
        prop::collection::vec(doc(), 1..4),
        prop::bool::weighted(0.3),
        prop::bool::weighted(0.1),
        prop::bool::weighted(0.85),
        any::<bool>(),
        prop::bool::weighted(0.2),
    )
        .prop_map(
            |(docs, crlf, bom, final_newline, leading_marker, end_markers)| Stream {
                docs,
                crlf,
                bom,
                final_newline,
                leading_marker,
                end_markers,
            },
        )
}

// ---------------------------------------------------------------------------------------------
// Parameters → model

const IMAGES: [&str; 4] = [
    "nginx:1.27",
    "ghcr.io/acme/api-gateway:2.3.1",
    "busybox",
    "registry.example.com/backup@sha256:0123abcd",
];
const SCRIPT: [&str; 3] = [
    "set -e",
    "echo \"starting: Grüße\" # not a comment",
    "exec app --port=8080",
];

fn security_context(sc: &Sc) -> Option<Y> {
    match sc {
        Sc::Absent => None,
        Sc::Empty(e) => Some(Y::Empty(*e)),
        Sc::Fields(fields) => {
            let mut entries: Vec<(String, Y)> = Vec::new();
            for f in fields {
                let (k, v) = field(*f);
                if !entries.iter().any(|(have, _)| have == k) {
                    entries.push((k.to_owned(), v));
                }
            }
            Some(Y::Map(entries))
        }
    }
}

fn field(f: F) -> (&'static str, Y) {
    match f {
        F::RunAsNonRoot(b) => ("runAsNonRoot", Y::Bool(b)),
        F::RunAsUser(u) => ("runAsUser", Y::Int(u)),
        F::FsGroup => ("fsGroup", Y::Int(2000)),
        F::Seccomp(t) => ("seccompProfile", map(vec![("type", s(t))])),
        F::SeccompEmpty(e) => ("seccompProfile", Y::Empty(e)),
        F::Ape(b) => ("allowPrivilegeEscalation", Y::Bool(b)),
        F::Privileged => ("privileged", Y::Bool(true)),
        F::ReadOnly => ("readOnlyRootFilesystem", Y::Bool(true)),
        F::Caps(drop, add) => {
            let mut caps = Vec::new();
            match drop {
                Drop::Absent => {}
                Drop::Empty(e) => caps.push(("drop", Y::Empty(e))),
                Drop::None => caps.push(("drop", Y::Seq(Vec::new()))),
                Drop::NetRaw => caps.push(("drop", Y::Seq(vec![s("NET_RAW")]))),
                Drop::All => caps.push(("drop", Y::Seq(vec![s("ALL")]))),
            }
            if let Some(a) = add {
                caps.push(("add", Y::Seq(vec![s(a)])));
            }
            if caps.is_empty() {
                ("capabilities", Y::Empty(Empty::Braces))
            } else {
                ("capabilities", map(caps))
            }
        }
    }
}

fn container_model(c: &Container, name: String, image: &str) -> Y {
    let mut entries = vec![
        ("name".to_owned(), Y::Str(name)),
        ("image".to_owned(), s(image)),
    ];
    if c.ports {
        entries.push((
            "ports".into(),
            Y::Seq(vec![map(vec![
                ("name", s("http")),
                ("containerPort", Y::Int(8080)),
            ])]),
        ));
    }
    if c.env {
        entries.push((
            "env".into(),
            Y::Seq(vec![
                map(vec![
                    ("name", s("GREETING")),
                    ("value", s("Grüße: 世界 # hi")),
                ]),
                map(vec![("name", s("ENABLED")), ("value", s("true"))]),
            ]),
        ));
    }
    if let Some(sc) = security_context(&c.sc) {
        let at = c.sc_at.min(entries.len());
        entries.insert(at, ("securityContext".into(), sc));
    }
    if let Some(b) = c.script {
        let lines = SCRIPT.iter().map(|l| (*l).to_owned()).collect();
        entries.push(("args".into(), Y::Seq(vec![s("-c"), Y::Block(b, lines)])));
    }
    Y::Map(entries)
}

fn pod_spec(w: &Workload, n: usize) -> Y {
    let containers = |list: &[Container], prefix: &str| {
        Y::Seq(
            list.iter()
                .enumerate()
                .map(|(i, c)| {
                    container_model(c, format!("{prefix}{i}"), IMAGES[(n + i) % IMAGES.len()])
                })
                .collect(),
        )
    };
    let mut entries = Vec::new();
    if matches!(w.kind, Kind::Job | Kind::CronJob) {
        entries.push(("restartPolicy".to_owned(), s("OnFailure")));
    }
    if w.windows {
        entries.push(("os".to_owned(), map(vec![("name", s("windows"))])));
    }
    if !w.init.is_empty() {
        entries.push(("initContainers".to_owned(), containers(&w.init, "init-")));
    }
    entries.push(("containers".to_owned(), containers(&w.containers, "app-")));
    if let Some(sc) = security_context(&w.pod_sc) {
        let at = w.sc_at.min(entries.len());
        entries.insert(at, ("securityContext".to_owned(), sc));
    }
    Y::Map(entries)
}

fn workload_model(w: &Workload, n: usize) -> Y {
    let name = format!("{}-{n}", format!("{:?}", w.kind).to_lowercase());
    let labels = map(vec![("app.kubernetes.io/name", s(&name))]);
    let mut metadata = vec![("name", s(&name)), ("labels", labels.clone())];
    if let Some(b) = w.note {
        metadata.push((
            "annotations",
            map(vec![(
                "description",
                Y::Block(
                    b,
                    vec![
                        "Generated by the property test.".into(),
                        "Grüße — 日本語".into(),
                    ],
                ),
            )]),
        ));
    }
    let template = map(vec![
        ("metadata", map(vec![("labels", labels.clone())])),
        ("spec", pod_spec(w, n)),
    ]);
    let selector = map(vec![("matchLabels", labels)]);
    let (api, spec_key, spec) = match w.kind {
        Kind::Pod => ("v1", "spec", pod_spec(w, n)),
        Kind::PodTemplate => ("v1", "template", template),
        Kind::ReplicationController => (
            "v1",
            "spec",
            map(vec![("replicas", Y::Int(1)), ("template", template)]),
        ),
        Kind::Deployment | Kind::StatefulSet | Kind::ReplicaSet => (
            "apps/v1",
            "spec",
            map(vec![
                ("replicas", Y::Int(2)),
                ("selector", selector),
                ("template", template),
            ]),
        ),
        Kind::DaemonSet => (
            "apps/v1",
            "spec",
            map(vec![("selector", selector), ("template", template)]),
        ),
        Kind::Job => (
            "batch/v1",
            "spec",
            map(vec![("backoffLimit", Y::Int(1)), ("template", template)]),
        ),
        Kind::CronJob => (
            "batch/v1",
            "spec",
            map(vec![
                ("schedule", s("*/5 * * * *")),
                (
                    "jobTemplate",
                    map(vec![("spec", map(vec![("template", template)]))]),
                ),
            ]),
        ),
    };
    map(vec![
        ("apiVersion", s(api)),
        ("kind", s(&format!("{:?}", w.kind))),
        (
            "metadata",
            Y::Map(
                metadata
                    .into_iter()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect(),
            ),
        ),
        (spec_key, spec),
    ])
}

fn doc_model(content: &Content, index: usize) -> Y {
    match content {
        Content::Workloads(ws) if ws.len() == 1 => workload_model(&ws[0], index),
        Content::Workloads(ws) => map(vec![
            ("apiVersion", s("v1")),
            ("kind", s("List")),
            (
                "items",
                Y::Seq(
                    ws.iter()
                        .enumerate()
                        .map(|(i, w)| workload_model(w, index * 10 + i))
                        .collect(),
                ),
            ),
        ]),
        Content::ConfigMap(b) => map(vec![
            ("apiVersion", s("v1")),
            ("kind", s("ConfigMap")),
            (
                "metadata",
                map(vec![("name", s(&format!("config-{index}")))]),
            ),
            (
                "data",
                map(vec![
                    ("LOG_LEVEL", s("info")),
                    (
                        "run.sh",
                        Y::Block(*b, SCRIPT.iter().map(|l| (*l).to_owned()).collect()),
                    ),
                ]),
            ),
        ]),
    }
}

// ---------------------------------------------------------------------------------------------
// Model → text

const COMMENTS: [&str; 4] = [
    "# a comment on its own line",
    "# -- Values are rendered from values.yaml",
    "#no space after the hash",
    "# 日本語のコメント: securityContext: {}",
];
const TAILS: [&str; 3] = [" # managed by Helm", "  # see values.yaml", " # 🚀"];

/// The choice stream: 0 (the plain default) once exhausted.
struct Choices<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Choices<'_> {
    fn pick(&mut self, n: usize) -> usize {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        usize::from(b) % n
    }
    /// True with about `percent` % probability; false when exhausted.
    fn chance(&mut self, percent: usize) -> bool {
        let b = self.bytes.get(self.at).copied().unwrap_or(0);
        self.at += 1;
        usize::from(b) * 100 / 256 >= 100 - percent
    }
}

struct Writer<'a> {
    out: String,
    eol: &'static str,
    step: usize,
    indentless: bool,
    flow_from: Option<usize>,
    ch: Choices<'a>,
    /// Content column of the block scalar just written, until another line follows it: a
    /// comment there or deeper would be content.
    block_col: Option<usize>,
}

/// Where a mapping entry or sequence item starts: at a column, or after `- ` at a column.
#[derive(Clone, Copy)]
enum Lead {
    At(usize),
    Dash(usize),
}

fn needs_quotes(v: &str, flow: bool) -> bool {
    const SPECIAL: &str = "-?:,[]{}#&*!|>'\"%@`";
    let lower = v.to_ascii_lowercase();
    v.is_empty()
        || v.starts_with(|c: char| SPECIAL.contains(c) || c == ' ')
        || v.ends_with(' ')
        || v.contains(": ")
        || v.contains(" #")
        || v.ends_with(':')
        || (flow && v.contains([',', '[', ']', '{', '}', ':']))
        || [
            "true", "false", "null", "~", "yes", "no", "on", "off", "y", "n",
        ]
        .contains(&lower.as_str())
        || v.parse::<f64>().is_ok()
        || v.starts_with(|c: char| c.is_ascii_digit())
}

fn double_quoted(v: &str) -> String {
    let mut q = String::from('"');
    for c in v.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

impl Writer<'_> {
    fn line(&mut self, prefix: &str, text: &str) {
        self.out.push_str(prefix);
        self.out.push_str(text);
        self.out.push_str(self.eol);
        self.block_col = None;
    }

    fn prefix(lead: Lead) -> String {
        match lead {
            Lead::At(c) => " ".repeat(c),
            Lead::Dash(d) => format!("{}- ", " ".repeat(d)),
        }
    }

    /// Maybe an own-line comment before something at `col`.
    fn comment(&mut self, col: usize) {
        if !self.ch.chance(12) {
            return;
        }
        let mut c = match self.ch.pick(3) {
            0 => col,
            1 => 0,
            _ => col + self.step,
        };
        if self.block_col.is_some_and(|b| c >= b) {
            c = 0;
        }
        let text = COMMENTS[self.ch.pick(COMMENTS.len())];
        self.line(&" ".repeat(c), text);
    }

    fn tail(&mut self) -> &'static str {
        if self.ch.chance(10) {
            TAILS[self.ch.pick(TAILS.len())]
        } else {
            ""
        }
    }

    fn key(&mut self, k: &str) -> String {
        match self.ch.pick(8) {
            0 if !k.contains('/') => format!("'{k}'"),
            1 => double_quoted(k),
            _ => k.to_owned(),
        }
    }

    fn scalar(&mut self, y: &Y, flow: bool) -> String {
        match y {
            Y::Str(v) => {
                let must = needs_quotes(v, flow);
                match self.ch.pick(6) {
                    0 if !v.contains('\n') => format!("'{}'", v.replace('\'', "''")),
                    1 => double_quoted(v),
                    _ if must => double_quoted(v),
                    _ => v.clone(),
                }
            }
            Y::Bool(b) => b.to_string(),
            Y::Int(i) => i.to_string(),
            Y::Block(b, lines) => double_quoted(&b.text(lines)),
            Y::Empty(Empty::Braces | Empty::HelmBraces) => "{}".into(),
            Y::Empty(Empty::Tilde) => "~".into(),
            Y::Empty(_) => "null".into(),
            Y::Map(_) | Y::Seq(_) => self.flow(y),
        }
    }

    fn flow(&mut self, y: &Y) -> String {
        let pad = if self.ch.chance(20) { " " } else { "" };
        match y {
            Y::Map(es) if !es.is_empty() => {
                let inner: Vec<String> = es
                    .iter()
                    .map(|(k, v)| format!("{}: {}", self.key(k), self.scalar(v, true)))
                    .collect();
                format!("{{{pad}{}{pad}}}", inner.join(", "))
            }
            Y::Map(_) => "{}".into(),
            Y::Seq(xs) if !xs.is_empty() => {
                let inner: Vec<String> = xs.iter().map(|v| self.scalar(v, true)).collect();
                format!("[{pad}{}{pad}]", inner.join(", "))
            }
            Y::Seq(_) => "[]".into(),
            other => self.scalar(other, true),
        }
    }

    fn is_flow(&mut self, y: &Y, depth: usize) -> bool {
        match y {
            Y::Map(es) if !es.is_empty() => {
                self.flow_from.is_some_and(|f| depth >= f) || self.ch.chance(4)
            }
            Y::Seq(xs) if !xs.is_empty() => {
                self.flow_from.is_some_and(|f| depth >= f) || self.ch.chance(4)
            }
            Y::Map(_) | Y::Seq(_) => true,
            _ => false,
        }
    }

    /// A block mapping whose keys are at `col`; the first entry starts at `lead`.
    fn map(&mut self, entries: &[(String, Y)], col: usize, depth: usize, lead: Lead) {
        for (i, (k, v)) in entries.iter().enumerate() {
            let lead = if i == 0 { lead } else { Lead::At(col) };
            if let Lead::At(c) = lead {
                self.comment(c);
            }
            let key = self.key(k);
            self.value(&format!("{key}:"), v, col, depth + 1, lead);
        }
    }

    /// `head` (`key:` or empty for a sequence item) followed by `v`, whose parent is at `col`.
    fn value(&mut self, head: &str, v: &Y, col: usize, depth: usize, lead: Lead) {
        let prefix = Self::prefix(lead);
        let sep = if head.is_empty() { "" } else { " " };
        if self.is_flow(v, depth) {
            let f = self.flow(v);
            let t = self.tail();
            return self.line(&prefix, &format!("{head}{sep}{f}{t}"));
        }
        match v {
            Y::Map(es) => {
                if head.is_empty() {
                    // A mapping as a sequence item: its first key follows the dash.
                    let Lead::Dash(d) = lead else { unreachable!() };
                    return self.map(es, d + 2, depth, lead);
                }
                let t = self.tail();
                self.line(&prefix, &format!("{head}{t}"));
                self.map(es, col + self.step, depth, Lead::At(col + self.step));
            }
            Y::Seq(xs) => {
                let t = self.tail();
                self.line(&prefix, &format!("{head}{t}"));
                let dash = if self.indentless && !head.is_empty() {
                    col
                } else {
                    col + self.step
                };
                for x in xs {
                    self.comment(dash);
                    self.value("", x, dash + 2, depth + 1, Lead::Dash(dash));
                }
            }
            Y::Block(b, lines) => {
                let t = self.tail();
                self.line(&prefix, &format!("{head}{sep}{}{t}", b.header()));
                let content = if head.is_empty() {
                    col.max(col + self.step - 2)
                } else {
                    col + self.step
                };
                let pad = " ".repeat(content);
                for l in lines {
                    self.line(&pad, l);
                }
                if let Block::Keep(n) = b {
                    for _ in 0..*n {
                        self.line("", "");
                    }
                }
                self.block_col = Some(content);
            }
            Y::Empty(Empty::HelmBraces) if !head.is_empty() => {
                self.line(&prefix, head);
                self.line(&" ".repeat(col + self.step), "{}");
            }
            Y::Empty(Empty::Nothing) if !head.is_empty() => {
                let t = self.tail();
                self.line(&prefix, &format!("{head}{t}"));
            }
            scalar => {
                let text = self.scalar(scalar, false);
                let t = self.tail();
                self.line(&prefix, &format!("{head}{sep}{text}{t}"));
            }
        }
    }
}

/// The stream's text and what each document must read as.
fn render(stream: &Stream) -> (String, Vec<Value>) {
    let eol = if stream.crlf { "\r\n" } else { "\n" };
    let mut out = String::new();
    if stream.bom {
        out.push('\u{feff}');
    }
    let mut expected = Vec::new();
    let mut ends_in_block = false;
    for (i, doc) in stream.docs.iter().enumerate() {
        let model = doc_model(&doc.content, i);
        expected.push(value(&model));
        if i > 0 || stream.leading_marker {
            out.push_str(if doc.helm_source && i % 2 == 1 {
                "--- # next"
            } else {
                "---"
            });
            out.push_str(eol);
        }
        if doc.helm_source && !doc.style.json {
            out.push_str(&format!("# Source: chart/templates/doc-{i}.yaml{eol}"));
        }
        if doc.style.json {
            let text = serde_json::to_string_pretty(&json(&model)).expect("JSON");
            out.push_str(&text.replace('\n', eol));
            out.push_str(eol);
            ends_in_block = false;
        } else {
            let mut w = Writer {
                out: String::new(),
                eol,
                step: doc.style.indent,
                indentless: doc.style.indentless,
                flow_from: doc.style.flow_from,
                ch: Choices {
                    bytes: &doc.choices,
                    at: 0,
                },
                block_col: None,
            };
            let Y::Map(entries) = &model else {
                unreachable!()
            };
            w.map(entries, 0, 0, Lead::At(0));
            ends_in_block = w.block_col.is_some();
            out.push_str(&w.out);
        }
        if stream.end_markers {
            out.push_str("...");
            out.push_str(eol);
            ends_in_block = false;
        }
    }
    // Dropping the final newline after block scalar content would change its value.
    if !stream.final_newline && !ends_in_block {
        out.truncate(out.len() - eol.len());
    }
    (out, expected)
}

// ---------------------------------------------------------------------------------------------
// Properties

fn options(unsafe_fixes: bool) -> Options {
    Options {
        allow: Allow {
            unsafe_fixes,
            run_as_user: None,
        },
        ..Options::default()
    }
}

/// The value at a typed path of the report.
fn at<'v>(doc: &'v Value, segs: &[Seg]) -> Option<&'v Value> {
    segs.iter().try_fold(doc, |v, seg| match seg {
        Seg::Key(k) => v.get(k.as_ref()),
        Seg::Index(i) => v.get(*i),
    })
}

/// (d): what is left of the four safe-fix checks is explained by a note.
fn fixed_or_explained(report: &FileReport) -> Result<(), String> {
    for w in report.workloads.iter().filter(|w| w.skipped.is_none()) {
        for v in w.after() {
            if SAFE_CHECKS.contains(&v.check) && !w.notes.iter().any(|n| n.check == v.check) {
                return Err(format!(
                    "{}/{}: {} still fails and no note says why: {}",
                    w.kind,
                    w.name,
                    v.check,
                    v.message()
                ));
            }
        }
    }
    Ok(())
}

fn check(text: &str, expected: &[Value]) -> Result<(), String> {
    // The generator wrote what it meant to.
    let read = documents(text).map_err(|e| format!("generator bug: invalid YAML: {e}"))?;
    if read != expected {
        return Err(format!(
            "generator bug: the text does not read as the model\nread:     {read:?}\nexpected: {expected:?}"
        ));
    }
    for unsafe_fixes in [false, true] {
        let mode = if unsafe_fixes { "--unsafe" } else { "safe" };
        let opts = options(unsafe_fixes);
        let report = process("generated.yaml", text, &opts)
            .map_err(|e| format!("[{mode}] a valid manifest was refused: {e}"))?;
        fixed_or_explained(&report).map_err(|e| format!("[{mode}] (d) {e}"))?;
        let Some(out) = &report.output else {
            continue;
        };
        let fail = |p: &str, e: String| format!("[{mode}] ({p}) {e}\n--- output ---\n{out}");
        match process("generated.yaml", out, &opts) {
            Ok(again) if again.output.is_none() => {}
            Ok(again) => {
                return Err(fail(
                    "a",
                    format!(
                        "not idempotent; again:\n{}",
                        again.output.unwrap_or_default()
                    ),
                ))
            }
            Err(e) => return Err(fail("a", format!("the output is refused: {e}"))),
        }
        let docs = documents(out).map_err(|e| fail("c", format!("output is not YAML: {e}")))?;
        if docs.len() != expected.len() {
            return Err(fail(
                "c",
                format!("{} documents in, {} out", expected.len(), docs.len()),
            ));
        }
        if unsafe_fixes {
            continue;
        }
        lines_kept(text, out).map_err(|e| fail("b", e))?;
        for (i, (a, b)) in expected.iter().zip(&docs).enumerate() {
            contains(a, b, "").map_err(|e| fail("c", format!("document {}: {e}", i + 1)))?;
        }
        for w in &report.workloads {
            for a in w.added.iter().filter(|a| a.action == Action::Added) {
                if at(&docs[w.document], a.at.segs()).is_none() {
                    return Err(fail("c", format!("reported {} is not in the output", a.at)));
                }
            }
        }
    }
    Ok(())
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(256)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: cases(),
        // Failures are kept by hand in fixtures/fuzz/, not in a proptest-regressions file.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn generated_manifests_are_fixed_losslessly(stream in stream()) {
        let (text, expected) = render(&stream);
        if let Err(e) = check(&text, &expected) {
            return Err(TestCaseError::fail(format!("{e}\n--- input ---\n{text}")));
        }
    }
}

/// The generator covers what it claims to: over a fixed set of seeds, each style appears.
#[test]
fn generator_covers_the_styles() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let mut all = String::new();
    for _ in 0..200 {
        let s = stream().new_tree(&mut runner).expect("a stream").current();
        let (text, expected) = render(&s);
        assert_eq!(
            documents(&text).as_ref(),
            Ok(&expected),
            "generator bug:\n{text}"
        );
        all.push_str(&text);
        all.push('\n');
    }
    for needle in [
        "\r\n",
        "\u{feff}",
        "   containers:",
        "    containers:",
        "\n  - name",
        "securityContext: {}",
        "securityContext:\n",
        "securityContext: null",
        "securityContext: ~",
        "{}\n",
        ": |\n",
        ": |-",
        ": |+",
        ": >\n",
        "- >-",
        "\n# ",
        " # ",
        "'",
        "\"",
        "{name: ",
        "[",
        "\"securityContext\": {",
        "\n...",
        "kind: List",
        "kind: CronJob",
    ] {
        assert!(
            all.contains(needle),
            "no generated stream contains {needle:?}"
        );
    }
}
