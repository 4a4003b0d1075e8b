#!/bin/sh
# Runs `pss-fix post-render ARGS...` for Helm 4's post-renderer plugin (see plugin.yaml).
#
# Helm 4 (checked with 4.1.4) captures a post-renderer plugin's stderr and never shows it: a
# failing plugin is reported only as `plugin "pss-fix" exited with error`. So pss-fix's
# findings (what it could not fix, in the admission controller's words) go to helm's own
# stderr instead: on Linux through /proc when that is a pipe or a terminal (a regular file is
# left alone: helm, writing at its own offset, would overwrite what is appended); without
# /proc (macOS) to the terminal, when there is one. Otherwise they stay where Helm 4 puts them.
helm_stderr=/proc/$PPID/fd/2
if [ -e "$helm_stderr" ]; then
    if { [ -p "$helm_stderr" ] || [ -c "$helm_stderr" ]; } && { : 2>>"$helm_stderr"; } 2>/dev/null; then
        exec 2>>"$helm_stderr"
    fi
elif { : 2>>/dev/tty; } 2>/dev/null; then
    exec 2>>/dev/tty
fi
if ! command -v pss-fix >/dev/null 2>&1; then
    echo "pss-fix Helm plugin: no pss-fix binary on PATH (install it with: cargo install --path <pss-fix checkout>)" >&2
    exit 127
fi
exec pss-fix post-render "$@"
