//! One file, end to end: parse each document, find its workloads, check them, plan the fixes,
//! render them as edits, splice, then verify the result before anyone sees it.
//!
//! The flow, file by file:
//! - [`process_in_parts`] (here) cuts the stream into runs of whole documents and runs them
//!   on every core (`stream`), then joins their reports and fixed text in input order;
//! - each run is checked, fixed and read back (`verify`), in one or more rounds (`round`):
//!   a round parses, checks, plans, renders and splices; the next reads its output back;
//! - what comes out is a [`FileReport`] and the fixed text as [`Fixed`] runs (`report`).
//!
//! Verification re-parses the output and requires the same number of documents, each equal as
//! data to its input document plus exactly the planned changes, and a re-check that plans
//! nothing more. Any disagreement is an error for the file: no output, nothing written.
//!
//! A renderer's output on its way to a cluster (`post-render`, `krm`) is never failed for one
//! document: with [`Options::pass_through`], what would be an error for the file is narrowed
//! down to the documents that cause it, which pass through byte for byte and are reported
//! ([`FileReport::passed_through`]); the rest of the stream is fixed as usual.

mod helm;
mod report;
mod round;
mod stream;
mod verify;

use std::collections::HashMap;
use std::sync::Arc;

use crate::error::Error;
use crate::policy::config::Config;
use crate::policy::remedy::Allow;
use crate::policy::Policy;
use crate::yaml::Documents;

pub use report::{FileReport, Fixed, PassedThrough, Remark, WorkloadReport};

use report::Part;
use stream::{pass_stream, process_runs, Joined, Runs};
use verify::process_whole;

#[derive(Clone, Debug, Default)]
pub struct Options {
    /// The level for workloads the context does not place elsewhere.
    pub policy: Policy,
    /// Fixes beyond the safe ones (`--unsafe`, `--run-as-user`).
    pub allow: Allow,
    /// The input must be one KRM `ResourceList` (`pss-fix krm`).
    pub resource_list: bool,
    /// Report findings without planning fixes: `check` in text form, which says nothing of
    /// what `fix` would do, so pays for one parse and the checks only.
    pub findings_only: bool,
    /// The caller already keeps every core busy (many files at once): process on the
    /// calling thread, without cutting the text into runs for more threads.
    pub one_thread: bool,
    /// The input is a renderer's output on its way to a cluster (`post-render`, `krm`): a
    /// document that cannot be safely edited passes through unchanged, reported in
    /// [`FileReport::passed_through`], instead of stopping the stream (see
    /// [`process_in_parts`]); and no message suggests rendering it first.
    pub pass_through: bool,
    /// Project configuration and what the run learned about namespaces.
    pub context: Arc<Context>,
}

/// What applies beyond the file's own policy: exemptions and custom kinds from the project
/// configuration, and the levels the input's Namespace objects enforce.
#[derive(Debug, Default)]
pub struct Context {
    pub config: Config,
    /// `pod-security.kubernetes.io/enforce` (and `-version`) of Namespace objects, by name.
    pub namespaces: HashMap<String, Policy>,
    /// `--level` was given: it wins over namespace labels.
    pub level_locked: bool,
}

impl Options {
    /// The policy a workload in `namespace` is judged at.
    pub fn policy_for(&self, namespace: &str) -> Policy {
        if self.context.level_locked {
            return self.policy;
        }
        self.context
            .namespaces
            .get(namespace)
            .copied()
            .unwrap_or(self.policy)
    }
}

/// Check and fix one file's text. `name` is used in messages only.
///
/// A stream is cut into runs of whole documents, each processed (and verified) on its own,
/// on every core: YAML documents do not depend on each other, and a line starting with `---`
/// is a document boundary wherever it appears. Each run numbers lines from the file's start;
/// document numbers are shifted back into the whole file's terms after.
pub fn process(name: &str, text: &str, opts: &Options) -> Result<FileReport, Error> {
    let (mut report, fixed) = process_in_parts(name, text, opts)?;
    report.output = fixed.map(|f| f.join(text));
    Ok(report)
}

/// [`process`], with the fixed text left in the runs it was made in (`report.output` is
/// `None`): a large stream is then written out run by run, never held twice.
///
/// With [`Options::pass_through`], a run that fails is taken apart: each of its documents
/// (from one `---` line to the next) is processed on its own, and one that still fails
/// passes through byte for byte, reported in [`FileReport::passed_through`]. The fast path
/// is untouched, and only the failed run is processed again. A stream whose documents depend
/// on each other (see [`crate::yaml::source::independent_documents`]) cannot be taken apart: it
/// passes through whole. Either way the result is an error only when no document of the
/// stream could be read at all: that input is not YAML.
pub fn process_in_parts(
    name: &str,
    text: &str,
    opts: &Options,
) -> Result<(FileReport, Option<Fixed>), Error> {
    process_in_parts_with(name, text, opts, &mut |_| {})
}

/// [`process_in_parts`], with each run's workload reports handed to `sink` in stream order
/// as soon as the run and every run before it are done (document numbers already the
/// file's); the report returned holds only the reports `sink` leaves in the vector. A
/// caller that needs only counts and a few lines of a large stream's reports never holds
/// them all. On an error for the file, `sink` may have seen the reports of earlier runs.
pub fn process_in_parts_with(
    name: &str,
    text: &str,
    opts: &Options,
    sink: &mut dyn FnMut(&mut Vec<WorkloadReport>),
) -> Result<(FileReport, Option<Fixed>), Error> {
    if opts.resource_list {
        require_resource_list(name, text)?;
    }
    let runs = Runs::of(text, opts);
    let mut whole = Joined::new(sink);
    let mut failure = None;
    let mut early = None;
    let mut take = |i: usize, ran: stream::Ran| -> bool {
        let e = match ran {
            Ok((report, part)) => {
                whole.add_part(report, part);
                return true;
            }
            Err(e) if !opts.pass_through => {
                early = Some(Err(e));
                return false;
            }
            Err(e) => e,
        };
        if !crate::yaml::source::independent_documents(text) {
            early = Some(pass_stream(text, e));
            return false;
        }
        whole.take_apart(
            name,
            text,
            opts,
            runs.ranges[i].clone(),
            runs.base(text, i).line,
            &e,
        );
        failure.get_or_insert(e);
        true
    };
    if runs.ranges.len() == 1 {
        let ran = process_whole(name, text, opts, Base::default()).map(|mut report| {
            let part = report
                .output
                .take()
                .map_or(Part::Input(0..text.len()), Part::Fixed);
            (report, part)
        });
        take(0, ran);
    } else {
        process_runs(name, text, &runs, opts, &mut take)?;
    }
    if let Some(result) = early {
        return result;
    }
    whole.finish(failure)
}

/// The runs of whole documents [`process`] cuts `text` into on this machine, as byte ranges.
/// Only for the throughput bench: its all-core parser baseline must read the stream in the
/// same pieces on the same threads as pss-fix does, or the ratio would compare two splits.
#[doc(hidden)]
pub fn stream_runs(text: &str) -> Vec<std::ops::Range<usize>> {
    Runs::of(text, &Options::default()).ranges
}

/// The cores this process may use, asked once: the standard library answers by reading the
/// cgroup's CPU quota files every time, about ten system calls that showed in `post-render`'s
/// start-up when each caller asked on its own.
#[doc(hidden)]
pub fn cores() -> usize {
    static CORES: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    *CORES.get_or_init(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
}

/// Where a piece of text sits in its file: reports and messages give the file's numbers.
#[derive(Clone, Copy, Debug, Default)]
struct Base {
    /// Documents before the piece.
    document: usize,
    /// Lines before the piece.
    line: usize,
}

/// A KRM function's input is exactly one `config.kubernetes.io/v1` ResourceList.
fn require_resource_list(name: &str, text: &str) -> Result<(), Error> {
    let mut docs = Documents::new(text);
    let first = docs.next().transpose().map_err(|e| e.in_file(name))?;
    let is_list = first.as_ref().is_some_and(|d| {
        d.root.get("kind").and_then(|k| k.as_str()) == Some("ResourceList")
            && d.root.get("apiVersion").and_then(|k| k.as_str()) == Some("config.kubernetes.io/v1")
    });
    if !is_list || docs.next().is_some() {
        return Err(Error::new(
            name,
            None,
            "a KRM function reads one ResourceList (apiVersion: config.kubernetes.io/v1) on stdin",
        ));
    }
    Ok(())
}
