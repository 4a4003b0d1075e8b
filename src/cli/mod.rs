//! The command line (DESIGN §1): clap definitions, parsed into plain data, then resolved into
//! the [`Config`] the run works from. `--version` is the tool's own version; the policy
//! version is `--level LEVEL:VERSION` or `--policy-version`.
//!
//! This part of pss-fix is the binary's, not the library's: it parses arguments ([`Cli`]),
//! runs the commands and prints ([`run`]), decides the exit status (in one place,
//! [`run::ExitStatus`]), and writes completions and the man page ([`shell`]). The library
//! (`pss_fix`) never prints.

mod helm;
mod patch;
pub mod run;
pub mod shell;
mod text;
mod values;
mod walk;
mod write;

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use pss_fix::report::Format;
use pss_fix::{Policy, Version};

const EXAMPLES: &str = "\
Examples:
  pss-fix diff k8s/                           show what `fix` would change (exit 1 if anything)
  pss-fix fix k8s/                            fix every manifest under k8s/ in place
  pss-fix fix --interactive k8s/              ask before writing each file
  pss-fix fix --unsafe --run-as-user 10001 k8s/   also change values (privileged, runAsUser: 0, ...)
  pss-fix check --level baseline:v1.29 k8s/   findings only, at a level and policy version
  pss-fix check --format sarif k8s/ > pss-fix.sarif   for code scanning (json, markdown too)
  pss-fix check --config ci/.pss-fix.yaml k8s/        project levels, exemptions, custom kinds
  helm template web ./chart | pss-fix fix -   fix a rendered stream, stdin to stdout
  pss-fix patch base/ >> kustomization.yaml   the fixes as kustomize patches (--target flux too)
  pss-fix values ./chart -f values.yaml --write values.yaml   the Helm values that fix the chart, merged in
  helm install web ./chart --post-renderer pss-fix --post-renderer-args post-render   (Helm 3)
  helm plugin install ./helm-plugin/pss-fix && helm install web ./chart --post-renderer pss-fix   (Helm 4)
  kustomize build --enable-alpha-plugins --enable-exec .   with a transformer that runs `pss-fix krm`
  pss-fix completions bash > /etc/bash_completion.d/pss-fix;  pss-fix man > pss-fix.1";

#[derive(Debug, Parser)]
#[command(name = "pss-fix", version, about, after_help = EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// Deferred: only the subcommand given is built, not all nine with every flag's help text
/// (a tenth of a small chart's `post-render` instructions went to building the whole tree).
/// Help, completions and the man page build the rest when they need it.
#[derive(Debug, Subcommand)]
#[command(defer = true)]
pub enum Command {
    /// Report what fails the level; exit 1 when any workload fails.
    Check(Inputs),
    /// Show the unified diff `fix` would apply; write nothing; exit 1 when a change is pending.
    Diff(Inputs),
    /// Show each file's diff, then write it atomically. `-` (or piped stdin): stdin to stdout.
    Fix(FixArgs),
    /// Helm post-renderer: the rendered stream on stdin, the fixed stream on stdout.
    PostRender(PostRenderArgs),
    /// KRM function (kustomize, kpt): a ResourceList on stdin, the fixed ResourceList on stdout.
    Krm(PostRenderArgs),
    /// Print the Helm values overlay that makes CHART render its workloads fixed, verified
    /// by a real `helm template`; exit 1 when some fix no value reaches.
    Values(ValuesArgs),
    /// Print the fixes as kustomize patches (JSON 6902): a `patches:` list for kustomization.yaml,
    /// or a Flux HelmRelease post-renderer. Exit 1 when violations remain or an object cannot
    /// be patched.
    Patch(PatchArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff) generated from these definitions.
    Man,
}

#[derive(Debug, Args)]
pub struct Inputs {
    /// Files or directories (`*.yaml`, `*.yml`, `*.json`; `.gitignore` honoured); `-` is stdin.
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct ValuesArgs {
    /// The chart: a directory or a packaged `.tgz`.
    pub chart: PathBuf,
    /// A values file, as `helm template -f` (repeatable; later ones win).
    #[arg(short = 'f', long = "values", value_name = "FILE")]
    pub values: Vec<PathBuf>,
    /// A value, as `helm template --set` (repeatable).
    #[arg(long, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// The release name the chart is rendered with.
    #[arg(long, default_value = "release-name")]
    pub release: String,
    /// The namespace the chart is rendered in.
    #[arg(long, short = 'n', value_name = "NS")]
    pub namespace: Option<String>,
    /// The Helm binary (Helm 3 or 4); default: `$HELM_BIN`, else `helm` on PATH.
    #[arg(long, value_name = "PATH")]
    pub helm: Option<PathBuf>,
    /// Merge the verified overlay into FILE (a values file, a Flux HelmRelease's
    /// `spec.values`, an Argo CD Application's `helm.valuesObject`): the diff is shown, then
    /// the file written atomically. An existing value is kept (and reported) unless `--unsafe`.
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Debug, Args)]
pub struct FixArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// On a terminal: show each file's diff and ask yes/no/all/quit before writing it.
    #[arg(short, long)]
    pub interactive: bool,
    /// Exit 1 when violations remain that could not be fixed.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct PatchArgs {
    #[command(flatten)]
    pub inputs: Inputs,
    /// Where the patches go: a kustomization's `patches:` list, or a Flux HelmRelease's
    /// `spec.postRenderers`.
    #[arg(long, value_enum, default_value_t = PatchTarget::Kustomize)]
    pub target: PatchTarget,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum PatchTarget {
    Kustomize,
    Flux,
}

#[derive(Debug, Args)]
pub struct PostRenderArgs {
    #[command(flatten)]
    pub common: Common,
    /// Exit non-zero, listing them, when violations remain that could not be fixed.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Args)]
pub struct Common {
    /// Target level, optionally with a policy version as Pod Security Admission writes it:
    /// `restricted`, `baseline:v1.29`, `restricted:latest`. Default: the configuration's
    /// level, a Namespace's `pod-security.kubernetes.io/enforce` label, else `restricted`.
    #[arg(long, value_name = "LEVEL[:VERSION]")]
    pub level: Option<String>,
    /// The project configuration; default: the nearest `.pss-fix.yaml` upward from the
    /// first path (or the current directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Policy version on its own: `latest` or `v1.N`.
    #[arg(long, value_name = "VERSION")]
    pub policy_version: Option<String>,
    /// Also apply value-changing fixes (`privileged: true` → `false`, `Unconfined` →
    /// `RuntimeDefault`, forbidden capabilities and `runAsUser: 0` removed, …).
    #[arg(long = "unsafe")]
    pub unsafe_fixes: bool,
    /// A non-root UID to run as: added next to an inserted `runAsNonRoot: true` when the pod
    /// sets no `runAsUser` (so images built to run as root still start), and, with
    /// `--unsafe`, put in place of `runAsUser: 0`.
    #[arg(long, value_name = "UID", value_parser = clap::value_parser!(i64).range(1..))]
    pub run_as_user: Option<i64>,
    /// Findings format. json, sarif and markdown (a pull-request body) are printed once at
    /// the end of the run, on stdout in place of the diffs (on stderr for `fix -`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Colour the diff: auto (on a terminal, unless NO_COLOR is set), always or never.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

/// `--level` and `--policy-version` as given: an explicit policy (which wins over everything
/// else), or a version that overrides the version of whatever level applies.
pub struct PolicyArgs {
    pub explicit: Option<Policy>,
    pub version: Option<Version>,
}

/// Parse `--level` and `--policy-version`; a disagreement is an error.
pub fn resolve_policy(common: &Common) -> Result<PolicyArgs, String> {
    let version = common
        .policy_version
        .as_deref()
        .map(str::parse::<Version>)
        .transpose()?;
    let Some(level) = &common.level else {
        return Ok(PolicyArgs {
            explicit: None,
            version,
        });
    };
    let mut policy: Policy = level.parse()?;
    if let Some(v) = version {
        if level.contains(':') && policy.version != v {
            return Err(format!(
                "--level {level} and --policy-version {v} name different versions"
            ));
        }
        policy.version = v;
    }
    Ok(PolicyArgs {
        explicit: Some(policy),
        version,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// Subcommands are built only when given (`defer`), so a run checks one; clap's own
    /// checks of the whole tree run here.
    #[test]
    fn the_whole_command_tree_is_valid_and_built_on_demand() {
        let cli = Cli::command();
        let post_render = cli.find_subcommand("post-render").unwrap();
        assert_eq!(post_render.get_arguments().count(), 0, "not deferred");
        cli.debug_assert();
    }
}
