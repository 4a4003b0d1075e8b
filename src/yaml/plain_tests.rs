use std::path::Path;

use super::{byte_ok, printable, suspect, valid};
use crate::yaml::build::skims_as_one;
use crate::yaml::source::next_document_marker;

/// Documents in the style go-yaml's emitter and chart templates write.
pub(crate) const EMITTER_STYLE: &[&str] = &[
        "a: 1\n",
        "---\na: 1\n",
        "--- # first\napiVersion: v1\nkind: ConfigMap\n",
        "a:\n  b: c\n  d:\n  - e\n  - f: g\n    h: 'i''j' # k\nl: \"m\\u00e9\\n\"\n",
        "spec:\n  groups:\n  - name: x\n    rules:\n    - alert: A\n      expr: |-\n        sum(x)\n          > 0\n\n        # not a comment\n      for: 10m\n",
        "a:\n- - b\n  - c\n-\n  d: e\n",
        "a: []\nb: {}\nc: -1\nd: é\ne:\n",
        "a: 'one\n\n   two'\nb: c\n",
        "\"quoted key\": 1\n'single': 2\n",
        "a: >+\n\n  folded\nb: x\n",
        "# only a comment before\na: 1\n  # indented comment\n",
        "a: b#c\nd: e:f\n",
        "rules:\n- apiGroups: [\"\"] # core\n  verbs: [\"get\", 'list', watch]\n",
        "- {key: app.kubernetes.io/name, operator: In, values: [x, \"y\"]}\n- [ ]\n",
        "rules:\n- record: :node_memory:sum\n  annotations:\n    d: 'one\n\n      two\n\n'\n    e: f\n",
        "a: 'x\n'\n",
        "securityContext: {capabilities: {add: [NET_RAW]}, privileged: true}\n",
];

/// What the subset takes: the style go-yaml's emitter writes.
#[test]
fn emitter_style_is_recognised() {
    for doc in EMITTER_STYLE {
        assert!(valid(doc), "{doc:?}");
        assert!(skims_as_one(doc), "{doc:?}");
    }
}

/// The branch-free test flags exactly the bytes the byte-wise one must look at.
#[test]
fn suspect_flags_exactly_the_bytes_that_are_not_plain_ascii() {
    for c in 0..=255u8 {
        let plain = c == b'\n' || (0x20..=0x7e).contains(&c);
        assert_eq!(suspect(c), !plain, "{c:#x}");
    }
}

/// Skipping blocks decides as looking at each byte does, wherever a refused character falls
/// against the blocks (a multi-byte one across two of them too).
#[test]
fn printable_decides_as_each_byte_does() {
    let refused: [&[u8]; 9] = [
        b"\t",
        b"\r",
        b"\x7f",
        b"\xc2\x85",
        b"\xef\xbb\xbf",
        b"\xe2\x80\xa8",
        b"\xef\xbf\xbe",
        b"\x00",
        b"\x1b",
    ];
    let taken: [&[u8]; 4] = [
        "é".as_bytes(),
        "日本".as_bytes(),
        "\u{2027}".as_bytes(),
        b"\n",
    ];
    for piece in refused.iter().chain(&taken) {
        for before in (0..20).chain(60..70).chain(125..130) {
            for after in [0, 1, 2, 7, 8, 9, 64, 65] {
                let mut text = vec![b'x'; before];
                text.extend_from_slice(piece);
                text.extend(std::iter::repeat_n(b'y', after));
                let each = (0..text.len()).all(|i| byte_ok(&text, i));
                assert_eq!(printable(&text), each, "{text:?}");
                assert_eq!(each, taken.contains(piece), "{text:?}");
            }
        }
    }
}

/// What it leaves to the parser: invalid text, and valid text outside the subset.
#[test]
fn anything_else_is_not_known() {
    for doc in [
        // invalid
        "a: b: c\n",
        "a: 1\n  b: 2\n",
        "a:\n    b: 1\n  c: 2\n",
        "a: 'open\n",
        "a: \"\\q\"\n",
        "a: 1\n- b\n",
        "a: |\n    x\n  y\n",
        "a: |\n  \n    \n  x\n",
        "a: 'x'y\n",
        "a: b:\n",
        "- a\nb: c\n",
        "a: [b\n",
        "a: [b]]\n",
        "a: {b: c\n",
        "[a]: b\n",
        "- [a]: b\n",
        // valid, outside the subset
        "a: b\n  c\n",
        "a: [b, ]\n",
        "a: [b,\n  c]\n",
        "a: [*b]\n",
        "a: [b: c]\n",
        "a: {b}\n",
        "a: [[[[[b]]]]]\n",
        "a: [b c]\n",
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "? a\n: b\n",
        "a:\tb\n",
        "a: b\r\n",
        "a: |2\n   x\n",
        "scalar\n",
        "# nothing\n",
        "--- |\n  x\n",
        "a: \"b\n  c\"\n",
        "a:\n  b: 'c\nd'\n",
        "a: : b\n",
        "a: \u{85}\n",
        "\u{feff}a: 1\n",
    ] {
        assert!(!valid(doc), "{doc:?}");
    }
}

/// The documents of every file of the fixtures and the shared corpus and conformance set.
fn documents() -> Option<Vec<String>> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let shared = root.join("../shared");
    if !shared.is_dir() {
        eprintln!("../shared is absent: the corpus half of this test was not run");
        return None;
    }
    let mut files = pss_fix_testkit::manifests_under(&root.join("fixtures"));
    files.extend(pss_fix_testkit::manifests_under(&shared));
    let mut docs = Vec::new();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        let mut start = 0;
        while start < text.len() {
            let end = next_document_marker(&text, start);
            docs.push(text[start..end].to_owned());
            start = end;
        }
    }
    Some(docs)
}

/// The promise the reader relies on: whatever the subset takes, the reader (saphyr, behind
/// the dialect's rewrite where saphyr refuses) reads as exactly one document with no complex
/// key and no deep nesting. Held over every real document and thousands of mutations of them
/// (deleted and inserted characters, lines indented or outdented), where each yes is checked
/// against the reader.
#[test]
fn every_document_it_takes_saphyr_reads_as_one() {
    // A longer search, once: PSS_FIX_MUTANTS=400 cargo test --release every_document_it
    search(7, "in the subset", |text| {
        let taken = valid(text);
        if taken {
            assert!(skims_as_one(text), "taken, but saphyr refuses:\n{text}");
        }
        taken
    });
}

/// `taken` over every document of the fixtures and the shared corpus, and over mutations of a
/// sample of them (of every one, `PSS_FIX_MUTANTS` each, when that is set, for a longer
/// search in a release build). `taken` says whether a subset took the text, having asserted
/// what that promises; the subset is worth its place only if real documents are in it, and
/// the mutations only test something if some of them are.
pub(crate) fn search(seed: u64, what: &str, mut taken: impl FnMut(&str) -> bool) {
    let Some(docs) = documents() else {
        return;
    };
    let mut rng = pss_fix_testkit::synth::Rng(seed);
    let (sample, per_doc) = match std::env::var("PSS_FIX_MUTANTS").map(|n| n.parse()) {
        Ok(Ok(n)) => (1, n),
        _ => (4, 12),
    };
    let (mut docs_taken, mut mutants, mut mutants_taken) = (0, 0, 0);
    for doc in &docs {
        if taken(doc) {
            docs_taken += 1;
        }
        // Mutate a sample: the whole set in a debug build would take minutes.
        if rng.next_u64() % sample != 0 || doc.len() > 20_000 {
            continue;
        }
        for _ in 0..per_doc {
            let mutant = mutate(doc, &mut rng);
            mutants += 1;
            if taken(&mutant) {
                mutants_taken += 1;
            }
        }
    }
    eprintln!(
        "{} documents, {docs_taken} {what}; {mutants} mutants, {mutants_taken} {what}",
        docs.len()
    );
    assert!(
        docs_taken * 4 > docs.len(),
        "{docs_taken} of {}",
        docs.len()
    );
    assert!(mutants_taken * 10 > mutants, "{mutants_taken} of {mutants}");
}

/// `doc` with one to three small changes of the kinds that break YAML.
fn mutate(doc: &str, rng: &mut pss_fix_testkit::synth::Rng) -> String {
    const INSERTS: &[&str] = &[
        ":", ": ", " ", "  ", "-", "- ", "'", "\"", "#", " #", "\n", "|", ">", "[", "{", "&", "*",
        "!", "?", "\\", "\\x", "---\n", "...\n", "'\n", "a", "\u{85}", "|-", "|+", "''", "\\n",
        "\\u00e9", " \n", "\n\n",
    ];
    let mut s = doc.to_owned();
    for _ in 0..1 + rng.next_u64() % 3 {
        if s.is_empty() {
            break;
        }
        let mut at = (rng.next_u64() % s.len() as u64) as usize;
        while !s.is_char_boundary(at) {
            at -= 1;
        }
        let line = s[..at].rfind('\n').map_or(0, |i| i + 1);
        match rng.next_u64() % 5 {
            0 => {
                let len = s[at..].chars().next().map_or(0, char::len_utf8);
                s.replace_range(at..at + len, "");
            }
            1 | 2 => {
                let insert = INSERTS[(rng.next_u64() % INSERTS.len() as u64) as usize];
                s.insert_str(at, insert);
            }
            3 => s.insert_str(line, "  "),
            _ => {
                if s[line..].starts_with("  ") {
                    s.replace_range(line..line + 2, "");
                } else if s[line..].starts_with(' ') {
                    s.replace_range(line..line + 1, "");
                }
            }
        }
    }
    s
}
