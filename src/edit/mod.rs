//! The edit engine: from "this workload needs these fields" to verified bytes.
//!
//! [`plan`] turns a remedy's actions into changes per node of the written tree (refusing
//! what would land inside an alias or a merge), [`render`] writes each change as a byte edit
//! in the document's own style (indentation, flow or block, quoting), [`splice`] splices the
//! edits into the original text in one pass, and [`guard`] checks the re-parsed result
//! against the typed Kubernetes API before anything leaves the library. [`value`] is the small
//! vocabulary of values pss-fix inserts.

pub(crate) mod guard;
pub(crate) mod plan;
pub(crate) mod render;
pub(crate) mod splice;
pub(crate) mod value;

pub use splice::Applicability;
pub(crate) use splice::{apply, Edit};
