//! Fixing at the source: the Helm values that make a chart render its workloads fixed, and
//! merging them into the files people commit.
//!
//! Finding the overlay: [`tree`] holds values and renders as data, [`probe`] finds which keys
//! reach which securityContext by rendering with markers, [`plan`] picks a key per planned
//! field, [`verify`] compares renders. Running Helm is the binary's (`src/cli/helm.rs`).
//!
//! Writing it: an [`Overlay`] is built key by key, each key with a comment naming what it
//! fixes, and printed as a YAML document; [`merge`] merges it into an existing values file, a
//! Flux `HelmRelease`'s `spec.values` or an Argo CD `Application`'s `helm.valuesObject` with
//! the edit engine: only absent keys are added, in the file's own style, an existing value is
//! kept unless overwriting is allowed, and the result is read back and compared with the
//! input plus the merged keys before it is returned.

mod merge;
mod overlay;
pub mod plan;
pub mod probe;
pub mod tree;
pub mod verify;

pub use crate::edit::value::Value;
pub use merge::{merge, Kept, Merged};
pub use overlay::Overlay;
