//! Throughput of pss-fix on one large synthetic stream, as ratios to a baseline taken in the same
//! run on the same bytes.
//!
//! # What it measures
//!
//! The input is [`pss_fix::synth::stream`]: a multi-document, Helm-like manifest stream of
//! `PSS_BENCH_MB` MiB (default 32), also written to a temporary file for the binary runs.
//!
//! | row                        | what is timed                                                   |
//! |----------------------------|-----------------------------------------------------------------|
//! | parser events (baseline)   | `saphyr_parser::Parser::new_from_str` pulling every event       |
//! | engine::process (in-proc)  | `pss_fix::engine::process` with default options (incl. verify)  |
//! | fix - (binary, end to end) | spawn `pss-fix fix -`, stdin from the file, stdout to a file    |
//! | check - (binary)           | spawn `pss-fix check -`, stdin from the file, stdout discarded  |
//! | fix - peak RSS             | `ru_maxrss` of the `fix -` child, from `wait4(2)`               |
//!
//! Throughput is input megabytes (10^6 bytes) per second of wall time. Each row gets one warm-up
//! and three timed repetitions; the table shows the best, its ratio to the baseline's best, and
//! the median. Peak RSS is the largest `ru_maxrss` over the timed `fix -` runs, also given as a
//! multiple of the input size. It is read per child with `wait4`, so no other process the bench
//! spawns (such as `cargo build`) can leak into it, which `getrusage(RUSAGE_CHILDREN)` would allow.
//!
//! Before timing anything the bench checks its own premises and panics if one fails: the engine
//! must fix the stream, a second engine pass over its output must find nothing left to change,
//! and the binary's `fix -` output must be non-empty, larger than the input and byte-identical
//! to the engine's output.
//!
//! # How to run
//!
//! ```text
//! cargo bench --bench throughput
//! PSS_BENCH_MB=64 cargo bench --bench throughput
//! ```
//!
//! The binary is `target/release/pss-fix` (or `$CARGO_TARGET_DIR/release/pss-fix`); unless
//! `PSS_FIX_BIN` is set the bench first runs `cargo build --release --bin pss-fix`, a no-op when
//! it is fresh, so the binary is built from the same sources as the in-process engine.
//!
//! Under `cargo test --benches` (no `--bench` argument) it runs as a smoke test instead: a
//! 1 MiB stream, the engine sanity check and one repetition of the in-process rows, no binary.
//!
//! # Environment
//!
//! - `PSS_BENCH_MB`: input size in MiB (fractions allowed; default 32).
//! - `PSS_BENCH_SEED`: generator seed (default 1).
//! - `PSS_FIX_BIN`: path of the `pss-fix` binary to run; skips the `cargo build`.
//! - `CARGO_TARGET_DIR`: honoured when locating the binary.
//!
//! Linux/Unix only (uses `wait4` from `libc`).

use std::fs::File;
use std::hint::black_box;
use std::io;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use pss_fix::engine::{self, Options};

const MIB: usize = 1024 * 1024;

struct Config {
    bytes: usize,
    seed: u64,
    warmups: usize,
    reps: usize,
    binary: bool,
}

fn config() -> Config {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let bench = std::env::args().any(|a| a == "--bench");
    let mb: f64 = match std::env::var("PSS_BENCH_MB") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("PSS_BENCH_MB={v:?} is not a number of MiB")),
        Err(_) if bench => 32.0,
        Err(_) => 1.0,
    };
    assert!(mb > 0.0, "PSS_BENCH_MB must be positive");
    let seed = match std::env::var("PSS_BENCH_SEED") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("PSS_BENCH_SEED={v:?} is not a u64")),
        Err(_) => 1,
    };
    Config {
        bytes: (mb * MIB as f64) as usize,
        seed,
        warmups: usize::from(bench),
        reps: if bench { 3 } else { 1 },
        binary: bench,
    }
}

/// Best and median wall time of `reps` runs after `warmups` untimed ones.
struct Timing {
    best: Duration,
    median: Duration,
}

fn time(cfg: &Config, mut f: impl FnMut()) -> Timing {
    for _ in 0..cfg.warmups {
        f();
    }
    let mut runs: Vec<Duration> = (0..cfg.reps)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    runs.sort();
    Timing {
        best: runs[0],
        median: runs[runs.len() / 2],
    }
}

fn mb_per_s(bytes: usize, d: Duration) -> f64 {
    bytes as f64 / 1e6 / d.as_secs_f64()
}

fn parse_events(s: &str) -> usize {
    let mut n = 0usize;
    for ev in saphyr_parser::Parser::new_from_str(s) {
        let ev = ev.unwrap_or_else(|e| panic!("baseline parser rejected the stream: {e}"));
        black_box(&ev);
        n += 1;
    }
    n
}

/// The release binary, built first unless `PSS_FIX_BIN` names one.
fn locate_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("PSS_FIX_BIN") {
        let p = PathBuf::from(p);
        assert!(p.is_file(), "PSS_FIX_BIN={} does not exist", p.display());
        return p;
    }
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(|t| manifest.join(t))
        .unwrap_or_else(|| manifest.join("target"));
    let bin = target.join("release").join("pss-fix");
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("building: cargo build --release --bin pss-fix");
    let built = Command::new(cargo)
        .args(["build", "--release", "--bin", "pss-fix"])
        .current_dir(manifest)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .output();
    match built {
        Ok(o) if o.status.success() => {}
        Ok(o) if bin.is_file() => {
            // Other work in the tree may be mid-edit; a stale binary is caught by the
            // byte-for-byte comparison with the engine's output below.
            let log = String::from_utf8_lossy(&o.stderr);
            let first = log.lines().find(|l| l.starts_with("error")).unwrap_or("");
            eprintln!(
                "warning: cargo build failed ({}: {first}); using the existing {}",
                o.status,
                bin.display()
            )
        }
        Err(e) if bin.is_file() => {
            eprintln!(
                "warning: cannot run cargo ({e}); using the existing {}",
                bin.display()
            )
        }
        Ok(o) => panic!(
            "cannot build {}:\n{}",
            bin.display(),
            String::from_utf8_lossy(&o.stderr)
        ),
        Err(e) => panic!("cannot run cargo to build {}: {e}", bin.display()),
    }
    assert!(
        bin.is_file(),
        "{} is missing after the build",
        bin.display()
    );
    bin
}

/// One finished child: how it ended and its peak resident set in KiB.
struct Run {
    status: ExitStatus,
    maxrss_kib: u64,
}

/// Run `bin cmd -` with stdin from `input`, stdout to `out`, stderr to `err`, and reap it with
/// `wait4` to get this child's own `ru_maxrss`.
fn run_binary(bin: &Path, cmd: &str, input: &Path, out: Stdio, err: &Path) -> Run {
    let child = Command::new(bin)
        .args([cmd, "-"])
        .stdin(File::open(input).expect("open bench input"))
        .stdout(out)
        .stderr(File::create(err).expect("create stderr file"))
        .spawn()
        .unwrap_or_else(|e| panic!("cannot spawn {}: {e}", bin.display()));
    let pid = child.id() as libc::pid_t;
    let mut status: libc::c_int = 0;
    // SAFETY: `rusage` is plain old data, so all-zero bytes are a valid value.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: both pointers are to live, writable locals; `pid` is our unreaped child.
        // `child` is never waited on through std, so the pid is reaped exactly once, here.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = io::Error::last_os_error();
        assert!(e.kind() == io::ErrorKind::Interrupted, "wait4({pid}): {e}");
    }
    drop(child);
    Run {
        status: ExitStatus::from_raw(status),
        // Linux reports ru_maxrss in KiB.
        maxrss_kib: u64::try_from(usage.ru_maxrss).unwrap_or(0),
    }
}

/// `fix -` and `check -` exit 0 (clean) or 1 (findings); 2 or a signal is a failed run.
fn expect_ok(run: &Run, cmd: &str, err: &Path) {
    if !matches!(run.status.code(), Some(0 | 1)) {
        let msg = std::fs::read_to_string(err).unwrap_or_default();
        let tail: String = msg.lines().take(20).collect::<Vec<_>>().join("\n");
        panic!("pss-fix {cmd} - failed ({}):\n{tail}", run.status);
    }
}

struct Row {
    label: &'static str,
    timing: Timing,
}

fn main() {
    let cfg = config();

    let t = Instant::now();
    let text = pss_fix::synth::stream(cfg.bytes, cfg.seed);
    let gen_time = t.elapsed();
    let n = text.len();

    // Sanity: the engine fixes the stream, and its output is a fixed point.
    let fixed = engine::process("bench", &text, &Options::default())
        .unwrap_or_else(|e| panic!("engine::process failed on the synthetic stream: {e}"));
    let documents = fixed.documents;
    let fixed = fixed
        .output
        .expect("engine::process changed nothing: the synthetic stream has no violations to fix");
    assert!(fixed.len() > n, "fixed output is not larger than the input");
    let again = engine::process("bench-again", &fixed, &Options::default())
        .unwrap_or_else(|e| panic!("engine::process failed on its own output: {e}"));
    assert!(
        again.output.is_none(),
        "engine::process is not idempotent: a second pass over its output changed it again"
    );

    let mut rows = Vec::new();
    let mut events = 0;
    rows.push(Row {
        label: "parser events (baseline)",
        timing: time(&cfg, || events = black_box(parse_events(black_box(&text)))),
    });
    rows.push(Row {
        label: "engine::process (in-proc)",
        timing: time(&cfg, || {
            let r = engine::process("bench", black_box(&text), &Options::default());
            black_box(r.expect("engine::process failed"));
        }),
    });

    let mut peak_kib = None;
    if cfg.binary {
        let bin = locate_binary();
        let dir = tempfile::tempdir().expect("create temp dir");
        let input = dir.path().join("input.yaml");
        let output = dir.path().join("output.yaml");
        let err = dir.path().join("stderr.txt");
        std::fs::write(&input, &text).expect("write bench input");

        // Sanity: the binary writes what the engine computed.
        let sink = || Stdio::from(File::create(&output).expect("create bench output"));
        let run = run_binary(&bin, "fix", &input, sink(), &err);
        expect_ok(&run, "fix", &err);
        let out = std::fs::read(&output).expect("read bench output");
        assert!(!out.is_empty(), "pss-fix fix - wrote nothing");
        assert!(
            out.len() > n,
            "pss-fix fix - output is not larger than its input"
        );
        assert!(
            out == fixed.as_bytes(),
            "pss-fix fix - output differs from engine::process output (stale binary?)"
        );
        drop(out);

        let mut peak = 0;
        rows.push(Row {
            label: "fix - (binary, end to end)",
            timing: time(&cfg, || {
                let run = run_binary(&bin, "fix", &input, sink(), &err);
                expect_ok(&run, "fix", &err);
                peak = peak.max(run.maxrss_kib);
            }),
        });
        peak_kib = Some(peak);
        rows.push(Row {
            label: "check - (binary)",
            timing: time(&cfg, || {
                let run = run_binary(&bin, "check", &input, Stdio::null(), &err);
                expect_ok(&run, "check", &err);
            }),
        });
    }

    println!();
    println!(
        "input: {:.1} MB synthetic Helm-like stream ({documents} documents, {events} parser events, seed {}, generated in {:.2} s)",
        n as f64 / 1e6,
        cfg.seed,
        gen_time.as_secs_f64()
    );
    println!(
        "{} warm-up + {} timed repetition(s); best MB/s, ratio to baseline best, median",
        cfg.warmups, cfg.reps
    );
    let base = mb_per_s(n, rows[0].timing.best);
    for row in &rows {
        let best = mb_per_s(n, row.timing.best);
        let median = mb_per_s(n, row.timing.median);
        println!(
            "{:<27}: {:>6.1} MB/s  {:>5.2}x   (median {:.1} MB/s)",
            row.label,
            best,
            best / base,
            median
        );
    }
    if let Some(kib) = peak_kib {
        let bytes = kib as f64 * 1024.0;
        println!(
            "{:<27}: {:>6.0} MiB   {:>5.1}x input",
            "fix - peak RSS",
            bytes / MIB as f64,
            bytes / n as f64
        );
    }
}
