//! `pss-fix patch`, refereed by the real kustomize: the printed patches, applied by
//! `kubectl kustomize` to the input, must give the same objects (as data) as `pss-fix fix`
//! gives for the same input and options. Over the fixtures in `fixtures/patch/`,
//! `fixtures/demo/`, `fixtures/unsafe/` (with `--unsafe`), the shared corpus
//! (`../shared/corpus/`, `../shared/helm4/`), and the examples of `docs/patch.md` (both targets).
//!
//! kubectl comes from `scripts/fetch-helm.sh` (`target/tools/kubectl/kubectl`) or the path
//! in `PSS_KUBECTL`; never from PATH (a CI machine has none, and a local one may be any
//! version). Without it the kustomize tests print that they were not run and pass, except
//! under CI (`CI` set), where they fail.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::{env, fs};

use pss_fix::patch::Json;
use pss_fix::yaml::Documents;

const BIN: &str = env!("CARGO_BIN_EXE_pss-fix");

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// kubectl, or `None` with a note (a panic under CI).
fn kubectl() -> Option<PathBuf> {
    let path = match env::var_os("PSS_KUBECTL") {
        Some(p) => PathBuf::from(p),
        None => root().join("target/tools/kubectl/kubectl"),
    };
    if path.is_file() {
        return Some(path);
    }
    if env::var_os("CI").is_some() {
        panic!(
            "kubectl not found at {} (required under CI; run scripts/fetch-helm.sh)",
            path.display()
        );
    }
    eprintln!("kubectl not found (run scripts/fetch-helm.sh); kustomize tests not run");
    None
}

fn pss_fix(args: &[&str], dir: &Path, stdin: Option<&str>) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    if let Some(s) = stdin {
        use std::io::Write;
        child.stdin.take().unwrap().write_all(s.as_bytes()).unwrap();
    }
    child.wait_with_output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8(b.to_vec()).unwrap()
}

/// `kubectl kustomize DIR`'s output, or its error.
fn kustomize(kubectl: &Path, dir: &Path) -> Result<String, String> {
    let out = Command::new(kubectl)
        .arg("kustomize")
        .arg(dir)
        .env("HOME", dir)
        .env_remove("KUBECONFIG")
        .output()
        .unwrap();
    if out.status.success() {
        Ok(text(&out.stdout))
    } else {
        Err(text(&out.stderr))
    }
}

/// A value with mapping keys sorted: kustomize writes keys in its own order.
fn sorted(v: Json) -> Json {
    match v {
        Json::Map(m) => {
            let mut m: Vec<_> = m.into_iter().map(|(k, v)| (k, sorted(v))).collect();
            m.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Map(m)
        }
        Json::Seq(s) => Json::Seq(s.into_iter().map(sorted).collect()),
        v => v,
    }
}

fn get<'j>(v: &'j Json, key: &str) -> Option<&'j Json> {
    match v {
        Json::Map(m) => m.iter().find(|(k, _)| k == key).map(|(_, v)| v),
        _ => None,
    }
}

fn str_at(v: &Json, keys: &[&str]) -> String {
    let mut v = Some(v);
    for k in keys {
        v = v.and_then(|v| get(v, k));
    }
    match v {
        Some(Json::Str(s)) => s.clone(),
        _ => String::new(),
    }
}

/// The objects of a stream as data, by apiVersion, kind, namespace and name (a `kind: List`
/// counts as its items, as kustomize reads it; empty documents count for nothing).
fn objects(stream: &str) -> BTreeMap<[String; 4], Json> {
    let mut out = BTreeMap::new();
    for doc in Documents::new(stream) {
        let doc = doc.unwrap();
        let data = sorted(Json::of(doc.data().unwrap()));
        let items = match (&data, get(&data, "items")) {
            (_, Some(Json::Seq(items))) if str_at(&data, &["kind"]).ends_with("List") => {
                items.clone()
            }
            (Json::Map(_), _) => vec![data],
            _ => vec![],
        };
        for o in items {
            let key = [
                str_at(&o, &["apiVersion"]),
                str_at(&o, &["kind"]),
                str_at(&o, &["metadata", "namespace"]),
                str_at(&o, &["metadata", "name"]),
            ];
            assert!(out.insert(key.clone(), o).is_none(), "{key:?} twice");
        }
    }
    out
}

/// A kustomization directory: `input` as the resource `name`, and `patches` (a `patches:`
/// document, as `pss-fix patch` prints it) pasted below `resources:`.
fn kustomization(input: &str, name: &str, patches: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(name), input).unwrap();
    fs::write(
        dir.path().join("kustomization.yaml"),
        format!("resources:\n  - {name}\n{patches}"),
    )
    .unwrap();
    dir
}

/// The referee: `patches` applied by kustomize to `input` give `fixed`'s objects, as data.
/// kustomize normalizes some data of its own (it drops `annotations: null`), so `fixed` goes
/// through kustomize too; `exact` also compares with `fixed` as it is.
fn assert_kustomize_matches(
    kubectl: &Path,
    label: &str,
    input: &str,
    patches: &str,
    fixed: &str,
    exact: bool,
) {
    let dir = kustomization(input, "input.yaml", patches);
    let patched = kustomize(kubectl, dir.path()).unwrap_or_else(|e| {
        panic!("{label}: kubectl kustomize refused the patches: {e}\n{patches}")
    });
    let want_dir = kustomization(fixed, "fixed.yaml", "");
    let want = kustomize(kubectl, want_dir.path())
        .unwrap_or_else(|e| panic!("{label}: kubectl kustomize refused `fix`'s output: {e}"));
    let got = objects(&patched);
    let mut wants = vec![objects(&want)];
    if exact {
        wants.push(objects(fixed));
    }
    for want in wants {
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "{label}: objects"
        );
        for (k, w) in &want {
            assert_eq!(&got[k], w, "{label}: {k:?} differs from `fix`\n{patches}");
        }
    }
}

struct Case {
    file: &'static str,
    args: &'static [&'static str],
    /// The exit status of `patch`.
    status: i32,
    /// Some object must change (the patches are not empty).
    changes: bool,
}

const CASES: &[Case] = &[
    Case {
        file: "fixtures/patch/missing-security-context.yaml",
        args: &[],
        status: 0,
        changes: true,
    },
    Case {
        file: "fixtures/patch/partial-security-context.yaml",
        args: &[],
        status: 0,
        changes: true,
    },
    Case {
        file: "fixtures/patch/init-containers.yaml",
        args: &[],
        status: 0,
        changes: true,
    },
    Case {
        file: "fixtures/patch/jobs-and-daemons.yaml",
        args: &[],
        status: 0,
        changes: true,
    },
    Case {
        file: "fixtures/patch/jobs-and-daemons.yaml",
        args: &["--run-as-user", "10001"],
        status: 0,
        changes: true,
    },
    Case {
        file: "fixtures/patch/passing.yaml",
        args: &[],
        status: 0,
        changes: false,
    },
    Case {
        file: "fixtures/patch/unsafe-values.yaml",
        args: &[],
        status: 1,
        changes: true,
    },
    Case {
        file: "fixtures/patch/unsafe-values.yaml",
        args: &["--unsafe"],
        status: 0,
        changes: true,
    },
    Case {
        file: "fixtures/patch/unsafe-values.yaml",
        args: &["--unsafe", "--run-as-user", "1000"],
        status: 0,
        changes: true,
    },
    Case {
        file: "fixtures/patch/init-containers.yaml",
        args: &["--level", "baseline"],
        status: 0,
        changes: false,
    },
    Case {
        file: "fixtures/demo/web.yaml",
        args: &[],
        status: 0,
        changes: true,
    },
    Case {
        file: "fixtures/demo/backup-cronjob.yaml",
        args: &[],
        status: 0,
        changes: true,
    },
    Case {
        file: "fixtures/demo/node-agent.yaml",
        args: &[],
        status: 1,
        changes: true,
    },
    Case {
        file: "fixtures/demo/node-agent.yaml",
        args: &["--unsafe", "--level", "baseline"],
        status: 1,
        changes: true,
    },
    Case {
        file: "fixtures/unsafe/everything-unsafe.yaml",
        args: &["--unsafe", "--run-as-user", "1000"],
        status: 0,
        changes: true,
    },
    Case {
        file: "fixtures/unsafe/root-init-container.yaml",
        args: &["--unsafe"],
        status: 0,
        changes: true,
    },
    Case {
        file: "fixtures/unsafe/bitnami-volume-permissions.yaml",
        args: &["--unsafe", "--run-as-user", "1000"],
        status: 0,
        changes: true,
    },
];

/// `pss-fix fix -` of `input` with `args`: the fixed stream.
fn fixed(input: &str, args: &[&str]) -> String {
    let mut a = vec!["fix", "-"];
    a.extend_from_slice(args);
    let out = pss_fix(&a, root(), Some(input));
    assert!(
        out.status.code() == Some(0),
        "fix {args:?}: {}",
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[test]
fn fixture_patches_applied_by_kustomize_equal_fix() {
    let kubectl = kubectl();
    for case in CASES {
        let label = format!("{} {:?}", case.file, case.args);
        let input = fs::read_to_string(root().join(case.file)).unwrap();
        let mut args = vec!["patch", case.file];
        args.extend_from_slice(case.args);
        let out = pss_fix(&args, root(), None);
        assert_eq!(
            out.status.code(),
            Some(case.status),
            "{label}: {}",
            text(&out.stderr)
        );
        let patches = text(&out.stdout);
        assert_eq!(
            !patches.contains("patches: []"),
            case.changes,
            "{label}:\n{patches}"
        );
        let fixed = fixed(&input, case.args);
        assert_eq!(fixed != input, case.changes, "{label}: fix changes");
        if let Some(k) = &kubectl {
            assert_kustomize_matches(k, &label, &input, &patches, &fixed, true);
            if case.changes {
                // The referee can fail: without the patches kustomize gives the input.
                let plain = kustomization(&input, "input.yaml", "");
                let plain = kustomize(k, plain.path()).unwrap();
                assert_ne!(objects(&plain), objects(&fixed), "{label}");
            }
        }
    }
}

/// Every formatting and dialect fixture (flow style, JSON, CRLF, nulls, aliases and merge
/// keys, …): where kustomize reads the input and every object can be patched, the patches
/// give what `fix` gives.
#[test]
fn format_and_dialect_fixtures_through_kustomize() {
    let Some(k) = kubectl() else { return };
    let mut compared = 0;
    for dir in ["fixtures/format", "fixtures/dialect"] {
        for file in pss_fix_testkit::manifests_under(&root().join(dir)) {
            let label = file.display().to_string();
            let input = fs::read_to_string(&file).unwrap();
            let out = pss_fix(&["patch", file.to_str().unwrap()], root(), None);
            let fix = pss_fix(&["fix", "-"], root(), Some(&input));
            if fix.status.code() == Some(2) {
                // `fix` refuses it too: then so does `patch`.
                assert_eq!(out.status.code(), Some(2), "{label}");
                continue;
            }
            assert_ne!(out.status.code(), Some(2), "{label}: {}", text(&out.stderr));
            let err = text(&out.stderr);
            if err.contains("a kustomize patch cannot select")
                || err.contains("selects objects by name")
            {
                continue;
            }
            let plain = kustomization(&input, "input.yaml", "");
            if kustomize(&k, plain.path()).is_err() {
                continue;
            }
            let patches = text(&out.stdout);
            assert_kustomize_matches(&k, &label, &input, &patches, &text(&fix.stdout), false);
            compared += 1;
        }
    }
    eprintln!("format and dialect fixtures: {compared} compared through kubectl kustomize");
    assert!(compared >= 15, "only {compared} fixtures compared");
}

#[test]
fn directories_and_stdin_as_fix_reads_them() {
    // A directory is walked: one patch per changed object, in path order.
    let out = pss_fix(&["patch", "fixtures/demo"], root(), None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let patches = text(&out.stdout);
    let kinds: Vec<&str> = patches
        .lines()
        .filter_map(|l| l.trim().strip_prefix("kind: "))
        .collect();
    assert_eq!(kinds, ["CronJob", "DaemonSet", "Deployment"], "{patches}");
    // It closes, as every command does, with the summary on stderr.
    assert_eq!(
        text(&out.stderr).lines().last(),
        Some("pss-fix: 3 of 3 workloads failed restricted:latest as found in all 3 files: 2 fixable, 1 needs a person."),
        "{}",
        text(&out.stderr)
    );
    // stdin: the same patches, named `<stdin>`.
    let input = fs::read_to_string(root().join("fixtures/demo/web.yaml")).unwrap();
    let piped = pss_fix(&["patch", "-"], root(), Some(&input));
    assert_eq!(piped.status.code(), Some(0));
    let named = pss_fix(&["patch", "fixtures/demo/web.yaml"], root(), None);
    assert_eq!(
        text(&piped.stdout).replace("<stdin>", "fixtures/demo/web.yaml"),
        text(&named.stdout)
    );
}

#[test]
fn unpatchable_objects_are_named_and_exit_1() {
    let out = pss_fix(&["patch", "fixtures/patch/unpatchable.yaml"], root(), None);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("fixtures/patch/unpatchable.yaml:3:1: this Job has no `metadata.name` (only `generateName`)"),
        "{err}"
    );
    assert!(
        err.contains(
            "fixtures/patch/unpatchable.yaml:15:1: the fixes change items of a `kind: List`"
        ),
        "{err}"
    );
    assert!(text(&out.stdout).contains("patches: []"));
}

#[test]
fn errors_exit_2() {
    let out = pss_fix(&["patch", "fixtures/patch/no-such-file.yaml"], root(), None);
    assert_eq!(out.status.code(), Some(2));
    let out = pss_fix(&["patch", "-"], root(), Some("a: [\n"));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).starts_with("<stdin>:"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn printed_patches_snapshots() {
    for (name, file, args) in [
        (
            "partial-security-context",
            "fixtures/patch/partial-security-context.yaml",
            &[][..],
        ),
        (
            "unsafe-values@unsafe-uid-1000",
            "fixtures/patch/unsafe-values.yaml",
            &["--unsafe", "--run-as-user", "1000"][..],
        ),
        (
            "init-containers@flux",
            "fixtures/patch/init-containers.yaml",
            &["--target", "flux"][..],
        ),
    ] {
        let mut a = vec!["patch", file];
        a.extend_from_slice(args);
        let out = pss_fix(&a, root(), None);
        insta::with_settings!({snapshot_path => root().join("snapshots"), prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(format!("patch__{name}"), text(&out.stdout));
        });
    }
}

#[test]
fn flux_target_wraps_the_same_patches() {
    let file = "fixtures/patch/partial-security-context.yaml";
    let kustomize_out = text(&pss_fix(&["patch", file], root(), None).stdout);
    let flux_out = text(&pss_fix(&["patch", "--target", "flux", file], root(), None).stdout);
    let flux = flux_patches(&data(&flux_out));
    assert_eq!(Some(&flux), get(&data(&kustomize_out), "patches"));
}

/// The first document of a stream as data.
fn data(stream: &str) -> Json {
    Json::of(
        Documents::new(stream)
            .next()
            .unwrap()
            .unwrap()
            .data()
            .unwrap(),
    )
}

/// The `patches` of the one kustomize post-renderer under `postRenderers` in `parent` (what
/// `--target flux` prints, or a HelmRelease's `spec`), checking the shape on the way.
fn flux_patches(parent: &Json) -> Json {
    let Some(Json::Seq(renderers)) = get(parent, "postRenderers") else {
        panic!("no postRenderers list: {parent:?}");
    };
    assert_eq!(renderers.len(), 1);
    let Json::Map(entry) = &renderers[0] else {
        panic!("a post-renderer is a mapping")
    };
    assert_eq!(entry.len(), 1, "only `kustomize`");
    let kustomize = get(&renderers[0], "kustomize").expect("kustomize");
    let Json::Map(k) = kustomize else {
        panic!("kustomize is a mapping")
    };
    assert_eq!(k.len(), 1, "only `patches`");
    let patches = get(kustomize, "patches").expect("patches").clone();
    let Json::Seq(list) = &patches else {
        panic!("patches is a list")
    };
    for p in list {
        let Json::Map(m) = p else {
            panic!("a patch is a mapping")
        };
        let keys: Vec<&str> = m.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(keys, ["target", "patch"]);
        assert!(matches!(get(p, "patch"), Some(Json::Str(_))));
        let Some(Json::Map(t)) = get(p, "target") else {
            panic!("target")
        };
        for (k, v) in t {
            assert!(
                ["group", "version", "kind", "name", "namespace"].contains(&k.as_str()),
                "{k}"
            );
            assert!(matches!(v, Json::Str(_)), "{k}");
        }
    }
    patches
}

/// A `patches:` document holding these patches, in the YAML pss-fix writes (so kustomize
/// reads what the user would paste).
fn patches_document(patches: &Json) -> String {
    let Json::Seq(list) = patches else { panic!() };
    let mut out = String::from("patches:\n");
    for p in list {
        let t = get(p, "target").unwrap();
        let Json::Map(t) = t else { panic!() };
        out.push_str("  - target:\n");
        for (k, v) in t {
            let Json::Str(v) = v else { panic!() };
            out.push_str(&format!(
                "      {k}: {}\n",
                serde_json::to_string(v).unwrap()
            ));
        }
        let Some(Json::Str(body)) = get(p, "patch") else {
            panic!()
        };
        out.push_str("    patch: |-\n");
        for line in body.lines() {
            out.push_str(&format!("      {line}\n"));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------
// docs/patch.md: its examples, run as written

/// The fenced block that follows `<!-- example: NAME -->` in docs/patch.md.
fn doc_block(name: &str) -> String {
    let doc = fs::read_to_string(root().join("docs/patch.md")).unwrap();
    let marker = format!("<!-- example: {name} -->");
    let at = doc
        .find(&marker)
        .unwrap_or_else(|| panic!("docs/patch.md has no {marker}"));
    let rest = &doc[at + marker.len()..];
    let open = rest.find("```").unwrap();
    let body = &rest[open..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("\n```").unwrap() + 1].to_owned()
}

#[test]
fn docs_kustomize_example_end_to_end() {
    let input = doc_block("kustomize-input");
    let head = doc_block("kustomize-kustomization");
    let printed = doc_block("kustomize-output");
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir(dir.path().join("base")).unwrap();
    fs::write(dir.path().join("base/web.yaml"), &input).unwrap();
    let out = pss_fix(&["patch", "base/web.yaml"], dir.path(), None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        printed,
        "docs/patch.md shows other output"
    );
    // As the doc says: append the output to the kustomization, then build.
    fs::write(
        dir.path().join("kustomization.yaml"),
        format!("{head}{}", text(&out.stdout)),
    )
    .unwrap();
    let Some(k) = kubectl() else { return };
    let built = kustomize(&k, dir.path()).unwrap();
    let want = fixed(&input, &[]);
    assert_eq!(objects(&built), objects(&want));
}

#[test]
fn docs_flux_example_end_to_end() {
    let rendered = doc_block("flux-rendered");
    let printed = doc_block("flux-output");
    let release = doc_block("flux-helmrelease");
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("rendered.yaml"), &rendered).unwrap();
    let out = pss_fix(
        &["patch", "--target", "flux", "rendered.yaml"],
        dir.path(),
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        printed,
        "docs/patch.md shows other output"
    );
    // The HelmRelease in the doc holds exactly the printed post-renderer under `spec`.
    let hr = data(&release);
    assert_eq!(str_at(&hr, &["apiVersion"]), "helm.toolkit.fluxcd.io/v2");
    assert_eq!(str_at(&hr, &["kind"]), "HelmRelease");
    let spec = get(&hr, "spec").expect("spec");
    let from_release = flux_patches(spec);
    assert_eq!(from_release, flux_patches(&data(&printed)));
    // Flux's kustomize post-renderer applies them as kustomize does.
    let Some(k) = kubectl() else { return };
    let dir = kustomization(&rendered, "rendered.yaml", &patches_document(&from_release));
    let built = kustomize(&k, dir.path()).unwrap();
    assert_eq!(objects(&built), objects(&fixed(&rendered, &[])));
}

// ---------------------------------------------------------------------------------------
// the shared corpus

#[test]
fn corpus_patches_applied_by_kustomize_equal_fix() {
    let shared = root().join("../shared");
    if !shared.join("corpus").is_dir() {
        assert!(
            env::var_os("CI").is_none(),
            "shared corpus not found at {} (required under CI)",
            shared.display()
        );
        eprintln!("shared corpus not found; corpus patch test not run");
        return;
    }
    let Some(k) = kubectl() else { return };
    let files: Vec<PathBuf> = ["corpus", "helm4"]
        .iter()
        .flat_map(|d| pss_fix_testkit::manifests_under(&shared.join(d)))
        .collect();
    let (mut compared, mut patched, mut skipped) = (0, 0, Vec::new());
    for file in &files {
        let label = file.display().to_string();
        let input = fs::read_to_string(file).unwrap();
        let out = pss_fix(&["patch", file.to_str().unwrap()], root(), None);
        let err = text(&out.stderr);
        assert_ne!(out.status.code(), Some(2), "{label}: {err}");
        let patches = text(&out.stdout);
        if err.contains("a kustomize patch cannot select")
            || err.contains("selects objects by name")
        {
            // Named on stderr with exit 1 (checked above); kustomize could not target them.
            assert_eq!(out.status.code(), Some(1), "{label}");
            skipped.push(format!("{label}: unpatchable objects"));
            continue;
        }
        // Files kustomize cannot load as they are (duplicate objects, ...) are no test of
        // the patches.
        let plain = kustomization(&input, "input.yaml", "");
        if let Err(e) = kustomize(&k, plain.path()) {
            skipped.push(format!(
                "{label}: kustomize refuses the input: {}",
                e.trim()
            ));
            continue;
        }
        let fixed = fixed(&input, &[]);
        assert_kustomize_matches(&k, &label, &input, &patches, &fixed, false);
        compared += 1;
        if !patches.contains("patches: []") {
            patched += 1;
        }
    }
    eprintln!(
        "corpus patch: {compared} files compared with `fix` through kubectl kustomize, {patched} with patches; skipped: {skipped:#?}"
    );
    assert!(
        patched >= 30,
        "too few corpus files patched ({patched}); skipped: {skipped:#?}"
    );
}
