//! Values overlays for Helm charts: the keys a chart's values need so that what it renders
//! passes a level ([`Overlay`], built key by key, each key with a comment naming what it
//! fixes, printed as a YAML document), and merging an overlay into an existing values file,
//! a Flux `HelmRelease`'s `spec.values` or an Argo CD `Application`'s
//! `helm.valuesObject` ([`merge`]) with the edit engine: only absent keys are added, in the
//! file's own style, an existing value is kept unless overwriting is allowed, and the result
//! is read back and compared with the input plus the merged keys before it is returned.

mod data;
mod merge;
mod overlay;

pub use crate::edit::value::Value;
pub use merge::{merge, Kept, Merged};
pub use overlay::Overlay;
