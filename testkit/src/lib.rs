//! What pss-fix's integration tests, benchmarks, examples and fuzz targets share, kept out of
//! the library users install: [`synth`], the synthetic manifest stream generator.

pub mod synth;
