//! Which files a run reads: files named on the command line as they are, directories walked
//! with the `ignore` crate (`.gitignore` honoured, hidden files skipped) for `*.yaml`, `*.yml`
//! and `*.json`, in sorted order so output is deterministic.

use std::path::{Path, PathBuf};

/// One input: a file, or stdin (`-`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File {
        path: PathBuf,
        /// The walked directory (canonical) a file was found in; a symlink found there is
        /// edited only when its target lies inside it.
        root: Option<PathBuf>,
    },
}

fn is_manifest(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml" | "json")
    )
}

/// Expand the command-line paths into inputs. Errors (a missing path, an unreadable
/// directory) are returned beside the inputs, so one bad path does not stop the run.
pub fn inputs(paths: &[PathBuf]) -> (Vec<Input>, Vec<(PathBuf, String)>) {
    let mut out = Vec::new();
    let mut errors = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Input::Stdin);
            continue;
        }
        match std::fs::metadata(p) {
            Ok(m) if m.is_dir() => {
                let mut found = Vec::new();
                for entry in ignore::WalkBuilder::new(p)
                    .sort_by_file_path(|a, b| a.cmp(b))
                    .build()
                {
                    match entry {
                        Ok(e)
                            if e.file_type().is_some_and(|t| t.is_file())
                                && is_manifest(e.path()) =>
                        {
                            found.push(e.into_path());
                        }
                        Ok(_) => {}
                        Err(err) => errors.push((p.clone(), err.to_string())),
                    }
                }
                found.sort();
                let root = std::fs::canonicalize(p).ok();
                out.extend(found.into_iter().map(|path| Input::File {
                    path,
                    root: root.clone(),
                }));
            }
            Ok(_) => out.push(Input::File {
                path: p.clone(),
                root: None,
            }),
            Err(err) => errors.push((p.clone(), err.to_string())),
        }
    }
    (out, errors)
}
