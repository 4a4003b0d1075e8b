//! What pss-fix's integration tests, benchmarks, examples and fuzz targets share, kept out of
//! the library users install: [`synth`], the synthetic manifest stream generator,
//! [`files`], the manifests on disk that tests read whole, and [`cmd`], running the
//! command-line binary in a temporary project. Nothing here depends on pss-fix itself.

pub mod cmd;
pub mod files;
pub mod synth;

pub use files::manifests_under;
