//! `pss-fix post-render` as a Helm post-renderer, end to end with the real Helm 3 and Helm 4
//! binaries on the chart `fixtures/charts/web` (DESIGN §7). Only `helm template`: no cluster.
//!
//! The binaries come from `scripts/fetch-helm.sh` (`target/tools/helm{3,4}/helm`) or from the
//! paths in `PSS_HELM3` / `PSS_HELM4`. Without them the tests print a note and pass, except
//! under CI (`CI` set), where they fail.
//!
//! Helm 3 runs any executable as a post-renderer: it sends the rendered stream as it prints it
//! (`# Source:` comments included) and prints what comes back verbatim. Helm 4 runs only
//! plugins (`helm-plugin/pss-fix`, installed here into a private Helm home), and sends and
//! receives re-serialized YAML: no `# Source:` comments, indentless sequences, `{}` inline, and
//! a `postrenderer.helm.sh/postrender-filename` annotation on every document, with which it
//! puts the `# Source:` comments back afterwards. So Helm 4's post-rendered output is compared
//! with its output through a no-op post-renderer plugin, not with its plain render.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;
use std::{env, fs};

use tempfile::TempDir;

mod support;

use support::{stderr, stdout};

const BIN: &str = support::PSS.0;

const CHART: &str = "fixtures/charts/web";
const HOSTPATH_VALUES: &str = "fixtures/charts/web/values-hostpath.yaml";
const ANNOTATION: &str = "postrenderer.helm.sh/postrender-filename";

// ---------------------------------------------------------------------------------------
// helpers

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The Helm binary of this major version, or `None` (with a note; a panic under CI).
fn helm_bin(major: u8) -> Option<PathBuf> {
    let path = match env::var_os(format!("PSS_HELM{major}")) {
        Some(p) => PathBuf::from(p),
        None => root().join(format!("target/tools/helm{major}/helm")),
    };
    if path.is_file() {
        return Some(path);
    }
    if env::var_os("CI").is_some() {
        panic!(
            "helm {major} not found at {} (required under CI; run scripts/fetch-helm.sh)",
            path.display()
        );
    }
    eprintln!("helm binaries not found (run scripts/fetch-helm.sh); helm tests not run");
    None
}

/// A Helm binary with a private home (cache, config, data, plugins) in a temporary directory.
struct Helm {
    bin: PathBuf,
    home: TempDir,
}

impl Helm {
    fn new(bin: PathBuf) -> Helm {
        Helm {
            bin,
            home: tempfile::tempdir().unwrap(),
        }
    }

    /// `helm ARGS` run from the repository root, pss-fix's directory first on PATH, no
    /// inherited `HELM_*` settings, stdin empty.
    fn command(&self, args: &[&str]) -> Command {
        let home = self.home.path();
        let bin_dir = Path::new(BIN).parent().unwrap();
        let path = env::join_paths(
            std::iter::once(bin_dir.to_path_buf())
                .chain(env::split_paths(&env::var_os("PATH").unwrap_or_default())),
        )
        .unwrap();
        let mut c = Command::new(&self.bin);
        for (k, _) in env::vars_os() {
            if k.to_string_lossy().starts_with("HELM_") {
                c.env_remove(k);
            }
        }
        // Helm 4.1.4 installs a plugin from a local directory into $HELM_DATA_HOME/plugins
        // whatever HELM_PLUGINS says, but loads plugins from HELM_PLUGINS: keep them one place.
        c.args(args)
            .current_dir(root())
            .env("PATH", path)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env("HELM_PLUGINS", home.join("data/plugins"))
            .env_remove("NO_COLOR")
            .stdin(Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run helm")
    }

    /// `helm template rel CHART EXTRA...`, which must succeed; its stdout.
    fn template(&self, extra: &[&str]) -> String {
        let mut args = vec!["template", "rel", CHART];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        assert!(
            out.status.success(),
            "helm {} failed ({}):\n{}",
            args.join(" "),
            out.status,
            stderr(&out)
        );
        stdout(&out)
    }
}

/// `pss-fix ARGS` with `input` on stdin.
fn pss_fix(args: &[&str], input: &str) -> Output {
    support::run_stdin(Path::new("."), args, input.as_bytes())
}

/// `pss-fix check -`: exit 0 (every workload passes restricted:latest) or 1, with the findings
/// (stdout and stderr).
fn check(stream: &str) -> (i32, String) {
    let out = pss_fix(&["check", "-"], stream);
    let code = out.status.code().expect("pss-fix killed");
    (code, stdout(&out) + &stderr(&out))
}

fn assert_passes_restricted(stream: &str, what: &str) {
    let (code, findings) = check(stream);
    assert_eq!(
        code, 0,
        "{what} does not pass restricted:\n{findings}\n{stream}"
    );
}

/// Lines pss-fix adds to this chart (trimmed): the safe fixes and the keys that hold them.
const INSERTABLE: &[&str] = &[
    "securityContext:",
    "runAsNonRoot: true",
    "seccompProfile:",
    "type: RuntimeDefault",
    "allowPrivilegeEscalation: false",
    "capabilities:",
    "drop:",
    "- ALL",
];

/// `after` is `before` with lines inserted and nothing else: every line of `before` is in
/// `after`, in order; the only changes allowed are a `{}` being filled (an own-line `{}` gone,
/// or `key: {}` become `key:`) and inserted lines, each one of [`INSERTABLE`]. Returns the
/// number of inserted lines.
fn assert_only_insertions(before: &str, after: &str, what: &str) -> usize {
    let b: Vec<&str> = before.lines().collect();
    let a: Vec<&str> = after.lines().collect();
    let mut j = 0;
    let mut inserted = 0;
    let fail = |i: usize, j: usize, why: &str| -> ! {
        let ctx = |v: &[&str], k: usize| {
            v[k.saturating_sub(3)..(k + 3).min(v.len())]
                .iter()
                .map(|l| format!("    {l}"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        panic!(
            "{what}: {why}\n  before, line {}:\n{}\n  after, line {}:\n{}",
            i + 1,
            ctx(&b, i),
            j + 1,
            ctx(&a, j)
        )
    };
    for (i, &line) in b.iter().enumerate() {
        let filled = line.strip_suffix(" {}").filter(|k| k.ends_with(':'));
        loop {
            if j < a.len() && (a[j] == line || Some(a[j]) == filled) {
                j += 1;
                break;
            }
            if line.trim() == "{}" {
                break; // Helm's `{}` on its own line, filled in place
            }
            if j >= a.len() {
                fail(
                    i,
                    j,
                    "this input line is missing from the end of the output",
                );
            }
            if !INSERTABLE.contains(&a[j].trim()) {
                fail(
                    i,
                    j,
                    "this input line is missing or changed: the output has a line here that is not a fix",
                );
            }
            inserted += 1;
            j += 1;
        }
    }
    for (k, rest) in a.iter().enumerate().skip(j) {
        if !INSERTABLE.contains(&rest.trim()) {
            fail(
                b.len().saturating_sub(1),
                k,
                "the output adds a line that is not a fix",
            );
        }
        inserted += 1;
    }
    assert_eq!(
        before.ends_with('\n'),
        after.ends_with('\n'),
        "{what}: final newline"
    );
    inserted
}

/// The lines that start with `prefix` after their indentation, without it.
fn lines_starting(text: &str, prefix: &str) -> Vec<String> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with(prefix))
        .map(str::to_owned)
        .collect()
}

/// The findings must name the workload and the volume in the admission controller's words.
fn assert_hostpath_message(stderr: &str, what: &str) {
    assert!(
        stderr.contains("restricted volume types")
            && stderr.contains(r#"volume "node-logs" uses restricted volume type "hostPath""#),
        "{what}: stderr lacks the admission controller's wording:\n{stderr}"
    );
    assert!(
        stderr.contains("Deployment/rel-web"),
        "{what}: stderr lacks the workload's name:\n{stderr}"
    );
}

// ---------------------------------------------------------------------------------------
// Helm 3: any executable, `--post-renderer-args post-render`

fn helm3() -> Option<Helm> {
    helm_bin(3).map(Helm::new)
}

const H3_POST: &[&str] = &[
    "--post-renderer",
    BIN,
    "--post-renderer-args",
    "post-render",
];

/// `helm template` with the post-renderer arguments `post_args`, against the plain render
/// (which fails restricted): (a) it passes restricted; (b) it is the plain render, or what
/// `noop_args` (a no-op post-renderer) renders, plus inserted lines; (c) it keeps the
/// chart's `# Source:` comments and its own comments; (d) it is the same twice. Returns it.
fn assert_post_render_inserts_only(
    helm: &Helm,
    post_args: &[&str],
    noop_args: Option<&[&str]>,
    what: &str,
) -> String {
    let plain = helm.template(&[]);
    let (code, findings) = check(&plain);
    assert_eq!(
        code, 1,
        "the plain render should fail restricted:\n{findings}"
    );
    let base = noop_args.map_or_else(|| plain.clone(), |args| helm.template(args));

    let post = helm.template(post_args);
    // (a) compliant
    assert_passes_restricted(&post, &format!("{what} post-rendered output"));
    // (b) the plain (or no-op post-rendered) render plus inserted lines
    let n = assert_only_insertions(&base, &post, &format!("{what}: before -> post-rendered"));
    assert!(n > 0, "nothing was inserted");
    // (c) the `# Source:` comments and the chart's own comments kept
    let sources = lines_starting(&plain, "# Source:");
    assert_eq!(sources.len(), 4, "{plain}");
    assert_eq!(lines_starting(&post, "# Source:"), sources, "{post}");
    for c in [
        "# runs the schema migrations",
        "# read by the app at start-up",
    ] {
        assert!(post.contains(c), "comment {c:?} lost:\n{post}");
    }
    // (d) deterministic
    assert_eq!(helm.template(post_args), post, "two renders differ");
    post
}

#[test]
fn helm3_post_render_fixes_the_chart_by_insertions_only() {
    let Some(helm) = helm3() else { return };
    // Helm 3 passes its `# Source:` comments to the post-renderer, which keeps them.
    assert_post_render_inserts_only(&helm, H3_POST, None, "helm 3");
}

/// The chart with a hostPath volume through the post-renderer `post_args`: without
/// `--strict` the fixed stream comes out, with only the hostPath volume left; with it, helm
/// fails, outputs nothing and says why. Returns the runs without and with `--strict`.
fn assert_strict_fails_on_hostpath(helm: &Helm, post_args: &[&str], what: &str) -> [Output; 2] {
    let mut args = vec!["template", "rel", CHART, "-f", HOSTPATH_VALUES];
    args.extend_from_slice(post_args);

    let lenient = helm.run(&args);
    assert!(lenient.status.success(), "{}", stderr(&lenient));
    let (code, findings) = check(&stdout(&lenient));
    assert_eq!(code, 1);
    assert_hostpath_message(&findings, "pss-fix check on the post-rendered output");
    assert!(!findings.contains("allowPrivilegeEscalation"), "{findings}");

    args.extend_from_slice(&["--post-renderer-args", "--strict"]);
    let strict = helm.run(&args);
    assert!(
        !strict.status.success(),
        "helm template succeeded under --strict"
    );
    assert!(stdout(&strict).is_empty(), "{}", stdout(&strict));
    assert_hostpath_message(&stderr(&strict), &format!("{what} --strict"));
    [lenient, strict]
}

#[test]
fn helm3_strict_fails_readably_on_a_hostpath_volume() {
    let Some(helm) = helm3() else { return };
    assert_strict_fails_on_hostpath(&helm, H3_POST, "helm 3");
}

/// Issue 10, item 4: a document pss-fix cannot safely edit (a duplicate key in a pod
/// template, which Helm 3 renders without complaint) passes through byte for byte; the rest
/// of the chart is fixed and the render succeeds, failing only under `--strict`. The chart is
/// built from the documents of `fixtures/post-render/refused-documents.yaml`.
#[test]
fn helm3_passes_a_document_it_cannot_edit_through() {
    let Some(helm) = helm3() else { return };
    let stream =
        fs::read_to_string(root().join("fixtures/post-render/refused-documents.yaml")).unwrap();
    let chart = tempfile::tempdir().unwrap();
    let templates = chart.path().join("shop/templates");
    fs::create_dir_all(&templates).unwrap();
    fs::write(
        chart.path().join("shop/Chart.yaml"),
        "apiVersion: v2\nname: shop\nversion: 0.1.0\n",
    )
    .unwrap();
    for doc in stream.split("\n---\n").skip(1) {
        // Helm writes the `---` and `# Source:` lines itself.
        let (source, body) = doc.split_once('\n').unwrap();
        let file = source.strip_prefix("# Source: shop/").unwrap();
        if body.contains("kind: Deployment") || body.contains("kind: Pod") {
            fs::write(chart.path().join("shop").join(file), body).unwrap();
        }
    }
    let dir = chart.path().join("shop");
    let mut args = vec!["template", "rel", dir.to_str().unwrap()];
    let plain = helm.run(&args);
    assert!(plain.status.success(), "{}", stderr(&plain));
    let plain = stdout(&plain);
    assert!(
        plain.contains("image: registry.example/shop-api:1.5"),
        "{plain}"
    );

    args.extend_from_slice(H3_POST);
    let out = helm.run(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let post = stdout(&out);
    let n = assert_only_insertions(&plain, &post, "helm 3 plain -> post-rendered");
    assert_eq!(
        n,
        2 * 9,
        "both fixable workloads get every safe fix:\n{post}"
    );
    let api = |s: &str| -> String {
        s.split("---\n")
            .find(|d| d.contains("name: shop-api"))
            .unwrap()
            .to_owned()
    };
    assert_eq!(api(&post), api(&plain), "the refused document changed");

    args.extend_from_slice(&["--post-renderer-args", "--strict"]);
    let out = helm.run(&args);
    assert!(
        !out.status.success(),
        "helm template succeeded under --strict"
    );
    let err = stderr(&out);
    assert!(
        err.contains("Deployment/shop-api (shop/templates/api.yaml) passed through unchanged: duplicate key \"image\""),
        "{err}"
    );
}

/// The stream Helm 4 hands a post-renderer for kube-prometheus-stack (`../shared/helm4/`),
/// or `None` with a note where it is absent (never in CI).
fn helm4_stream() -> Option<String> {
    let path = root().join("../shared/helm4/kube-prometheus-stack.yaml");
    let stream = fs::read_to_string(&path);
    if stream.is_err() {
        assert!(env::var_os("CI").is_none(), "{} not found", path.display());
        eprintln!("{} not found; not run", path.display());
    }
    stream.ok()
}

/// Helm 4 sends kube-prometheus-stack with multi-line quoted scalars that pss-fix's reader
/// may refuse (`../shared/helm4/`): the install must go on. Each document comes out either
/// byte for byte as it came or with lines inserted only, and nothing says to render it.
#[test]
fn helm4_stream_never_fails_post_render() {
    let Some(sent) = helm4_stream() else { return };
    let out = pss_fix(&["post-render"], &sent);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let fixed = stdout(&out);
    assert_only_insertions(
        &sent,
        &fixed,
        "Helm 4's kube-prometheus-stack -> post-render",
    );
    let docs = |s: &str| s.matches("\n---\n").count();
    assert_eq!(docs(&fixed), docs(&sent));
    assert!(
        !stderr(&out).contains("render it first"),
        "{}",
        stderr(&out)
    );
}

/// The kube-prometheus-stack stream through the real Helm 4 and its `pss-fix` plugin: a chart
/// whose one template emits the stream (`.Files.Get`, so its `{{ … }}` alert texts stay
/// text), rendered with the plugin. Helm 4 re-serializes it first (quoted scalars closing at
/// column 0), so this is what a user of the chart sees: the render succeeds, every workload a
/// safe fix reaches is fixed, and the result differs from a no-op post-render by inserted
/// lines only.
#[test]
fn helm4_plugin_fixes_kube_prometheus_stack_end_to_end() {
    let Some(stream) = helm4_stream() else { return };
    let Some(helm) = helm4() else { return };
    let chart = tempfile::tempdir().unwrap();
    fs::create_dir_all(chart.path().join("templates")).unwrap();
    fs::create_dir_all(chart.path().join("files")).unwrap();
    fs::write(
        chart.path().join("Chart.yaml"),
        "apiVersion: v2\nname: stream\nversion: 0.1.0\n",
    )
    .unwrap();
    fs::write(chart.path().join("files/stream.yaml"), &stream).unwrap();
    fs::write(
        chart.path().join("templates/all.yaml"),
        "{{ .Files.Get \"files/stream.yaml\" }}\n",
    )
    .unwrap();
    let dir = chart.path().to_str().unwrap();
    let render = |post: &str| {
        let out = helm.run(&["template", "rel", dir, "--post-renderer", post]);
        assert!(
            out.status.success(),
            "helm template --post-renderer {post}: {}",
            stderr(&out)
        );
        stdout(&out)
    };
    let noop = render("capture");
    let post = render("pss-fix");
    let n = assert_only_insertions(
        &noop,
        &post,
        "Helm 4 kube-prometheus-stack -> pss-fix plugin",
    );
    assert!(n > 0, "nothing was inserted");
    // Every safe fix was made: fixing the result again changes nothing.
    let again = pss_fix(&["fix", "-"], &post);
    assert_eq!(again.status.code(), Some(0), "{}", stderr(&again));
    assert_eq!(stdout(&again), post, "a safe fix was left for a second run");
    let (before, _) = check(&noop);
    assert_eq!(before, 1, "the plain render should fail restricted");
    let count = |s: &str| {
        let out = pss_fix(&["check", "--format", "json", "-"], s);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        v["files"][0]["workloads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["findings"].as_array().map_or(0, Vec::len))
            .sum::<usize>()
    };
    assert!(count(&post) < count(&noop), "no violation was fixed");
}

// ---------------------------------------------------------------------------------------
// Helm 4: the plugin in helm-plugin/pss-fix

/// A Helm 4 home with two post-renderer plugins installed: `pss-fix` (this repository's) and
/// `capture`, a no-op that copies its input to `$PSS_HELM_CAPTURE` when that is set.
fn helm4() -> Option<&'static Helm> {
    static HELM4: OnceLock<Option<Helm>> = OnceLock::new();
    HELM4
        .get_or_init(|| {
            let helm = Helm::new(helm_bin(4)?);
            let capture = helm.home.path().join("capture-plugin");
            fs::create_dir_all(&capture).unwrap();
            fs::write(
                capture.join("plugin.yaml"),
                "apiVersion: v1\ntype: postrenderer/v1\nname: capture\nversion: 0.1.0\n\
                 runtime: subprocess\nruntimeConfig:\n  platformCommand:\n\
                 \x20   - command: ${HELM_PLUGIN_DIR}/capture.sh\n",
            )
            .unwrap();
            let script = capture.join("capture.sh");
            fs::write(
                &script,
                "#!/bin/sh\nif [ -n \"$PSS_HELM_CAPTURE\" ]; then exec tee \"$PSS_HELM_CAPTURE\"; \
                 else exec cat; fi\n",
            )
            .unwrap();
            make_executable(&script);
            let plugin = root().join("helm-plugin/pss-fix");
            for dir in [plugin.as_path(), capture.as_path()] {
                let out = helm.run(&["plugin", "install", dir.to_str().unwrap()]);
                assert!(
                    out.status.success(),
                    "helm plugin install {}: {}{}",
                    dir.display(),
                    stdout(&out),
                    stderr(&out)
                );
            }
            let list = stdout(&helm.run(&["plugin", "list"]));
            assert!(
                list.lines()
                    .any(|l| l.starts_with("pss-fix") && l.contains("postrenderer/v1")),
                "{list}"
            );
            Some(helm)
        })
        .as_ref()
}

#[cfg(unix)]
fn make_executable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(not(unix))]
fn make_executable(_: &Path) {}

const H4_POST: &[&str] = &["--post-renderer", "pss-fix"];

#[test]
fn helm4_sends_a_filename_annotation_that_pss_fix_keeps() {
    let Some(helm) = helm4() else { return };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("sent.yaml");
    let out = helm
        .command(&["template", "rel", CHART, "--post-renderer", "capture"])
        .env("PSS_HELM_CAPTURE", &file)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let sent = fs::read_to_string(&file).unwrap();

    // What Helm 4 sends: one annotation per document, no `# Source:` comments.
    let annotations = lines_starting(&sent, ANNOTATION);
    assert_eq!(annotations.len(), 4, "{sent}");
    assert!(
        annotations.contains(&format!("{ANNOTATION}: 'web/templates/deployment.yaml'")),
        "{sent}"
    );
    assert!(lines_starting(&sent, "# Source:").is_empty(), "{sent}");

    // What pss-fix makes of it: compliant, insertions only, every annotation kept.
    let out = pss_fix(&["post-render"], &sent);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let fixed = stdout(&out);
    assert_passes_restricted(&fixed, "pss-fix post-render on Helm 4's input");
    let n = assert_only_insertions(&sent, &fixed, "Helm 4's input -> pss-fix post-render");
    assert!(n > 0);
    assert_eq!(lines_starting(&fixed, ANNOTATION), annotations);
}

#[test]
fn helm4_post_render_fixes_the_chart_by_insertions_only() {
    let Some(helm) = helm4() else { return };
    // Helm 4 re-serializes whatever goes through a post-renderer: compare with a no-op one.
    // The `# Source:` comments come back because the annotation reached Helm again (without
    // it Helm 4 writes `# Source: generated-by-postrender-N.yaml`), and Helm removed it.
    let noop: &[&str] = &["--post-renderer", "capture"];
    let post = assert_post_render_inserts_only(helm, H4_POST, Some(noop), "helm 4");
    assert!(!post.contains(ANNOTATION), "{post}");
}

#[test]
fn helm4_strict_fails_readably_on_a_hostpath_volume() {
    let Some(helm) = helm4() else { return };
    let [lenient, strict] = assert_strict_fails_on_hostpath(helm, H4_POST, "helm 4");
    // Helm 4 drops a plugin's stderr; the plugin's wrapper sends it to helm's own.
    assert_hostpath_message(&stderr(&lenient), "helm 4 without --strict");
    let err = stderr(&strict);
    assert!(
        err.contains(r#"plugin "pss-fix" exited with error"#),
        "{err}"
    );
}

#[test]
fn helm4_plugin_without_pss_fix_on_path_says_so() {
    let Some(helm) = helm4() else { return };
    let empty = tempfile::tempdir().unwrap();
    let out = helm
        .command(&["template", "rel", CHART, "--post-renderer", "pss-fix"])
        .env("PATH", empty.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no pss-fix binary on PATH"),
        "{}",
        stderr(&out)
    );
}

// ---------------------------------------------------------------------------------------
// the insertion check itself (no Helm needed)

#[test]
fn insertion_check_accepts_filled_braces_and_fixes() {
    let before =
        "spec:\n  securityContext:\n    {}\n  containers:\n  - name: a\n    securityContext: {}\n";
    let after = "spec:\n  securityContext:\n    runAsNonRoot: true\n  containers:\n  - name: a\n    securityContext:\n      allowPrivilegeEscalation: false\n";
    assert_eq!(assert_only_insertions(before, after, "test"), 2);
}

#[test]
#[should_panic(expected = "missing or changed")]
fn insertion_check_rejects_a_reindented_line() {
    let before = "containers:\n  - name: a\n";
    let after = "containers:\n- name: a\n";
    assert_only_insertions(before, after, "test");
}

#[test]
#[should_panic(expected = "missing or changed")]
fn insertion_check_rejects_a_dropped_line() {
    let before = "a: 1\n# Source: x\nb: 2\n";
    let after = "a: 1\nb: 2\n";
    assert_only_insertions(before, after, "test");
}
