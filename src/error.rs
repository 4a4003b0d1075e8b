//! Errors that stop one file: where it happened (file, 1-based line and column) and why.
//!
//! The library never prints; the CLI renders an [`Error`] as `file:line:col: message`.

use std::fmt;

/// A position in a file, 1-based line and column (column counted in characters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, serde::Serialize)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

/// Why a file could not be processed. Every variant leaves the file untouched.
#[derive(Debug)]
pub struct Error {
    pub file: String,
    pub pos: Option<Pos>,
    pub message: String,
}

impl Error {
    pub fn new(file: impl Into<String>, pos: Option<Pos>, message: impl Into<String>) -> Self {
        Error {
            file: file.into(),
            pos,
            message: message.into(),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Some(p) => write!(f, "{}:{}:{}: {}", self.file, p.line, p.col, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

impl std::error::Error for Error {}

/// An error without a file name yet: raised deep in the engine, given its file by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub pos: Option<Pos>,
    pub message: String,
}

impl Located {
    pub fn at(pos: Pos, message: impl Into<String>) -> Self {
        Located {
            pos: Some(pos),
            message: message.into(),
        }
    }
    pub fn nowhere(message: impl Into<String>) -> Self {
        Located {
            pos: None,
            message: message.into(),
        }
    }
    pub fn in_file(self, file: &str) -> Error {
        Error::new(file, self.pos, self.message)
    }
}
