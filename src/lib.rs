//! pss-fix: make Kubernetes workloads pass a Pod Security Standards level by adding only the
//! bytes they need.
//!
//! The pipeline (DESIGN §5): [`source`] gates bytes into text, [`yaml`] builds span trees,
//! [`workload`] finds pod specs, [`check`] judges them, [`fixes`] and [`plan`] decide what to
//! add, [`render`] writes it in the document's own style, [`fix`] splices, and [`engine`]
//! verifies the result before anything leaves the library.
pub mod check;
pub mod config;
pub mod diff;
pub mod engine;
pub mod error;
pub mod exempt;
pub mod fix;
pub mod fixes;
pub mod guard;
pub mod namespace;
pub mod path;
pub mod plan;
pub mod policy;
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
