//! The README's "Fix at the source" examples, run exactly as written (the shell blocks after
//! `<!-- example: NAME -->` are this test's input) with the real Helm 3 and Helm 4 and the
//! real kubectl, each in a fresh directory holding a fixture chart as `./chart` and the files
//! the example edits, with `pss-fix`, `helm` and `kubectl` first on PATH. What the examples
//! leave behind is then checked independently: the values written into a values file, a Flux
//! HelmRelease's `spec.values` or an Argo CD Application's `valuesObject`, rendered by Helm,
//! pass `restricted`; the Flux post-renderer's patches, applied by `kubectl kustomize` to the
//! render, make it pass; the kustomize route is checked by its own last line.
//!
//! Also the Helm 3 hook gap the post-renderer documentation describes: which objects each
//! Helm hands a post-renderer, observed with a chart holding a pre-install Job and a test Pod.
//!
//! Binaries: `scripts/fetch-helm.sh` (`target/tools/{helm3,helm4,kubectl}`); without them the
//! tests say "not run" and pass, except under CI (`CI=true`), where they fail.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::{env, fs};

use serde_yaml_ng::Value;

const BIN: &str = env!("CARGO_BIN_EXE_pss-fix");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// `target/tools/NAME`, or `None` with a note (a panic under CI).
fn tool(name: &str) -> Option<PathBuf> {
    let path = root().join("target/tools").join(name);
    if path.is_file() {
        return Some(path);
    }
    if env::var_os("CI").is_some_and(|v| v == "true") {
        panic!("{} not found (run scripts/fetch-helm.sh)", path.display());
    }
    eprintln!(
        "{} not found (run scripts/fetch-helm.sh); not run",
        path.display()
    );
    None
}

/// Helm `major` and kubectl, when both are there.
fn tools(major: u8) -> Option<(PathBuf, PathBuf)> {
    Some((
        tool(&format!("helm{major}/helm"))?,
        tool("kubectl/kubectl")?,
    ))
}

/// The shell block after `<!-- example: NAME -->` in README.md.
fn example(name: &str) -> String {
    let readme = fs::read_to_string(root().join("README.md")).expect("README.md");
    let marker = format!("<!-- example: {name} -->\n```sh\n");
    let start = readme
        .find(&marker)
        .unwrap_or_else(|| panic!("README.md has no example {name}"))
        + marker.len();
    let len = readme[start..].find("```").expect("the block ends");
    readme[start..start + len].to_string()
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).expect("copy");
        }
    }
}

/// A directory for one example: `./chart` (the fixture chart `chart`), `files`, and
/// `bin/` with `pss-fix`, `helm` and `kubectl`.
struct Work {
    dir: tempfile::TempDir,
    helm: PathBuf,
}

impl Work {
    fn new(chart: &str, helm: &Path, kubectl: &Path, files: &[(&str, &str)]) -> Work {
        let dir = tempfile::tempdir().expect("tempdir");
        copy_dir(
            &root().join("fixtures/charts").join(chart),
            &dir.path().join("chart"),
        );
        let bin = dir.path().join("bin");
        fs::create_dir_all(&bin).expect("mkdir");
        for (name, target) in [
            ("pss-fix", Path::new(BIN)),
            ("helm", helm),
            ("kubectl", kubectl),
        ] {
            std::os::unix::fs::symlink(target, bin.join(name)).expect("symlink");
        }
        for (name, text) in files {
            fs::write(dir.path().join(name), text).expect("write");
        }
        Work {
            dir,
            helm: helm.to_path_buf(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        fs::read_to_string(self.path(name)).expect("read")
    }

    /// `script` run by `sh -e` here, `bin/` first on PATH, a Helm home of its own.
    fn sh(&self, script: &str) -> Output {
        let path = env::join_paths(
            std::iter::once(self.path("bin"))
                .chain(env::split_paths(&env::var_os("PATH").unwrap_or_default())),
        )
        .expect("PATH");
        let mut c = Command::new("sh");
        c.arg("-ec")
            .arg(script)
            .current_dir(self.dir.path())
            .env("PATH", path);
        helm_home(&mut c, &self.path("helm-home"));
        c.output().expect("sh runs")
    }

    /// The README example `name`, run as a user would paste it; it must succeed.
    fn run_example(&self, name: &str) -> Output {
        let script = example(name);
        let out = self.sh(&script);
        assert!(
            out.status.success(),
            "example {name} failed ({}):\n{script}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    /// `kubectl kustomize` of this directory, which must succeed.
    fn kustomize(&self) -> String {
        let out = Command::new(self.path("bin/kubectl"))
            .arg("kustomize")
            .arg(self.dir.path())
            .output()
            .expect("kubectl");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// `helm template web ./chart -f VALUES`, which must succeed.
    fn template(&self, values: Option<&Path>) -> String {
        let mut c = Command::new(&self.helm);
        c.args(["template", "web"]).arg(self.path("chart"));
        if let Some(v) = values {
            c.arg("-f").arg(v);
        }
        let out = c.output().expect("helm runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).expect("utf-8")
    }

    /// The values at `path` inside the document of `file`, as a values file of their own.
    fn extract_values(&self, file: &str, path: &[&str]) -> PathBuf {
        let doc: Value = serde_yaml_ng::from_str(&self.read(file)).expect("yaml");
        let mut v = &doc;
        for k in path {
            v = v
                .get(*k)
                .unwrap_or_else(|| panic!("{file} has no {}", path.join(".")));
        }
        let out = self.path("extracted-values.yaml");
        fs::write(&out, serde_yaml_ng::to_string(v).expect("yaml")).expect("write");
        out
    }
}

/// Helm settings of its own under `home`, none inherited.
fn helm_home(c: &mut Command, home: &Path) {
    for (k, _) in env::vars_os() {
        if k.to_string_lossy().starts_with("HELM_") {
            c.env_remove(k);
        }
    }
    c.env("HELM_CACHE_HOME", home.join("cache"))
        .env("HELM_CONFIG_HOME", home.join("config"))
        .env("HELM_DATA_HOME", home.join("data"))
        .env("HELM_PLUGINS", home.join("data/plugins"));
}

/// Every workload of `stream` passes restricted.
fn assert_passes(stream: &str, what: &str) {
    let report = pss_fix::process(what, stream, &pss_fix::Options::default()).expect("reads");
    assert!(!report.workloads.is_empty(), "{what}: no workloads");
    for w in &report.workloads {
        let checks: Vec<&str> = w.before.iter().map(|v| v.check).collect();
        assert!(
            checks.is_empty(),
            "{what}: {} still fails {checks:?}",
            w.label()
        );
    }
}

/// Some workload of `stream` fails restricted (the example has something to do).
fn assert_fails(stream: &str, what: &str) {
    let report = pss_fix::process(what, stream, &pss_fix::Options::default()).expect("reads");
    assert!(
        report.workloads.iter().any(|w| !w.before.is_empty()),
        "{what}: nothing fails to begin with"
    );
}

const BOT_VALUES: &str = "# Values for web, maintained by hand and by a bot.\nreplicaCount: 2\n";

const HELMRELEASE: &str = "\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: web
  namespace: apps
spec:
  interval: 10m
  chart:
    spec:
      chart: ./chart
      sourceRef:
        kind: GitRepository
        name: apps
  # Values passed to the chart.
  values:
    replicaCount: 2
";

const APPLICATION: &str = "\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: web
  namespace: argocd
spec:
  project: default
  source:
    repoURL: https://git.example.com/apps.git
    path: chart
    helm:
      releaseName: web
      valuesObject:
        replicaCount: 2
  destination:
    server: https://kubernetes.default.svc
    namespace: apps
";

#[test]
fn a_bot_updates_a_values_file() {
    for major in [3, 4] {
        let Some((helm, kubectl)) = tools(major) else {
            return;
        };
        let w = Work::new(
            "bitnami-like",
            &helm,
            &kubectl,
            &[("values.yaml", BOT_VALUES)],
        );
        assert_fails(&w.template(Some(&w.path("values.yaml"))), "before");
        let out = w.run_example("bot");
        // The diff came first, on stdout; the file keeps what it had.
        let diff = String::from_utf8_lossy(&out.stdout);
        assert!(
            diff.starts_with("--- a/values.yaml\n+++ b/values.yaml\n"),
            "{diff}"
        );
        let text = w.read("values.yaml");
        assert!(text.starts_with(BOT_VALUES), "{text}");
        assert_passes(
            &w.template(Some(&w.path("values.yaml"))),
            "helm -f values.yaml",
        );
        // A second run finds nothing to add and writes nothing.
        w.run_example("bot");
        assert_eq!(w.read("values.yaml"), text);
    }
}

/// The README example `name` run on bitnami-like beside `file`; the values at `path` in
/// the file it leaves, given to `helm template -f`, make every workload pass. The file's text.
fn values_written_into(
    (helm, kubectl): (&Path, &Path),
    (file, text): (&str, &str),
    name: &str,
    path: &[&str],
) -> String {
    let w = Work::new("bitnami-like", helm, kubectl, &[(file, text)]);
    let before = w.extract_values(file, path);
    assert_fails(&w.template(Some(&before)), "before");
    w.run_example(name);
    let values = w.extract_values(file, path);
    assert_passes(
        &w.template(Some(&values)),
        &format!("helm -f {file}'s values"),
    );
    w.read(file)
}

#[test]
fn flux_values_in_the_helmrelease_and_a_post_renderer_for_the_rest() {
    for major in [3, 4] {
        let Some((helm, kubectl)) = tools(major) else {
            return;
        };
        // Values reach everything in bitnami-like: spec.values alone makes it pass.
        let text = values_written_into(
            (&helm, &kubectl),
            ("helmrelease.yaml", HELMRELEASE),
            "flux",
            &["spec", "values"],
        );
        assert!(text.contains("  # Values passed to the chart.\n"), "{text}");

        // picky templates single fields: the post-renderer patches, applied by kustomize as
        // Flux applies them, make the render pass.
        let w = Work::new(
            "picky",
            &helm,
            &kubectl,
            &[("helmrelease.yaml", HELMRELEASE)],
        );
        let values_out = Command::new(BIN)
            .args(["values", "chart", "--helm"])
            .arg(&helm)
            .current_dir(w.dir.path())
            .output()
            .expect("runs");
        assert_eq!(
            values_out.status.code(),
            Some(1),
            "picky: values leave some"
        );
        let rendered = w.template(None);
        assert_fails(&rendered, "picky");
        fs::write(w.path("rendered.yaml"), &rendered).expect("write");
        // `pss-fix values --write` exits 1 here (what remains), which `sh -e` would stop at;
        // the post-renderer line is run on its own.
        let script = example("flux");
        let line = script
            .lines()
            .find(|l| l.contains("patch --target flux"))
            .expect("the post-renderer line");
        let out = w.sh(line);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let post: Value = serde_yaml_ng::from_str(&w.read("post-renderer.yaml")).expect("yaml");
        let patches = &post["postRenderers"][0]["kustomize"]["patches"];
        assert!(
            patches.as_sequence().is_some_and(|p| !p.is_empty()),
            "{post:?}"
        );
        let kustomization = serde_yaml_ng::to_string(
            &serde_yaml_ng::from_str::<Value>(&format!(
                "resources: [rendered.yaml]\npatches: {}",
                serde_json::to_string(patches).expect("json")
            ))
            .expect("yaml"),
        )
        .expect("yaml");
        fs::write(w.path("kustomization.yaml"), kustomization).expect("write");
        assert_passes(&w.kustomize(), "kustomize + flux patches");
    }
}

#[test]
fn argocd_values_in_the_application() {
    for major in [3, 4] {
        let Some((helm, kubectl)) = tools(major) else {
            return;
        };
        let text = values_written_into(
            (&helm, &kubectl),
            ("application.yaml", APPLICATION),
            "argocd",
            &["spec", "source", "helm", "valuesObject"],
        );
        assert!(text.contains("        replicaCount: 2\n"), "{text}");
    }
}

#[test]
fn kustomize_patches_beside_a_render() {
    for major in [3, 4] {
        let Some((helm, kubectl)) = tools(major) else {
            return;
        };
        // scaffold's test hook Pod takes no values: patches reach it.
        let w = Work::new("scaffold", &helm, &kubectl, &[]);
        assert_fails(&w.template(None), "scaffold");
        w.run_example("kustomize");
        assert_passes(&w.kustomize(), "kustomize");
    }
}

/// `--write` refuses to overwrite a value the file sets (exit 1, the key reported with its
/// place); `--unsafe` overwrites; a file the merge cannot edit is an error naming its place
/// (exit 2) and is left as it was; `--format json` says what was written and kept.
#[test]
fn write_keeps_values_and_refuses_readably() {
    let Some((helm, kubectl)) = tools(3) else {
        return;
    };
    let own = "securityContext:\n  allowPrivilegeEscalation: true  # needed by the debugger\n";
    let w = Work::new(
        "scaffold",
        &helm,
        &kubectl,
        &[("values.yaml", own), ("bad.yaml", "- a\n- b\n")],
    );
    let values = |extra: &[&str]| {
        Command::new(BIN)
            .args(["values", "chart", "--helm"])
            .arg(&helm)
            .args(extra)
            .current_dir(w.dir.path())
            .output()
            .expect("runs")
    };
    let out = values(&["--write", "values.yaml", "--format", "json"]);
    assert_eq!(out.status.code(), Some(1));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["written"], true);
    assert_eq!(json["file"], "values.yaml");
    let kept = json["kept"].as_array().expect("kept");
    assert_eq!(kept.len(), 1, "{json}");
    assert_eq!(kept[0]["key"], "securityContext.allowPrivilegeEscalation");
    assert_eq!(
        (kept[0]["line"].as_u64(), kept[0]["column"].as_u64()),
        (Some(2), Some(29))
    );
    let text = w.read("values.yaml");
    assert!(
        text.contains("allowPrivilegeEscalation: true  # needed by the debugger"),
        "{text}"
    );
    // Text: kept keys on stderr with their place.
    let out = values(&["--write", "values.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("kept: values.yaml:2:29:"), "{stderr}");
    assert!(out.stdout.is_empty(), "nothing more to write");
    // --unsafe overwrites it.
    let out = values(&["--write", "values.yaml", "--unsafe"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("+  allowPrivilegeEscalation: false"));
    // A list is no values file: exit 2, file:line:col, nothing written.
    let out = values(&["--write", "bad.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("bad.yaml:1:1:"), "{stderr}");
    assert_eq!(w.read("bad.yaml"), "- a\n- b\n");
}

const HOOKED: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: plain
---
apiVersion: batch/v1
kind: Job
metadata:
  name: certgen
  annotations:
    helm.sh/hook: pre-install
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: c, image: x}]
---
apiVersion: v1
kind: Pod
metadata:
  name: conn-test
  annotations:
    helm.sh/hook: test
spec:
  containers: [{name: c, image: x}]
";

/// What docs/integrations.md says about hooks and post-renderers: Helm 3 hands a
/// post-renderer the chart's objects but not its hooks (a pre-install Job, a test Pod);
/// Helm 4 hands it the hooks too.
#[test]
fn helm3_post_renderers_miss_hooks_helm4_ones_get_them() {
    let names = |stream: &str| -> Vec<String> {
        let mut n: Vec<String> = serde_yaml_ng::Deserializer::from_str(stream)
            .filter_map(|d| serde::Deserialize::deserialize(d).ok())
            .filter_map(|v: Value| v["metadata"]["name"].as_str().map(String::from))
            .collect();
        n.sort();
        n
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let chart = dir.path().join("hooked");
    fs::create_dir_all(chart.join("templates")).expect("mkdir");
    fs::write(
        chart.join("Chart.yaml"),
        "apiVersion: v2\nname: hooked\nversion: 0.1.0\n",
    )
    .expect("write");
    fs::write(chart.join("templates/all.yaml"), HOOKED).expect("write");
    let plugin = dir.path().join("capture");
    fs::create_dir_all(&plugin).expect("mkdir");
    let script = plugin.join("capture.sh");
    fs::write(&script, "#!/bin/sh\nexec tee \"$PSS_CAPTURE\"\n").expect("write");
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&script, fs::Permissions::from_mode(0o755)).expect("chmod");
    fs::write(
        plugin.join("plugin.yaml"),
        "apiVersion: v1\ntype: postrenderer/v1\nname: capture\nversion: 0.1.0\n\
         runtime: subprocess\nruntimeConfig:\n  platformCommand:\n\
         \x20   - command: ${HELM_PLUGIN_DIR}/capture.sh\n",
    )
    .expect("write");
    for major in [3u8, 4] {
        let Some(helm) = tool(&format!("helm{major}/helm")) else {
            return;
        };
        let home = dir.path().join(format!("home{major}"));
        let captured = dir.path().join(format!("captured{major}.yaml"));
        let run = |args: &[&str]| {
            let mut c = Command::new(&helm);
            helm_home(&mut c, &home);
            c.args(args)
                .current_dir(dir.path())
                .env("PSS_CAPTURE", &captured)
                .output()
                .expect("helm runs")
        };
        // Helm 3 runs an executable; Helm 4 only a post-renderer plugin.
        let post = if major == 3 {
            script.to_str().expect("utf-8").to_string()
        } else {
            let out = run(&["plugin", "install", plugin.to_str().expect("utf-8")]);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            "capture".to_string()
        };
        let out = run(&["template", "r", "hooked", "--post-renderer", &post]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let all = ["certgen", "conn-test", "plain"];
        assert_eq!(
            names(&String::from_utf8_lossy(&out.stdout)),
            all,
            "helm {major} renders all"
        );
        let got = names(&fs::read_to_string(&captured).expect("the post-renderer ran"));
        if major == 3 {
            assert_eq!(got, ["plain"], "helm 3 hands the post-renderer no hooks");
        } else {
            assert_eq!(got, all, "helm 4 hands the post-renderer the hooks too");
        }
    }
}
