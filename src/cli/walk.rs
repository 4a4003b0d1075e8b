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

fn lock<T>(m: &std::sync::Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Why a symlink found while walking is not followed: it leads out of the tree.
fn link_outside(e: &ignore::DirEntry, root: Option<&Path>) -> Option<String> {
    if !e.path_is_symlink() {
        return None;
    }
    let inside = match (std::fs::canonicalize(e.path()), root) {
        (Ok(t), Some(r)) => t.starts_with(r),
        _ => false,
    };
    (!inside)
        .then(|| "a symlink to a file outside the directory being walked; not followed".to_owned())
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
                let root = std::fs::canonicalize(p).ok();
                let found = std::sync::Mutex::new(Vec::new());
                let walk_errors = std::sync::Mutex::new(Vec::new());
                // The parallel walker reads directories on every core; sorting afterwards
                // keeps the output order deterministic.
                ignore::WalkBuilder::new(p)
                    // `.gitignore` counts whether or not the tree is a git checkout.
                    .require_git(false)
                    .follow_links(true)
                    .build_parallel()
                    .run(|| {
                        Box::new(|entry| {
                            match entry {
                                Ok(e)
                                    if e.file_type().is_some_and(|t| t.is_file())
                                        && is_manifest(e.path()) =>
                                {
                                    match link_outside(&e, root.as_deref()) {
                                        Some(reason) => lock(&walk_errors)
                                            .push((e.path().to_path_buf(), reason)),
                                        None => lock(&found).push(e.into_path()),
                                    }
                                }
                                Ok(_) => {}
                                Err(err) => lock(&walk_errors).push((p.clone(), err.to_string())),
                            }
                            ignore::WalkState::Continue
                        })
                    });
                let mut found = found.into_inner().unwrap_or_else(|e| e.into_inner());
                let mut walk_errors = walk_errors.into_inner().unwrap_or_else(|e| e.into_inner());
                walk_errors.sort();
                errors.extend(walk_errors);
                found.sort();
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
    // A file reached twice (named twice, or through a link and directly) is read once.
    let mut seen = std::collections::HashSet::new();
    out.retain(|i| match i {
        Input::File { path, .. } => {
            seen.insert(std::fs::canonicalize(path).unwrap_or_else(|_| path.clone()))
        }
        Input::Stdin => true,
    });
    (out, errors)
}
