//! Fixing at the source: the Helm values that make a chart render its workloads fixed.
//! [`tree`] holds values and renders as data, [`probe`] finds which keys reach which
//! securityContext, [`plan`] picks a key per planned field, [`verify`] compares renders,
//! [`draft`] writes the overlay. Running Helm is the binary's (`src/cli/helm.rs`).

pub mod draft;
pub mod plan;
pub mod probe;
pub mod tree;
pub mod verify;
