//! The command-line contract (DESIGN §1), tested through the real binary.
//!
//! Every test copies what it needs from `fixtures/` into a temporary directory and runs
//! `pss-fix` there with relative paths, so diff headers are predictable and the fixtures are
//! never touched. Tests that need a terminal drive the binary through util-linux `script`
//! (a pty); when `script` is absent they print a note and pass.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use pss_fix_testkit::cmd::{fixtures, sh_quote, with_stdin};

mod support;

use support::{code, pss, run, run_stdin, stderr, stdout, Project, PSS};

// ---------------------------------------------------------------------------------------
// helpers

/// A temporary directory holding a copy of `fixtures/demo` at `<tmp>/demo`.
fn demo_copy() -> Project {
    Project::demo()
}

fn demo_file(name: &str) -> Vec<u8> {
    fs::read(fixtures().join("demo").join(name)).unwrap()
}

/// Every file under `dir` (recursively) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut map = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                if e.file_name() != ".git" {
                    stack.push(e.path());
                }
            } else if t.is_file() {
                map.insert(e.path(), fs::read(e.path()).unwrap());
            }
        }
    }
    map
}

/// `pss-fix: 3 files changed, 3 workloads fixed, 4 violations left` → (3, 3, 4).
fn parse_summary(line: &str, verb: &str) -> Option<(usize, usize, usize)> {
    let rest = line.strip_prefix("pss-fix: ")?;
    let mut parts = rest.split(", ");
    let mut num = |suffixes: [&str; 2]| -> Option<usize> {
        let p = parts.next()?;
        let (n, words) = p.split_once(' ')?;
        if !suffixes.contains(&words) {
            return None;
        }
        n.parse().ok()
    };
    let files = num([&format!("file {verb}"), &format!("files {verb}")])?;
    let workloads = num(["workload fixed", "workloads fixed"])?;
    let left = num(["violation left", "violations left"])?;
    Some((files, workloads, left))
}

fn summary(err: &str, verb: &str) -> (usize, usize, usize) {
    err.lines()
        .find_map(|l| parse_summary(l, verb))
        .unwrap_or_else(|| panic!("no summary line `pss-fix: N files {verb}, …` in stderr:\n{err}"))
}

/// The `+` content lines of a unified diff (headers excluded).
fn added_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++ "))
        .collect()
}

fn removed_lines(diff: &str) -> Vec<&str> {
    diff.lines()
        .filter(|l| l.starts_with('-') && !l.starts_with("--- "))
        .collect()
}

fn has_script() -> bool {
    let ok = Command::new("script")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("note: util-linux `script` not found; skipping the terminal part of this test");
    }
    ok
}

/// Run the binary on a pty (util-linux `script`), feeding `input` to the terminal.
/// Returns the exit status and everything the terminal showed.
fn run_on_tty(dir: &Path, args: &[&str], input: &[u8], envs: &[(&str, &str)]) -> (i32, String) {
    let cmdline = std::iter::once(PSS.0)
        .chain(args.iter().copied())
        .map(sh_quote)
        .collect::<Vec<_>>()
        .join(" ");
    let mut c = Command::new("script");
    c.args(["-qec", &cmdline, "/dev/null"])
        .current_dir(dir)
        .env("SHELL", "/bin/sh")
        .env_remove("NO_COLOR");
    for (k, v) in envs {
        c.env(k, v);
    }
    let out = with_stdin(c, input);
    let mut shown = String::from_utf8_lossy(&out.stdout).into_owned();
    shown.push_str(&String::from_utf8_lossy(&out.stderr));
    (code(&out), shown)
}

// ---------------------------------------------------------------------------------------
// --version, --help

#[test]
fn version_is_the_crate_version_not_a_policy_version() {
    let tmp = tempfile::tempdir().unwrap();
    for flag in ["--version", "-V"] {
        let o = run(tmp.path(), &[flag]);
        assert_eq!(code(&o), 0);
        let out = stdout(&o);
        assert_eq!(
            out.trim_end(),
            format!("pss-fix {}", env!("CARGO_PKG_VERSION")),
            "{flag}"
        );
        assert!(!out.contains("latest") && !out.contains("v1."), "{out}");
    }
}

#[test]
fn help_lists_subcommands_and_examples() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run(tmp.path(), &["--help"]);
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    for sub in ["check", "diff", "fix", "post-render"] {
        assert!(
            out.lines().any(|l| l.trim_start().starts_with(sub)),
            "--help does not list `{sub}`:\n{out}"
        );
    }
    assert!(out.contains("Examples:"), "{out}");
}

// ---------------------------------------------------------------------------------------
// diff

#[test]
fn diff_reports_pending_changes_and_writes_nothing() {
    let tmp = demo_copy();
    let before = snapshot(tmp.path());
    let o = run(tmp.path(), &["diff", "demo"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.starts_with("--- a/demo/"), "{out}");
    assert!(out.contains("\n+++ b/demo/"), "{out}");
    assert!(!out.contains('\x1b'), "no colour on a pipe by default");
    assert_eq!(snapshot(tmp.path()), before, "diff must not write");
}

/// Fixes are insertions: a `-` line may only be a flow container (`{}`, `[NET_RAW]`) that
/// the matching `+` line extends, never a user's value that disappears.
#[test]
fn diff_only_adds_lines_or_extends_flow_containers() {
    let tmp = demo_copy();
    let out = stdout(&run(tmp.path(), &["diff", "demo"]));
    let added = added_lines(&out);
    assert!(!added.is_empty(), "{out}");
    for removed in removed_lines(&out) {
        let body = removed[1..].trim_end();
        let kept = if let Some(b) = body.strip_suffix("{}").or_else(|| body.strip_suffix("[]")) {
            b.trim_end()
        } else if let Some(b) = body.strip_suffix(']').or_else(|| body.strip_suffix('}')) {
            b
        } else {
            panic!("removed line is not a flow container: {removed:?}\n{out}");
        };
        assert!(
            added.iter().any(|a| a[1..].starts_with(kept)),
            "removed line {removed:?} is not extended by any added line\n{out}"
        );
    }
}

#[test]
fn diff_on_fixed_copy_is_clean_and_silent() {
    let tmp = demo_copy();
    assert_eq!(code(&run(tmp.path(), &["fix", "demo"])), 0);
    let o = run(tmp.path(), &["diff", "demo"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
}

// ---------------------------------------------------------------------------------------
// fix on files

#[test]
fn fix_directory_prints_diff_writes_files_and_summary() {
    let tmp = demo_copy();
    let expected_diff = stdout(&run(tmp.path(), &["diff", "demo"]));
    let before = snapshot(tmp.path());
    let o = run(tmp.path(), &["fix", "demo"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        stdout(&o),
        expected_diff,
        "fix prints the same diff as `diff`"
    );
    let after = snapshot(tmp.path());
    for (path, bytes) in &before {
        assert_ne!(&after[path], bytes, "{} not rewritten", path.display());
    }
    let (files, workloads, left) = summary(&stderr(&o), "changed");
    assert_eq!(files, 3);
    // Fixed means passing now: node-agent got fields too, but still fails.
    assert_eq!(workloads, 2);
    assert!(left > 0, "node-agent keeps hostNetwork/hostPath");
}

/// The closing summary of each command on the demo: how many fail, what `fix` and
/// `fix --unsafe` do for them, what needs a person, and the command to run.
#[test]
fn every_command_closes_with_the_summary() {
    let tmp = demo_copy();
    let last = |o: &std::process::Output| stderr(o).lines().last().unwrap_or("").to_owned();
    let o = run(tmp.path(), &["check", "demo"]);
    assert_eq!(
        last(&o),
        "pss-fix: 3 of 3 workloads fail restricted:latest in all 3 files: 2 fixable with \
         `pss-fix fix demo`, 1 needs a person."
    );
    let o = run(tmp.path(), &["diff", "--level", "baseline", "demo"]);
    assert_eq!(
        last(&o),
        "pss-fix: 1 of 3 workloads failed baseline:latest as found in 1 of 3 files: 1 needs a \
         person."
    );
    // node-agent's `privileged: true` is for --unsafe, its hostPath volume for a person.
    let o = run(tmp.path(), &["diff", "demo/node-agent.yaml"]);
    assert_eq!(
        last(&o),
        "pss-fix: 1 of 1 workload failed restricted:latest as found: 1 needs a person."
    );
    let o = run(tmp.path(), &["fix", "demo"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        last(&o),
        "pss-fix: 3 of 3 workloads failed restricted:latest as found in all 3 files: 2 fixed, \
         1 needs a person."
    );
    let o = run(
        tmp.path(),
        &["check", "demo/web.yaml", "demo/backup-cronjob.yaml"],
    );
    assert_eq!(
        last(&o),
        "pss-fix: all 2 workloads pass restricted:latest in 2 files."
    );
    // A file that cannot be read is counted, and the paths and options given are repeated
    // in the command offered, quoted for the shell.
    fs::write(tmp.path().join("demo/bad.yaml"), "kind: [\n").unwrap();
    fs::create_dir(tmp.path().join("my k8s")).unwrap();
    fs::copy(
        tmp.path().join("demo/node-agent.yaml"),
        tmp.path().join("my k8s/a.yaml"),
    )
    .unwrap();
    // A privileged container: `--unsafe` turns privileged off, then the safe fixes fit.
    let privileged = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - \
                      name: a\n    image: x\n    securityContext: {privileged: true}\n";
    fs::write(tmp.path().join("my k8s/b.yaml"), privileged).unwrap();
    let o = run(
        tmp.path(),
        &["check", "--level", "baseline", "my k8s", "demo/bad.yaml"],
    );
    assert_eq!(code(&o), 2, "{}", stderr(&o));
    assert_eq!(
        last(&o),
        "pss-fix: 2 of 2 workloads fail baseline:latest in both files: 1 fixable with `pss-fix \
         fix --unsafe --level baseline 'my k8s' demo/bad.yaml`, 1 needs a person; 1 file could \
         not be read, processed or \
         written."
    );
}

#[test]
fn fix_twice_is_idempotent() {
    let tmp = demo_copy();
    assert_eq!(code(&run(tmp.path(), &["fix", "demo"])), 0);
    let once = snapshot(tmp.path());
    let o = run(tmp.path(), &["fix", "demo"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "", "second fix has no diff to show");
    assert_eq!(snapshot(tmp.path()), once, "second fix changed bytes");
    assert_eq!(summary(&stderr(&o), "changed").0, 0);
    assert_eq!(code(&run(tmp.path(), &["diff", "demo"])), 0);
}

#[cfg(unix)]
#[test]
fn fix_keeps_file_mode() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = demo_copy();
    let web = tmp.path().join("demo/web.yaml");
    fs::set_permissions(&web, fs::Permissions::from_mode(0o640)).unwrap();
    assert_eq!(code(&run(tmp.path(), &["fix", "demo/web.yaml"])), 0);
    assert_ne!(fs::read(&web).unwrap(), demo_file("web.yaml"), "not fixed");
    let mode = fs::metadata(&web).unwrap().permissions().mode() & 0o7777;
    assert_eq!(mode, 0o640, "mode {mode:o}");
}

#[cfg(unix)]
#[test]
fn fix_through_symlink_keeps_link_and_fixes_target() {
    let tmp = tempfile::tempdir().unwrap();
    fs::create_dir(tmp.path().join("real")).unwrap();
    fs::write(tmp.path().join("real/web.yaml"), demo_file("web.yaml")).unwrap();
    std::os::unix::fs::symlink("real/web.yaml", tmp.path().join("link.yaml")).unwrap();
    let o = run(tmp.path(), &["fix", "link.yaml"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let link = tmp.path().join("link.yaml");
    assert!(
        fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink(),
        "the link was replaced by a file"
    );
    assert_eq!(fs::read_link(&link).unwrap(), Path::new("real/web.yaml"));
    let fixed = fs::read_to_string(tmp.path().join("real/web.yaml")).unwrap();
    assert!(fixed.contains("runAsNonRoot: true"), "{fixed}");
}

#[test]
fn fix_strict_on_files_exits_1_when_violations_remain() {
    let tmp = demo_copy();
    let o = run(tmp.path(), &["fix", "--strict", "demo"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    assert_ne!(
        fs::read(tmp.path().join("demo/web.yaml")).unwrap(),
        demo_file("web.yaml"),
        "--strict still writes"
    );
}

// ---------------------------------------------------------------------------------------
// stdin / post-render

/// What `fix FILE` writes for a demo file.
fn fixed_via_file(name: &str) -> Vec<u8> {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(name), demo_file(name)).unwrap();
    let o = run(tmp.path(), &["fix", name]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    fs::read(tmp.path().join(name)).unwrap()
}

#[test]
fn fix_dash_writes_exactly_the_fixed_stream() {
    let tmp = tempfile::tempdir().unwrap();
    for name in ["web.yaml", "node-agent.yaml", "backup-cronjob.yaml"] {
        let o = run_stdin(tmp.path(), &["fix", "-"], &demo_file(name));
        assert_eq!(code(&o), 0, "{name}: {}", stderr(&o));
        assert_eq!(o.stdout, fixed_via_file(name), "{name}");
    }
}

#[test]
fn fix_dash_puts_messages_on_stderr_only() {
    let tmp = tempfile::tempdir().unwrap();
    let o = run_stdin(tmp.path(), &["fix", "-"], &demo_file("node-agent.yaml"));
    assert_eq!(code(&o), 0);
    let out = stdout(&o);
    let err = stderr(&o);
    assert!(err.contains("would violate PodSecurity"), "{err}");
    for noise in ["would violate", "pss-fix:", "--- a/", "+++ b/", "@@"] {
        assert!(!out.contains(noise), "stdout carries {noise:?}:\n{out}");
    }
}

#[test]
fn fix_without_path_and_piped_stdin_is_fix_dash() {
    let tmp = tempfile::tempdir().unwrap();
    let input = demo_file("web.yaml");
    let dash = run_stdin(tmp.path(), &["fix", "-"], &input);
    let none = run_stdin(tmp.path(), &["fix"], &input);
    assert_eq!(code(&none), 0, "{}", stderr(&none));
    assert_eq!(none.stdout, dash.stdout);
    assert_eq!(none.stdout, fixed_via_file("web.yaml"));
}

#[test]
fn post_render_is_fix_dash_and_exits_0_with_violations_left() {
    let tmp = tempfile::tempdir().unwrap();
    let input = demo_file("node-agent.yaml");
    let o = run_stdin(tmp.path(), &["post-render"], &input);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(o.stdout, fixed_via_file("node-agent.yaml"));
    assert!(stderr(&o).contains("hostNetwork"), "{}", stderr(&o));
}

#[test]
fn strict_stream_exits_1_with_violations_left_and_still_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let input = demo_file("node-agent.yaml");
    let expected = fixed_via_file("node-agent.yaml");
    for args in [
        &["post-render", "--strict"][..],
        &["fix", "--strict", "-"][..],
    ] {
        let o = run_stdin(tmp.path(), args, &input);
        assert_eq!(code(&o), 1, "{args:?}: {}", stderr(&o));
        assert_eq!(o.stdout, expected, "{args:?}");
    }
    // Nothing left to violate: --strict is clean.
    let o = run_stdin(
        tmp.path(),
        &["post-render", "--strict"],
        &demo_file("web.yaml"),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

/// Stdin redirected from a large file is mapped, not read (src/cli/text.rs): every stream
/// command says exactly what it says for the same bytes through a pipe, invalid UTF-8
/// included, and from where stdin stands in the file.
#[test]
fn stdin_from_a_large_file_reads_as_through_a_pipe() {
    let tmp = tempfile::tempdir().unwrap();
    let text = pss_fix_testkit::synth::stream(6 * 1024 * 1024, 11);
    let mut bad = text.clone().into_bytes();
    bad[5 * 1024 * 1024] = 0xFF;
    let second = text.find("\n---").unwrap() + 1;
    for (input, skip) in [(text.into_bytes(), 0), (bad.clone(), 0), (bad, second)] {
        let path = tmp.path().join("stream.yaml");
        fs::write(&path, &input).unwrap();
        for args in [&["fix", "-"][..], &["check", "-"], &["post-render"]] {
            let piped = run_stdin(tmp.path(), args, &input[skip..]);
            let mut file = fs::File::open(&path).unwrap();
            std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(skip as u64)).unwrap();
            let from_file = pss(tmp.path(), args).stdin(file).output().unwrap();
            assert_eq!(code(&from_file), code(&piped), "{args:?}");
            assert!(from_file.stdout == piped.stdout, "{args:?}: stdout differs");
            assert_eq!(stderr(&from_file), stderr(&piped), "{args:?}");
        }
    }
}

// ---------------------------------------------------------------------------------------
// post-render: what cannot be edited passes through

fn refused_stream() -> String {
    fs::read_to_string(fixtures().join("post-render/refused-documents.yaml")).unwrap()
}

/// The documents of a stream, each from its `---` line to the next.
fn documents(text: &str) -> Vec<&str> {
    let mut starts: Vec<usize> = text
        .match_indices("---\n")
        .map(|(i, _)| i)
        .filter(|&i| i == 0 || text.as_bytes()[i - 1] == b'\n')
        .collect();
    if starts.first() != Some(&0) {
        starts.insert(0, 0);
    }
    starts.push(text.len());
    starts.windows(2).map(|w| &text[w[0]..w[1]]).collect()
}

/// `line:col` (1-based) where `needle` starts in `text`.
fn line_col(text: &str, needle: &str) -> String {
    let at = text.find(needle).expect("needle in text");
    let line = text[..at].matches('\n').count() + 1;
    let col = at - text[..at].rfind('\n').map_or(0, |nl| nl + 1) + 1;
    format!("{line}:{col}")
}

/// Issue 10, item 4: a document with a duplicate key in its pod template and one that is not
/// YAML pass through byte for byte, each named on stderr; every other document comes out
/// exactly as `fix -` makes it on its own; exit 0, and 1 under `--strict`.
#[test]
fn post_render_passes_documents_it_cannot_edit_through_unchanged() {
    let tmp = tempfile::tempdir().unwrap();
    let input = refused_stream();
    let o = run_stdin(tmp.path(), &["post-render"], input.as_bytes());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let (ins, outs) = (documents(&input), documents(&out));
    assert_eq!(ins.len(), 5, "{input}");
    assert_eq!(outs.len(), ins.len(), "{out}");
    for (doc, got) in ins.iter().zip(&outs) {
        if doc.contains("name: shop-api") || doc.contains("name: shop-broken") {
            assert_eq!(got, doc, "a refused document changed");
        } else {
            let alone = run_stdin(tmp.path(), &["fix", "-"], doc.as_bytes());
            assert_eq!(code(&alone), 0, "{}", stderr(&alone));
            assert_eq!(
                *got,
                stdout(&alone),
                "a document came out unlike its own fix"
            );
        }
    }
    assert!(out.contains("name: shop-worker") && out.matches("runAsNonRoot: true").count() == 2);

    let err = stderr(&o);
    let duplicate = format!(
        "<stdin>:{}: Deployment/shop-api (shop/templates/api.yaml) passed through unchanged: duplicate key \"image\"\n",
        line_col(&input, "image: registry.example/shop-api:1.5")
    );
    assert!(err.contains(&duplicate), "{err}");
    // The line of a syntax error is the reader's to choose: somewhere in that document.
    let broken = err
        .lines()
        .find(|l| {
            l.contains("(shop/templates/broken.yaml) passed through unchanged: invalid YAML: ")
        })
        .unwrap_or_else(|| panic!("{err}"));
    let line: usize = broken.split(':').nth(1).unwrap().parse().unwrap();
    let first = input[..input.find("# Source: shop/templates/broken.yaml").unwrap()]
        .matches('\n')
        .count();
    let last = first + ins[3].lines().count();
    assert!((first..=last).contains(&line), "{broken}");
    assert!(!err.contains("render it first"), "{err}");

    let strict = run_stdin(tmp.path(), &["post-render", "--strict"], input.as_bytes());
    assert_eq!(code(&strict), 1, "{}", stderr(&strict));
    assert_eq!(strict.stdout, o.stdout);

    // `fix -` keeps its all-or-nothing contract (DESIGN §1).
    let fix = run_stdin(tmp.path(), &["fix", "-"], input.as_bytes());
    assert_eq!(code(&fix), 2, "{}", stderr(&fix));
    assert!(fix.stdout.is_empty());
}

/// Even with nothing left to fix, a passed-through document fails `--strict`: it was never
/// checked.
#[test]
fn post_render_strict_fails_on_a_passed_through_document_alone() {
    let tmp = tempfile::tempdir().unwrap();
    let input = documents(&refused_stream())[1].to_owned();
    for (args, want) in [
        (&["post-render"][..], 0),
        (&["post-render", "--strict"][..], 1),
    ] {
        let o = run_stdin(tmp.path(), args, input.as_bytes());
        assert_eq!(code(&o), want, "{args:?}: {}", stderr(&o));
        assert_eq!(stdout(&o), input);
    }
}

/// Exit 2 is for input that is not YAML at all; nothing goes to stdout then.
#[test]
fn post_render_exits_2_only_for_input_that_is_not_yaml() {
    let tmp = tempfile::tempdir().unwrap();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: i\n";
    for (input, why) in [
        (
            b"kind: Pod\nmetadata:\n  name: \xff\n".to_vec(),
            "invalid UTF-8",
        ),
        (format!("{pod}\0").into_bytes(), "binary data"),
        (b"a: [1\n---\nb: [2\n".to_vec(), "invalid YAML"),
        (b"# only a comment\n---\nb: [2\n".to_vec(), "invalid YAML"),
    ] {
        let o = run_stdin(tmp.path(), &["post-render"], &input);
        assert_eq!(code(&o), 2, "{why}: {}", stderr(&o));
        assert!(o.stdout.is_empty(), "{why}");
        assert!(stderr(&o).contains(why), "{}", stderr(&o));
    }
}

/// Directives and `...` lines a document follows without `---` bind documents together:
/// such a stream passes through whole.
#[test]
fn post_render_passes_a_stream_of_dependent_documents_through_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let refused = documents(&refused_stream())[1].to_owned();
    assert!(refused.starts_with("---\n"));
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: i\n";
    for input in [
        format!("%YAML 1.1\n{refused}"),
        format!("{pod}...\n{}", &refused["---\n".len()..]),
    ] {
        let o = run_stdin(tmp.path(), &["post-render"], input.as_bytes());
        assert_eq!(code(&o), 0, "{}", stderr(&o));
        assert_eq!(stdout(&o), input);
        assert!(
            stderr(&o).contains("the stream passed through unchanged: duplicate key"),
            "{}",
            stderr(&o)
        );
    }
}

/// A `...` line that only closes a document before the next `---` (as some charts'
/// templates write it) binds nothing: the refused document alone passes through, the pod is fixed.
#[test]
fn post_render_reads_end_markers_before_start_markers_document_by_document() {
    let tmp = tempfile::tempdir().unwrap();
    let refused = documents(&refused_stream())[1].to_owned();
    let pod = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: c\n    image: i\n";
    let input = format!("{pod}...\n{refused}...\n");
    let o = run_stdin(tmp.path(), &["post-render"], input.as_bytes());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(out.contains("runAsNonRoot: true"), "{out}");
    assert!(out.ends_with(&format!("...\n{refused}...\n")), "{out}");
    assert!(
        stderr(&o).contains(") passed through unchanged: duplicate key")
            && !stderr(&o).contains("the stream passed through"),
        "{}",
        stderr(&o)
    );
}

/// Helm's output is rendered by definition: no hint to render it first, even where `{{`
/// stands where YAML structure is (the hint stays for `fix`).
#[test]
fn post_render_never_suggests_rendering_first() {
    let tmp = tempfile::tempdir().unwrap();
    let pod = documents(&refused_stream())[4].to_owned();
    let input =
        format!("---\n{{{{- if .Values.enabled }}}}\nkind: ConfigMap\n{{{{- end }}}}\n{pod}");
    let o = run_stdin(tmp.path(), &["post-render"], input.as_bytes());
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("<stdin>:2:")
            && err.contains(": a document passed through unchanged: invalid YAML: "),
        "{err}"
    );
    assert!(!err.contains("render it first"), "{err}");
    let fix = run_stdin(tmp.path(), &["fix", "-"], input.as_bytes());
    assert_eq!(code(&fix), 2);
    assert!(stderr(&fix).contains("render it first"), "{}", stderr(&fix));
}

// ---------------------------------------------------------------------------------------
// --interactive

#[test]
fn interactive_without_terminal_refuses_and_writes_nothing() {
    let tmp = demo_copy();
    let before = snapshot(tmp.path());
    let o = run_stdin(tmp.path(), &["fix", "--interactive", "demo"], b"y\ny\ny\n");
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("terminal"), "{}", stderr(&o));
    assert_eq!(snapshot(tmp.path()), before);
}

/// Which of the three demo files (sorted: backup-cronjob, node-agent, web) were rewritten.
fn changed_demo_files(tmp: &Path) -> [bool; 3] {
    ["backup-cronjob.yaml", "node-agent.yaml", "web.yaml"]
        .map(|n| fs::read(tmp.join("demo").join(n)).unwrap() != demo_file(n))
}

/// `fix --interactive demo` on a terminal typing `answers`: it exits 0, rewrites exactly the
/// demo files marked in `changed`, and asks `questions` times.
fn assert_interactive(answers: &[u8], changed: [bool; 3], questions: usize) {
    let tmp = demo_copy();
    let (status, shown) = run_on_tty(tmp.path(), &["fix", "--interactive", "demo"], answers, &[]);
    assert_eq!(status, 0, "{shown}");
    assert_eq!(changed_demo_files(tmp.path()), changed, "{shown}");
    assert_eq!(
        shown.matches("[q]uit").count(),
        questions,
        "asked {questions} times? answers {:?}:\n{shown}",
        String::from_utf8_lossy(answers)
    );
}

#[test]
fn interactive_yes_and_no_per_file() {
    if has_script() {
        assert_interactive(b"n\ny\nn\n", [false, true, false], 3);
    }
}

#[test]
fn interactive_quit_stops_writing() {
    if has_script() {
        // No question after quit.
        assert_interactive(b"y\nq\n", [true, false, false], 2);
    }
}

#[test]
fn interactive_all_applies_the_rest() {
    if has_script() {
        // No question after all.
        assert_interactive(b"n\na\n", [false, true, true], 2);
    }
}

#[test]
fn interactive_summary_counts_only_written_files() {
    if !has_script() {
        return;
    }
    let tmp = demo_copy();
    let (_, shown) = run_on_tty(
        tmp.path(),
        &["fix", "--interactive", "demo"],
        b"n\ny\nn\n",
        &[],
    );
    let line = shown
        .lines()
        .map(|l| l.trim_matches(|c: char| c.is_control() || c == ' '))
        .find_map(|l| l.find("pss-fix: ").map(|i| &l[i..]))
        .unwrap_or_else(|| panic!("no summary:\n{shown}"));
    let (files, workloads, _) =
        parse_summary(line, "changed").unwrap_or_else(|| panic!("bad summary {line:?}"));
    // The one file written is node-agent's: fields added, but it still fails (not fixed).
    assert_eq!((files, workloads), (1, 0), "{line}");
}

// ---------------------------------------------------------------------------------------
// colour

#[test]
fn color_always_colours_the_diff() {
    let tmp = demo_copy();
    let o = run(tmp.path(), &["diff", "--color", "always", "demo"]);
    assert_eq!(code(&o), 1);
    assert!(stdout(&o).contains("\x1b["), "{}", stdout(&o));
}

#[test]
fn color_never_and_pipe_default_are_plain() {
    let tmp = demo_copy();
    for args in [
        &["diff", "--color", "never", "demo"][..],
        &["diff", "demo"][..],
    ] {
        let o = run(tmp.path(), args);
        assert_eq!(code(&o), 1);
        assert!(!o.stdout.contains(&0x1b), "{args:?}: {}", stdout(&o));
        assert!(!o.stderr.contains(&0x1b), "{args:?}: {}", stderr(&o));
    }
}

#[test]
fn color_auto_on_terminal_honours_no_color() {
    if !has_script() {
        return;
    }
    let tmp = demo_copy();
    let args = ["diff", "--color", "auto", "demo"];
    let (status, shown) = run_on_tty(tmp.path(), &args, b"", &[]);
    assert_eq!(status, 1, "{shown}");
    assert!(
        shown.contains("\x1b["),
        "auto on a terminal colours:\n{shown}"
    );
    let (status, shown) = run_on_tty(tmp.path(), &args, b"", &[("NO_COLOR", "1")]);
    assert_eq!(status, 1, "{shown}");
    assert!(
        !shown.contains('\x1b'),
        "NO_COLOR=1 still coloured:\n{shown:?}"
    );
    let o = pss(tmp.path(), &args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    assert!(!o.stdout.contains(&0x1b));
}

// ---------------------------------------------------------------------------------------
// exit status and error messages

#[test]
fn missing_path_is_error_but_other_files_are_fixed() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("web.yaml"), demo_file("web.yaml")).unwrap();
    let o = run(tmp.path(), &["fix", "no-such-file.yaml", "web.yaml"]);
    assert_eq!(code(&o), 2);
    assert!(stderr(&o).contains("no-such-file.yaml"), "{}", stderr(&o));
    assert_eq!(
        fs::read(tmp.path().join("web.yaml")).unwrap(),
        fixed_via_file("web.yaml")
    );
}

#[test]
fn invalid_yaml_is_error_with_file_line_col() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("bad.yaml"), "a: [\n").unwrap();
    fs::write(tmp.path().join("web.yaml"), demo_file("web.yaml")).unwrap();
    let o = run(tmp.path(), &["fix", "bad.yaml", "web.yaml"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    let line = err
        .lines()
        .find(|l| l.starts_with("bad.yaml:"))
        .unwrap_or_else(|| panic!("{err}"));
    let mut parts = line.splitn(4, ':');
    parts.next();
    let l = parts.next().unwrap();
    let c = parts.next().unwrap();
    assert!(
        l.parse::<u32>().is_ok() && c.parse::<u32>().is_ok(),
        "{line}"
    );
    assert!(parts.next().unwrap().starts_with(" invalid YAML"), "{line}");
    assert_eq!(fs::read(tmp.path().join("bad.yaml")).unwrap(), b"a: [\n");
    assert_eq!(
        fs::read(tmp.path().join("web.yaml")).unwrap(),
        fixed_via_file("web.yaml")
    );
}

#[test]
fn non_utf8_is_error_naming_utf8() {
    let tmp = tempfile::tempdir().unwrap();
    let bytes = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: \xff\xfe\n";
    fs::write(tmp.path().join("latin.yaml"), bytes).unwrap();
    let o = run(tmp.path(), &["fix", "latin.yaml"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("latin.yaml") && err.contains("UTF-8"), "{err}");
    assert_eq!(fs::read(tmp.path().join("latin.yaml")).unwrap(), bytes);
}

#[test]
fn unknown_level_is_error() {
    let tmp = demo_copy();
    let o = run(tmp.path(), &["diff", "--level", "strict", "demo"]);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(
        err.contains("strict") && err.contains("restricted"),
        "{err}"
    );
    assert_eq!(stdout(&o), "");
}

#[test]
fn conflicting_policy_versions_are_error() {
    let tmp = demo_copy();
    let args = [
        "diff",
        "--level",
        "restricted:v1.29",
        "--policy-version",
        "v1.30",
        "demo",
    ];
    let o = run(tmp.path(), &args);
    assert_eq!(code(&o), 2);
    let err = stderr(&o);
    assert!(err.contains("v1.29") && err.contains("v1.30"), "{err}");
    // The same version twice is fine.
    let args = [
        "diff",
        "--level",
        "restricted:v1.29",
        "--policy-version",
        "v1.29",
        "demo",
    ];
    assert_eq!(code(&run(tmp.path(), &args)), 1);
}

#[test]
fn baseline_inserts_nothing_on_demo() {
    let tmp = demo_copy();
    let o = run(tmp.path(), &["diff", "--level", "baseline", "demo"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(stdout(&o), "");
}

#[test]
fn restricted_v1_0_adds_only_run_as_non_root() {
    let tmp = demo_copy();
    let o = run(tmp.path(), &["diff", "--level", "restricted:v1.0", "demo"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    let added = added_lines(&out).join("\n");
    assert!(added.contains("runAsNonRoot: true"), "{out}");
    for absent in [
        "allowPrivilegeEscalation",
        "seccompProfile",
        "capabilities",
        "ALL",
    ] {
        assert!(!added.contains(absent), "v1.0 added {absent}:\n{out}");
    }
}

/// Beside a root init container, `runAsNonRoot: true` goes on the other container, and
/// `--run-as-user` gives that container the UID, as it gives the pod one when the `true` is
/// pod-level; the root container keeps `runAsUser: 0` without `--unsafe`.
#[test]
fn run_as_user_goes_beside_a_container_level_run_as_non_root() {
    let tmp = tempfile::tempdir().unwrap();
    let input = fs::read(fixtures().join("unsafe/root-init-container.yaml")).unwrap();
    let o = run_stdin(tmp.path(), &["fix", "--run-as-user", "1000", "-"], &input);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    let db = &out[out.find("- name: db").expect("db container")..];
    assert!(
        db.contains("runAsNonRoot: true\n          runAsUser: 1000\n"),
        "{out}"
    );
    assert!(out.contains("runAsUser: 0\n"), "{out}");
    let marks = out.lines().filter(|l| l.trim() == "runAsNonRoot: true");
    assert_eq!(marks.count(), 1, "{out}");
}

#[test]
fn policy_version_v1_8_adds_ape_but_not_seccomp() {
    let tmp = demo_copy();
    let o = run(tmp.path(), &["diff", "--policy-version", "v1.8", "demo"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    let added = added_lines(&out).join("\n");
    assert!(added.contains("allowPrivilegeEscalation: false"), "{out}");
    assert!(!added.contains("seccompProfile"), "{out}");
}

// ---------------------------------------------------------------------------------------
// check

#[test]
fn check_demo_reports_admission_style_findings() {
    let tmp = demo_copy();
    let o = run(tmp.path(), &["check", "demo"]);
    assert_eq!(code(&o), 1, "{}", stderr(&o));
    let out = stdout(&o);
    let prefix = "DaemonSet/node-agent (demo/node-agent.yaml:2): would violate PodSecurity \
                  \"restricted:latest\": host namespaces (hostNetwork=true), ";
    assert!(out.lines().any(|l| l.starts_with(prefix)), "{out}");
    for w in [
        "Deployment/web (demo/web.yaml:",
        "CronJob/backup (demo/backup-cronjob.yaml:",
    ] {
        assert!(
            out.lines().any(|l| l.starts_with(w)),
            "no line for {w}:\n{out}"
        );
    }
}

#[test]
fn check_after_fix_leaves_only_manual_findings() {
    let tmp = demo_copy();
    assert_eq!(code(&run(tmp.path(), &["fix", "demo"])), 0);
    let o = run(tmp.path(), &["check", "demo"]);
    let out = stdout(&o);
    assert_eq!(code(&o), 1, "node-agent still needs the host:\n{out}");
    // One finding line per failing workload; indented lines are details of the one above.
    let findings: Vec<&str> = out.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(findings.len(), 1, "{out}");
    assert!(findings[0].starts_with("DaemonSet/node-agent "), "{out}");
    for fixable in [
        "runAsNonRoot",
        "seccompProfile",
        "unrestricted capabilities",
    ] {
        assert!(
            !findings[0].contains(fixable),
            "{fixable} still reported:\n{out}"
        );
    }
}

#[test]
fn check_after_fix_passes_when_everything_is_fixable() {
    let tmp = tempfile::tempdir().unwrap();
    for n in ["web.yaml", "backup-cronjob.yaml"] {
        fs::write(tmp.path().join(n), demo_file(n)).unwrap();
    }
    assert_eq!(code(&run(tmp.path(), &["check", "."])), 1);
    assert_eq!(code(&run(tmp.path(), &["fix", "."])), 0);
    let o = run(tmp.path(), &["check", "."]);
    assert_eq!(code(&o), 0, "{}", stdout(&o));
    assert!(!stdout(&o).contains("would violate"), "{}", stdout(&o));
}

// ---------------------------------------------------------------------------------------
// walking

#[test]
fn walk_honours_gitignore_in_a_git_repo() {
    let tmp = tempfile::tempdir().unwrap();
    let git = Command::new("git")
        .args(["init", "-q"])
        .current_dir(tmp.path())
        .status();
    if !git.is_ok_and(|s| s.success()) {
        eprintln!("note: `git init` failed; skipping the .gitignore test");
        return;
    }
    fs::create_dir(tmp.path().join("gen")).unwrap();
    fs::write(tmp.path().join(".gitignore"), "ignored.yaml\ngen/\n").unwrap();
    for n in ["ignored.yaml", "kept.yaml", "gen/out.yaml"] {
        fs::write(tmp.path().join(n), demo_file("web.yaml")).unwrap();
    }
    let o = run(tmp.path(), &["fix", "."]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert_eq!(
        fs::read(tmp.path().join("ignored.yaml")).unwrap(),
        demo_file("web.yaml")
    );
    assert_eq!(
        fs::read(tmp.path().join("gen/out.yaml")).unwrap(),
        demo_file("web.yaml")
    );
    assert_ne!(
        fs::read(tmp.path().join("kept.yaml")).unwrap(),
        demo_file("web.yaml")
    );
    assert!(!stdout(&o).contains("ignored.yaml") && !stdout(&o).contains("gen/"));
}

#[test]
fn walk_honours_dot_ignore_without_git() {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(".ignore"), "ignored.yaml\n").unwrap();
    for n in ["ignored.yaml", "kept.yaml"] {
        fs::write(tmp.path().join(n), demo_file("web.yaml")).unwrap();
    }
    assert_eq!(code(&run(tmp.path(), &["fix", "."])), 0);
    assert_eq!(
        fs::read(tmp.path().join("ignored.yaml")).unwrap(),
        demo_file("web.yaml")
    );
    assert_ne!(
        fs::read(tmp.path().join("kept.yaml")).unwrap(),
        demo_file("web.yaml")
    );
}

#[test]
fn walk_skips_non_manifest_extensions_and_hidden_files() {
    let tmp = tempfile::tempdir().unwrap();
    for n in ["notes.txt", "web.yaml.bak", ".hidden.yaml", "web.yml"] {
        fs::write(tmp.path().join(n), demo_file("web.yaml")).unwrap();
    }
    let o = run(tmp.path(), &["fix", "."]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    for n in ["notes.txt", "web.yaml.bak", ".hidden.yaml"] {
        assert_eq!(
            fs::read(tmp.path().join(n)).unwrap(),
            demo_file("web.yaml"),
            "{n} touched"
        );
    }
    assert_ne!(
        fs::read(tmp.path().join("web.yml")).unwrap(),
        demo_file("web.yaml"),
        "*.yml not fixed"
    );
}

#[test]
fn walk_order_is_sorted_and_deterministic() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("m");
    // Created out of order, in nested directories.
    for n in ["z.yaml", "c/b.yaml", "a.yaml", "c/a.yml", "m.json"] {
        let p = root.join(n);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        if n.ends_with(".json") {
            fs::write(p, br#"{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}}"#).unwrap();
        } else {
            fs::write(p, demo_file("web.yaml")).unwrap();
        }
    }
    let first = run(tmp.path(), &["diff", "m"]);
    assert_eq!(code(&first), 1, "{}", stderr(&first));
    let out = stdout(&first);
    let headers: Vec<&str> = out
        .lines()
        .filter_map(|l| l.strip_prefix("--- a/"))
        .collect();
    assert_eq!(
        headers,
        [
            "m/a.yaml",
            "m/c/a.yml",
            "m/c/b.yaml",
            "m/m.json",
            "m/z.yaml"
        ],
        "{out}"
    );
    for _ in 0..2 {
        let again = run(tmp.path(), &["diff", "m"]);
        assert_eq!(again.stdout, first.stdout);
        assert_eq!(again.stderr, first.stderr);
    }
}

// ---------------------------------------------------------------------------------------
// broken pipe

fn large_stream(docs: usize) -> String {
    let web = String::from_utf8(demo_file("web.yaml")).unwrap();
    let mut s = String::new();
    for i in 0..docs {
        if i > 0 {
            s.push_str("---\n");
        }
        s.push_str(&web.replace("name: web\n", &format!("name: web-{i}\n")));
    }
    s
}

/// Read a few bytes of stdout, close it, and check the binary ends without a panic.
fn assert_quiet_on_closed_pipe(mut child: std::process::Child) {
    let mut out = child.stdout.take().unwrap();
    let mut buf = [0u8; 16];
    out.read_exact(&mut buf).expect("some output");
    drop(out);
    let o = child.wait_with_output().unwrap();
    let err = stderr(&o);
    assert!(!err.contains("panicked"), "{err}");
    assert!(!err.to_lowercase().contains("broken pipe"), "{err}");
    assert_ne!(o.status.code(), Some(101), "{err}");
    assert!(
        o.status.code().is_some(),
        "killed by a signal: {:?}",
        o.status
    );
}

#[test]
fn diff_into_closed_pipe_exits_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    for i in 0..20 {
        fs::write(
            tmp.path().join(format!("big-{i:02}.yaml")),
            large_stream(200),
        )
        .unwrap();
    }
    let child = pss(tmp.path(), &["diff", "."])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert_quiet_on_closed_pipe(child);
}

#[test]
fn fix_dash_into_closed_pipe_exits_quietly() {
    let tmp = tempfile::tempdir().unwrap();
    let input = large_stream(2000);
    let mut child = pss(tmp.path(), &["fix", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(input.as_bytes());
    });
    assert_quiet_on_closed_pipe(child);
    writer.join().unwrap();
}
