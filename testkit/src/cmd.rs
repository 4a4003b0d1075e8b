//! Running the command-line binary from a test: the runner (given the binary's path, since
//! `env!("CARGO_BIN_EXE_pss-fix")` exists only inside integration tests), what a run said and
//! how it ended, and temporary projects to run it in.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

/// A binary run with a predictable environment: no `NO_COLOR`, stdin empty (not a terminal).
#[derive(Clone, Copy, Debug)]
pub struct Bin(pub &'static str);

impl Bin {
    /// `BIN ARGS` in `dir`, not yet started.
    pub fn command(self, dir: &Path, args: &[&str]) -> Command {
        let mut c = Command::new(self.0);
        c.args(args)
            .current_dir(dir)
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        c
    }

    /// `BIN ARGS` in `dir`, run to the end.
    pub fn run(self, dir: &Path, args: &[&str]) -> Output {
        self.command(dir, args).output().expect("run the binary")
    }

    /// `BIN ARGS` in `dir` with `input` piped on stdin.
    pub fn run_stdin(self, dir: &Path, args: &[&str], input: &[u8]) -> Output {
        with_stdin(self.command(dir, args), input)
    }
}

/// Run `cmd` with `input` piped on stdin (written from a thread, so large outputs cannot
/// deadlock), stdout and stderr captured.
pub fn with_stdin(mut cmd: Command, input: &[u8]) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut stdin = child.stdin.take().unwrap();
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let out = child.wait_with_output().expect("wait");
    writer.join().unwrap();
    out
}

/// The exit code (a run ended by a signal fails the test).
pub fn code(o: &Output) -> i32 {
    o.status
        .code()
        .unwrap_or_else(|| panic!("ended by a signal: {:?}", o.status))
}

/// Stdout, which must be UTF-8.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("stdout is UTF-8")
}

/// Stderr, invalid UTF-8 replaced.
pub fn stderr(o: &Output) -> String {
    text(&o.stderr)
}

/// Bytes as text, invalid UTF-8 replaced.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The whole of a run for a failure message: exit status, stdout and stderr.
pub fn show(o: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}\n--- stderr\n{}",
        o.status.code(),
        text(&o.stdout),
        text(&o.stderr)
    )
}

/// `s` quoted for `sh`.
pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The repository's root (the pss-fix crate).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the test kit lives in the repository")
        .to_path_buf()
}

/// `fixtures/` of the repository.
pub fn fixtures() -> PathBuf {
    repo_root().join("fixtures")
}

/// A copy of `from` (recursively) at `to`.
pub fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dst = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dst);
        } else {
            fs::copy(e.path(), dst).unwrap();
        }
    }
}

/// The names in `dir` (not recursive), sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A temporary project to run the binary in, built file by file; removed when dropped.
pub struct Project(TempDir);

impl Project {
    /// An empty project.
    pub fn new() -> Project {
        Project(tempfile::tempdir().expect("a temporary directory"))
    }

    /// A project holding a copy of `fixtures/demo` at `demo/`.
    pub fn demo() -> Project {
        Project::new().copy("fixtures/demo", "demo")
    }

    /// With `rel` holding `bytes` (its folders made as needed).
    pub fn file(self, rel: &str, bytes: impl AsRef<[u8]>) -> Project {
        let path = self.path().join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, bytes).unwrap();
        self
    }

    /// With a copy of `from` (a file or folder of the repository) at `rel`.
    pub fn copy(self, from: &str, rel: &str) -> Project {
        let (from, to) = (repo_root().join(from), self.path().join(rel));
        if from.is_dir() {
            copy_dir(&from, &to);
        } else {
            fs::create_dir_all(to.parent().unwrap()).unwrap();
            fs::copy(from, to).unwrap();
        }
        self
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// The temporary directory itself.
    pub fn into_dir(self) -> TempDir {
        self.0
    }
}

impl Default for Project {
    fn default() -> Project {
        Project::new()
    }
}
