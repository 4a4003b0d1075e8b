//! What pss-fix's integration tests, benchmarks, examples and fuzz targets share, kept out of
//! the library users install: [`synth`], the synthetic manifest stream generator, and
//! [`files`], the manifests on disk that tests read whole.

pub mod files;
pub mod synth;

pub use files::manifests_under;
