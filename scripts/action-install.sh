#!/usr/bin/env bash
# Installs pss-fix for the GitHub Action (action.yml, scripts/action.sh): the prebuilt release
# binary for the runner's platform, checksum verified and cached, or a build from source.
# Kept apart from action.sh so the download path can be tested without GitHub
# (tests/action_install.rs points it at a local directory of release archives).
#
#   INPUT_INSTALL   auto (also: true, the default): the release binary; when the release has
#                   none for this platform, or cannot be reached, build from source.
#                   binary: the release binary or fail.  source: always build with cargo.
#   INPUT_VERSION   the release to install (0.1.0 or v0.1.0). Empty: the action's own: the tag
#                   in PSS_FIX_ACTION_REF when it is one (vX.Y.Z), else the version in the
#                   action's Cargo.toml. For `source`, empty builds the action's own checkout
#                   (`cargo install --path`), a version installs it from crates.io.
#   PSS_FIX_ACTION_REF    the ref the action was used at (`github.action_ref`)
#   PSS_FIX_REPOSITORY    where the releases are (`github.action_repository`; default
#                         OWNER/pss-fix from the environment's GITHUB_ACTION_REPOSITORY)
#   PSS_FIX_DOWNLOAD_URL  the base URL of the release's files (default
#                         https://github.com/$PSS_FIX_REPOSITORY/releases/download/vVERSION);
#                         anything curl reads, file:// included
#   PSS_FIX_CACHE_DIR     where verified binaries are kept, as VERSION/TARGET/pss-fix
#                         (default: $RUNNER_TOOL_CACHE/pss-fix, else ~/.cache/pss-fix)
#   PSS_FIX_TARGET        the release target to fetch (default: from uname)
#
# `--resolve` installs nothing: it only works out version, target and cache-path, for the
# action's cache step to key on. Otherwise the binary's directory is printed as `bin-dir`.
# Both write their results as key=value lines to $GITHUB_OUTPUT when set, and to stdout.
#
# Archive names are cargo-dist's: pss-fix-TARGET.tar.gz (Windows: .zip), holding
# pss-fix-TARGET/pss-fix, beside pss-fix-TARGET.tar.gz.sha256. A checksum that does not match
# is never a reason to fall back to anything: the script stops, exit 2.
set -uo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source_dir="${GITHUB_ACTION_PATH:-$(dirname "$here")}"

say() { echo "pss-fix install: $*" >&2; }
die() {
	echo "::error::pss-fix install: $*" >&2
	exit 2
}
output() {
	echo "$1=$2"
	if [ -n "${GITHUB_OUTPUT:-}" ]; then
		echo "$1=$2" >>"$GITHUB_OUTPUT"
	fi
}

mode="${INPUT_INSTALL:-auto}"
case "$mode" in
true | auto | '') mode=auto ;;
binary | source) ;;
*) die "install must be auto, binary, source or false, not '$mode'" ;;
esac

# The version: explicit, else the action's tag, else the action's own Cargo.toml.
explicit="${INPUT_VERSION:-}"
explicit="${explicit#v}"
version="$explicit"
if [ -z "$version" ] && [[ "${PSS_FIX_ACTION_REF:-}" =~ ^v([0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.-]+)?)$ ]]; then
	version="${BASH_REMATCH[1]}"
fi
if [ -z "$version" ] && [ -f "$source_dir/Cargo.toml" ]; then
	version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$source_dir/Cargo.toml" | head -n 1)"
fi

# cargo-dist's target triples, for the platforms the release is built for.
target="${PSS_FIX_TARGET:-}"
if [ -z "$target" ]; then
	os="$(uname -s)"
	arch="$(uname -m)"
	case "$arch" in
	x86_64 | amd64) arch=x86_64 ;;
	aarch64 | arm64) arch=aarch64 ;;
	esac
	case "$os" in
	Linux) target="$arch-unknown-linux-musl" ;;
	Darwin) target="$arch-apple-darwin" ;;
	MINGW* | MSYS* | CYGWIN* | Windows_NT) target="$arch-pc-windows-msvc" ;;
	*) target="" ;;
	esac
	case "$target" in
	x86_64-unknown-linux-musl | aarch64-unknown-linux-musl | x86_64-apple-darwin | \
		aarch64-apple-darwin | x86_64-pc-windows-msvc) ;;
	*) target="" ;; # no release binary: only a source build can serve this machine
	esac
fi
exe=pss-fix
case "$target" in *windows*) exe=pss-fix.exe ;; esac

cache_root="${PSS_FIX_CACHE_DIR:-${RUNNER_TOOL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}}/pss-fix}"
cache_path="$cache_root/$version/$target"

if [ "${1:-}" = --resolve ]; then
	output version "$version"
	output target "$target"
	output cache-path "$cache_path"
	exit 0
fi

sha256_of() {
	if command -v sha256sum >/dev/null; then
		sha256sum "$1" | cut -d ' ' -f 1
	elif command -v shasum >/dev/null; then
		shasum -a 256 "$1" | cut -d ' ' -f 1
	else
		die "neither sha256sum nor shasum is installed: cannot verify the download"
	fi
}

fetch() {
	if command -v curl >/dev/null; then
		curl -fsSL --retry 3 --retry-delay 2 -o "$2" "$1"
	elif command -v wget >/dev/null; then
		wget -q -O "$2" "$1"
	else
		say "neither curl nor wget is installed"
		return 1
	fi
}

# The release binary into the cache; 0 when it is there and verified, 1 when the release
# cannot provide it (the caller may build instead), exit 2 when the checksum is wrong.
from_release() {
	[ -n "$version" ] || {
		say "no version to download (set the action's version input)"
		return 1
	}
	[ -n "$target" ] || {
		say "no release binary for $(uname -s) $(uname -m)"
		return 1
	}
	if [ -x "$cache_path/$exe" ] && [ -f "$cache_path/$exe.sha256" ] &&
		[ "$(sha256_of "$cache_path/$exe")" = "$(cat "$cache_path/$exe.sha256")" ]; then
		say "pss-fix $version ($target) from the cache: $cache_path"
		return 0
	fi
	local ext=tar.gz
	case "$target" in *windows*) ext=zip ;; esac
	local archive="pss-fix-$target.$ext"
	local repo="${PSS_FIX_REPOSITORY:-${GITHUB_ACTION_REPOSITORY:-}}"
	# Composite actions do not always get github.action_repository; the runner checks the
	# action out under _actions/OWNER/REPO/REF, which names it too.
	if [ -z "$repo" ] && [[ "${GITHUB_ACTION_PATH:-}" =~ /_actions/([^/]+/[^/]+)/[^/]+/?$ ]]; then
		repo="${BASH_REMATCH[1]}"
	fi
	local base="${PSS_FIX_DOWNLOAD_URL:-}"
	if [ -z "$base" ]; then
		[ -n "$repo" ] || {
			say "no repository to download from (PSS_FIX_REPOSITORY)"
			return 1
		}
		base="https://github.com/$repo/releases/download/v$version"
	fi
	work="$(mktemp -d)"
	trap 'rm -rf "$work"' EXIT
	say "downloading $base/$archive"
	if ! fetch "$base/$archive" "$work/$archive" || ! fetch "$base/$archive.sha256" "$work/sum"; then
		say "could not download $archive or its checksum from $base"
		return 1
	fi
	local want got
	want="$(cut -d ' ' -f 1 <"$work/sum" | tr -d '\r\n' | tr 'A-F' 'a-f')"
	got="$(sha256_of "$work/$archive")"
	if ! [[ "$want" =~ ^[0-9a-f]{64}$ ]]; then
		die "$archive.sha256 holds no SHA-256 checksum; refusing to install"
	fi
	if [ "$want" != "$got" ]; then
		die "checksum mismatch for $archive: expected $want, got $got; refusing to install it"
	fi
	say "checksum verified: sha256 $got"
	case "$ext" in
	tar.gz) tar -xzf "$work/$archive" -C "$work" || die "could not unpack $archive" ;;
	zip)
		if command -v unzip >/dev/null; then
			unzip -q "$work/$archive" -d "$work" || die "could not unpack $archive"
		else
			powershell -NoProfile -Command "Expand-Archive -Path '$work/$archive' -DestinationPath '$work'" ||
				die "could not unpack $archive"
		fi
		;;
	esac
	local found="$work/pss-fix-$target/$exe"
	[ -f "$found" ] || die "$archive has no pss-fix-$target/$exe"
	mkdir -p "$cache_path" || die "cannot create $cache_path"
	cp "$found" "$cache_path/$exe.part" && chmod +x "$cache_path/$exe.part" &&
		mv -f "$cache_path/$exe.part" "$cache_path/$exe" || die "cannot write $cache_path/$exe"
	sha256_of "$cache_path/$exe" >"$cache_path/$exe.sha256"
	return 0
}

from_source() {
	command -v cargo >/dev/null || die "cargo is needed to build pss-fix (GitHub's runners have it; elsewhere use rustup)"
	local root="${CARGO_HOME:-$HOME/.cargo}"
	if [ -n "$explicit" ]; then
		say "cargo install pss-fix $explicit (crates.io)"
		cargo install --locked pss-fix --version "$explicit" >&2 || die "cargo install pss-fix --version $explicit failed"
	else
		[ -f "$source_dir/Cargo.toml" ] || die "no Cargo.toml in $source_dir: set the version input"
		say "cargo install --locked --path $source_dir"
		cargo install --locked --path "$source_dir" >&2 || die "cargo install --path $source_dir failed"
	fi
	output bin-dir "$root/bin"
	output installed-from source
}

case "$mode" in
source) from_source ;;
binary | auto)
	if from_release; then
		output bin-dir "$cache_path"
		output installed-from release
	elif [ "$mode" = binary ]; then
		die "no release binary of pss-fix $version for ${target:-this platform} (install: source builds it)"
	else
		say "building from source instead"
		from_source
	fi
	;;
esac
