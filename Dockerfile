# The pss-fix KRM function image, for kustomize and kpt (docs/integrations.md#krm-function-image):
# nothing but the static musl binary the release build makes, run as `pss-fix krm` (a
# ResourceList on stdin, the fixed ResourceList on stdout).
#
# Build the binary first, then the image (the build context is the checkout):
#
#   cargo build --profile dist --target x86_64-unknown-linux-musl      # or: dist build
#   docker build -t ghcr.io/pss-fix/pss-fix-krm:0.1.0 .
#
# For arm64, build --target aarch64-unknown-linux-musl and pass --build-arg
# TARGET=aarch64-unknown-linux-musl --platform linux/arm64.
#
# scratch: a static binary needs no libc, shell or certificates, so the image holds nothing
# a scanner could flag and nothing the function could run besides itself.
FROM scratch
ARG TARGET=x86_64-unknown-linux-musl
COPY target/${TARGET}/dist/pss-fix /pss-fix
# Any non-root UID: the function only reads stdin and writes stdout.
USER 65532:65532
ENTRYPOINT ["/pss-fix", "krm"]
