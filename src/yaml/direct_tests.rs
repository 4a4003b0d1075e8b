use super::{build, Read};
use crate::yaml::plain::tests::{search, EMITTER_STYLE};
use crate::yaml::Documents;

/// A kind predicate that refuses some common kinds and wants others (`Deployment`,
/// `PrometheusRule`), for the readings that stop building at a refused `kind`.
fn even(kind: &str) -> bool {
    kind.len() % 2 == 0
}

/// Every document of `text` as the reader serves it, with the direct reading or without,
/// building every tree or stopping at a `kind` [`even`] refuses.
fn read(text: &str, direct: bool, kinds: bool) -> Vec<String> {
    let docs = Documents::new(text);
    let docs = if kinds {
        docs.skimming_kinds(Box::new(even))
    } else {
        docs
    };
    let docs = if direct { docs } else { docs.parsed_only() };
    docs.map(|d| format!("{d:?}")).collect()
}

/// Whether `text` is read directly, and then exactly as saphyr's events build it (both when
/// every tree is built and when building stops at a refused `kind`).
fn reads_alike(text: &str) -> bool {
    let taken = build(text, text, None).is_some();
    if taken {
        same(text, read(text, true, false), read(text, false, false));
    }
    if build(text, text, Some(&even)).is_some() {
        same(text, read(text, true, true), read(text, false, true));
    }
    taken
}

fn same(text: &str, direct: Vec<String>, parsed: Vec<String>) {
    if direct != parsed {
        let (d, p) = (direct.join("\n"), parsed.join("\n"));
        let at = d
            .bytes()
            .zip(p.bytes())
            .position(|(a, b)| a != b)
            .unwrap_or(0);
        let from = at.saturating_sub(300);
        panic!(
            "{text:?}\ndirect: {}\nparsed: {}",
            &d[from..(at + 200).min(d.len())],
            &p[from..(at + 200).min(p.len())]
        );
    }
}

/// Literal block scalars with each chomping, escapes, quotes, flow lists, empty values.
const SHAPES: &[&str] = &[
    "a: |\n  x\n  y\n\nb: 1\n",
    "a: |-\n  x\n\n  y\n\n\nb: 1\n",
    "a: |+\n  x\n\n\nb: 1\n",
    "a: |+\n  x\n  \n",
    "a: |\n\n\n    x\n      y\n",
    "- |\n  x\n- |-\n  y\n",
    "a:\n  - |+\n    x\n\n",
    "a: \"\\x41\\u00e9\\U0001F600\\t\\\\\\\"\\/\\N\\_\\L\\P\\0\\e\\ \"\n",
    "a: 'it''s'\nb: ''\nc: \"\"\n",
    "a:\nb:\n- \n-\nc: {}\n",
    "a: [b, 'c', \"d\", [e], {f: g}]\n",
    "k: {a: [b], c: 'd'}\n",
    "'a''b': \"c\\nd\"\n",
    "a:\n  b:\n  c: d\n",
    "a:\n- b\n- c:\n  d: e\n",
    "---\na: |\n  x\n",
    "a: # c\nb: 1\n",
    "a:   \nb: 1\n",
    "- # c\n- x\n",
    "k:\n- # c\n  x: 1\n",
    "k:\n-\n  x: 1\n",
    "k:\n  - # c\n    x: 1\n",
    "k:\n- - a\n",
    "k:\n-   \n  x: 1\n",
    "k:\n- [a]\n",
    "k:\n- |\n  a\n",
    "a: # c\n",
    "a:",
    "args:\n- --config=/etc/x\n- ---\n- -1\na: --b\n",
    "a:\n  {}\nb:\n    [x, {y: z}] # c\nc:\n- k:\n    []\n",
];

#[test]
fn chosen_shapes_read_as_saphyr_reads_them() {
    for text in EMITTER_STYLE.iter().chain(SHAPES) {
        reads_alike(text);
    }
    // What it leaves to the parser.
    for text in [
        "a: >\n  x\n",
        "a: 'x\n  y'\n",
        "a: |\nb: 1\n",
        "<<: {}\n",
        "a: |\n  x",
    ] {
        assert!(build(text, text, None).is_none(), "{text:?}");
    }
}

/// The promise: a document read directly is exactly the document saphyr's events build,
/// over every real document and thousands of mutations of them.
#[test]
fn every_document_read_directly_is_the_parsed_one() {
    // A longer search, once: PSS_FIX_MUTANTS=400 cargo test --release every_document_read
    search(11, "read directly", reads_alike);
}

/// Streams: documents read directly, parsed, and the parser started over between them.
#[test]
fn streams_mix_direct_and_parsed_documents() {
    let text =
        "a: |\n  x\n---\nb: &x 1\nc: *x\n---\n# c\nd: [e]\n...\n---\nf: >\n  g\n---\nh: 'i'\n";
    assert_eq!(read(text, true, false), read(text, false, false));
    let synth = pss_fix_testkit::synth::stream(200 * 1024, 3);
    assert_eq!(read(&synth, true, false), read(&synth, false, false));
    assert_eq!(read(&synth, true, true), read(&synth, false, true));
}

/// A refused `kind` stops the building where saphyr's reading stops it, and what follows
/// it need only be valid; a wanted one, or a `kind` that is not a scalar, builds the tree.
#[test]
fn refused_kinds_stop_the_building_as_the_parsed_reading_does() {
    let unwanted = [
        "kind: Pod\ndata:\n  a: >\n    folded\n  b: 'x\n    y'\n",
        "metadata:\n  name: x\n\"kind\": 'ConfigMap'\ndata:\n  a: |\n    x\n",
        "kind: Pod\nkind: Deployment\n",
    ];
    for text in unwanted {
        assert!(
            matches!(build(text, text, Some(&even)), Some(Read::Unwanted)),
            "{text:?}"
        );
        reads_alike(text);
    }
    let built = [
        "kind: Deployment\nspec:\n  a: 1\n",
        "kind: [Pod]\nspec: 1\n",
        "spec:\n  kind: Pod\n  a: 1\n",
        "- kind: Pod\n",
        "kind: Deployment\nkind: Pod\n",
    ];
    for text in built {
        assert!(
            matches!(build(text, text, Some(&even)), Some(Read::Tree(_))),
            "{text:?}"
        );
        reads_alike(text);
    }
    // A wanted kind still leaves what the builder cannot read to the parser.
    let text = "kind: Deployment\ndata:\n  a: >\n    folded\n";
    assert!(build(text, text, Some(&even)).is_none());
}
