//! A run of the command line: read each input, hand it to the engine, show diffs and
//! findings, write files, and fold every outcome into one exit status. One bad file is
//! reported and the run goes on.

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::path::Path;

use crate::cli::{Cli, ColorChoice, Command, Common, Inputs};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use crate::cli::text::{Bytes, Text};
use crate::cli::walk::{self, Input};
use crate::cli::write;
use crate::cli::PolicyArgs;
use pss_fix::report::{self, diff, Format, Outcome, Run, Totals};
use pss_fix::{Allow, Config, Context, Error, FileReport, Options, Policy};

/// The exit status, decided in one place (DESIGN §1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum ExitStatus {
    /// Clean, or nothing to do.
    Clean = 0,
    /// Findings (check), pending changes (diff), or violations left under `--strict`.
    Findings = 1,
    /// An input could not be read, parsed or safely edited.
    Error = 2,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Check,
    Diff,
    Fix { interactive: bool },
}

/// Buffers per vectored write: Linux's limit (`IOV_MAX`), and the BSDs' and macOS's.
const IOV_MAX: usize = 1024;

/// Pieces shorter than this are copied together; longer ones are written where they lie.
const SMALL_PIECE: usize = 4096;

/// Copied pieces are written once they fill this much.
const STAGED: usize = 64 * 1024;

/// `pieces` written in order, in vectored writes: runs of short pieces (a fixed run's new
/// lines, the input's lines between them) copied together, long ones (the input between
/// fixes) handed over where they lie. Copying everything into one large buffer cost a copy
/// of the whole output and a page fault per 4 KiB of it (a quarter of kube-prometheus-stack's
/// `post-render` faults); a buffer per piece made a large stream's many short pieces slow
/// for the kernel to walk.
fn write_pieces<'s>(o: &mut impl Write, pieces: impl Iterator<Item = &'s str>) -> io::Result<()> {
    enum Slot<'s> {
        Piece(&'s [u8]),
        Staged(std::ops::Range<usize>),
    }
    fn write(o: &mut impl Write, slots: &[Slot<'_>], staged: &[u8]) -> io::Result<()> {
        let mut bufs: Vec<io::IoSlice<'_>> = slots
            .iter()
            .map(|slot| match slot {
                Slot::Piece(bytes) => io::IoSlice::new(bytes),
                Slot::Staged(range) => io::IoSlice::new(&staged[range.clone()]),
            })
            .collect();
        write_all_vectored(o, &mut bufs)
    }
    let mut slots: Vec<Slot<'s>> = Vec::new();
    let mut staged: Vec<u8> = Vec::new();
    for piece in pieces.map(str::as_bytes).filter(|p| !p.is_empty()) {
        if piece.len() < SMALL_PIECE {
            let start = staged.len();
            staged.extend_from_slice(piece);
            match slots.last_mut() {
                Some(Slot::Staged(range)) if range.end == start => range.end = staged.len(),
                _ => slots.push(Slot::Staged(start..staged.len())),
            }
        } else {
            slots.push(Slot::Piece(piece));
        }
        if slots.len() == IOV_MAX || staged.len() >= STAGED {
            write(o, &slots, &staged)?;
            slots.clear();
            staged.clear();
        }
    }
    write(o, &slots, &staged)
}

/// All of `bufs` written, as `Write::write_all` writes one buffer.
fn write_all_vectored(o: &mut impl Write, mut bufs: &mut [io::IoSlice<'_>]) -> io::Result<()> {
    while !bufs.is_empty() {
        match o.write_vectored(bufs) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => io::IoSlice::advance_slices(&mut bufs, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Runs over at least this many files show a progress line on a terminal.
const PROGRESS_FROM: usize = 50;

/// Where output goes; every write is checked so a closed pipe ends the run quietly.
struct Out {
    color: bool,
    /// A progress line is on screen and must be cleared before anything else is said.
    progress: std::cell::Cell<bool>,
}

impl Out {
    fn stdout(&self, s: &str) -> io::Result<()> {
        let mut o = io::stdout().lock();
        o.write_all(s.as_bytes())?;
        o.flush()
    }

    /// Many pieces (slices of the input, a fixed run's new lines between them), written
    /// without a write per piece: see [`write_pieces`].
    fn stdout_pieces<'s>(&self, pieces: impl Iterator<Item = &'s str>) -> io::Result<()> {
        let mut o = io::stdout().lock();
        write_pieces(&mut o, pieces)?;
        o.flush()
    }

    fn diff(&self, d: &str) -> io::Result<()> {
        // On a terminal, the file's own control characters are shown escaped; into a pipe
        // the diff stays byte-exact, so `git apply` and `patch` can use it.
        let d = if io::stdout().is_terminal() {
            report::sanitize(d)
        } else {
            std::borrow::Cow::Borrowed(d)
        };
        if self.color {
            self.stdout(&diff::colorize(&d))
        } else {
            self.stdout(&d)
        }
    }

    fn stderr(&self, s: &str) {
        if s.is_empty() {
            return;
        }
        let s = report::sanitize(s);
        let mut e = io::stderr().lock();
        if self.progress.take() {
            let _ = e.write_all(b"\r\x1b[2K");
        }
        let _ = e.write_all(s.as_bytes());
    }

    fn progress(&self, s: &str) {
        let _ = write!(io::stderr().lock(), "\r\x1b[2K{s}");
        self.progress.set(true);
    }
}

fn use_color(choice: ColorChoice) -> bool {
    match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()) && io::stdout().is_terminal()
        }
    }
}

pub fn run(cli: Cli) -> io::Result<ExitStatus> {
    match cli.command {
        Command::Check(i) => run_paths(&i, Mode::Check, false),
        Command::Diff(i) => run_paths(&i, Mode::Diff, false),
        Command::Fix(f) => run_paths(
            &f.inputs,
            Mode::Fix {
                interactive: f.interactive,
            },
            f.strict,
        ),
        Command::Values(ref v) => crate::cli::values::run(v),
        Command::Completions { shell } => {
            let mut out = Vec::new();
            crate::cli::shell::completions(shell, &mut out);
            io::stdout().lock().write_all(&out)?;
            Ok(ExitStatus::Clean)
        }
        Command::Patch(p) => crate::cli::patch::run(&p),
        Command::Man => {
            let mut out = Vec::new();
            crate::cli::shell::man_page(&mut out)?;
            io::stdout().lock().write_all(&out)?;
            Ok(ExitStatus::Clean)
        }
        Command::PostRender(ref p) | Command::Krm(ref p) => {
            let Some(mut setup) = setup(&p.common, None) else {
                return Ok(ExitStatus::Error);
            };
            setup.opts.resource_list = matches!(cli.command, Command::Krm(_));
            // Helm (or kustomize) is mid-install: a document pss-fix cannot edit goes on as
            // it came rather than failing the install (DESIGN §1).
            setup.opts.pass_through = true;
            let out = Out {
                color: false,
                progress: Default::default(),
            };
            stream(&out, setup, p.common.format, p.strict)
        }
    }
}

/// What a run decided before reading any input: the options, and how each file's level is
/// chosen (`--level` > the configuration's path globs > its default > `restricted:latest`;
/// `--policy-version` then sets the version).
pub(super) struct Setup {
    pub(super) opts: Options,
    args: PolicyArgs,
}

impl Setup {
    fn new(common: &Common, first_path: Option<&Path>) -> Result<Setup, String> {
        let args = crate::cli::resolve_policy(common)?;
        let config = match &common.config {
            Some(file) => Config::load(file).map_err(|e| e.to_string())?,
            None => {
                let start = first_path
                    .filter(|p| p.as_os_str() != "-")
                    .unwrap_or(Path::new("."));
                match Config::discover(start) {
                    Some(file) => Config::load(&file).map_err(|e| e.to_string())?,
                    None => Config::default(),
                }
            }
        };
        let allow = Allow {
            unsafe_fixes: common.unsafe_fixes,
            run_as_user: common.run_as_user.or(config.run_as_user),
        };
        let level_locked = args.explicit.is_some();
        let mut setup = Setup {
            opts: Options {
                policy: Policy::default(),
                allow,
                resource_list: false,
                findings_only: false,
                one_thread: false,
                pass_through: false,
                context: Arc::new(Context {
                    config,
                    namespaces: HashMap::new(),
                    level_locked,
                }),
            },
            args,
        };
        setup.opts.policy = setup.policy_for(None);
        Ok(setup)
    }

    fn policy_for(&self, file: Option<&Path>) -> Policy {
        if let Some(p) = self.args.explicit {
            return p;
        }
        let config = &self.opts.context.config;
        let mut p = file
            .and_then(|f| config.level_for(f))
            .or(config.level)
            .unwrap_or_default();
        if let Some(v) = self.args.version {
            p.version = v;
        }
        p
    }

    /// Options for one file.
    pub(super) fn options_for(&self, file: Option<&Path>) -> Options {
        Options {
            policy: self.policy_for(file),
            ..self.opts.clone()
        }
    }

    /// Learn the levels of the Namespace objects in these texts.
    pub(super) fn learn_namespaces<'t>(&mut self, texts: impl Iterator<Item = &'t str>) {
        let mut namespaces = HashMap::new();
        for text in texts {
            pss_fix::scan_namespaces(text, &mut namespaces);
        }
        if !namespaces.is_empty() {
            let ctx = &self.opts.context;
            self.opts.context = Arc::new(Context {
                config: ctx.config.clone(),
                namespaces,
                level_locked: ctx.level_locked,
            });
        }
    }
}

pub(super) fn setup(common: &Common, first_path: Option<&Path>) -> Option<Setup> {
    match Setup::new(common, first_path) {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("pss-fix: {e}");
            None
        }
    }
}

/// One input's name, text and what the engine made of it.
type Processed = Result<(String, Text, FileReport), Error>;

fn run_paths(inputs: &Inputs, mode: Mode, strict: bool) -> io::Result<ExitStatus> {
    let Some(mut setup) = setup(&inputs.common, inputs.paths.first().map(PathBuf::as_path)) else {
        return Ok(ExitStatus::Error);
    };
    // `check` in text form shows findings only; the structured forms also say which
    // findings `fix` resolves, so they plan and verify the fixes.
    setup.opts.findings_only = mode == Mode::Check && inputs.common.format == Format::Text;
    let out = Out {
        color: use_color(inputs.common.color),
        progress: Default::default(),
    };
    let Some(paths) = paths_to_read(inputs, mode, &out) else {
        return Ok(ExitStatus::Error);
    };
    let (inputs_found, walk_errors) = walk::inputs(&paths);
    if inputs_found == [Input::Stdin] && matches!(mode, Mode::Fix { .. }) {
        return fix_stdin(&out, setup, inputs.common.format, strict, walk_errors);
    }
    let processed = load_and_process(&mut setup, &inputs_found);
    let mut run = PathRun {
        out,
        setup,
        mode,
        strict,
        text: inputs.common.format == Format::Text,
        status: ExitStatus::Clean,
        totals: Totals::default(),
        outcomes: Vec::new(),
        apply_all: false,
        fix_commands: fix_commands(inputs),
    };
    for (p, e) in walk_errors {
        run.failed(Error::new(p.to_string_lossy(), None, e));
    }
    run.files(&inputs_found, processed)?;
    run.finish(inputs.common.format)
}

/// The command that applies this run's fixes, as the user would type it: `pss-fix fix`, the
/// options that change what it does, the paths; and the same with `--unsafe`. Only what
/// the user gave is repeated, so the command means the same in the same directory.
fn fix_commands(inputs: &Inputs) -> (String, String) {
    let c = &inputs.common;
    let mut args: Vec<String> = Vec::new();
    let mut option = |name: &str, value: Option<String>| {
        if let Some(v) = value {
            args.push(name.to_owned());
            args.push(v);
        }
    };
    option("--level", c.level.clone());
    option("--policy-version", c.policy_version.clone());
    option("--config", c.config.as_ref().map(|p| display(p)));
    option("--run-as-user", c.run_as_user.map(|u| u.to_string()));
    let paths: Vec<String> = if inputs.paths.is_empty() {
        vec!["-".to_owned()]
    } else {
        inputs.paths.iter().map(|p| display(p)).collect()
    };
    let line = |unsafe_fixes: bool| {
        let mut words = vec!["pss-fix".to_owned(), "fix".to_owned()];
        if unsafe_fixes {
            words.push("--unsafe".to_owned());
        }
        words.extend(args.iter().chain(&paths).map(|w| shell_word(w)));
        words.join(" ")
    };
    (line(c.unsafe_fixes), line(true))
}

/// `w` as one shell word: as it is when it is plainly safe, else in single quotes.
fn shell_word(w: &str) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c);
    if !w.is_empty() && w.chars().all(plain) {
        w.to_owned()
    } else {
        format!("'{}'", w.replace('\'', "'\\''"))
    }
}

/// The paths to walk (`-` when none is given and a stream is piped in), or `None`, said on
/// stderr, when the command line asks for what cannot be done.
fn paths_to_read(inputs: &Inputs, mode: Mode, out: &Out) -> Option<Vec<PathBuf>> {
    let stdin_piped = !io::stdin().is_terminal();
    if inputs.paths.is_empty() && !stdin_piped {
        out.stderr("pss-fix: no input: give files or directories, or pipe a stream and use `-`\n");
        return None;
    }
    if let Mode::Fix { interactive: true } = mode {
        if stdin_piped {
            out.stderr("pss-fix: --interactive needs a terminal on stdin to ask its questions; run `pss-fix diff` to review, then `pss-fix fix` without --interactive\n");
            return None;
        }
    }
    let paths = if inputs.paths.is_empty() {
        vec!["-".into()]
    } else {
        inputs.paths.clone()
    };
    if matches!(mode, Mode::Fix { .. })
        && paths.len() > 1
        && paths.iter().any(|p| p.as_os_str() == "-")
    {
        out.stderr("pss-fix: `fix -` writes the fixed stream to stdout and cannot be combined with other paths\n");
        return None;
    }
    Some(paths)
}

/// `fix -`: the stream, then the paths the walk could not find.
fn fix_stdin(
    out: &Out,
    setup: Setup,
    format: Format,
    strict: bool,
    walk_errors: Vec<(PathBuf, String)>,
) -> io::Result<ExitStatus> {
    let s = stream(out, setup, format, strict)?;
    let walk_failed = !walk_errors.is_empty();
    for (p, e) in walk_errors {
        out.stderr(&format!("{}: {e}\n", p.display()));
    }
    Ok(if walk_failed {
        s.max(ExitStatus::Error)
    } else {
        s
    })
}

/// Every input read once (within the size limit) before any is judged, since Namespace
/// labels anywhere in the input set the level of workloads everywhere in it; then each
/// checked and fixed, in input order.
fn load_and_process(setup: &mut Setup, inputs_found: &[Input]) -> Vec<Processed> {
    // Every input is read and decoded first, on every core: the Namespace objects among them
    // set the level of workloads anywhere, so they are learnt before any is judged, from the
    // decoded text (one UTF-8 check per input).
    let inputs: Vec<&Input> = inputs_found.iter().collect();
    let decoded: Vec<Result<(String, Text), Error>> = parallel_map(inputs, |_, input| {
        let (name, bytes) = read(input)?;
        let text = bytes.decode(&name)?;
        Ok((name, text))
    });
    setup.learn_namespaces(
        decoded
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .map(|(_, text)| &**text),
    );
    // Files are checked and fixed on every core; what follows is said in input order. With
    // several files, each is processed on one thread: the files already share out the cores.
    let many = decoded.len() > 1;
    let setup = &*setup;
    parallel_map(decoded, |i, decoded| {
        let (name, text) = decoded?;
        let mut opts = setup.options_for(match &inputs_found[i] {
            Input::File { path, .. } => Some(path.as_path()),
            Input::Stdin => None,
        });
        opts.one_thread = many;
        let report = pss_fix::process(&name, &text, &opts)?;
        Ok((name, text, report))
    })
}

/// The state of a run over paths: what has been said, counted and decided so far.
struct PathRun {
    out: Out,
    setup: Setup,
    mode: Mode,
    strict: bool,
    /// Text output is streamed per file; other formats are rendered at the end.
    text: bool,
    status: ExitStatus,
    totals: Totals,
    outcomes: Vec<Outcome>,
    apply_all: bool,
    /// The `pss-fix fix` command lines the closing summary offers, without and with
    /// `--unsafe`.
    fix_commands: (String, String),
}

/// What became of one file's fixes.
struct Fate {
    written: bool,
    /// The fixes count as made: written, or nothing asked to be written.
    applied: bool,
    /// The user did not ask to quit.
    go_on: bool,
}

impl Fate {
    /// Shown (and, for a stream, output): nothing to write.
    const SHOWN: Fate = Fate {
        written: false,
        applied: true,
        go_on: true,
    };
}

impl PathRun {
    /// Every processed input, in input order, until the user asks to quit; a progress line
    /// for long runs, only where a person watches stderr.
    fn files(&mut self, inputs_found: &[Input], processed: Vec<Processed>) -> io::Result<()> {
        let progress = inputs_found.len() >= PROGRESS_FROM && io::stderr().is_terminal();
        for (i, (input, result)) in inputs_found.iter().zip(processed).enumerate() {
            if progress {
                self.out
                    .progress(&format!("pss-fix: {}/{} files", i + 1, inputs_found.len()));
            }
            if !self.file(input, result)? {
                break;
            }
        }
        if self.out.progress.take() {
            let _ = io::stderr().lock().write_all(b"\r\x1b[2K");
        }
        Ok(())
    }

    /// The structured report (any format but text), then the summary line.
    fn finish(self, format: Format) -> io::Result<ExitStatus> {
        if !self.text {
            let command = match self.mode {
                Mode::Check => report::Command::Check,
                Mode::Diff => report::Command::Diff,
                Mode::Fix { .. } => report::Command::Fix,
            };
            let rendered = report::render(
                format,
                &Run {
                    command,
                    policy: self.setup.opts.policy,
                    files: &self.outcomes,
                },
            );
            self.out.stdout(&rendered)?;
        }
        let command = match self.mode {
            Mode::Fix { .. } => {
                self.out
                    .stderr(&format!("{}\n", self.totals.line("changed")));
                report::Command::Fix
            }
            Mode::Diff => {
                self.out
                    .stderr(&format!("{}\n", self.totals.line("would change")));
                report::Command::Diff
            }
            Mode::Check => report::Command::Check,
        };
        let (fix, unsafe_fix) = self.fix_commands;
        self.out.stderr(&format!(
            "{}\n",
            self.totals.summary(command, Some(&fix), Some(&unsafe_fix))
        ));
        Ok(self.status)
    }

    /// Show, count and (for `fix`) write one processed input; `false` when the user asked
    /// to quit.
    fn file(&mut self, input: &Input, result: Processed) -> io::Result<bool> {
        let (name, old, report) = match result {
            Ok(r) => r,
            Err(e) => {
                self.failed(e);
                return Ok(true);
            }
        };
        let fate = match self.mode {
            Mode::Check => self.check_file(&name, &report).map(|()| Fate::SHOWN)?,
            Mode::Diff => self.diff_file(&name, &old, &report).map(|()| Fate::SHOWN)?,
            Mode::Fix { interactive } => self.fix_file(input, &name, &old, &report, interactive)?,
        };
        self.totals.add(
            &report,
            fate.applied,
            fate.written,
            !self.setup.opts.findings_only,
            self.setup.opts.allow.unsafe_fixes,
        );
        self.outcomes.push(Outcome {
            path: name,
            result: Ok(report),
            written: fate.written,
        });
        Ok(fate.go_on)
    }

    /// `check`: the findings.
    fn check_file(&mut self, name: &str, report: &FileReport) -> io::Result<()> {
        if self.text {
            self.out.stdout(&report::check_text(name, report))?;
        }
        if report.workloads.iter().any(|w| !w.before.is_empty()) {
            self.status = self.status.max(ExitStatus::Findings);
        }
        Ok(())
    }

    /// `diff`: the pending change, then what it leaves.
    fn diff_file(&mut self, name: &str, old: &str, report: &FileReport) -> io::Result<()> {
        if let Some(new) = &report.output {
            if self.text {
                self.out.diff(&diff::unified(old, new, name))?;
            }
            self.status = self.status.max(ExitStatus::Findings);
        }
        if self.text {
            self.out.stderr(&report::remaining_text(name, report));
        }
        Ok(())
    }

    /// `fix`: the change shown and written (a file) or output (a stream), then what it
    /// leaves.
    fn fix_file(
        &mut self,
        input: &Input,
        name: &str,
        old: &str,
        report: &FileReport,
        interactive: bool,
    ) -> io::Result<Fate> {
        let mut fate = Fate::SHOWN;
        if let (Some(new), Input::File { path, root }) = (&report.output, input) {
            if self.text {
                self.out.diff(&diff::unified(old, new, name))?;
            }
            fate = self.write_file(name, path, root.as_deref(), (old, new), interactive)?;
        } else if let (Some(new), Input::Stdin) = (&report.output, input) {
            self.out.stdout(new)?;
        }
        if self.text {
            let shown = if fate.applied {
                report::remaining_text(name, report)
            } else {
                String::new()
            };
            self.out.stderr(&shown);
        }
        let left = if fate.applied {
            report.workloads.iter().any(|w| !w.after().is_empty())
        } else {
            report.workloads.iter().any(|w| !w.before.is_empty())
        };
        if self.strict && left {
            self.status = self.status.max(ExitStatus::Findings);
        }
        Ok(fate)
    }

    /// Ask first under `--interactive` (unless the user said "all"), then write `new` over
    /// `old` in place.
    fn write_file(
        &mut self,
        name: &str,
        path: &Path,
        root: Option<&Path>,
        (old, new): (&str, &str),
        interactive: bool,
    ) -> io::Result<Fate> {
        let answer = if interactive && !self.apply_all {
            ask(name)?
        } else {
            Answer::Yes
        };
        self.apply_all |= matches!(answer, Answer::All);
        let mut written = false;
        if matches!(answer, Answer::Yes | Answer::All) {
            match write::atomic_write(path, root, old.as_bytes(), new) {
                Ok(()) => written = true,
                Err(e) => {
                    self.out.stderr(&format!("{name}: not written: {e}\n"));
                    self.status = self.status.max(ExitStatus::Error);
                    self.totals.errors += 1;
                }
            }
        }
        Ok(Fate {
            written,
            applied: written,
            go_on: !matches!(answer, Answer::Quit),
        })
    }

    /// A file that could not be read or processed: said at once in text mode, kept for the
    /// structured report otherwise; the run goes on.
    fn failed(&mut self, e: Error) {
        if self.text {
            self.out.stderr(&format!("{e}\n"));
        }
        self.status = self.status.max(ExitStatus::Error);
        self.totals.add_error();
        self.outcomes.push(Outcome {
            path: e.file.clone(),
            result: Err(e),
            written: false,
        });
    }
}

/// `fix -`, `post-render` and `krm`: stdin in, the fixed stream (or the input unchanged) out
/// on stdout, every message on stderr. A document `post-render` passed through unchanged is
/// reported with the findings; under `--strict` it counts as left.
fn stream(out: &Out, mut setup: Setup, format: Format, strict: bool) -> io::Result<ExitStatus> {
    let (name, bytes) = read(&Input::Stdin).map_err(|e| io::Error::other(e.to_string()))?;
    let text = match bytes.decode(&name) {
        Ok(t) => t,
        Err(e) => {
            out.stderr(&format!("{e}\n"));
            return Ok(ExitStatus::Error);
        }
    };
    let text: &str = &text;
    setup.learn_namespaces(std::iter::once(text));
    let opts = setup.options_for(None);
    // The fixed stream goes out run by run as the engine made it, written only once every
    // run is verified (an error for the stream means no output): a changed run waits as
    // its new text and pointers into the input, never as a second copy of the stream. In
    // text form each run's reports are counted as they come and kept only when the closing
    // lines name them.
    let text_form = format == Format::Text;
    let unsafe_given = opts.allow.unsafe_fixes;
    let mut totals = Totals::default();
    let (mut failing, mut violations_left) = (false, false);
    let mut sink = |workloads: &mut Vec<pss_fix::WorkloadReport>| {
        if !text_form {
            return;
        }
        violations_left |= workloads.iter().any(|w| !w.after().is_empty());
        failing |= totals.add_workloads(workloads, true, true, unsafe_given);
        workloads.retain(report::has_remaining_text);
    };
    let (report, fixed) = match pss_fix::process_in_parts_with(&name, text, &opts, &mut sink) {
        Ok(r) => r,
        Err(e) => {
            out.stderr(&format!("{e}\n"));
            return Ok(ExitStatus::Error);
        }
    };
    match &fixed {
        Some(fixed) => out.stdout_pieces(fixed.pieces(text))?,
        None => out.stdout(text)?,
    }
    drop(fixed);
    // A document passed through unchanged was never checked: under --strict it counts as
    // left, like a violation that could not be fixed.
    violations_left |= report.workloads.iter().any(|w| !w.after().is_empty());
    let left = violations_left || !report.passed_through.is_empty();
    if text_form {
        out.stderr(&report::remaining_text(&name, &report));
        totals.add_file(&report, failing, true, report.changed);
        // No command to offer: the fixes were just made, and `--unsafe` goes where this
        // command was given (a Helm flag, a kustomize function's script).
        let summary = totals.summary(report::Command::Fix, None, None);
        out.stderr(&format!("{summary}\n"));
    } else {
        let written = report.changed;
        let files = [Outcome {
            path: name,
            result: Ok(report),
            written,
        }];
        let run = Run {
            command: report::Command::Fix,
            policy: opts.policy,
            files: &files,
        };
        out.stderr(&report::render(format, &run));
    }
    Ok(if strict && left {
        ExitStatus::Findings
    } else {
        ExitStatus::Clean
    })
}

/// Inputs larger than this are refused before they are read: memory stays bounded (the
/// engine needs a few times the input), and no manifest comes close.
pub const MAX_INPUT_BYTES: u64 = 256 * 1024 * 1024;

fn too_large(name: &str) -> Error {
    Error::new(
        name,
        None,
        format!(
            "larger than {} MiB; refusing to read it",
            MAX_INPUT_BYTES / (1024 * 1024)
        ),
    )
}

pub(super) fn read(input: &Input) -> Result<(String, Bytes), Error> {
    let size_hint;
    let (name, reader): (String, Box<dyn Read>) = match input {
        Input::Stdin => {
            // Redirected from a large file, stdin is mapped (see `text`); from a smaller one
            // it has a size; a pipe (Helm) starts at 64 KiB, so a typical chart is read in a
            // few large reads rather than many probing ones.
            let file = stdin_file();
            if let Some(mapped) = file
                .as_ref()
                .and_then(|(f, off, len)| Bytes::map(f, *off, *len))
            {
                return Ok(("<stdin>".into(), mapped));
            }
            size_hint = file.map_or(64 * 1024, |(_, _, len)| len);
            ("<stdin>".into(), Box::new(io::stdin().lock()))
        }
        Input::File { path, .. } => {
            let name = display(path);
            let file = std::fs::File::open(path)
                .map_err(|e| Error::new(&name, None, format!("cannot read: {e}")))?;
            let len = file.metadata().map_or(0, |m| m.len());
            if len > MAX_INPUT_BYTES {
                return Err(too_large(&name));
            }
            size_hint = len as usize;
            (name, Box::new(file))
        }
    };
    // Exactly the file's size (stdin: trimmed after reading), not a doubled buffer: memory
    // is a few times the input, and this is one of those times.
    let mut buf = Vec::with_capacity(size_hint + 1);
    reader
        .take(MAX_INPUT_BYTES + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Error::new(&name, None, format!("cannot read: {e}")))?;
    if buf.len() as u64 > MAX_INPUT_BYTES {
        return Err(too_large(&name));
    }
    buf.shrink_to_fit();
    Ok((name, Bytes::Read(buf)))
}

/// Stdin when it is a regular file: the file, where stdin is in it, and what is left to
/// read from there.
fn stdin_file() -> Option<(std::fs::File, u64, usize)> {
    use std::io::Seek;
    use std::os::fd::AsFd;
    let file = std::fs::File::from(io::stdin().as_fd().try_clone_to_owned().ok()?);
    let meta = file.metadata().ok()?;
    if !meta.is_file() || meta.len() > MAX_INPUT_BYTES {
        return None;
    }
    let offset = (&file).stream_position().ok()?;
    let left = usize::try_from(meta.len().saturating_sub(offset)).ok()?;
    Some((file, offset, left))
}

fn display(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// `f` over `items` on every core, results in input order. Work is handed out one item at
/// a time, so a large file does not hold up the rest.
fn parallel_map<T: Send, R: Send>(items: Vec<T>, f: impl Fn(usize, T) -> R + Sync) -> Vec<R> {
    let n = items.len();
    let threads = pss_fix::cores().min(n);
    if threads <= 1 {
        return items
            .into_iter()
            .enumerate()
            .map(|(i, t)| f(i, t))
            .collect();
    }
    let queue: Vec<std::sync::Mutex<Option<T>>> = items
        .into_iter()
        .map(|t| std::sync::Mutex::new(Some(t)))
        .collect();
    let results: Vec<std::sync::Mutex<Option<R>>> =
        (0..n).map(|_| std::sync::Mutex::new(None)).collect();
    let next = std::sync::atomic::AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= n {
                    break;
                }
                let item = queue[i]
                    .lock()
                    .expect("no panics while locked")
                    .take()
                    .expect("taken once");
                let r = f(i, item);
                *results[i].lock().expect("no panics while locked") = Some(r);
            });
        }
    });
    results
        .into_iter()
        .map(|r| {
            r.into_inner()
                .expect("no panics while locked")
                .expect("every item ran")
        })
        .collect()
}

/// The input's text and what the engine made of it.
pub(super) fn decode_and_process(
    name: &str,
    bytes: Vec<u8>,
    opts: &Options,
) -> Result<(String, FileReport), Error> {
    let text = pss_fix::decode(bytes).map_err(|e| e.in_file(name))?;
    let report = pss_fix::process(name, &text, opts)?;
    Ok((text, report))
}

enum Answer {
    Yes,
    No,
    All,
    Quit,
}

fn ask(name: &str) -> io::Result<Answer> {
    let stdin = io::stdin();
    loop {
        eprint!("Write {name}? [y]es, [n]o, [a]ll, [q]uit: ");
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            return Ok(Answer::Quit);
        }
        match line.trim().to_ascii_lowercase().as_str() {
            "y" | "yes" => return Ok(Answer::Yes),
            "n" | "no" => return Ok(Answer::No),
            "a" | "all" => return Ok(Answer::All),
            "q" | "quit" => return Ok(Answer::Quit),
            _ => eprintln!("Please answer y, n, a or q."),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that takes at most `limit` bytes a call, as a pipe may.
    struct Short {
        out: Vec<u8>,
        limit: usize,
        calls: usize,
    }

    impl Write for Short {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.write_vectored(&[io::IoSlice::new(buf)])
        }

        fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
            assert!(bufs.len() <= IOV_MAX, "{} buffers", bufs.len());
            self.calls += 1;
            let mut n = 0;
            for buf in bufs {
                let take = buf.len().min(self.limit - n);
                self.out.extend_from_slice(&buf[..take]);
                n += take;
                if n == self.limit {
                    break;
                }
            }
            Ok(n)
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    /// Every byte comes out once, in order, whatever the pieces' sizes and however little
    /// each write takes; short pieces are written together.
    #[test]
    fn pieces_come_out_in_order_and_whole() {
        let mut rng = pss_fix_testkit::synth::Rng(5);
        let text: String = (0..400_000u32)
            .map(|i| char::from(b'a' + (i % 26) as u8))
            .collect();
        for limit in [1, 7, 4096, 100_000, usize::MAX] {
            let mut pieces = Vec::new();
            let mut at = 0;
            while at < text.len() {
                let len = match rng.next_u64() % 4 {
                    0 => 0,
                    1 => (rng.next_u64() % 40) as usize,
                    2 => SMALL_PIECE + (rng.next_u64() % 3) as usize - 1,
                    _ => (rng.next_u64() % 20_000) as usize,
                };
                let end = (at + len).min(text.len());
                pieces.push(&text[at..end]);
                at = end;
            }
            let mut short = Short {
                out: Vec::new(),
                limit,
                calls: 0,
            };
            write_pieces(&mut short, pieces.iter().copied()).unwrap();
            assert!(short.out == text.as_bytes(), "limit {limit}");
            if limit == usize::MAX {
                assert!(short.calls * 20 < pieces.len(), "{} calls", short.calls);
            }
        }
    }
}
