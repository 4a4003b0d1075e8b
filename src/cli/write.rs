//! Writing a fixed file without ever leaving it half-written: a temporary file in the same
//! directory, the original's permissions (and owner, where the process may set it), fsync,
//! then an atomic rename over the original and an fsync of the directory. At every moment the
//! path holds either the old bytes or the new ones, whatever happens to the process.
//!
//! Refused, with a reason and nothing touched:
//! - a symlink found while walking a directory whose target lies outside that directory (a
//!   symlink named on the command line is followed wherever it points: the user chose it);
//! - anything but a regular file;
//! - a read-only file: no write permission bit at all (even for root, who could write it), or
//!   one the kernel would not let this process open for writing (another user's file, an
//!   immutable file, a read-only mount). Renaming over a file needs only a writable
//!   directory, so without this check a read-only file would be silently replaced;
//! - a file whose bytes changed on disk since pss-fix read them (another program's edit wins).
//!
//! A failure at any step (the directory not writable, the disk full) removes the temporary
//! file and leaves the original as it was. A process killed between creating and renaming the
//! temporary file leaves it behind: it is named `.pss-fix-XXXXXX.tmp`, hidden and without a
//! manifest extension, so no directory walk reads it. Stale ones are never cleaned up
//! automatically: another pss-fix run may be writing it at that moment.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::Path;

/// Temporary files start with this (hidden: directory walks skip them).
pub const TEMP_PREFIX: &str = ".pss-fix-";
/// …and end with this (not `.yaml`/`.yml`/`.json`: directory walks never read them).
pub const TEMP_SUFFIX: &str = ".tmp";

/// Replace the file at `path` with `contents`, atomically. `original` is what was read from
/// it; `within` is the (canonical) directory being walked when the file was found in one.
pub fn atomic_write(
    path: &Path,
    within: Option<&Path>,
    original: &[u8],
    contents: &str,
) -> io::Result<()> {
    let target = fs::canonicalize(path).map_err(|e| with(&e, "cannot resolve the path"))?;
    if let Some(root) = within {
        let root = fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
        if !target.starts_with(&root) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!(
                    "a symlink to {}, outside the directory being fixed ({}); not followed (name the file itself to fix it)",
                    target.display(),
                    root.display()
                ),
            ));
        }
    }
    let meta = fs::metadata(&target).map_err(|e| with(&e, "cannot read its metadata"))?;
    if !meta.is_file() {
        return Err(io::Error::other(format!(
            "{} is not a regular file; not replaced",
            target.display()
        )));
    }
    refuse_read_only(&target, &meta)?;
    let dir = target.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(TEMP_SUFFIX)
        .tempfile_in(dir)
        .map_err(|e| {
            with(
                &e,
                &format!(
                    "cannot create a temporary file in {} (the directory must be writable)",
                    dir.display()
                ),
            )
        })?;
    // From here on, an early return drops `tmp`, which deletes the temporary file.
    tmp.write_all(contents.as_bytes())
        .and_then(|()| tmp.flush())
        .map_err(|e| unchanged(&e, "cannot write the fixed file"))?;
    keep_owner(tmp.as_file(), &meta);
    tmp.as_file()
        .set_permissions(meta.permissions())
        .map_err(|e| unchanged(&e, "cannot copy the file's permissions"))?;
    tmp.as_file()
        .sync_all()
        .map_err(|e| unchanged(&e, "cannot flush the fixed file to disk"))?;
    let now = fs::read(&target).map_err(|e| with(&e, "cannot read it again"))?;
    if now != original {
        return Err(io::Error::other(
            "the file changed on disk while pss-fix was working; not overwritten",
        ));
    }
    tmp.persist(&target)
        .map_err(|e| unchanged(&e.error, "cannot rename the fixed file over it"))?;
    // Make the rename itself durable.
    if let Ok(d) = fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// `context: reason`, keeping the error kind.
fn with(e: &io::Error, context: &str) -> io::Error {
    io::Error::new(e.kind(), format!("{context}: {}", reason(e)))
}

/// `context: reason; the original is unchanged`, for failures after the temporary file exists.
fn unchanged(e: &io::Error, context: &str) -> io::Error {
    io::Error::new(
        e.kind(),
        format!("{context}: {}; the original is unchanged", reason(e)),
    )
}

/// The operating system's words for an error, without the temporary file's path that
/// `tempfile` appends (` at path "…"`): messages name the file being fixed instead.
fn reason(e: &io::Error) -> String {
    if let Some(code) = e.raw_os_error() {
        return io::Error::from_raw_os_error(code).to_string();
    }
    let text = e.to_string();
    match text.find(" at path \"") {
        Some(at) => text[..at].to_string(),
        None => text,
    }
}

/// A file marked read-only, or one this process may not write, is not replaced.
fn refuse_read_only(target: &Path, meta: &fs::Metadata) -> io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o7777;
        if mode & 0o222 == 0 {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                format!("the file is read-only (mode {mode:04o}); not replaced (make it writable, e.g. `chmod u+w`, to fix it)"),
            ));
        }
    }
    #[cfg(not(unix))]
    if meta.permissions().readonly() {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            "the file is read-only; not replaced",
        ));
    }
    // Ask the kernel (permission bits, ACLs, the immutable flag, a read-only mount). Opening
    // for writing without truncating changes nothing in the file.
    OpenOptions::new()
        .write(true)
        .open(target)
        .map(drop)
        .map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("the file is not writable ({}); not replaced", reason(&e)),
            )
        })
}

/// Give the new file the original's owner and group where this process may (root, or the
/// owner changing to one of its groups); otherwise it belongs to whoever ran pss-fix.
#[cfg(unix)]
fn keep_owner(file: &fs::File, meta: &fs::Metadata) {
    use std::os::unix::fs::{fchown, MetadataExt};
    let Ok(mine) = file.metadata() else {
        return;
    };
    if (mine.uid(), mine.gid()) == (meta.uid(), meta.gid()) {
        return;
    }
    if fchown(file, Some(meta.uid()), Some(meta.gid())).is_err() {
        let _ = fchown(file, None, Some(meta.gid()));
    }
}

#[cfg(not(unix))]
fn keep_owner(_file: &fs::File, _meta: &fs::Metadata) {}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    fn names(d: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_the_file_and_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("web.yaml");
        fs::write(&path, "kind: Pod\n").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        atomic_write(&path, None, b"kind: Pod\n", "kind: Pod # fixed\n").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "kind: Pod # fixed\n");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(names(tmp.path()), ["web.yaml"]);
    }

    /// Someone else changed the file between pss-fix's read and its write: their version
    /// wins, and no temporary file is left.
    #[test]
    fn does_not_overwrite_a_concurrent_change() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("web.yaml");
        let edited_since = "kind: Pod\n# edited by someone else\n";
        fs::write(&path, edited_since).unwrap();
        let err = atomic_write(&path, None, b"kind: Pod\n", "kind: Pod # fixed\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "the file changed on disk while pss-fix was working; not overwritten"
        );
        assert_eq!(fs::read_to_string(&path).unwrap(), edited_since);
        assert_eq!(names(tmp.path()), ["web.yaml"]);
    }

    /// Not a regular file (a directory named like a manifest, here): refused.
    #[test]
    fn refuses_what_is_not_a_regular_file() {
        let tmp = tempfile::tempdir().unwrap();
        let path = tmp.path().join("dir.yaml");
        fs::create_dir(&path).unwrap();
        let err = atomic_write(&path, None, b"", "a: 1\n").unwrap_err();
        assert!(
            err.to_string()
                .ends_with("is not a regular file; not replaced"),
            "{err}"
        );
        assert_eq!(names(tmp.path()), ["dir.yaml"]);
    }

    /// With the walked root given, a path that resolves outside it is refused and nothing is
    /// touched (the binary's side of the rule is in tests/safe_writes.rs).
    #[test]
    fn refuses_a_link_out_of_the_walked_root() {
        let tmp = tempfile::tempdir().unwrap();
        let tree = tmp.path().join("tree");
        let outside = tmp.path().join("outside");
        fs::create_dir(&tree).unwrap();
        fs::create_dir(&outside).unwrap();
        let original = "kind: Pod\n";
        fs::write(outside.join("web.yaml"), original).unwrap();
        std::os::unix::fs::symlink("../outside/web.yaml", tree.join("escape.yaml")).unwrap();
        let root = fs::canonicalize(&tree).unwrap();

        let err = atomic_write(
            &tree.join("escape.yaml"),
            Some(&root),
            original.as_bytes(),
            "kind: Pod # changed\n",
        )
        .unwrap_err();
        let m = err.to_string();
        assert!(
            m.starts_with("a symlink to ") && m.contains("outside the directory being fixed"),
            "{m}"
        );
        assert_eq!(err.kind(), io::ErrorKind::PermissionDenied);
        assert_eq!(
            fs::read_to_string(outside.join("web.yaml")).unwrap(),
            original
        );
        assert_eq!(names(&outside), ["web.yaml"]);
        assert_eq!(names(&tree), ["escape.yaml"]);
    }
}
