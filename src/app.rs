//! A run of the command line: read each input, hand it to the engine, show diffs and
//! findings, write files, and fold every outcome into one exit status. One bad file is
//! reported and the run goes on.

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::path::Path;

use crate::cli::{Cli, ColorChoice, Command, Common, Inputs};
use crate::engine::{self, FileReport, Options};
use crate::error::Error;
use crate::fixes::Allow;
use crate::report::{self, Format, Outcome, Run, Totals};
use crate::walk::{self, Input};
use crate::{diff, source, write};

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

/// Where output goes; every write is checked so a closed pipe ends the run quietly.
struct Out {
    color: bool,
}

impl Out {
    fn stdout(&self, s: &str) -> io::Result<()> {
        let mut o = io::stdout().lock();
        o.write_all(s.as_bytes())?;
        o.flush()
    }

    fn diff(&self, d: &str) -> io::Result<()> {
        if self.color {
            self.stdout(&diff::colorize(d))
        } else {
            self.stdout(d)
        }
    }

    fn stderr(&self, s: &str) {
        let _ = io::stderr().lock().write_all(s.as_bytes());
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
        Command::PostRender(p) => {
            let Some(opts) = options(&p.common) else {
                return Ok(ExitStatus::Error);
            };
            let out = Out { color: false };
            stream(&out, &opts, p.common.format, p.strict)
        }
    }
}

fn options(common: &Common) -> Option<Options> {
    match crate::cli::resolve_policy(common) {
        Ok(policy) => Some(Options {
            policy,
            allow: Allow {
                unsafe_fixes: common.unsafe_fixes,
                run_as_user: common.run_as_user,
            },
        }),
        Err(e) => {
            eprintln!("pss-fix: {e}");
            None
        }
    }
}

fn run_paths(inputs: &Inputs, mode: Mode, strict: bool) -> io::Result<ExitStatus> {
    let Some(opts) = options(&inputs.common) else {
        return Ok(ExitStatus::Error);
    };
    let out = Out {
        color: use_color(inputs.common.color),
    };
    let stdin_piped = !io::stdin().is_terminal();
    if inputs.paths.is_empty() && !stdin_piped {
        out.stderr("pss-fix: no input: give files or directories, or pipe a stream and use `-`\n");
        return Ok(ExitStatus::Error);
    }
    if let Mode::Fix { interactive: true } = mode {
        if stdin_piped {
            out.stderr("pss-fix: --interactive needs a terminal on stdin to ask its questions; run `pss-fix diff` to review, then `pss-fix fix` without --interactive\n");
            return Ok(ExitStatus::Error);
        }
    }
    let paths = if inputs.paths.is_empty() {
        vec!["-".into()]
    } else {
        inputs.paths.clone()
    };
    let (inputs_found, walk_errors) = walk::inputs(&paths);
    let mut status = ExitStatus::Clean;
    let mut totals = Totals::default();
    for (p, e) in &walk_errors {
        out.stderr(&format!("{}: {e}\n", p.display()));
        status = status.max(ExitStatus::Error);
        totals.errors += 1;
    }
    if mode == (Mode::Fix { interactive: false }) && inputs_found == [Input::Stdin] {
        return stream(&out, &opts, inputs.common.format, strict).map(|s| s.max(status));
    }
    let format = inputs.common.format;
    let text = format == Format::Text;
    let mut outcomes = Vec::new();
    let mut apply_all = false;
    for input in inputs_found {
        let (name, bytes) = match read(&input) {
            Ok(x) => x,
            Err(e) => {
                failed(&out, text, &mut status, &mut totals, &mut outcomes, e);
                continue;
            }
        };
        let (old, report) = match decode_and_process(&name, bytes, &opts) {
            Ok(r) => r,
            Err(e) => {
                failed(&out, text, &mut status, &mut totals, &mut outcomes, e);
                continue;
            }
        };
        totals.add(&report);
        let old = old.as_str();
        let mut written = false;
        match mode {
            Mode::Check => {
                if text {
                    out.stdout(&report::check_text(&name, &report, opts.policy))?;
                }
                if report.workloads.iter().any(|w| !w.before.is_empty()) {
                    status = status.max(ExitStatus::Findings);
                }
            }
            Mode::Diff => {
                if let Some(new) = &report.output {
                    if text {
                        out.diff(&diff::unified(old, new, &name))?;
                    }
                    status = status.max(ExitStatus::Findings);
                }
                if text {
                    out.stderr(&report::remaining_text(&name, &report, opts.policy));
                }
            }
            Mode::Fix { interactive } => {
                if text {
                    out.stderr(&report::remaining_text(&name, &report, opts.policy));
                }
                if strict && report.workloads.iter().any(|w| !w.after.is_empty()) {
                    status = status.max(ExitStatus::Findings);
                }
                if let Some(new) = &report.output {
                    match &input {
                        // `fix -` among other paths: the fixed stream goes to stdout.
                        Input::Stdin => out.stdout(new)?,
                        Input::File(path) => {
                            if text {
                                out.diff(&diff::unified(old, new, &name))?;
                            }
                            let answer = if interactive && !apply_all {
                                ask(&name)?
                            } else {
                                Answer::Yes
                            };
                            match answer {
                                Answer::Yes | Answer::All => {
                                    apply_all |= matches!(answer, Answer::All);
                                    match write::atomic_write(path, old.as_bytes(), new) {
                                        Ok(()) => written = true,
                                        Err(e) => {
                                            out.stderr(&format!("{name}: not written: {e}\n"));
                                            status = status.max(ExitStatus::Error);
                                            totals.errors += 1;
                                        }
                                    }
                                }
                                Answer::No => {}
                                Answer::Quit => {
                                    totals.files_changed -= 1;
                                    outcomes.push(Outcome {
                                        path: name,
                                        result: Ok(report),
                                        written,
                                    });
                                    break;
                                }
                            }
                            if !written {
                                totals.files_changed -= 1;
                            }
                        }
                    }
                }
            }
        }
        outcomes.push(Outcome {
            path: name,
            result: Ok(report),
            written,
        });
    }
    if !text {
        let command = match mode {
            Mode::Check => report::Command::Check,
            Mode::Diff => report::Command::Diff,
            Mode::Fix { .. } => report::Command::Fix,
        };
        let run = Run {
            command,
            policy: opts.policy,
            files: &outcomes,
        };
        out.stdout(&report::render(format, &run))?;
    }
    match mode {
        Mode::Fix { .. } => out.stderr(&format!("{}\n", totals.line("changed"))),
        Mode::Diff => out.stderr(&format!("{}\n", totals.line("would change"))),
        Mode::Check => {}
    }
    Ok(status)
}

/// A file that could not be read or processed: said at once in text mode, kept for the
/// structured report otherwise; the run goes on.
fn failed(
    out: &Out,
    text: bool,
    status: &mut ExitStatus,
    totals: &mut Totals,
    outcomes: &mut Vec<Outcome>,
    e: Error,
) {
    if text {
        out.stderr(&format!("{e}\n"));
    }
    *status = (*status).max(ExitStatus::Error);
    totals.errors += 1;
    outcomes.push(Outcome {
        path: e.file.clone(),
        result: Err(e),
        written: false,
    });
}

/// `fix -` and `post-render`: stdin in, the fixed stream (or the input unchanged) out on
/// stdout, every message on stderr.
fn stream(out: &Out, opts: &Options, format: Format, strict: bool) -> io::Result<ExitStatus> {
    let (name, bytes) = read(&Input::Stdin).map_err(|e| io::Error::other(e.to_string()))?;
    let (text, report) = match decode_and_process(&name, bytes, opts) {
        Ok(r) => r,
        Err(e) => {
            out.stderr(&format!("{e}\n"));
            return Ok(ExitStatus::Error);
        }
    };
    match &report.output {
        Some(new) => out.stdout(new)?,
        None => out.stdout(&text)?,
    }
    let left = report.workloads.iter().any(|w| !w.after.is_empty());
    if format == Format::Text {
        out.stderr(&report::remaining_text(&name, &report, opts.policy));
    } else {
        let files = [Outcome {
            path: name,
            result: Ok(report),
            written: false,
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

fn read(input: &Input) -> Result<(String, Vec<u8>), Error> {
    match input {
        Input::Stdin => {
            let mut buf = Vec::new();
            io::stdin()
                .lock()
                .read_to_end(&mut buf)
                .map_err(|e| Error::new("<stdin>", None, format!("cannot read: {e}")))?;
            Ok(("<stdin>".into(), buf))
        }
        Input::File(p) => {
            let name = display(p);
            let bytes = std::fs::read(p)
                .map_err(|e| Error::new(&name, None, format!("cannot read: {e}")))?;
            Ok((name, bytes))
        }
    }
}

fn display(p: &Path) -> String {
    p.to_string_lossy().into_owned()
}

/// The input's text and what the engine made of it.
fn decode_and_process(
    name: &str,
    bytes: Vec<u8>,
    opts: &Options,
) -> Result<(String, FileReport), Error> {
    let text = source::decode(bytes).map_err(|e| e.in_file(name))?;
    let report = engine::process(name, &text, opts)?;
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
