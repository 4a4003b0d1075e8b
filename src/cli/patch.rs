//! `pss-fix patch`: the fixes `fix` would make, printed as kustomize patches (JSON 6902) or a
//! Flux post-renderer instead of written into the files, for manifests that are not the
//! user's to edit. Inputs are read and judged as `fix` reads them (same walk, same options,
//! Namespace levels learnt across all inputs); the patches come from
//! [`pss_fix::patch::patches`]. Stdout holds only the patches; every message goes to stderr.

use std::io::{self, IsTerminal, Write};
use std::path::PathBuf;

use crate::cli::run::{self, ExitStatus};
use crate::cli::walk::{self, Input};
use crate::cli::{PatchArgs, PatchTarget};
use pss_fix::patch::{self, Output};
use pss_fix::report::{self, Format, Outcome, Run};
use pss_fix::{Error, Options, Policy};

fn say(s: &str) {
    if !s.is_empty() {
        let _ = io::stderr()
            .lock()
            .write_all(report::sanitize(s).as_bytes());
    }
}

pub fn run(args: &PatchArgs) -> io::Result<ExitStatus> {
    let inputs = &args.inputs;
    let Some(mut setup) = run::setup(&inputs.common, inputs.paths.first().map(PathBuf::as_path))
    else {
        return Ok(ExitStatus::Error);
    };
    if inputs.paths.is_empty() && io::stdin().is_terminal() {
        say("pss-fix: no input: give files or directories, or pipe a stream and use `-`\n");
        return Ok(ExitStatus::Error);
    }
    let paths = if inputs.paths.is_empty() {
        vec!["-".into()]
    } else {
        inputs.paths.clone()
    };
    let (found, walk_errors) = walk::inputs(&paths);
    let mut status = ExitStatus::Clean;
    for (p, e) in walk_errors {
        say(&format!("{}: {e}\n", p.display()));
        status = ExitStatus::Error;
    }
    let loaded: Vec<_> = found
        .iter()
        .map(|input| run::read(input).map(|(name, bytes)| (name, bytes.into_vec())))
        .collect();
    setup.learn_namespaces(
        loaded
            .iter()
            .filter_map(|r| r.as_ref().ok())
            .filter_map(|(_, bytes)| std::str::from_utf8(bytes).ok()),
    );
    let text_format = inputs.common.format == Format::Text;
    let mut made = Made::default();
    for (input, loaded) in found.iter().zip(loaded) {
        let opts = setup.options_for(match input {
            Input::File { path, .. } => Some(path.as_path()),
            Input::Stdin => None,
        });
        status = status.max(made.add(loaded, &opts, text_format));
    }
    made.print(args, setup.opts.policy)?;
    Ok(status)
}

/// The patches of every input, and each input's outcome for the report.
#[derive(Default)]
struct Made {
    patches: Vec<patch::Patch>,
    outcomes: Vec<Outcome>,
}

impl Made {
    /// Judge one loaded input and keep its patches; the status it calls for.
    fn add(
        &mut self,
        loaded: Result<(String, Vec<u8>), Error>,
        opts: &Options,
        text_format: bool,
    ) -> ExitStatus {
        let done = loaded.and_then(|(name, bytes)| {
            let (text, report) = run::decode_and_process(&name, bytes, opts)?;
            let (found, refused) = patch::patches(&name, &text, &report)?;
            Ok((name, report, found, refused))
        });
        let (name, report, found, refused) = match done {
            Ok(d) => d,
            Err(e) => {
                if text_format {
                    say(&format!("{e}\n"));
                }
                self.outcomes.push(Outcome {
                    path: e.file.clone(),
                    result: Err(e),
                    written: false,
                });
                return ExitStatus::Error;
            }
        };
        for r in &refused {
            say(&format!("{r}\n"));
        }
        let left = report.workloads.iter().any(|w| !w.after().is_empty());
        let status = if left || !refused.is_empty() {
            ExitStatus::Findings
        } else {
            ExitStatus::Clean
        };
        if text_format {
            say(&report::remaining_text(&name, &report));
        }
        self.patches.extend(found);
        self.outcomes.push(Outcome {
            path: name,
            result: Ok(report),
            written: false,
        });
        status
    }

    /// The patches to stdout; with a report format, the report to stderr.
    fn print(&self, args: &PatchArgs, policy: Policy) -> io::Result<()> {
        let output = match args.target {
            PatchTarget::Kustomize => Output::Kustomize,
            PatchTarget::Flux => Output::Flux,
        };
        let mut stdout = io::stdout().lock();
        stdout.write_all(patch::render(&self.patches, output).as_bytes())?;
        stdout.flush()?;
        let format = args.inputs.common.format;
        let run = Run {
            command: report::Command::Fix,
            policy,
            files: &self.outcomes,
        };
        if format != Format::Text {
            say(&report::render(format, &run));
        }
        // The closing summary every command ends with, counted as `diff` counts: the patches
        // are what would be applied; `--unsafe` adds the rest.
        let totals = report::Totals::of_run(&Run {
            command: report::Command::Diff,
            ..run
        });
        say(&format!(
            "{}\n",
            totals.summary(report::Command::Diff, None, None)
        ));
        Ok(())
    }
}
