//! Policy: what a workload is judged against and what may be done about a failure.
//!
//! [`level`] names the target (`restricted:v1.29`); [`config`] and [`exempt`] carry a
//! project's settings and exemptions, [`namespace`] the levels Namespace objects ask for.
//! [`workload`] finds the pod templates in a document and [`view`] reads one as typed data.
//! [`check`] holds the 19 official checks, each in its own file beside its remedy (what
//! pss-fix may add or change for it, and how far that may be trusted); [`remedy`] runs those
//! remedies in order behind the guards they share.

pub mod check;
pub(crate) mod config;
pub(crate) mod exempt;
pub(crate) mod level;
pub(crate) mod namespace;
pub(crate) mod remedy;
pub(crate) mod view;
pub(crate) mod workload;

pub use level::{Level, Policy, Version, NEWEST_MINOR};
