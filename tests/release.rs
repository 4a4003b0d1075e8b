//! How pss-fix is shipped (issue 14): the Action's installer (`scripts/action-install.sh`)
//! against a local release laid out exactly as cargo-dist publishes it, the KRM function
//! image (`Dockerfile`), and the release settings in `Cargo.toml` that both depend on.
//!
//! The installer is pointed at a directory of archives through `PSS_FIX_DOWNLOAD_URL`
//! (`file://`, and a local `python3 -m http.server` when python3 is there), with its cache
//! in a temporary directory. The archives hold this test's own pss-fix binary: what is under
//! test is the picking, verifying, unpacking and caching, not the build. The release build
//! itself (`cargo build --profile dist --target x86_64-unknown-linux-musl`) takes minutes,
//! so the test that runs the image's binary as kustomize would runs when that binary exists
//! and otherwise says `not run`.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use tempfile::TempDir;

mod support;

use support::{code, show, text};

const BIN: &str = support::PSS.0;
const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The targets the release is built for, as `[workspace.metadata.dist]` lists them.
const TARGETS: [&str; 5] = [
    "x86_64-unknown-linux-musl",
    "aarch64-unknown-linux-musl",
    "x86_64-apple-darwin",
    "aarch64-apple-darwin",
    "x86_64-pc-windows-msvc",
];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn not_run(test: &str, why: &str) {
    println!("{test}: not run: {why}");
}

/// The release target the installer should pick on this machine.
fn host_target() -> Option<&'static str> {
    match (std::env::consts::OS, std::env::consts::ARCH) {
        ("linux", "x86_64") => Some("x86_64-unknown-linux-musl"),
        ("linux", "aarch64") => Some("aarch64-unknown-linux-musl"),
        ("macos", "x86_64") => Some("x86_64-apple-darwin"),
        ("macos", "aarch64") => Some("aarch64-apple-darwin"),
        _ => None,
    }
}

fn sha256(file: &Path) -> String {
    let o = Command::new("sha256sum")
        .arg(file)
        .output()
        .or_else(|_| {
            Command::new("shasum")
                .args(["-a", "256"])
                .arg(file)
                .output()
        })
        .expect("sha256sum or shasum");
    assert!(o.status.success(), "{}", show(&o));
    text(&o.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

/// `pss-fix-TARGET.tar.gz` holding `pss-fix-TARGET/pss-fix` (cargo-dist's layout), and its
/// `.sha256` in cargo-dist's format (`HEX *NAME`). The host's archive holds the real binary;
/// every other target's holds a script naming its target, so picking the wrong one shows.
fn release_dir() -> TempDir {
    let dir = TempDir::new().unwrap();
    for target in TARGETS.iter().filter(|t| !t.contains("windows")) {
        let name = format!("pss-fix-{target}.tar.gz");
        let path = dir.path().join(&name);
        let gz = flate2::write::GzEncoder::new(
            fs::File::create(&path).unwrap(),
            flate2::Compression::fast(),
        );
        let mut tar = tar::Builder::new(gz);
        let entry = format!("pss-fix-{target}/pss-fix");
        if Some(*target) == host_target() {
            tar.append_path_with_name(BIN, &entry).unwrap();
        } else {
            let script = format!("#!/bin/sh\necho wrong archive: {target}\nexit 3\n");
            let mut header = tar::Header::new_gnu();
            header.set_size(script.len() as u64);
            header.set_mode(0o755);
            header.set_cksum();
            tar.append_data(&mut header, &entry, script.as_bytes())
                .unwrap();
        }
        for extra in ["README.md", "CHANGELOG.md"] {
            tar.append_path_with_name(root().join(extra), format!("pss-fix-{target}/{extra}"))
                .unwrap();
        }
        tar.into_inner().unwrap().finish().unwrap();
        fs::write(
            dir.path().join(format!("{name}.sha256")),
            format!("{} *{name}\n", sha256(&path)),
        )
        .unwrap();
    }
    dir
}

/// The installer with a clean environment: the local release, a cache of its own.
fn installer(base_url: &str, cache: &Path) -> Command {
    let mut c = Command::new("bash");
    c.arg(root().join("scripts/action-install.sh"))
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", cache)
        .env("PSS_FIX_DOWNLOAD_URL", base_url)
        .env("PSS_FIX_CACHE_DIR", cache)
        .env("INPUT_VERSION", VERSION)
        .env("INPUT_INSTALL", "binary")
        .stdin(Stdio::null());
    c
}

fn output_of(o: &Output, key: &str) -> Option<String> {
    text(&o.stdout)
        .lines()
        .filter_map(|l| l.split_once('='))
        .filter(|(k, _)| *k == key)
        .map(|(_, v)| v.to_owned())
        .next_back()
}

/// Exit 2, saying `why` on stderr.
fn assert_refused(o: &Output, why: &str) {
    assert_eq!(code(o), 2, "{}", show(o));
    assert!(text(&o.stderr).contains(why), "{}", show(o));
}

fn file_url(dir: &Path) -> String {
    format!("file://{}", dir.display())
}

fn has_curl() -> bool {
    Command::new("curl").arg("--version").output().is_ok()
}

/// The installed binary runs and is this version.
fn assert_installed(o: &Output, cache: &Path, target: &str) -> PathBuf {
    assert_eq!(code(o), 0, "{}", show(o));
    let bin_dir = PathBuf::from(output_of(o, "bin-dir").expect("bin-dir= printed"));
    assert_eq!(bin_dir, cache.join(VERSION).join(target));
    assert_eq!(output_of(o, "installed-from").as_deref(), Some("release"));
    let v = Command::new(bin_dir.join("pss-fix"))
        .arg("--version")
        .output()
        .unwrap();
    assert_eq!(code(&v), 0, "{}", show(&v));
    assert_eq!(text(&v.stdout).trim(), format!("pss-fix {VERSION}"));
    bin_dir
}

#[test]
fn installer_picks_verifies_installs_and_caches_the_release_binary() {
    let (Some(target), true) = (host_target(), has_curl()) else {
        return not_run(
            "installer",
            "no release target for this machine, or no curl",
        );
    };
    let release = release_dir();
    let cache = TempDir::new().unwrap();

    // The platform's archive is picked, its checksum checked, its binary installed.
    let o = installer(&file_url(release.path()), cache.path())
        .output()
        .unwrap();
    let bin_dir = assert_installed(&o, cache.path(), target);
    let log = text(&o.stderr);
    assert!(
        log.contains(&format!("pss-fix-{target}.tar.gz")),
        "{}",
        show(&o)
    );
    assert!(log.contains("checksum verified: sha256 "), "{}", show(&o));

    // A second run finds it in the cache: nothing is downloaded (the release is gone).
    let gone = release.path().join("gone");
    let o = installer(&file_url(&gone), cache.path()).output().unwrap();
    assert_installed(&o, cache.path(), target);
    assert!(text(&o.stderr).contains("from the cache"), "{}", show(&o));
    assert!(!text(&o.stderr).contains("downloading"), "{}", show(&o));

    // A cached binary that no longer matches its recorded checksum is fetched again.
    fs::write(bin_dir.join("pss-fix"), "#!/bin/sh\nexit 9\n").unwrap();
    let o = installer(&file_url(release.path()), cache.path())
        .output()
        .unwrap();
    assert_installed(&o, cache.path(), target);
    assert!(text(&o.stderr).contains("downloading"), "{}", show(&o));
}

#[test]
fn installer_refuses_a_corrupted_archive() {
    let (Some(target), true) = (host_target(), has_curl()) else {
        return not_run(
            "installer",
            "no release target for this machine, or no curl",
        );
    };
    let release = release_dir();
    let archive = release.path().join(format!("pss-fix-{target}.tar.gz"));
    let mut bytes = fs::read(&archive).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    fs::write(&archive, bytes).unwrap();
    let cache = TempDir::new().unwrap();
    for install in ["binary", "auto"] {
        let o = installer(&file_url(release.path()), cache.path())
            .env("INPUT_INSTALL", install)
            .output()
            .unwrap();
        // Refused, never replaced by a build from source.
        assert_refused(
            &o,
            &format!("checksum mismatch for pss-fix-{target}.tar.gz: expected "),
        );
        assert!(text(&o.stderr).contains("refusing to install it"));
        assert!(
            !text(&o.stderr).contains("building from source"),
            "{}",
            show(&o)
        );
        assert_eq!(output_of(&o, "bin-dir"), None);
        assert!(
            !cache
                .path()
                .join(VERSION)
                .join(target)
                .join("pss-fix")
                .exists(),
            "a refused binary was installed"
        );
    }
}

#[test]
fn installer_fails_clearly_without_a_release() {
    if !has_curl() || host_target().is_none() {
        return not_run(
            "installer",
            "no release target for this machine, or no curl",
        );
    }
    let empty = TempDir::new().unwrap();
    let cache = TempDir::new().unwrap();
    let o = installer(&file_url(empty.path()), cache.path())
        .output()
        .unwrap();
    assert_refused(&o, &format!("no release binary of pss-fix {VERSION}"));
    let o = installer(&file_url(empty.path()), cache.path())
        .env("INPUT_INSTALL", "sometimes")
        .output()
        .unwrap();
    assert_refused(&o, "install must be auto, binary, source or false");
}

#[test]
fn installer_resolves_the_version_from_input_tag_or_cargo_toml() {
    let cache = TempDir::new().unwrap();
    let resolve = |version: &str, action_ref: &str| {
        let o = installer("file:///nowhere", cache.path())
            .arg("--resolve")
            .env("INPUT_VERSION", version)
            .env("PSS_FIX_ACTION_REF", action_ref)
            .env("PSS_FIX_TARGET", "aarch64-apple-darwin")
            .output()
            .unwrap();
        assert_eq!(code(&o), 0, "{}", show(&o));
        assert_eq!(
            output_of(&o, "target").as_deref(),
            Some("aarch64-apple-darwin")
        );
        let v = output_of(&o, "version").unwrap();
        assert_eq!(
            output_of(&o, "cache-path"),
            Some(format!(
                "{}/{v}/aarch64-apple-darwin",
                cache.path().display()
            ))
        );
        v
    };
    assert_eq!(resolve("v2.3.4", "v1.0.0"), "2.3.4", "the input wins");
    assert_eq!(resolve("", "v1.0.0"), "1.0.0", "then the action's tag");
    assert_eq!(resolve("", "main"), VERSION, "then the action's Cargo.toml");
}

/// The same download over HTTP, from `python3 -m http.server` on a free local port.
#[test]
fn installer_downloads_over_http() {
    let (Some(target), true) = (host_target(), has_curl()) else {
        return not_run("installer over http", "no release target, or no curl");
    };
    let release = release_dir();
    let server = Command::new("python3")
        .args(["-u", "-m", "http.server", "--bind", "127.0.0.1", "0"])
        .current_dir(release.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn();
    let Ok(mut server) = server else {
        return not_run("installer over http", "no python3");
    };
    // "Serving HTTP on 127.0.0.1 port 43117 (http://127.0.0.1:43117/) ..."
    let mut line = String::new();
    BufReader::new(server.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_once("(")
        .and_then(|(_, rest)| rest.split_once(')'))
        .map(|(url, _)| url.trim_end_matches('/').to_owned());
    let cache = TempDir::new().unwrap();
    let result = url.map(|url| installer(&url, cache.path()).output().unwrap());
    let _ = server.kill();
    let _ = server.wait();
    let o = result.unwrap_or_else(|| panic!("no address in {line:?}"));
    assert_installed(&o, cache.path(), target);
    assert!(text(&o.stderr).contains("downloading http://127.0.0.1:"));
}

/// The Action as a workflow runs it: no pss-fix on PATH, `install: binary`; the script
/// installs the release binary and checks with it.
#[test]
fn action_installs_the_release_binary_then_checks() {
    let (Some(_), true) = (host_target(), has_curl()) else {
        return not_run(
            "action install",
            "no release target for this machine, or no curl",
        );
    };
    let release = release_dir();
    let cache = TempDir::new().unwrap();
    let work = TempDir::new().unwrap();
    fs::create_dir(work.path().join("k8s")).unwrap();
    fs::copy(
        root().join("fixtures/demo/web.yaml"),
        work.path().join("k8s/web.yaml"),
    )
    .unwrap();
    let o = Command::new("bash")
        .arg(root().join("scripts/action.sh"))
        .current_dir(work.path())
        .env_clear()
        .env("PATH", "/usr/local/bin:/usr/bin:/bin")
        .env("HOME", work.path())
        .env("PSS_FIX_DOWNLOAD_URL", file_url(release.path()))
        .env("PSS_FIX_CACHE_DIR", cache.path())
        .env("INPUT_INSTALL", "binary")
        .env("INPUT_MODE", "check")
        .env("INPUT_PATHS", "k8s")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "findings: exit 1\n{}", show(&o));
    let out = text(&o.stdout);
    assert!(
        out.contains(&format!("pss-fix: {}", cache.path().display())),
        "the cached binary ran\n{}",
        show(&o)
    );
    assert!(
        out.contains("Deployment/web (k8s/web.yaml:"),
        "{}",
        show(&o)
    );
}

// ---------------------------------------------------------------------------------------
// the release settings and the KRM function image

fn cargo_toml() -> toml_lite::Doc {
    toml_lite::Doc(fs::read_to_string(root().join("Cargo.toml")).unwrap())
}

/// Just enough TOML reading for the release tables: `key = value` lines and arrays of
/// strings, under a `[table]` header (the manifest is written by hand, one key a line).
mod toml_lite {
    pub struct Doc(pub String);

    impl Doc {
        /// The raw value of `key` in `[table]`, arrays joined into one line.
        pub fn get(&self, table: &str, key: &str) -> Option<String> {
            let mut in_table = false;
            let mut lines = self.0.lines();
            while let Some(line) = lines.next() {
                let line = line.trim();
                if line.starts_with('[') {
                    in_table = line == format!("[{table}]");
                    continue;
                }
                if !in_table {
                    continue;
                }
                let Some((k, v)) = line.split_once('=') else {
                    continue;
                };
                if k.trim() != key {
                    continue;
                }
                let mut value = v.trim().to_owned();
                if value.starts_with('[') && !value.ends_with(']') {
                    for more in lines.by_ref() {
                        value.push_str(more.trim());
                        if more.trim().ends_with(']') {
                            break;
                        }
                    }
                }
                return Some(value);
            }
            None
        }

        pub fn strings(&self, table: &str, key: &str) -> Vec<String> {
            self.get(table, key)
                .unwrap_or_default()
                .trim_matches(|c| c == '[' || c == ']')
                .split(',')
                .map(|s| s.trim().trim_matches('"').to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        }
    }
}

#[test]
fn release_settings_agree_with_the_installer_and_binstall() {
    let toml = cargo_toml();
    let dist = "workspace.metadata.dist";
    assert_eq!(toml.strings(dist, "targets"), TARGETS);
    assert_eq!(
        toml.get(dist, "unix-archive").as_deref(),
        Some("\".tar.gz\"")
    );
    assert_eq!(
        toml.get(dist, "windows-archive").as_deref(),
        Some("\".zip\"")
    );
    assert_eq!(toml.get(dist, "checksum").as_deref(), Some("\"sha256\""));

    // cargo binstall finds the same archives: NAME-TARGET.tar.gz holding NAME-TARGET/pss-fix.
    let binstall = "package.metadata.binstall";
    assert_eq!(
        toml.get(binstall, "pkg-url").as_deref(),
        Some("\"{ repo }/releases/download/v{ version }/{ name }-{ target }{ archive-suffix }\"")
    );
    assert_eq!(
        toml.get(binstall, "bin-dir").as_deref(),
        Some("\"{ name }-{ target }/{ bin }{ binary-ext }\"")
    );
    assert_eq!(toml.get(binstall, "pkg-fmt").as_deref(), Some("\"tgz\""));
    assert_eq!(
        toml.get(
            "package.metadata.binstall.overrides.x86_64-pc-windows-msvc",
            "pkg-fmt"
        )
        .as_deref(),
        Some("\"zip\"")
    );

    // The installer knows exactly the released targets.
    let script = fs::read_to_string(root().join("scripts/action-install.sh")).unwrap();
    for target in TARGETS {
        assert!(script.contains(target), "action-install.sh lacks {target}");
    }
    assert!(script.contains("pss-fix-$target.$ext") && script.contains("ext=zip"));

    // The workflow cargo-dist generated is there and builds these targets from the plan.
    let workflow = fs::read_to_string(root().join(".github/workflows/release.yml"))
        .expect("the release workflow (dist generate)");
    assert!(workflow.contains("dist"), "not cargo-dist's workflow");
    assert!(workflow.contains("plan"), "no plan job");
}

/// On Linux with glibc the binary is linked position-dependent (`build.rs`), so the loader
/// has no relocation pass to make at every start. ELF's `e_type` is 2 for such an
/// executable, 3 for a position-independent one.
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_binary_is_linked_position_dependent() {
    use std::io::Read;
    if default_link("glibc_binary_is_linked_position_dependent") {
        return;
    }
    let mut head = [0u8; 18];
    fs::File::open(BIN)
        .and_then(|mut f| f.read_exact(&mut head))
        .unwrap();
    assert_eq!(&head[..4], b"\x7fELF", "{BIN} is not ELF");
    let e_type = u16::from_le_bytes([head[16], head[17]]);
    assert_eq!(
        e_type, 2,
        "{BIN} is position-independent (ELF type {e_type})"
    );
}

/// With libgcc's unwinder linked in (`build.rs`), the binary loads no `libgcc_s`, and a panic
/// still unwinds and is caught, on the thread it happens on and across a join: this test is
/// linked the same way.
#[test]
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn glibc_binary_unwinds_without_libgcc_s() {
    let test = "glibc_binary_unwinds_without_libgcc_s";
    if default_link(test) {
        return;
    }
    if option_env!("PSS_FIX_UNWINDER") != Some("static") {
        not_run(test, "the C compiler did not say where libgcc_eh.a is");
        return;
    }
    // The loader lists what it would load, and runs nothing.
    let o = Command::new(BIN)
        .env("LD_TRACE_LOADED_OBJECTS", "1")
        .output()
        .unwrap();
    let loaded = text(&o.stdout);
    assert!(loaded.contains("libc.so"), "no loader listing: {loaded}");
    assert!(
        !loaded.contains("libgcc_s"),
        "{BIN} loads libgcc_s:\n{loaded}"
    );

    // The panics' messages go to the test's captured output.
    let caught = std::panic::catch_unwind(|| panic!("unwound here"));
    let joined = std::thread::spawn(|| panic!("unwound on a thread")).join();
    assert_eq!(
        caught.unwrap_err().downcast_ref::<&str>(),
        Some(&"unwound here")
    );
    assert!(joined.is_err());
}

/// Built with `PSS_FIX_DEFAULT_LINK=1`: the toolchain's own link, nothing to check.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn default_link(test: &str) -> bool {
    let default = option_env!("PSS_FIX_DEFAULT_LINK").is_some_and(|v| !v.is_empty() && v != "0");
    if default {
        not_run(test, "built with PSS_FIX_DEFAULT_LINK");
    }
    default
}

#[test]
fn dockerfile_is_the_static_binary_running_krm() {
    let dockerfile = fs::read_to_string(root().join("Dockerfile")).unwrap();
    let instructions: Vec<&str> = dockerfile
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect();
    assert_eq!(instructions[0], "FROM scratch", "nothing but the binary");
    assert!(
        instructions.contains(&"ARG TARGET=x86_64-unknown-linux-musl"),
        "{instructions:?}"
    );
    // The path the release build writes: target/TRIPLE/PROFILE/pss-fix, profile `dist`.
    assert!(
        instructions.contains(&"COPY target/${TARGET}/dist/pss-fix /pss-fix"),
        "{instructions:?}"
    );
    assert!(cargo_toml().get("profile.dist", "inherits").is_some());
    assert_eq!(
        instructions.last(),
        Some(&r#"ENTRYPOINT ["/pss-fix", "krm"]"#)
    );
    assert!(instructions.iter().any(|l| l.starts_with("USER ")));
    // The build context lets that binary in.
    let ignore = fs::read_to_string(root().join(".dockerignore")).unwrap();
    assert!(ignore
        .lines()
        .any(|l| l == "!target/*-unknown-linux-musl/dist/pss-fix"));
}

/// A ResourceList as kustomize and kpt hand it to a containerized function.
const RESOURCE_LIST: &str = "\
apiVersion: config.kubernetes.io/v1
kind: ResourceList
items:
- apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: web
    annotations:
      config.kubernetes.io/index: '0'
      internal.config.kubernetes.io/path: 'web.yaml'
  spec:
    selector:
      matchLabels: {app: web}
    template:
      metadata:
        labels: {app: web}
      spec:
        containers:
        - name: app
          image: nginx:1.27
functionConfig:
  apiVersion: pss-fix.dev/v1
  kind: PssFix
  metadata:
    name: pss-fix
    annotations:
      config.kubernetes.io/function: |
        container:
          image: ghcr.io/pss-fix/pss-fix-krm:0.1.0
";

/// The image's entrypoint, run as kustomize runs it (`docker run -i IMAGE` pipes the
/// ResourceList through `ENTRYPOINT`): the static musl binary with `krm`.
#[test]
fn image_binary_runs_krm_as_kustomize_runs_it() {
    let musl = root().join("target/x86_64-unknown-linux-musl/dist/pss-fix");
    if !musl.is_file() {
        return not_run(
            "image binary",
            "no target/x86_64-unknown-linux-musl/dist/pss-fix (cargo build --profile dist --target x86_64-unknown-linux-musl)",
        );
    }
    if host_target() != Some("x86_64-unknown-linux-musl") {
        return not_run("image binary", "not an x86_64 Linux machine");
    }
    // Static: no program interpreter (`ldd` would say "not a dynamic executable").
    let ldd = Command::new("ldd").arg(&musl).output();
    if let Ok(o) = ldd {
        let said = text(&o.stdout) + &text(&o.stderr);
        assert!(
            said.contains("not a dynamic executable") || said.contains("statically linked"),
            "{said}"
        );
    }
    let mut child = Command::new(&musl)
        .arg("krm")
        .env_clear()
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(RESOURCE_LIST.as_bytes())
        .unwrap();
    let o = child.wait_with_output().unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let out = text(&o.stdout);
    assert!(out.starts_with("apiVersion: config.kubernetes.io/v1\nkind: ResourceList\n"));
    assert!(out.contains("runAsNonRoot: true"), "{out}");
    assert!(out.contains("allowPrivilegeEscalation: false"), "{out}");
    assert!(
        out.contains("image: ghcr.io/pss-fix/pss-fix-krm:0.1.0"),
        "functionConfig kept"
    );
    // Every input line is still there, in order: only fields were added.
    let mut rest = out.lines();
    for line in RESOURCE_LIST.lines() {
        assert!(rest.any(|l| l == line), "lost {line:?}\n{out}");
    }
}
