//! Where pss-fix meets other tools (DESIGN §7): the GitHub Action's script
//! (`scripts/action.sh`, `action.yml`), the pre-commit hooks (`.pre-commit-hooks.yaml`), the
//! KRM function (`pss-fix krm`) under kustomize, shell completions and the man page.
//!
//! Everything runs the real binary (its directory first on PATH) in temporary directories
//! and git repositories. A test that needs a tool this machine lacks (pre-commit, kubectl,
//! a standalone kustomize) prints `not run: ...` and passes; the `gh` CLI is replaced by a
//! recording stand-in, as the tests have no GitHub to talk to.
//!
//! Environment knobs: `PSS_KUBECTL` (a kubectl with built-in kustomize), `PSS_KUSTOMIZE` (a
//! standalone kustomize, the only one that runs exec KRM functions), `PSS_FIX_PRECOMMIT_RUST=1`
//! (also let pre-commit build the hooks with cargo, as `language: rust` users get them:
//! minutes on a cold cache).

use std::ffi::OsString;
use std::fs;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_yaml_ng::Value;
use tempfile::TempDir;

mod support;

use pss_fix_testkit::cmd::{copy_dir, with_stdin as run_with_stdin};
use support::{code, show, text};

const BIN: &str = support::PSS.0;

// ---------------------------------------------------------------------------------------
// helpers

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// PATH with the built binary's directory first, then `extra`, then the inherited PATH.
fn path_with_bin(extra: &[&Path]) -> OsString {
    let bin_dir = Path::new(BIN).parent().unwrap().to_path_buf();
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::iter::once(bin_dir)
        .chain(extra.iter().map(|p| p.to_path_buf()))
        .chain(std::env::split_paths(&inherited));
    std::env::join_paths(dirs).unwrap()
}

/// `pss-fix ARGS` in the crate's root.
fn pss(args: &[&str]) -> Command {
    support::pss(&root(), args)
}

/// git with no user or system configuration, so the machine's settings cannot leak in.
fn git_cmd(dir: &Path) -> Command {
    let mut c = Command::new("git");
    c.current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env_remove("GIT_DIR")
        .env_remove("GIT_WORK_TREE")
        .env_remove("GIT_INDEX_FILE");
    c
}

fn git(dir: &Path, args: &[&str]) -> String {
    let o = git_cmd(dir).args(args).output().expect("run git");
    assert!(o.status.success(), "git {args:?}\n{}", show(&o));
    text(&o.stdout)
}

fn git_init(dir: &Path) {
    git(dir, &["init", "-q", "-b", "main"]);
}

fn git_commit_all(dir: &Path, message: &str) {
    git(dir, &["add", "-A"]);
    git(
        dir,
        &[
            "-c",
            "user.name=Test",
            "-c",
            "user.email=test@example.com",
            "commit",
            "-q",
            "-m",
            message,
        ],
    );
}

fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn write_exec(path: &Path, script: &str) {
    fs::write(path, script).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
    }
}

fn not_run(test: &str, why: &str) {
    println!("{test}: not run: {why}");
}

const DEPLOYMENT: &str = "\
# the web front end
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: nginx:1.27   # pinned
        ports:
        - containerPort: 8080
";

const CRONJOB: &str = "\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: backup
spec:
  schedule: \"0 3 * * *\"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
          - name: backup
            image: busybox:1.36
            args: [\"sh\", \"-c\", \"echo backup\"]
";

const CONFIGMAP: &str = "\
apiVersion: v1
kind: ConfigMap
metadata:
  name: settings
data:
  mode: \"on\"
  retries: \"3\"
";

/// `after` is `before` plus keys named `securityContext` (anything inside one may be added,
/// and a list inside one may grow at its end): nothing removed, nothing changed, order kept.
fn only_security_context_added(before: &Value, after: &Value, path: &str) -> Result<(), String> {
    let inside = path.contains("securityContext");
    match (before, after) {
        (Value::Mapping(b), Value::Mapping(a)) => {
            let after_keys: Vec<&Value> = a.keys().collect();
            let mut last = None;
            for (k, bv) in b {
                let name = k.as_str().map(str::to_owned).unwrap_or(format!("{k:?}"));
                let pos = after_keys
                    .iter()
                    .position(|x| *x == k)
                    .ok_or(format!("{path}: key `{name}` removed"))?;
                if last.is_some_and(|l| pos < l) {
                    return Err(format!("{path}: key `{name}` moved"));
                }
                last = Some(pos);
                only_security_context_added(bv, &a[k], &format!("{path}.{name}"))?;
            }
            for k in a.keys() {
                if !b.contains_key(k) && !inside && k.as_str() != Some("securityContext") {
                    return Err(format!("{path}: unexpected key {k:?} added"));
                }
            }
            Ok(())
        }
        (Value::Sequence(b), Value::Sequence(a)) => {
            if a.len() != b.len() && !(inside && a.len() > b.len()) {
                return Err(format!("{path}: {} items became {}", b.len(), a.len()));
            }
            for (i, bv) in b.iter().enumerate() {
                only_security_context_added(bv, &a[i], &format!("{path}[{i}]"))?;
            }
            Ok(())
        }
        (Value::Null, Value::Mapping(_)) if path.ends_with("securityContext") => Ok(()),
        _ if before == after => Ok(()),
        _ => Err(format!("{path}: {before:?} became {after:?}")),
    }
}

/// Every line of `before` appears in `after`, in order: the edit only inserted lines.
fn lines_kept_in_order(before: &str, after: &str) -> Result<(), String> {
    let mut out = after.lines();
    for (n, line) in before.lines().enumerate() {
        if !out.any(|l| l == line) {
            return Err(format!("input line {} {line:?} is missing or moved", n + 1));
        }
    }
    Ok(())
}

fn yaml_docs(s: &str) -> Vec<Value> {
    use serde::Deserialize;
    serde_yaml_ng::Deserializer::from_str(s)
        .map(|d| Value::deserialize(d).expect("valid YAML"))
        .filter(|v| !v.is_null())
        .collect()
}

fn doc_named<'a>(docs: &'a [Value], kind: &str, name: &str) -> &'a Value {
    docs.iter()
        .find(|d| d["kind"].as_str() == Some(kind) && d["metadata"]["name"].as_str() == Some(name))
        .unwrap_or_else(|| panic!("no {kind}/{name} in the output"))
}

// ---------------------------------------------------------------------------------------
// the GitHub Action: scripts/action.sh run locally, as action.yml runs it

/// A git repository holding one non-compliant Deployment and a ConfigMap, committed.
fn manifest_repo() -> TempDir {
    let t = TempDir::new().unwrap();
    let dir = t.path();
    fs::create_dir(dir.join("k8s")).unwrap();
    fs::write(dir.join("k8s/web.yaml"), DEPLOYMENT).unwrap();
    fs::write(dir.join("k8s/settings.yaml"), CONFIGMAP).unwrap();
    fs::write(dir.join("README.md"), "not a manifest\n").unwrap();
    git_init(dir);
    git_commit_all(dir, "initial");
    t
}

/// The action's script with a clean environment: only what GitHub (or the test) would set.
fn action(dir: &Path, mode: &str, extra_path: &[&Path]) -> Command {
    let mut c = Command::new("bash");
    c.arg(root().join("scripts/action.sh"))
        .current_dir(dir)
        .env_clear()
        .env("PATH", path_with_bin(extra_path))
        .env("HOME", dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("PSS_FIX_SKIP_INSTALL", "1")
        .env("INPUT_MODE", mode)
        .env("INPUT_PATHS", "k8s")
        .stdin(Stdio::null());
    c
}

fn outputs(file: &Path) -> Vec<(String, String)> {
    fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn output_of(file: &Path, key: &str) -> Option<String> {
    outputs(file)
        .into_iter()
        .rev()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v)
}

#[test]
fn action_check_fails_on_findings_and_writes_sarif() {
    let repo = manifest_repo();
    let dir = repo.path();
    let meta = TempDir::new().unwrap();
    let gh_output = meta.path().join("output");
    let summary = meta.path().join("summary.md");
    let o = action(dir, "check", &[])
        .env("INPUT_SARIF", "true")
        .env("GITHUB_OUTPUT", &gh_output)
        .env("GITHUB_STEP_SUMMARY", &summary)
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "{}", show(&o));
    let stdout = text(&o.stdout);
    assert!(
        stdout.contains(
            "Deployment/web (k8s/web.yaml:2): would violate PodSecurity \"restricted:latest\""
        ),
        "{}",
        show(&o)
    );
    assert_eq!(
        fs::read_to_string(dir.join("k8s/web.yaml")).unwrap(),
        DEPLOYMENT,
        "check wrote"
    );

    let sarif: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.join("pss-fix.sarif")).unwrap())
            .expect("the SARIF log is JSON");
    assert_eq!(sarif["version"], "2.1.0");
    assert_eq!(sarif["runs"][0]["tool"]["driver"]["name"], "pss-fix");
    let results = sarif["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty());
    let uri = &results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"];
    assert_eq!(
        uri, "k8s/web.yaml",
        "SARIF paths are relative to the checkout"
    );

    assert_eq!(output_of(&gh_output, "exit-code").as_deref(), Some("1"));
    assert_eq!(
        output_of(&gh_output, "sarif-file").as_deref(),
        Some("pss-fix.sarif")
    );
    let summary = fs::read_to_string(&summary).unwrap();
    assert!(summary.starts_with("### pss-fix"), "{summary}");
    assert!(summary.contains("`Deployment/web`"), "{summary}");
}

#[test]
fn action_check_passes_a_compliant_tree_and_honours_the_level() {
    let repo = manifest_repo();
    let dir = repo.path();
    // The Deployment passes baseline as it stands.
    let o = action(dir, "check", &[])
        .env("INPUT_LEVEL", "baseline")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(!dir.join("pss-fix.sarif").exists(), "no SARIF unless asked");
    // Several paths, separated by newlines as a YAML block scalar gives them.
    let o = action(dir, "check", &[])
        .env("INPUT_PATHS", "k8s/settings.yaml\nREADME.md\n")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
}

#[test]
fn action_fix_and_commit_commits_the_fixed_manifest() {
    let repo = manifest_repo();
    let dir = repo.path();
    let before = git(dir, &["rev-parse", "HEAD"]);
    let meta = TempDir::new().unwrap();
    let gh_output = meta.path().join("output");
    let o = action(dir, "fix-and-commit", &[])
        .env("PSS_FIX_NO_PUSH", "1")
        .env("GITHUB_OUTPUT", &gh_output)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(
        text(&o.stdout).contains("+        securityContext:"),
        "the diff is logged\n{}",
        show(&o)
    );

    // One new commit on top, touching exactly the fixed manifest.
    assert_eq!(git(dir, &["rev-parse", "HEAD~1"]), before);
    let files = git(dir, &["show", "--name-only", "--format=", "HEAD"]);
    assert_eq!(files.trim(), "k8s/web.yaml");
    let subject = git(dir, &["log", "-1", "--format=%s"]);
    assert!(subject.starts_with("pss-fix: "), "{subject}");
    let body = git(dir, &["log", "-1", "--format=%b"]);
    assert!(body.contains("- k8s/web.yaml"), "{body}");
    let author = git(dir, &["log", "-1", "--format=%an <%ae>"]);
    assert!(author.starts_with("github-actions[bot]"), "{author}");
    assert_eq!(git(dir, &["status", "--porcelain"]), "", "tree left clean");
    assert_eq!(output_of(&gh_output, "changed").as_deref(), Some("true"));
    assert_eq!(
        output_of(&gh_output, "commit"),
        Some(git(dir, &["rev-parse", "HEAD"]).trim().to_owned())
    );

    // The committed file is compliant, kept its comments, and only gained fields.
    let fixed = fs::read_to_string(dir.join("k8s/web.yaml")).unwrap();
    lines_kept_in_order(DEPLOYMENT, &fixed).unwrap();
    let o = pss(&["check", "k8s/web.yaml"])
        .current_dir(dir)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));

    // A second run finds nothing to do and makes no commit; check now passes.
    let head = git(dir, &["rev-parse", "HEAD"]);
    let o = action(dir, "fix-and-commit", &[])
        .env("PSS_FIX_NO_PUSH", "1")
        .env("GITHUB_OUTPUT", &gh_output)
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(git(dir, &["rev-parse", "HEAD"]), head);
    assert_eq!(output_of(&gh_output, "changed").as_deref(), Some("false"));
    let o = action(dir, "check", &[]).output().unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
}

#[test]
fn action_fix_and_commit_pushes_to_the_branch() {
    let origin = TempDir::new().unwrap();
    git(origin.path(), &["init", "-q", "--bare", "-b", "main"]);
    let work = manifest_repo();
    let dir = work.path();
    let url = origin.path().to_str().unwrap();
    git(dir, &["remote", "add", "origin", url]);
    git(dir, &["push", "-q", "origin", "main"]);

    // A push event: GITHUB_REF_NAME names the branch.
    let o = action(dir, "fix-and-commit", &[])
        .env("GITHUB_REF_NAME", "main")
        .output()
        .unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let head = git(dir, &["rev-parse", "HEAD"]);
    assert_eq!(git(origin.path(), &["rev-parse", "main"]), head, "pushed");

    // A pull_request checkout of GitHub's merge commit is refused before anything is
    // committed: pushing it would put the base branch into the pull request.
    git(dir, &["checkout", "-q", "-b", "feature", "HEAD~1"]);
    fs::write(dir.join("k8s/job.yaml"), CRONJOB).unwrap();
    git_commit_all(dir, "add a job");
    git(dir, &["checkout", "-q", "--detach", "main"]);
    git(
        dir,
        &[
            "-c",
            "user.name=T",
            "-c",
            "user.email=t@e",
            "merge",
            "-q",
            "--no-ff",
            "-m",
            "merge",
            "feature",
        ],
    );
    let merge = git(dir, &["rev-parse", "HEAD"]);
    let o = action(dir, "fix-and-commit", &[])
        .env("GITHUB_EVENT_NAME", "pull_request")
        .env("GITHUB_HEAD_REF", "feature")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", show(&o));
    assert!(text(&o.stderr).contains("github.head_ref"), "{}", show(&o));
    assert_eq!(git(dir, &["rev-parse", "HEAD"]), merge, "nothing committed");
}

#[test]
fn action_comment_writes_the_step_summary() {
    let repo = manifest_repo();
    let dir = repo.path();
    let meta = TempDir::new().unwrap();
    let summary = meta.path().join("summary.md");
    fs::write(&summary, "earlier step\n").unwrap();
    let o = action(dir, "comment", &[])
        .env("GITHUB_STEP_SUMMARY", &summary)
        .env("GITHUB_EVENT_NAME", "push")
        .output()
        .unwrap();
    assert_eq!(code(&o), 1, "pending changes: exit 1\n{}", show(&o));
    let body = fs::read_to_string(&summary).unwrap();
    assert!(
        body.starts_with("earlier step\n### pss-fix: 1 workload would be made compliant"),
        "{body}"
    );
    assert!(
        body.contains("| `Deployment/web` | `k8s/web.yaml:2` |"),
        "{body}"
    );
    assert!(
        body.contains("spec.template.spec.securityContext.runAsNonRoot"),
        "{body}"
    );
    assert!(
        text(&o.stdout).contains("+++ b/k8s/web.yaml"),
        "diff logged\n{}",
        show(&o)
    );
    assert_eq!(
        fs::read_to_string(dir.join("k8s/web.yaml")).unwrap(),
        DEPLOYMENT,
        "comment wrote"
    );

    // Without a step summary (run by hand) the report goes to stdout.
    let o = action(dir, "comment", &[]).output().unwrap();
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        text(&o.stdout).contains("### pss-fix: 1 workload would be made compliant"),
        "{}",
        show(&o)
    );
}

/// A stand-in for the `gh` CLI: records each call, copies `-F body=@FILE`'s file, and answers
/// the comment listing with the id in `$FAKE_GH_EXISTING` (what `--jq` would have selected).
const FAKE_GH: &str = r#"#!/usr/bin/env bash
echo "$*" >> "$FAKE_GH_DIR/calls"
for a in "$@"; do
  case "$a" in body=@*) cp "${a#body=@}" "$FAKE_GH_DIR/body" ;; esac
done
case "$*" in *--paginate*) cat "$FAKE_GH_DIR/existing" 2>/dev/null ;; esac
exit 0
"#;

#[test]
fn action_comment_posts_then_updates_one_pull_request_comment() {
    let repo = manifest_repo();
    let dir = repo.path();
    let fake = TempDir::new().unwrap();
    let fdir = fake.path();
    fs::create_dir(fdir.join("bin")).unwrap();
    write_exec(&fdir.join("bin/gh"), FAKE_GH);
    let event = fdir.join("event.json");
    fs::write(&event, r#"{"number": 7, "pull_request": {"number": 7}}"#).unwrap();
    let summary = fdir.join("summary.md");
    let bin = fdir.join("bin");
    let run = |with_token: bool| {
        let mut c = action(dir, "comment", &[&bin]);
        c.env("FAKE_GH_DIR", fdir)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_EVENT_NAME", "pull_request")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_REF", "refs/pull/7/merge")
            .env("GITHUB_REPOSITORY", "octo/cluster");
        if with_token {
            c.env("GH_TOKEN", "t0ken");
        }
        c.output().unwrap()
    };
    let calls = || fs::read_to_string(fdir.join("calls")).unwrap_or_default();

    // No token: the step summary only.
    let o = run(false);
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert_eq!(calls(), "", "gh called without a token");
    assert!(
        text(&o.stdout).contains("no pull-request comment"),
        "{}",
        show(&o)
    );

    // First run with a token: no comment yet, so one is created.
    let o = run(true);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let log = calls();
    let lines: Vec<&str> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].starts_with("api repos/octo/cluster/issues/7/comments --paginate"),
        "{log}"
    );
    assert!(
        lines[1].starts_with("api -X POST repos/octo/cluster/issues/7/comments -F body=@"),
        "{log}"
    );
    let body = fs::read_to_string(fdir.join("body")).unwrap();
    assert!(
        body.starts_with("<!-- pss-fix-comment -->\n### pss-fix:"),
        "{body}"
    );
    assert!(body.contains("`Deployment/web`"), "{body}");

    // Second run: the marked comment exists and is updated in place.
    fs::write(fdir.join("existing"), "4242\n").unwrap();
    fs::remove_file(fdir.join("calls")).unwrap();
    let o = run(true);
    assert_eq!(code(&o), 1, "{}", show(&o));
    let log = calls();
    assert!(
        log.lines()
            .nth(1)
            .unwrap_or("")
            .starts_with("api -X PATCH repos/octo/cluster/issues/comments/4242 -F body=@"),
        "{log}"
    );

    // Once compliant, with no earlier comment, nothing is posted.
    fs::remove_file(fdir.join("existing")).unwrap();
    fs::remove_file(fdir.join("calls")).unwrap();
    let o = pss(&["fix", "k8s"]).current_dir(dir).output().unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let o = run(true);
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert!(!calls().contains("POST"), "{}", calls());
}

#[test]
fn action_rejects_bad_inputs() {
    let repo = manifest_repo();
    let dir = repo.path();
    let o = action(dir, "lint", &[]).output().unwrap();
    assert_eq!(code(&o), 2, "{}", show(&o));
    assert!(
        text(&o.stderr).contains("mode must be check, fix-and-commit or comment"),
        "{}",
        show(&o)
    );
    let o = action(dir, "check", &[])
        .env("INPUT_SARIF", "maybe")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", show(&o));
    // An error from pss-fix itself (an unknown level) is passed through as 2.
    let o = action(dir, "check", &[])
        .env("INPUT_LEVEL", "strictest")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", show(&o));
    // Skipping the install needs a pss-fix on PATH.
    let o = action(dir, "check", &[])
        .env("PATH", "/usr/bin:/bin")
        .output()
        .unwrap();
    assert_eq!(code(&o), 2, "{}", show(&o));
    assert!(
        text(&o.stderr).contains("no pss-fix on PATH"),
        "{}",
        show(&o)
    );
}

#[test]
fn action_yml_passes_every_input_to_the_script() {
    let yml: Value =
        serde_yaml_ng::from_str(&fs::read_to_string(root().join("action.yml")).unwrap())
            .expect("action.yml is YAML");
    assert_eq!(yml["runs"]["using"], "composite");
    let inputs = yml["inputs"].as_mapping().unwrap();
    for (name, default) in [
        ("paths", "."),
        ("level", "restricted"),
        ("mode", "check"),
        ("unsafe", "false"),
        ("sarif", "false"),
        ("version", ""),
        ("install", "auto"),
    ] {
        assert_eq!(
            yml["inputs"][name]["default"].as_str(),
            Some(default),
            "input {name}"
        );
    }
    let steps = yml["runs"]["steps"].as_sequence().unwrap();
    // First the release and platform are resolved, then the cache is restored, keyed on them.
    assert_eq!(steps[0]["id"], "resolve");
    assert!(steps[0]["run"]
        .as_str()
        .unwrap()
        .contains("scripts/action-install.sh\" --resolve"));
    assert_eq!(steps[1]["uses"], "actions/cache@v4");
    let key = steps[1]["with"]["key"].as_str().unwrap();
    assert!(
        key.contains("steps.resolve.outputs.version")
            && key.contains("steps.resolve.outputs.target"),
        "{key}"
    );
    let run = &steps[2];
    assert_eq!(run["id"], "run");
    assert!(run["run"]
        .as_str()
        .unwrap()
        .contains("$GITHUB_ACTION_PATH/scripts/action.sh"));
    let env = run["env"].as_mapping().unwrap();
    // The install inputs are read by the installer that action.sh runs.
    let script = fs::read_to_string(root().join("scripts/action.sh")).unwrap()
        + &fs::read_to_string(root().join("scripts/action-install.sh")).unwrap();
    for name in inputs.keys().map(|k| k.as_str().unwrap()) {
        let var = format!("INPUT_{}", name.to_uppercase().replace('-', "_"));
        let used_as = match name {
            "github-token" => "GH_TOKEN".to_owned(),
            _ => var,
        };
        assert!(
            env.contains_key(used_as.as_str()),
            "input {name} is not passed as {used_as}"
        );
        assert!(
            script.contains(&used_as),
            "scripts/action.sh never reads {used_as}"
        );
    }
    let upload = &steps[3];
    assert_eq!(upload["uses"], "github/codeql-action/upload-sarif@v3");
    assert!(
        upload["if"].as_str().unwrap().contains("!cancelled()"),
        "uploads after a failed check"
    );
}

// ---------------------------------------------------------------------------------------
// pre-commit

/// The hooks file as pre-commit users get it, with `language` replaced when given.
fn hook_repo(language: Option<&str>, with_crate: bool) -> TempDir {
    let t = TempDir::new().unwrap();
    let hooks = fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks = match language {
        Some(l) => hooks.replace("language: rust", &format!("language: {l}")),
        None => hooks,
    };
    fs::write(t.path().join(".pre-commit-hooks.yaml"), hooks).unwrap();
    if with_crate {
        for f in ["Cargo.toml", "Cargo.lock"] {
            fs::copy(root().join(f), t.path().join(f)).unwrap();
        }
        for d in ["src", "benches"] {
            copy_dir(&root().join(d), &t.path().join(d));
        }
    }
    git_init(t.path());
    git_commit_all(t.path(), "hooks");
    t
}

/// A project with a non-compliant Deployment, a ConfigMap and a CI workflow, all staged.
fn staged_project() -> TempDir {
    let t = TempDir::new().unwrap();
    let dir = t.path();
    git_init(dir);
    fs::write(dir.join("web.yaml"), DEPLOYMENT).unwrap();
    fs::write(dir.join("settings.yaml"), CONFIGMAP).unwrap();
    fs::write(dir.join("ci.yml"), "on: push\njobs: {}\n").unwrap();
    fs::write(dir.join("notes.txt"), "apiVersion: v1\n").unwrap();
    git(dir, &["add", "-A"]);
    t
}

fn pre_commit_round_trip(language: Option<&str>, with_crate: bool, env: &[(&str, &OsString)]) {
    let hooks = hook_repo(language, with_crate);
    let project = staged_project();
    let dir = project.path();
    let home = TempDir::new().unwrap();

    let run = |hook: &str| {
        let mut c = Command::new("pre-commit");
        c.args([
            "try-repo",
            hooks.path().to_str().unwrap(),
            hook,
            "--verbose",
        ])
        .current_dir(dir)
        .env("PATH", path_with_bin(&[]))
        .env("PRE_COMMIT_HOME", home.path())
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .stdin(Stdio::null());
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("run pre-commit")
    };

    // The check hook fails on the staged Deployment and changes nothing.
    let o = run("pss-fix-check");
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        text(&o.stdout).contains("Deployment/web (web.yaml:2)"),
        "{}",
        show(&o)
    );
    assert_eq!(
        fs::read_to_string(dir.join("web.yaml")).unwrap(),
        DEPLOYMENT
    );

    // The fix hook fixes the file; pre-commit fails the commit because files changed.
    let o = run("pss-fix");
    assert_eq!(code(&o), 1, "{}", show(&o));
    assert!(
        text(&o.stdout).contains("files were modified by this hook"),
        "{}",
        show(&o)
    );
    let fixed = fs::read_to_string(dir.join("web.yaml")).unwrap();
    assert_ne!(fixed, DEPLOYMENT);
    lines_kept_in_order(DEPLOYMENT, &fixed).unwrap();
    for (f, want) in [
        ("settings.yaml", CONFIGMAP),
        ("ci.yml", "on: push\njobs: {}\n"),
    ] {
        assert_eq!(
            fs::read_to_string(dir.join(f)).unwrap(),
            want,
            "{f} changed"
        );
    }

    // Staged again, both hooks pass.
    git(dir, &["add", "-A"]);
    for hook in ["pss-fix", "pss-fix-check"] {
        let o = run(hook);
        assert_eq!(code(&o), 0, "{hook}\n{}", show(&o));
    }
}

#[test]
fn pre_commit_hooks_file_is_well_formed() {
    let hooks: Value = serde_yaml_ng::from_str(
        &fs::read_to_string(root().join(".pre-commit-hooks.yaml")).unwrap(),
    )
    .expect(".pre-commit-hooks.yaml is YAML");
    let hooks = hooks.as_sequence().expect("a list of hooks");
    let by_id = |id: &str| {
        hooks
            .iter()
            .find(|h| h["id"].as_str() == Some(id))
            .unwrap_or_else(|| panic!("no hook {id}"))
    };
    for (id, entry) in [
        ("pss-fix", "pss-fix fix"),
        ("pss-fix-check", "pss-fix check"),
    ] {
        let h = by_id(id);
        assert_eq!(h["entry"], entry);
        assert_eq!(h["language"], "rust");
        assert_eq!(h["pass_filenames"], true);
        assert_eq!(h["files"], "\\.(ya?ml|json)$");
        assert!(h["name"].is_string());
    }
}

#[test]
fn pre_commit_try_repo_fixes_staged_manifests() {
    if which("pre-commit").is_none() {
        not_run(
            "pre_commit_try_repo_fixes_staged_manifests",
            "pre-commit is not installed (pip install pre-commit)",
        );
        return;
    }
    // `language: system` with the built binary on PATH: the hooks exactly as published,
    // without waiting for pre-commit's own cargo build.
    pre_commit_round_trip(Some("system"), false, &[]);
}

#[test]
fn pre_commit_builds_the_rust_hook() {
    if std::env::var_os("PSS_FIX_PRECOMMIT_RUST").is_none_or(|v| v != "1") {
        not_run(
            "pre_commit_builds_the_rust_hook",
            "set PSS_FIX_PRECOMMIT_RUST=1 to let pre-commit build the hooks with cargo (minutes)",
        );
        return;
    }
    if which("pre-commit").is_none() || which("cargo").is_none() {
        not_run(
            "pre_commit_builds_the_rust_hook",
            "pre-commit or cargo is not installed",
        );
        return;
    }
    // pre-commit runs `cargo install --bins --root <env> --path .` in a copy of the hooks
    // repository and puts <env>/bin first on the hook's PATH; a persistent target directory
    // keeps later runs quick.
    let target: OsString = root().join("target/pre-commit").into_os_string();
    pre_commit_round_trip(None, true, &[("CARGO_TARGET_DIR", &target)]);
}

// ---------------------------------------------------------------------------------------
// the KRM function

/// A ResourceList as kustomize hands it to an exec function: index and path annotations,
/// kustomize's id annotation as a block scalar, a functionConfig marked local-config.
fn resource_list() -> String {
    let item = |doc: &str, index: usize, path: &str| {
        let mut out = String::new();
        let mut first = true;
        for line in doc.lines().filter(|l| !l.starts_with('#')) {
            out.push_str(if first { "- " } else { "  " });
            first = false;
            out.push_str(line);
            out.push('\n');
            if line == "metadata:" {
                out.push_str(&format!(
                    "    annotations:\n      config.kubernetes.io/index: '{index}'\n      \
                     internal.config.kubernetes.io/index: '{index}'\n      \
                     config.kubernetes.io/path: '{path}'\n      \
                     internal.config.kubernetes.io/path: '{path}'\n      \
                     kustomize.config.k8s.io/id: |\n        kind: X\n        name: y\n"
                ));
            }
        }
        out
    };
    format!(
        "apiVersion: config.kubernetes.io/v1\nkind: ResourceList\nitems:\n{}{}{}\
         functionConfig:\n  apiVersion: pss-fix.dev/v1\n  kind: PssFix\n  metadata:\n    \
         name: pss-fix\n    annotations:\n      config.kubernetes.io/local-config: \"true\"\n      \
         config.kubernetes.io/function: |\n        exec:\n          path: ./pss-fix-krm\n",
        item(DEPLOYMENT, 0, "web.yaml"),
        item(CRONJOB, 1, "backup.yaml"),
        item(CONFIGMAP, 2, "settings.yaml"),
    )
}

#[test]
fn krm_fixes_items_and_keeps_everything_else() {
    let input = resource_list();
    let o = run_with_stdin(pss(&["krm"]), input.as_bytes());
    assert_eq!(code(&o), 0, "{}", show(&o));
    let output = text(&o.stdout);
    assert_ne!(output, input, "nothing fixed");
    lines_kept_in_order(&input, &output).unwrap();

    let before: Value = serde_yaml_ng::from_str(&input).unwrap();
    let after: Value = serde_yaml_ng::from_str(&output).expect("the output is YAML");
    assert_eq!(after["apiVersion"], "config.kubernetes.io/v1");
    assert_eq!(after["kind"], "ResourceList");
    only_security_context_added(&before, &after, "").unwrap();
    assert_eq!(after["functionConfig"], before["functionConfig"]);
    let items = after["items"].as_sequence().unwrap();
    let kinds: Vec<&str> = items.iter().map(|i| i["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, ["Deployment", "CronJob", "ConfigMap"]);
    for (i, item) in items.iter().enumerate() {
        let index = &item["metadata"]["annotations"]["config.kubernetes.io/index"];
        assert_eq!(index.as_str(), Some(i.to_string().as_str()));
    }
    assert_eq!(items[2], before["items"][2], "the ConfigMap is untouched");
    let pod = &items[0]["spec"]["template"]["spec"];
    assert_eq!(pod["securityContext"]["runAsNonRoot"], true);
    assert_eq!(
        pod["containers"][0]["securityContext"]["allowPrivilegeEscalation"],
        false
    );
    let job_pod = &items[1]["spec"]["jobTemplate"]["spec"]["template"]["spec"];
    assert_eq!(
        job_pod["securityContext"]["seccompProfile"]["type"],
        "RuntimeDefault"
    );
    assert_eq!(
        job_pod["containers"][0]["securityContext"]["capabilities"]["drop"][0],
        "ALL"
    );

    // The fixed list passes, and a second run changes nothing.
    let o = run_with_stdin(pss(&["check", "-"]), output.as_bytes());
    assert_eq!(code(&o), 0, "{}", show(&o));
    let o = run_with_stdin(pss(&["krm"]), output.as_bytes());
    assert_eq!(code(&o), 0, "{}", show(&o));
    assert_eq!(text(&o.stdout), output);
}

/// A ResourceList pss-fix cannot safely edit (here a duplicate key in an item's pod
/// template) passes through unchanged, as in `post-render`: the build goes on, and fails
/// only under `--strict`.
#[test]
fn krm_passes_a_resource_list_it_cannot_edit_through() {
    let list = resource_list();
    let line = list
        .lines()
        .find(|l| l.trim_start().starts_with("image: nginx"))
        .unwrap();
    let again = format!("{}image: nginx:1.28", &line[..line.find('i').unwrap()]);
    let input = list.replacen(line, &format!("{line}\n{again}"), 1);
    for (args, want) in [(&["krm"][..], 0), (&["krm", "--strict"][..], 1)] {
        let o = run_with_stdin(pss(args), input.as_bytes());
        assert_eq!(code(&o), want, "{}", show(&o));
        assert_eq!(text(&o.stdout), input);
        assert!(
            text(&o.stderr).contains("passed through unchanged: duplicate key \"image\""),
            "{}",
            show(&o)
        );
    }
}

#[test]
fn krm_refuses_what_is_not_one_resource_list() {
    let not_lists = [
        DEPLOYMENT.to_owned(),
        format!(
            "apiVersion: v1\nkind: List\nitems:\n- {}",
            "kind: ConfigMap\n"
        ),
        format!("{}---\n{}", resource_list(), CONFIGMAP),
        "apiVersion: example.com/v1\nkind: ResourceList\nitems: []\n".to_owned(),
    ];
    for input in not_lists {
        let o = run_with_stdin(pss(&["krm"]), input.as_bytes());
        assert_eq!(code(&o), 2, "{input}\n{}", show(&o));
        assert_eq!(text(&o.stdout), "", "nothing on stdout\n{}", show(&o));
        assert!(
            text(&o.stderr).contains("ResourceList (apiVersion: config.kubernetes.io/v1)"),
            "{}",
            show(&o)
        );
    }
}

/// A kubectl with built-in kustomize: `$PSS_KUBECTL`, the copy `scripts/fetch-helm.sh`
/// extracts, a copy left in /tmp by an earlier fetch, or `kubectl` on PATH.
fn find_kubectl() -> Option<PathBuf> {
    let candidates = std::env::var_os("PSS_KUBECTL")
        .map(PathBuf::from)
        .into_iter()
        .chain([
            root().join("target/tools/kubectl/kubectl"),
            PathBuf::from("/tmp/helm/v35-2.2.2/layer/kubectl/kubectl"),
        ])
        .chain(which("kubectl"));
    for c in candidates {
        let ok = Command::new(&c)
            .args(["kustomize", "--help"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(c);
        }
    }
    None
}

fn find_kustomize() -> Option<PathBuf> {
    std::env::var_os("PSS_KUSTOMIZE")
        .map(PathBuf::from)
        .or_else(|| which("kustomize"))
        .filter(|p| {
            Command::new(p)
                .arg("version")
                .output()
                .is_ok_and(|o| o.status.success())
        })
}

/// A kustomization of a Deployment, a CronJob and a ConfigMap; `transformer` (a file name
/// and its text) is added to `transformers:` when given.
fn kustomization(dir: &Path, transformer: Option<(&str, &str)>) {
    fs::create_dir_all(dir).unwrap();
    fs::write(dir.join("web.yaml"), DEPLOYMENT).unwrap();
    fs::write(dir.join("backup.yaml"), CRONJOB).unwrap();
    fs::write(dir.join("settings.yaml"), CONFIGMAP).unwrap();
    let mut k = "resources:\n- web.yaml\n- backup.yaml\n- settings.yaml\n".to_owned();
    if let Some((name, config)) = transformer {
        fs::write(dir.join(name), config).unwrap();
        k.push_str(&format!("transformers:\n- {name}\n"));
    }
    fs::write(dir.join("kustomization.yaml"), k).unwrap();
}

const KRM_FUNCTION_CONFIG: &str = "\
apiVersion: pss-fix.dev/v1
kind: PssFix
metadata:
  name: pss-fix
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ./pss-fix-krm
";

/// The built output passes restricted; the ConfigMap is exactly as kustomize builds it
/// without the transformer, and the workloads only gained securityContext fields.
fn assert_built_output(with: &str, without: &str) {
    let o = run_with_stdin(pss(&["check", "-"]), with.as_bytes());
    assert_eq!(
        code(&o),
        0,
        "the built output fails restricted\n{with}\n{}",
        show(&o)
    );
    let (with_docs, without_docs) = (yaml_docs(with), yaml_docs(without));
    assert_eq!(with_docs.len(), without_docs.len());
    assert_eq!(
        doc_named(&with_docs, "ConfigMap", "settings"),
        doc_named(&without_docs, "ConfigMap", "settings")
    );
    for (kind, name) in [("Deployment", "web"), ("CronJob", "backup")] {
        only_security_context_added(
            doc_named(&without_docs, kind, name),
            doc_named(&with_docs, kind, name),
            kind,
        )
        .unwrap();
    }
    // Byte for byte, as kustomize prints it.
    let configmap = |s: &str| {
        s.split("---\n")
            .find(|d| d.contains("kind: ConfigMap"))
            .map(str::to_owned)
    };
    assert_eq!(configmap(with), configmap(without));
}

#[test]
fn kustomize_runs_pss_fix_as_an_exec_krm_function() {
    let Some(kustomize) = find_kustomize() else {
        not_run(
            "kustomize_runs_pss_fix_as_an_exec_krm_function",
            "no standalone kustomize (PSS_KUSTOMIZE or kustomize on PATH); kubectl's built-in \
             kustomize has no --enable-exec and skips exec KRM functions",
        );
        return;
    };
    let t = TempDir::new().unwrap();
    let plain = t.path().join("plain");
    kustomization(&plain, None);
    let dir = t.path().join("fixed");
    kustomization(&dir, Some(("pss-fix.yaml", KRM_FUNCTION_CONFIG)));
    write_exec(
        &dir.join("pss-fix-krm"),
        &format!("#!/bin/sh\nexec '{BIN}' krm\n"),
    );
    let build = |d: &Path| {
        Command::new(&kustomize)
            .args(["build", "--enable-alpha-plugins", "--enable-exec"])
            .arg(d)
            .output()
            .unwrap()
    };
    let (with, without) = (build(&dir), build(&plain));
    assert_eq!(code(&with), 0, "{}", show(&with));
    assert_eq!(code(&without), 0, "{}", show(&without));
    assert_built_output(&text(&with.stdout), &text(&without.stdout));
}

#[test]
fn kubectl_kustomize_runs_pss_fix_as_a_transformer() {
    let Some(kubectl) = find_kubectl() else {
        not_run(
            "kubectl_kustomize_runs_pss_fix_as_a_transformer",
            "no kubectl with kustomize (PSS_KUBECTL, target/tools/kubectl/kubectl, PATH)",
        );
        return;
    };
    println!("kubectl: {}", kubectl.display());
    let t = TempDir::new().unwrap();
    let build = |d: &Path, plugin_home: &Path| {
        Command::new(&kubectl)
            .args(["kustomize", "--enable-alpha-plugins"])
            .arg(d)
            .env("KUSTOMIZE_PLUGIN_HOME", plugin_home)
            .output()
            .unwrap()
    };
    let home = t.path().join("plugins");
    let plain = t.path().join("plain");
    kustomization(&plain, None);
    let without = build(&plain, &home);
    assert_eq!(code(&without), 0, "{}", show(&without));
    let without = text(&without.stdout);

    // kubectl's kustomize runs exec plugins: a program at
    // $KUSTOMIZE_PLUGIN_HOME/<group>/<version>/<kind lower-cased>/<Kind>, given its config
    // file's path and the resources as a plain YAML stream, so `pss-fix post-render`.
    let plugin_dir = home.join("pss-fix.dev/v1/pssfix");
    fs::create_dir_all(&plugin_dir).unwrap();
    write_exec(
        &plugin_dir.join("PssFix"),
        &format!("#!/bin/sh\nexec '{BIN}' post-render\n"),
    );
    let dir = t.path().join("plugin");
    let config = "apiVersion: pss-fix.dev/v1\nkind: PssFix\nmetadata:\n  name: pss-fix\n";
    kustomization(&dir, Some(("pss-fix.yaml", config)));
    let with = build(&dir, &home);
    assert_eq!(code(&with), 0, "{}", show(&with));
    assert_built_output(&text(&with.stdout), &without);

    // An exec KRM function is only run by a kustomize given --enable-exec, which kubectl
    // lacks: say what happened rather than pass or fail on it.
    let dir = t.path().join("krm");
    kustomization(&dir, Some(("pss-fix.yaml", KRM_FUNCTION_CONFIG)));
    write_exec(
        &dir.join("pss-fix-krm"),
        &format!("#!/bin/sh\nexec '{BIN}' krm\n"),
    );
    let o = build(&dir, &home);
    let krm_ran = code(&o) == 0 && text(&o.stdout) != without;
    if krm_ran {
        assert_built_output(&text(&o.stdout), &without);
        println!("kubectl kustomize ran the exec KRM function");
    } else {
        println!(
            "kubectl kustomize did not run the exec KRM function (exit {}; no --enable-exec): \
             its KRM leg is covered by kustomize_runs_pss_fix_as_an_exec_krm_function",
            code(&o)
        );
    }
}

// ---------------------------------------------------------------------------------------
// shell completions and the man page

#[test]
fn completions_name_every_subcommand() {
    for shell in ["bash", "zsh", "fish"] {
        let o = pss(&["completions", shell]).output().unwrap();
        assert_eq!(code(&o), 0, "{shell}\n{}", show(&o));
        let script = text(&o.stdout);
        assert!(!script.trim().is_empty(), "{shell}: empty script");
        for sub in ["check", "diff", "fix", "post-render", "krm"] {
            assert!(script.contains(sub), "{shell} completion lacks {sub}");
        }
    }
    let o = pss(&["completions", "tcsh"]).output().unwrap();
    assert_eq!(
        code(&o),
        2,
        "an unknown shell is a usage error\n{}",
        show(&o)
    );
}

#[test]
fn man_page_is_roff_and_names_every_subcommand() {
    let o = pss(&["man"]).output().unwrap();
    assert_eq!(code(&o), 0, "{}", show(&o));
    let roff = text(&o.stdout);
    assert!(roff.starts_with(".ie") || roff.starts_with(".TH"), "{roff}");
    assert!(roff.contains(".TH pss-fix 1"), "{roff}");
    // roff writes a hyphen as `\-`.
    let plain = roff.replace("\\-", "-");
    for sub in ["check", "diff", "fix", "post-render", "krm", "completions"] {
        assert!(plain.contains(sub), "the man page lacks {sub}");
    }
}
