//! The bad-input matrix: every kind of hostile or malformed input, run through the real
//! binary (`pss-fix fix FILE` on a temporary copy, or `pss-fix fix -` for streams), with the
//! exit status, the first message, the file's state afterwards, the wall time and the child's
//! peak memory (`ru_maxrss` from `wait4`) all checked.
//!
//! Each test prints one `ROW` line (`cargo test --test bad_input -- --nocapture | grep ^ROW`):
//! the bad-input table in docs/safety.md is made from them.

use std::fs;
use std::io::{Read, Write};
use std::path::Path;
use std::process::{ChildStdin, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

mod support;

use pss_fix_testkit::cmd;

/// Every case must finish well within this (a debug build, two CPUs, tests in parallel).
const TIME_LIMIT: Duration = Duration::from_secs(8);
/// The watchdog kills a child that runs this long (the test then fails on its time).
const KILL_AFTER: Duration = Duration::from_secs(60);
/// Peak memory allowed for hostile input: the 256 MiB input limit plus the process itself.
const RSS_LIMIT_KIB: i64 = 300 * 1024;
/// Peak memory for small inputs (an alias bomb, a deep document): nothing is expanded.
const SMALL_RSS_LIMIT_KIB: i64 = 64 * 1024;

// ---------------------------------------------------------------------------------------
// running the binary and measuring it

type Feed = Box<dyn FnOnce(ChildStdin) + Send>;

struct Observed {
    /// `None` when the child was ended by a signal.
    code: Option<i32>,
    signal: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    elapsed: Duration,
    /// Peak resident set size of the child, KiB (`ru_maxrss`): an upper bound when it does not
    /// exceed `inherited_kib`.
    max_rss_kib: i64,
    /// This test process's peak RSS when it spawned the child (see [`own_peak_rss_kib`]).
    inherited_kib: i64,
}

impl Observed {
    /// The first line of stderr: the message about the input.
    fn message(&self) -> &str {
        self.stderr.lines().next().unwrap_or("")
    }

    fn exit(&self) -> String {
        match (self.code, self.signal) {
            (Some(c), _) => c.to_string(),
            (None, Some(s)) => format!("signal {s}"),
            _ => "?".into(),
        }
    }

    /// Exited by itself (no signal: no stack overflow, no abort, no OOM kill) with `code`.
    fn assert_exit(&self, code: i32, what: &str) {
        assert_eq!(
            self.signal, None,
            "{what}: killed by signal {:?} (a crash, or the watchdog); stderr:\n{}",
            self.signal, self.stderr
        );
        assert_eq!(
            self.code,
            Some(code),
            "{what}: exit status; stderr:\n{}",
            self.stderr
        );
    }

    fn assert_time(&self, what: &str) {
        assert!(
            self.elapsed < TIME_LIMIT,
            "{what}: took {:?} (limit {TIME_LIMIT:?})",
            self.elapsed
        );
    }

    fn assert_rss(&self, limit_kib: i64, what: &str) {
        assert!(
            self.max_rss_kib < limit_kib,
            "{what}: peak RSS {} MiB (limit {} MiB){}",
            self.max_rss_kib / 1024,
            limit_kib / 1024,
            if self.inherited_kib >= limit_kib {
                format!(
                    "; not measurable: this test process itself peaked at {} MiB",
                    self.inherited_kib / 1024
                )
            } else {
                String::new()
            }
        );
    }

    /// The peak memory for the table: exact, or "≤" when it is the inherited bound.
    fn rss(&self) -> String {
        if self.max_rss_kib > self.inherited_kib {
            format!("{} MiB", self.max_rss_kib / 1024)
        } else {
            format!("≤ {} MiB", self.max_rss_kib / 1024)
        }
    }
}

/// This process's own peak RSS (`VmHWM`), KiB.
///
/// `std` spawns children with `posix_spawn` (a vfork), and Linux carries the peak RSS of the
/// address space a process had before `exec` into its `ru_maxrss`: a child's reported peak is
/// therefore at least this test process's own peak. Tests keep that small (see
/// [`quiet_panics`]) and every measurement is checked against it.
fn own_peak_rss_kib() -> i64 {
    let status = fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Panics print their message and location only: symbolizing a backtrace (RUST_BACKTRACE)
/// loads this binary's debug info, over 100 MiB, into the test process, and every child
/// spawned afterwards would inherit that as its measured peak.
fn quiet_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let thread = thread::current();
            eprintln!(
                "thread '{}' panicked at {}:\n{}",
                thread.name().unwrap_or("?"),
                info.location().map_or("?".into(), |l| l.to_string()),
                info.payload()
                    .downcast_ref::<String>()
                    .map(String::as_str)
                    .or_else(|| info.payload().downcast_ref::<&str>().copied())
                    .unwrap_or("(non-string panic payload)")
            );
        }));
    });
}

/// Run `pss-fix ARGS` in `dir`, optionally feeding stdin from a thread, and reap it with
/// `wait4` to learn its peak memory.
fn run_measured(dir: &Path, args: &[&str], feed: Option<Feed>) -> Observed {
    quiet_panics();
    let mut cmd = support::pss(dir, args);
    cmd.env("NO_COLOR", "1")
        .stdin(if feed.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let inherited_kib = own_peak_rss_kib();
    let start = Instant::now();
    let mut child = cmd.spawn().expect("spawn pss-fix");
    let pid = child.id() as libc::pid_t;
    let feeder = feed.map(|f| {
        let stdin = child.stdin.take().unwrap();
        thread::spawn(move || f(stdin))
    });
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let out_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let err_reader = thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let (done, finished) = mpsc::channel::<()>();
    let watchdog = thread::spawn(move || {
        if finished.recv_timeout(KILL_AFTER).is_err() {
            // SAFETY: plain syscall on our own, not yet reaped, child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    });
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our child; status and usage are valid for writes.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        assert_eq!(e.kind(), std::io::ErrorKind::Interrupted, "wait4: {e}");
    }
    let elapsed = start.elapsed();
    let _ = done.send(());
    watchdog.join().unwrap();
    if let Some(f) = feeder {
        f.join().unwrap();
    }
    let stdout = out_reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&err_reader.join().unwrap()).into_owned();
    drop(child); // already reaped by wait4; dropping a Child neither waits nor kills
    let (code, signal) = if libc::WIFEXITED(status) {
        (Some(libc::WEXITSTATUS(status)), None)
    } else if libc::WIFSIGNALED(status) {
        (None, Some(libc::WTERMSIG(status)))
    } else {
        (None, None)
    };
    Observed {
        code,
        signal,
        stdout,
        stderr,
        elapsed,
        max_rss_kib: usage.ru_maxrss,
        inherited_kib,
    }
}

/// `pss-fix fix NAME` on a temporary copy holding `bytes`: what was observed, and the bytes
/// the file holds afterwards (the directory must hold nothing else: no temporary file left).
fn fix_file(name: &str, bytes: &[u8]) -> (Observed, Vec<u8>) {
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join(name), bytes).unwrap();
    let o = run_measured(tmp.path(), &["fix", "--color", "never", name], None);
    let after = fs::read(tmp.path().join(name)).unwrap();
    assert_only(tmp.path(), &[name]);
    (o, after)
}

/// `dir` holds exactly these names (no `.pss-fix-*.tmp` or anything else was left).
fn assert_only(dir: &Path, names: &[&str]) {
    let found = cmd::names(dir);
    let mut want: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    want.sort();
    assert_eq!(found, want, "files in {}", dir.display());
}

/// One row of the bad-input table (docs/safety.md), printed for `--nocapture`.
fn row(input: &str, o: &Observed, state: &str) {
    let message = match o.message() {
        "" => "—".to_string(),
        m => format!("`{}`", m.replace('|', "\\|")),
    };
    println!(
        "ROW | {input} | {message} | {} | {state} | {:.2} s, {} |",
        o.exit(),
        o.elapsed.as_secs_f64(),
        o.rss()
    );
}

/// The input is refused: exit 2, exactly this message first, the file byte-identical.
fn refused(name: &str, bytes: &[u8], message: &str, input: &str) -> Observed {
    let (o, after) = fix_file(name, bytes);
    o.assert_exit(2, input);
    assert_eq!(o.message(), message, "{input}: message");
    assert!(after == bytes, "{input}: the file was changed");
    assert!(
        o.stdout.is_empty(),
        "{input}: a diff was shown for a refused file"
    );
    o.assert_time(input);
    o.assert_rss(SMALL_RSS_LIMIT_KIB, input);
    row(input, &o, "unchanged");
    o
}

/// The input is valid and has nothing to fix: exit 0, no message but the summary, no diff,
/// the file byte-identical.
fn left_alone(name: &str, bytes: &[u8], input: &str) -> Observed {
    let (o, after) = fix_file(name, bytes);
    o.assert_exit(0, input);
    assert!(
        o.message().starts_with("pss-fix: 0 files changed"),
        "{input}: {}",
        o.stderr
    );
    assert!(after == bytes, "{input}: the file was changed");
    assert!(o.stdout.is_empty(), "{input}: a diff was shown");
    o.assert_time(input);
    o.assert_rss(SMALL_RSS_LIMIT_KIB, input);
    row(input, &o, "unchanged (byte-identical)");
    o
}

/// The input is valid and has workloads to fix: exit 0, and the file holds exactly what the
/// library produces for it, which an independent YAML reader accepts.
fn fixed(name: &str, text: &str, input: &str) -> String {
    let want = pss_fix::process(name, text, &pss_fix::Options::default())
        .expect("the library accepts it")
        .output
        .expect("the library fixes it");
    let (o, after) = fix_file(name, text.as_bytes());
    o.assert_exit(0, input);
    let after = String::from_utf8(after).unwrap();
    assert_eq!(after, want, "{input}: the file holds something else");
    for doc in serde_yaml_ng::Deserializer::from_str(&after) {
        let _: serde_yaml_ng::Value =
            serde::Deserialize::deserialize(doc).expect("the fixed file is valid YAML");
    }
    o.assert_time(input);
    row(input, &o, "fixed (exactly the library's output)");
    after
}

const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: a\n";

// ---------------------------------------------------------------------------------------
// invalid YAML

#[test]
fn invalid_yaml_is_refused_with_its_position() {
    refused(
        "bad.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x: y\nspec:\n  containers:\n  - name: a\n    image: a\n",
        "bad.yaml:4:10: invalid YAML: mapping values are not allowed in this context",
        "invalid YAML (`name: x: y` on line 4)",
    );
}

#[test]
fn unclosed_flow_sequence_is_refused_at_end_of_file() {
    refused(
        "bad.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: a\n    image: [b\n",
        "bad.yaml:9:1: invalid YAML: while parsing a flow sequence, expected ',' or ']'",
        "invalid YAML (unclosed `[` on line 8)",
    );
}

// ---------------------------------------------------------------------------------------
// encodings and binary data

#[test]
fn latin1_is_refused_at_the_first_bad_byte() {
    refused(
        "latin1.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: caf\xe9\n",
        "latin1.yaml:4:12: invalid UTF-8; pss-fix edits UTF-8 text only",
        "non-UTF-8 (Latin-1 `\\xe9` on line 4)",
    );
}

fn utf16(text: &str, big_endian: bool, bom: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let units = if bom { Some(0xFEFF) } else { None }
        .into_iter()
        .chain(text.encode_utf16());
    for u in units {
        out.extend(if big_endian {
            u.to_be_bytes()
        } else {
            u.to_le_bytes()
        });
    }
    out
}

#[test]
fn utf16_with_bom_is_refused() {
    let msg = "u.yaml: file is UTF-16; pss-fix edits UTF-8 only (convert it with `iconv -f UTF-16 -t UTF-8`)";
    refused(
        "u.yaml",
        &utf16(POD, false, true),
        msg,
        "UTF-16 LE with BOM",
    );
    refused("u.yaml", &utf16(POD, true, true), msg, "UTF-16 BE with BOM");
}

#[test]
fn utf16_without_bom_is_refused_as_binary() {
    refused(
        "u.yaml",
        &utf16(POD, false, false),
        "u.yaml:1:2: binary data (a NUL byte): not a YAML or JSON manifest",
        "UTF-16 LE without BOM",
    );
}

#[test]
fn binary_files_are_refused() {
    refused(
        "image.yaml",
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01",
        "image.yaml:3:1: binary data (a NUL byte): not a YAML or JSON manifest",
        "binary (a PNG header)",
    );
    refused(
        "prog.yaml",
        b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0",
        "prog.yaml:1:8: binary data (a NUL byte): not a YAML or JSON manifest",
        "binary (an ELF header)",
    );
}

// ---------------------------------------------------------------------------------------
// empty and comment-only files

#[test]
fn empty_file_is_left_alone() {
    left_alone("empty.yaml", b"", "empty file (0 bytes)");
    left_alone("blank.yaml", b"  \n\n", "only blank lines");
    left_alone(
        "markers.yaml",
        b"---\n...\n---\n",
        "only `---`/`...` markers",
    );
}

#[test]
fn comments_only_file_is_left_alone() {
    left_alone(
        "comments.yaml",
        b"# nothing here yet\n  # indented comment\n---\n# another document, also empty\n",
        "only comments",
    );
}

// ---------------------------------------------------------------------------------------
// huge inputs

const GIB: u64 = 1024 * 1024 * 1024;

/// A 1 GiB sparse file (no disk cost): refused before it is read, quickly.
#[test]
fn one_gib_file_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("big.yaml");
    fs::File::create(&path).unwrap().set_len(GIB).unwrap();
    let before = fs::metadata(&path).unwrap();
    let o = run_measured(tmp.path(), &["fix", "--color", "never", "big.yaml"], None);
    let input = "1 GiB file (sparse, all NUL)";
    o.assert_exit(2, input);
    assert_eq!(
        o.message(),
        "big.yaml: larger than 256 MiB; refusing to read it"
    );
    let after = fs::metadata(&path).unwrap();
    assert_eq!(after.len(), GIB);
    assert_eq!(after.modified().unwrap(), before.modified().unwrap());
    assert_only(tmp.path(), &["big.yaml"]);
    row(input, &o, "unchanged");
}

/// The same, with the memory bound: the file must be refused from its size alone, never read
/// into memory.
#[test]
fn one_gib_file_is_refused_in_bounded_memory_and_time() {
    let tmp = tempfile::tempdir().unwrap();
    fs::File::create(tmp.path().join("big.yaml"))
        .unwrap()
        .set_len(GIB)
        .unwrap();
    let o = run_measured(tmp.path(), &["fix", "--color", "never", "big.yaml"], None);
    o.assert_exit(2, "1 GiB file");
    o.assert_rss(SMALL_RSS_LIMIT_KIB, "1 GiB file");
    o.assert_time("1 GiB file");
}

/// A generator writing `total` bytes of `chunk` repeated into the child's stdin; a closed
/// pipe (the child stopped reading) ends it quietly.
fn repeat_into(chunk: Vec<u8>, total: u64) -> Feed {
    Box::new(move |mut stdin: ChildStdin| {
        let mut written = 0u64;
        while written < total {
            if stdin.write_all(&chunk).is_err() {
                return;
            }
            written += chunk.len() as u64;
        }
    })
}

#[test]
fn one_gib_stream_on_stdin_is_refused_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let chunk = pss_fix_testkit::synth::stream(1024 * 1024, 7).into_bytes();
    let o = run_measured(
        tmp.path(),
        &["fix", "-"],
        Some(repeat_into(chunk, GIB + 64 * 1024 * 1024)),
    );
    let input = "1 GiB+ of manifests on stdin (`fix -`)";
    o.assert_exit(2, input);
    assert_eq!(
        o.message(),
        "pss-fix: <stdin>: larger than 256 MiB; refusing to read it"
    );
    assert!(o.stdout.is_empty(), "a partial stream reached stdout");
    o.assert_rss(RSS_LIMIT_KIB, input);
    o.assert_time(input);
    row(input, &o, "nothing on stdout");
}

// ---------------------------------------------------------------------------------------
// deep nesting: an error, never a stack overflow

const DEEP: usize = 100_000;

/// A flow collection nested 100,000 deep on one line: refused at line 1 (the parser's
/// recursion limit or pss-fix's own nesting limit), the file byte-identical.
fn assert_flow_too_deep(text: &str, input: &str) {
    let (o, after) = fix_file("deep.yaml", text.as_bytes());
    o.assert_exit(2, input);
    let m = o.message();
    assert!(
        m.starts_with("deep.yaml:1:")
            && (m.contains("recursion limit exceeded") || m.contains("nesting deeper")),
        "{m}"
    );
    assert_eq!(after, text.as_bytes());
    o.assert_time(input);
    o.assert_rss(SMALL_RSS_LIMIT_KIB, input);
    row(input, &o, "unchanged");
}

#[test]
fn flow_sequences_100k_deep_are_refused() {
    assert_flow_too_deep(&"[".repeat(DEEP), "`[` × 100,000");
}

#[test]
fn flow_mappings_100k_deep_are_refused() {
    assert_flow_too_deep(&"{a: ".repeat(DEEP), "`{a: ` × 100,000");
}

#[test]
fn compact_block_sequences_100k_deep_are_refused() {
    let text = "- ".repeat(DEEP) + "x\n";
    refused(
        "deep.yaml",
        text.as_bytes(),
        "deep.yaml:1:513: nesting deeper than 256 levels; refusing to edit",
        "`- ` × 100,000 (nested block sequences on one line)",
    );
}

/// `item` on each of `depth` lines, each indented by `step` more than the one before.
fn nested_by_indentation(step: &str, item: &str, depth: usize) -> String {
    (0..depth).map(|i| step.repeat(i) + item).collect()
}

/// Block mappings nested by indentation: 100,000 levels need 5 GB of indentation, so the file
/// case uses 3,000 levels (4.5 MB) and the full depth goes through stdin below.
#[test]
fn indented_mappings_3000_deep_are_refused() {
    let text = nested_by_indentation(" ", "a:\n", 3000);
    refused(
        "deep.yaml",
        text.as_bytes(),
        "deep.yaml:257:257: nesting deeper than 256 levels; refusing to edit",
        "`a:` mappings nested 3,000 deep by indentation (4.5 MB)",
    );
}

#[test]
fn indented_sequences_3000_deep_are_refused() {
    let text = nested_by_indentation("  ", "-\n", 3000);
    refused(
        "deep.yaml",
        text.as_bytes(),
        "deep.yaml:257:513: nesting deeper than 256 levels; refusing to edit",
        "`-` sequences nested 3,000 deep by indentation (9 MB)",
    );
}

#[test]
fn indented_mappings_100k_deep_on_stdin_are_refused_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let feed: Feed = Box::new(|mut stdin: ChildStdin| {
        let spaces = vec![b' '; DEEP];
        for i in 0..DEEP {
            if stdin.write_all(&spaces[..i]).is_err() || stdin.write_all(b"a:\n").is_err() {
                return;
            }
        }
    });
    let o = run_measured(tmp.path(), &["fix", "-"], Some(feed));
    let input = "`a:` mappings nested 100,000 deep by indentation (5 GB) on stdin";
    o.assert_exit(2, input);
    assert_eq!(
        o.message(),
        "pss-fix: <stdin>: larger than 256 MiB; refusing to read it"
    );
    assert!(o.stdout.is_empty());
    o.assert_rss(RSS_LIMIT_KIB, input);
    o.assert_time(input);
    row(input, &o, "nothing on stdout");
}

// ---------------------------------------------------------------------------------------
// alias bombs

/// The classic billion laughs: 9 levels of 9 aliases, 9^9 ≈ 387 million leaves if expanded.
fn laughs(indent: &str) -> String {
    let mut s = format!("{indent}l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..=9 {
        let prev = format!("*l{}", i - 1);
        let items = [prev.as_str(); 9].join(", ");
        s.push_str(&format!("{indent}l{i}: &l{i} [{items}]\n"));
    }
    s
}

#[test]
fn billion_laughs_outside_workloads_is_left_alone_quickly() {
    let text = format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: lol\ndata:\n{}",
        laughs("  ")
    );
    let o = left_alone(
        "lol.yaml",
        text.as_bytes(),
        "billion laughs (9×9 aliases) in a ConfigMap",
    );
    assert!(o.max_rss_kib < SMALL_RSS_LIMIT_KIB);
    // The same at the top level of a document with no kind at all.
    left_alone(
        "lol.yaml",
        laughs("").as_bytes(),
        "billion laughs as a bare document",
    );
}

#[test]
fn billion_laughs_inside_a_pod_template_is_refused() {
    let mut text = String::from(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: lol\nspec:\n  template:\n    spec:\n      containers:\n",
    );
    text.push_str("      - name: c0\n        image: a\n        args: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..=9 {
        let prev = format!("*l{}", i - 1);
        let items = [prev.as_str(); 9].join(", ");
        text.push_str(&format!(
            "      - name: c{i}\n        image: a\n        args: &l{i} [{items}]\n"
        ));
    }
    refused(
        "lol.yaml",
        text.as_bytes(),
        "lol.yaml:26:30: aliases expand to more than 250000 nodes (an alias bomb?); refusing to read this document",
        "billion laughs (9×9 aliases) inside a Deployment's pod template",
    );
}

#[test]
fn alias_where_a_fix_must_go_holds_back_that_workload() {
    let bytes =
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/refuse/alias-in-pod.yaml"))
            .unwrap();
    let input = "an alias inside a pod (`securityContext: *shared`) where the fix must go";
    let (o, after) = fix_file("alias.yaml", &bytes);
    o.assert_exit(0, input);
    assert!(after == bytes, "{input}: the file was changed");
    assert!(
        o.stderr.contains("alias.yaml:11:22: not fixed: spec.containers[0].securityContext is an alias: the fix would have to be written inside the anchored node it names"),
        "{input}: {}",
        o.stderr
    );
    row(input, &o, "unchanged, the reason on stderr");
}

#[test]
fn aliases_away_from_the_fixes_are_read_and_the_workload_fixed() {
    let text = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: &labels\n    app: web\nspec:\n  selector:\n    matchLabels: *labels\n  template:\n    metadata:\n      labels: *labels\n    spec:\n      containers:\n      - name: web\n        image: web\n        env: &env\n        - name: A\n          value: \"1\"\n      - <<: &side {image: sidecar, imagePullPolicy: Always}\n        name: sidecar\n        env: *env\n";
    let after = fixed(
        "labels.yaml",
        text,
        "an anchor on the labels aliased into the pod template; a container with a merge key",
    );
    assert!(after.contains("        env: *env\n        securityContext:\n          allowPrivilegeEscalation: false"), "{after}");
    assert!(
        after.contains("  securityContext:\n        runAsNonRoot: true"),
        "{after}"
    );
}

// ---------------------------------------------------------------------------------------
// duplicate keys, tabs

#[test]
fn duplicate_keys_in_a_workload_are_refused() {
    refused(
        "dup.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: dup\nspec:\n  containers:\n  - name: a\n    image: a\n    image: b\n",
        "dup.yaml:9:5: duplicate key \"image\"",
        "duplicate key in a workload",
    );
}

#[test]
fn duplicate_keys_outside_workloads_are_left_alone() {
    left_alone(
        "dup.yaml",
        b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: \"1\"\n  a: \"2\"\n",
        "duplicate key in a ConfigMap",
    );
}

#[test]
fn tab_indentation_is_refused() {
    refused(
        "tabs.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n\tname: tabs\n",
        "tabs.yaml:4:2: invalid YAML: tabs disallowed within this context (block indentation)",
        "a tab as indentation",
    );
}

#[test]
fn tab_after_a_key_is_read() {
    // go-yaml (and libyaml) skip a tab after a key's `:`, where no simple key may start.
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name:\tx\nspec:\n  containers:\n  - name:\ta\n    image: a\n";
    let after = fixed("tabs.yaml", text, "a tab after `key:`");
    assert!(after.starts_with(text), "the original bytes are kept");
}

#[test]
fn tabs_elsewhere_are_kept_and_the_pod_fixed() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: t\t# a tab before a comment\nspec:\n  containers:\n  - name: a\n    image: \"a\tb\"\n    args: [\t\"x\",\t\"y\"]\n";
    let after = fixed(
        "tabs.yaml",
        text,
        "tabs inside quotes, flow lists and before comments",
    );
    assert!(after.starts_with(text), "the original bytes are kept");
}

// ---------------------------------------------------------------------------------------
// documents that are not objects, unknown kinds

#[test]
fn scalar_and_list_documents_are_left_alone() {
    left_alone("scalar.yaml", b"hello\n", "a document that is a scalar");
    left_alone("list.yaml", b"- a\n- b: c\n", "a document that is a list");
    left_alone(
        "pods.yaml",
        b"- apiVersion: v1\n  kind: Pod\n  metadata:\n    name: p\n  spec:\n    containers:\n    - name: a\n      image: a\n",
        "a list of Pods (no `kind: List` around it)",
    );
}

#[test]
fn scalar_and_list_documents_beside_a_pod_stay_byte_identical() {
    let head = "just a string\n---\n- a\n- b\n---\n";
    let after = fixed(
        "mixed.yaml",
        &format!("{head}{POD}"),
        "a scalar, a list and a Pod in one stream",
    );
    assert!(after.starts_with(head));
}

#[test]
fn unknown_kinds_are_left_alone() {
    left_alone(
        "widget.yaml",
        b"apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  containers:\n  - name: a\n    image: a\n",
        "unknown kind (`Widget` with a pod-like spec)",
    );
    left_alone(
        "crd.yaml",
        b"apiVersion: example.com/v1\nkind: Deployment\nmetadata:\n  name: x\nspec:\n  template:\n    spec:\n      containers:\n      - name: a\n        image: a\n",
        "`kind: Deployment` of another API group",
    );
    left_alone(
        "nokind.yaml",
        b"metadata:\n  name: x\nspec:\n  containers:\n  - name: a\n    image: a\n",
        "an object without `kind`",
    );
}

// ---------------------------------------------------------------------------------------
// Helm template sources

const HELM_HINT: &str = "this looks like an unrendered Helm template (`{{ … }}`), not rendered YAML: render it first (`helm template … | pss-fix fix -`, or use the post-renderer)";

#[test]
fn helm_template_in_a_key_position_is_refused() {
    let bytes = fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/refuse/helm-template-source.yaml"),
    )
    .unwrap();
    refused(
        "deployment.yaml",
        &bytes,
        &format!("deployment.yaml:4:10: {HELM_HINT}"),
        "Helm source: `name: {{ include … }}`",
    );
    refused(
        "pod.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n    resources: {{ toYaml .Values.resources | nindent 6 }}\n",
        &format!("pod.yaml:9:17: {HELM_HINT}"),
        "Helm source: `resources: {{ toYaml … }}`",
    );
}

#[test]
fn helm_control_flow_is_refused_with_a_hint() {
    refused(
        "pod.yaml",
        b"{{- if .Values.enabled }}\napiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: nginx\n{{- end }}\n",
        "pod.yaml:1:3: invalid YAML: \"-\" is only valid inside a block (the file contains `{{ … }}`: if it is a Helm template, render it first with `helm template`)",
        "Helm source: `{{- if … }}` … `{{- end }}`",
    );
}

/// `{{ }}` inside quoted strings is valid YAML and common in rendered manifests (Argo
/// Workflows parameters, Prometheus alert templates): it is text, and the pod is fixed.
#[test]
fn braces_inside_quoted_strings_are_text() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: web\n    image: \"{{ .Values.image }}\"\n";
    let after = fixed("pod.yaml", text, "`{{ … }}` only inside quoted strings");
    assert!(after.contains("image: \"{{ .Values.image }}\""));
}

/// Issue 10: braces in a block scalar or a quoted one are text, so a file that fails to
/// parse for another reason gets no advice to render it (Helm 4's kube-prometheus-stack
/// stream was told to, for its alert descriptions).
#[test]
fn braces_that_are_text_get_no_render_hint() {
    let input = "`{{ … }}` in a quoted and a block scalar, and an unclosed flow sequence";
    let bytes = b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\n  annotations:\n    summary: '{{ $labels.pod }} is down'\nspec:\n  containers:\n  - name: web\n    command: |\n      echo {{ .Names }}\n    image: nginx\n    args: [a, b\n";
    let (o, after) = fix_file("pod.yaml", bytes);
    o.assert_exit(2, input);
    assert!(after == bytes, "{input}: the file was changed");
    let message = o.message();
    assert!(
        message.starts_with("pod.yaml:1") && message.contains("invalid YAML"),
        "{message}"
    );
    assert!(!message.contains("render it first"), "{message}");
    row(input, &o, "unchanged");
}

// ---------------------------------------------------------------------------------------
// wrong value types

#[test]
fn wrong_value_types_are_refused() {
    let bytes =
        fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/refuse/wrong-type.yaml"))
            .unwrap();
    refused(
        "pod.yaml",
        &bytes,
        "pod.yaml:7:19: spec.securityContext.runAsNonRoot: expected a boolean, found a string (\"yes\")",
        "`runAsNonRoot: \"yes\"`",
    );
    refused(
        "pod.yaml",
        b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers: {}\n",
        "pod.yaml:6:15: spec.containers: expected an array, found an object",
        "`containers: {}`",
    );
}

// ---------------------------------------------------------------------------------------
// terminal control characters

/// A name with YAML escapes for ESC and BEL (`"\e[2J\e]0;pwned\a"`: clear the screen, set
/// the window title) must not reach the terminal raw: with `--color never` no output byte
/// may be ESC or BEL.
#[test]
fn control_characters_from_the_input_are_not_printed_raw() {
    let text = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: \"x\\e[2J\\e]0;pwned\\a\"\nspec:\n  containers:\n  - name: a\n    image: a\n";
    let tmp = tempfile::tempdir().unwrap();
    fs::write(tmp.path().join("esc.yaml"), text).unwrap();
    for command in ["check", "diff", "fix"] {
        let o = run_measured(tmp.path(), &[command, "--color", "never", "esc.yaml"], None);
        let raw = |b: &[u8]| b.iter().any(|&c| c == 0x1b || c == 0x07);
        assert!(
            !raw(&o.stdout) && !raw(o.stderr.as_bytes()),
            "{command}: raw control characters in the output:\n{}{}",
            String::from_utf8_lossy(&o.stdout),
            o.stderr
        );
    }
}
