#!/usr/bin/env bash
# The logic of the pss-fix GitHub Action (action.yml), kept here so it runs the same on a
# laptop as on a runner. It reads its inputs from the environment, named as GitHub names the
# inputs of an action (`INPUT_<NAME>`, upper case, `-` kept):
#
#   INPUT_MODE            check | fix-and-commit | comment                     (default: check)
#   INPUT_PATHS           files or directories, separated by spaces or newlines  (default: .)
#   INPUT_LEVEL           LEVEL[:VERSION]: restricted, baseline:v1.29, ...     (default: restricted)
#   INPUT_UNSAFE          true: also apply value-changing fixes (--unsafe)      (default: false)
#   INPUT_SARIF           true: write INPUT_SARIF-FILE from `pss-fix check --format sarif`
#   INPUT_SARIF-FILE      where the SARIF log goes                            (default: pss-fix.sarif)
#   INPUT_VERSION         the release to install; empty: the action's own (its tag, else the
#                         version in its Cargo.toml). See scripts/action-install.sh.
#   INPUT_INSTALL         auto (default; also true): the prebuilt release binary, checksum
#                         verified and cached, built from source when there is none; binary:
#                         the release binary or fail; source: `cargo install` (the action's
#                         own checkout, or INPUT_VERSION from crates.io); false: the pss-fix
#                         on PATH
#   INPUT_COMMIT-MESSAGE  fix-and-commit: the commit's subject     (default: "pss-fix: ...")
#
# `-` is not a valid character in a shell variable name, so the three hyphenated inputs are
# also read as INPUT_SARIF_FILE and INPUT_COMMIT_MESSAGE (the underscore spelling wins).
#
#   PSS_FIX_SKIP_INSTALL=1  use the `pss-fix` already on PATH; install nothing
#   PSS_FIX_NO_PUSH=1       fix-and-commit: commit, but do not push
#   PSS_FIX_PUSH_REF        fix-and-commit: the branch to push to (default: $GITHUB_HEAD_REF on
#                           pull requests, else $GITHUB_REF_NAME; neither: plain `git push`)
#   PSS_FIX_PR_NUMBER       comment: the pull request to comment on (default: from the event)
#   GH_TOKEN                comment: a token `gh` may use to post the pull-request comment
#
# Modes:
#   check           `pss-fix check` to the log (and a Markdown summary to $GITHUB_STEP_SUMMARY);
#                   with INPUT_SARIF=true also the SARIF log. Exit status: pss-fix's.
#   fix-and-commit  `pss-fix fix`; when tracked files under INPUT_PATHS changed, `git add -u`,
#                   `git commit`, `git push` (with the checkout's credentials). Exit status:
#                   pss-fix's (0, or 2 when a file could not be fixed), 2 when git fails.
#   comment         `pss-fix diff` to the log, its Markdown report to $GITHUB_STEP_SUMMARY (to
#                   stdout without one), and on pull_request events, when `gh` is on PATH and
#                   GH_TOKEN is set, one pull-request comment, created or updated in place.
#                   Exit status: pss-fix diff's (1 while changes are pending).
#
# Outputs, appended to $GITHUB_OUTPUT when set: exit-code, sarif-file, changed, commit.
# An input the script does not understand exits 2.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

mode="${INPUT_MODE:-check}"
paths_input="${INPUT_PATHS:-.}"
level="${INPUT_LEVEL:-restricted}"
sarif_file="${INPUT_SARIF_FILE:-$(printenv 'INPUT_SARIF-FILE' || true)}"
sarif_file="${sarif_file:-pss-fix.sarif}"
commit_message="${INPUT_COMMIT_MESSAGE:-$(printenv 'INPUT_COMMIT-MESSAGE' || true)}"
marker='<!-- pss-fix-comment -->'

output() {
	if [ -n "${GITHUB_OUTPUT:-}" ]; then
		echo "$1=$2" >>"$GITHUB_OUTPUT"
	fi
}

die() {
	echo "::error::pss-fix action: $*" >&2
	output exit-code 2
	exit 2
}

truthy() {
	case "${1,,}" in
	true | 1 | yes | on) return 0 ;;
	false | 0 | no | off | '') return 1 ;;
	*) die "expected true or false, got '$1'" ;;
	esac
}

# Collapsible log sections on GitHub, a plain heading elsewhere.
group() {
	if [ "${GITHUB_ACTIONS:-}" = true ]; then echo "::group::$*"; else echo "== $*"; fi
}
endgroup() {
	if [ "${GITHUB_ACTIONS:-}" = true ]; then echo "::endgroup::"; fi
}

# The release binary (checksum verified, cached) or a build from source:
# scripts/action-install.sh, which prints the directory it put pss-fix in as `bin-dir=`.
install() {
	if [ "${PSS_FIX_SKIP_INSTALL:-}" = 1 ] || [ "${INPUT_INSTALL:-}" = false ]; then
		command -v pss-fix >/dev/null || die "PSS_FIX_SKIP_INSTALL=1 but no pss-fix on PATH"
		return
	fi
	group "install pss-fix (${INPUT_INSTALL:-auto})"
	local result bin_dir
	result="$(bash "$here/action-install.sh")" || die "pss-fix could not be installed"
	endgroup
	bin_dir="$(sed -n 's/^bin-dir=//p' <<<"$result" | tail -n 1)"
	[ -n "$bin_dir" ] || die "the installer named no directory"
	export PATH="$bin_dir:$PATH"
}

# Split the paths on whitespace, without globbing.
set -f
# shellcheck disable=SC2206
paths=($paths_input)
set +f
[ "${#paths[@]}" -gt 0 ] || paths=(.)

flags=(--level "$level")
if truthy "${INPUT_UNSAFE:-false}"; then
	flags+=(--unsafe)
fi
shown="${flags[*]}"
flags+=(--color never)
want_sarif=false
if truthy "${INPUT_SARIF:-false}"; then
	want_sarif=true
fi
case "$mode" in
check | fix-and-commit | comment) ;;
*) die "mode must be check, fix-and-commit or comment, not '$mode'" ;;
esac

install
echo "pss-fix: $(command -v pss-fix) ($(pss-fix --version))"

summary() {
	if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
		cat "$1" >>"$GITHUB_STEP_SUMMARY"
	else
		cat "$1"
	fi
}

# The SARIF log of what stands now (after the fix in fix-and-commit mode).
write_sarif() {
	$want_sarif || return 0
	pss-fix check --format sarif "${flags[@]}" -- "${paths[@]}" >"$sarif_file" 2>/dev/null
	if [ "$?" -ge 2 ] && ! [ -s "$sarif_file" ]; then
		echo "::warning::pss-fix action: no SARIF log written" >&2
		return 0
	fi
	echo "pss-fix: SARIF log written to $sarif_file"
	output sarif-file "$sarif_file"
}

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

run_check() {
	group "pss-fix check $shown ${paths[*]}"
	pss-fix check "${flags[@]}" -- "${paths[@]}"
	local status=$?
	endgroup
	if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
		pss-fix check --format markdown "${flags[@]}" -- "${paths[@]}" >"$tmp/summary.md" 2>/dev/null
		summary "$tmp/summary.md"
	fi
	write_sarif
	return "$status"
}

pr_number() {
	if [ -n "${PSS_FIX_PR_NUMBER:-}" ]; then
		echo "$PSS_FIX_PR_NUMBER"
	elif [ -n "${GITHUB_EVENT_PATH:-}" ] && [ -f "$GITHUB_EVENT_PATH" ] && command -v jq >/dev/null; then
		jq -r '.pull_request.number // .number // empty' "$GITHUB_EVENT_PATH"
	elif [[ "${GITHUB_REF:-}" =~ ^refs/pull/([0-9]+)/ ]]; then
		echo "${BASH_REMATCH[1]}"
	fi
}

# One comment per pull request, found again by its marker and updated in place. A comment
# that cannot be posted (a read-only token on a fork's pull request) is a warning only.
post_comment() {
	local pending=$1 body=$2
	case "${GITHUB_EVENT_NAME:-}" in
	pull_request | pull_request_target) ;;
	*) return 0 ;;
	esac
	if ! command -v gh >/dev/null || [ -z "${GH_TOKEN:-}" ]; then
		echo "pss-fix: no pull-request comment (needs gh on PATH and GH_TOKEN); see the step summary"
		return 0
	fi
	local repo="${GITHUB_REPOSITORY:-}" pr
	pr="$(pr_number)"
	if [ -z "$repo" ] || [ -z "$pr" ]; then
		echo "::warning::pss-fix action: no repository or pull-request number; no comment posted" >&2
		return 0
	fi
	{
		echo "$marker"
		cat "$body"
		echo
		echo "<sub>Run \`pss-fix fix ${paths[*]}\` locally to apply these changes.</sub>"
	} >"$tmp/comment.md"
	local id
	id="$(gh api "repos/$repo/issues/$pr/comments" --paginate \
		--jq ".[] | select(.body | startswith(\"$marker\")) | .id" | sed -n 1p)" || {
		echo "::warning::pss-fix action: could not list the comments of #$pr" >&2
		return 0
	}
	if [ -n "$id" ]; then
		if gh api -X PATCH "repos/$repo/issues/comments/$id" -F "body=@$tmp/comment.md" >/dev/null; then
			echo "pss-fix: updated comment $id on #$pr"
		else
			echo "::warning::pss-fix action: could not update comment $id on #$pr" >&2
		fi
	elif [ "$pending" = true ]; then
		if gh api -X POST "repos/$repo/issues/$pr/comments" -F "body=@$tmp/comment.md" >/dev/null; then
			echo "pss-fix: commented on #$pr"
		else
			echo "::warning::pss-fix action: could not comment on #$pr" >&2
		fi
	else
		echo "pss-fix: nothing to change and no earlier comment on #$pr: no comment posted"
	fi
}

run_comment() {
	group "pss-fix diff $shown ${paths[*]}"
	pss-fix diff "${flags[@]}" -- "${paths[@]}"
	local status=$?
	endgroup
	pss-fix diff --format markdown "${flags[@]}" -- "${paths[@]}" >"$tmp/body.md" 2>/dev/null
	summary "$tmp/body.md"
	local pending=false
	[ "$status" -ne 0 ] && pending=true
	post_comment "$pending" "$tmp/body.md"
	write_sarif
	return "$status"
}

run_fix_and_commit() {
	git rev-parse --is-inside-work-tree >/dev/null 2>&1 || die "fix-and-commit needs a git checkout"
	group "pss-fix fix $shown ${paths[*]}"
	pss-fix fix "${flags[@]}" -- "${paths[@]}" 2>"$tmp/fix.err"
	local status=$?
	cat "$tmp/fix.err" >&2
	endgroup
	write_sarif
	local changed
	changed="$(git diff --name-only -- "${paths[@]}")"
	if [ -z "$changed" ]; then
		echo "pss-fix: nothing changed, nothing to commit"
		output changed false
		return "$status"
	fi
	output changed true
	local subject="${commit_message:-pss-fix: make workloads pass Pod Security Standards ($level)}"
	local tally
	tally="$(grep -E '^pss-fix: [0-9]+ files? changed' "$tmp/fix.err" | tail -n 1)"
	{
		echo "$subject"
		echo
		echo "Fields added by \`pss-fix fix $shown\`${tally:+ (${tally#pss-fix: })}:"
		echo
		while IFS= read -r f; do echo "- $f"; done <<<"$changed"
	} >"$tmp/message"
	local identity=()
	git config user.name >/dev/null || identity+=(-c "user.name=github-actions[bot]")
	git config user.email >/dev/null ||
		identity+=(-c "user.email=41898282+github-actions[bot]@users.noreply.github.com")
	# A pull_request checkout is GitHub's merge commit: pushing it would push the base branch
	# into the pull request. Check out the head branch instead.
	if [ "${PSS_FIX_NO_PUSH:-}" != 1 ] && [ -n "${GITHUB_HEAD_REF:-}" ] &&
		git rev-parse -q --verify 'HEAD^2' >/dev/null; then
		die "the checkout is a merge commit; check out the pull request's branch (actions/checkout with ref: \${{ github.head_ref }}) so the fix can be pushed to it"
	fi
	git add -u -- "${paths[@]}" || die "git add failed"
	git "${identity[@]}" commit -q -F "$tmp/message" || die "git commit failed"
	local sha
	sha="$(git rev-parse HEAD)"
	output commit "$sha"
	echo "pss-fix: committed $sha"
	git --no-pager show --stat --format='%h %s' HEAD
	if [ "${PSS_FIX_NO_PUSH:-}" = 1 ]; then
		echo "pss-fix: PSS_FIX_NO_PUSH=1: not pushed"
		return "$status"
	fi
	local ref="${PSS_FIX_PUSH_REF:-${GITHUB_HEAD_REF:-${GITHUB_REF_NAME:-}}}"
	if [ -n "$ref" ]; then
		git push origin "HEAD:refs/heads/$ref" || die "git push to $ref failed (a fork's pull request cannot be pushed to with GITHUB_TOKEN)"
	else
		git push || die "git push failed"
	fi
	return "$status"
}

case "$mode" in
check) run_check ;;
comment) run_comment ;;
fix-and-commit) run_fix_and_commit ;;
esac
status=$?
output exit-code "$status"
exit "$status"
