#!/usr/bin/env bash
# Fill fuzz/corpus/<target>/ with the seed corpus for both targets: every file under
# fixtures/ (recursively, fixed fuzz findings included; fixtures/fuzz/open-* left out, as they
# still fail), every file of ../shared/corpus/ when it is there, and 16 streams from
# pss_fix_testkit::synth::stream(4096, seed).
# libFuzzer adds what it finds to the same directories; running this again only adds seeds.
set -euo pipefail
cd "$(dirname "$0")"
root=..
seeds=$(mktemp -d)
trap 'rm -rf "$seeds"' EXIT
i=0
for dir in "$root/fixtures" "$root/../shared/corpus"; do
    [ -d "$dir" ] || continue
    while IFS= read -r -d '' f; do
        i=$((i + 1))
        cp "$f" "$seeds/$i-$(basename "$f")"
    done < <(find "$dir" -type f -size -64k ! -path '*/fuzz/open-*' -print0 | sort -z)
done
cargo run --quiet --release --bin seed_corpus -- "$seeds" 16
for target in process_safe process_unsafe; do
    mkdir -p "corpus/$target"
    cp -n "$seeds"/* "corpus/$target/"
done
echo "seeded $(ls "$seeds" | wc -l) files into fuzz/corpus/{process_safe,process_unsafe}"
