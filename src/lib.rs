//! pss-fix: make Kubernetes workloads pass a Pod Security Standards level by adding only the
//! bytes they need.
//!
//! The pipeline (DESIGN §5): [`source`] gates bytes into text, [`yaml`] builds span trees
//! (reading go-yaml's dialect, aliases resolved for reading), [`workload`] finds pod specs,
//! [`check`] judges them, [`remedy`] decides per failed check what may be added or changed,
//! [`plan`] turns that into changes per node, [`render`] writes them as byte edits in the
//! document's own style, [`edit`] splices the edits, and [`engine`] runs it all and verifies
//! the result before anything leaves the library. The command line (arguments, printing,
//! exit codes) is the binary's, in `src/cli/`.
pub mod check;
pub mod config;
pub mod diff;
pub mod edit;
pub mod engine;
pub mod error;
pub mod exempt;
pub mod guard;
pub mod namespace;
pub mod path;
pub mod plan;
pub mod policy;
pub mod remedy;
pub mod render;
pub mod report;
pub mod source;
pub mod unrendered;
pub mod value;
pub mod view;
pub mod walk;
pub mod workload;
pub mod write;
pub mod yaml;
