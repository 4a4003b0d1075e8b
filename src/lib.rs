//! pss-fix: make Kubernetes workloads pass a Pod Security Standards level by adding only the
//! bytes they need.
//!
//! The library's surface is [`process`]: one file's text in, a [`FileReport`] out (what
//! failed, what was fixed, the fixed text), under [`Options`] (the [`Policy`], which fixes are
//! [`Allow`]ed, a project [`Config`]). [`report`] renders reports as text, JSON, SARIF and
//! Markdown, [`yaml`] is the span-keeping reader of Kubernetes' YAML dialect, and
//! [`policy::check`] the 19 official checks, and [`patch`] turns a fixed file into kustomize
//! and Flux patches (JSON 6902). Everything else is the crate's own.
//!
//! The pipeline, stage by stage (see ARCHITECTURE.md):
//! - [`yaml`] reads: bytes to text, text to span trees (go-yaml's dialect, aliases resolved
//!   for reading);
//! - [`policy`] judges: workloads found, checks run, a remedy decided per failed check;
//! - `edit` changes: plan per node, render in the document's style, splice, guard;
//! - `engine` runs the stages per document and verifies the result before anything leaves
//!   the library.
//!
//! The command line (arguments, walking, writing, printing, exit codes) is the binary's, in
//! `src/cli/`. The library never prints.

mod edit;
mod engine;
mod error;
pub mod patch;
mod path;
pub mod policy;
pub mod report;
pub mod values;
pub mod yaml;

pub use edit::Applicability;
pub use engine::{
    process, process_in_parts, process_in_parts_with, Context, FileReport, Fixed, Options,
    PassedThrough, Remark, WorkloadReport,
};
// Not part of the API: the binary's own threads share the engine's one answer.
#[doc(hidden)]
pub use engine::cores;
// Not part of the API: the bench's all-core parser baseline splits streams as pss-fix does.
#[doc(hidden)]
pub use engine::stream_runs;
pub use error::{Error, Pos};
pub use path::{Path, Seg};
pub use policy::check::Violation;
pub use policy::config::Config;
pub use policy::namespace::scan as scan_namespaces;
pub use policy::remedy::{Action, Added, Allow, Note};
pub use policy::{Level, Policy, Version};
pub use yaml::source::decode;

// Not part of the API either: what that baseline parses, each run as pss-fix's reader has
// saphyr read it (the documents it refuses rewritten first).
#[doc(hidden)]
pub use yaml::relax::readable as parser_text;
