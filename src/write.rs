//! Writing a fixed file without ever leaving it half-written: a temporary file in the same
//! directory, the original's permissions, fsync, then an atomic rename over the original.
//! A symlink is followed and its target replaced, so the link stays a link — but a link
//! found while walking a directory is followed only to a target inside that directory. If
//! the file changed on disk since it was read, it is not overwritten.

use std::fs;
use std::io::{self, Write};
use std::path::Path;

pub fn atomic_write(
    path: &Path,
    within: Option<&Path>,
    original: &[u8],
    contents: &str,
) -> io::Result<()> {
    let target = fs::canonicalize(path)?;
    if let Some(root) = within {
        if !target.starts_with(root) {
            return Err(io::Error::other(format!(
                "a symlink to {}, outside the directory being fixed; not followed",
                target.display()
            )));
        }
    }
    let dir = target.parent().unwrap_or(Path::new("."));
    let meta = fs::metadata(&target)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".pss-fix-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    tmp.write_all(contents.as_bytes())?;
    tmp.as_file().set_permissions(meta.permissions())?;
    tmp.as_file().sync_all()?;
    if fs::read(&target)? != original {
        return Err(io::Error::other(
            "the file changed on disk while pss-fix was working; not overwritten",
        ));
    }
    tmp.persist(&target).map_err(|e| e.error)?;
    // Make the rename itself durable.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
