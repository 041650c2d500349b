#!/bin/sh
# registrar.sh - build DataLab's registrar (glue/registrar: health-checked registration
# of this host's services in etcd, decision 0011) from this repository's source, its
# dependencies through the Go module proxy as locked by glue/registrar/go.sum.
#
# Usage: registrar.sh [VERSION] [OUTPUT]   (default 0.1.0, ./registrar-VERSION)
# Prints "<sha256>  <OUTPUT>" on stdout as its last line; progress goes to stderr.
# Environment (all optional): DATALAB_GO_DIR (default ~/.cache/datalab/go), GOMODCACHE,
# GOCACHE. Same pinned flags as go-install.sh, so the sha256 holds for a toolchain.
set -eu

VERSION=${1:-0.1.0}; VERSION=${VERSION#v}
OUT=${2:-$PWD/registrar-$VERSION}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
SRC=$(cd "$(dirname "$0")/../../registrar" && pwd)

# The pinned Go environment (shared by every build script).
. "$(dirname "$0")/go-env.sh"
GOFLAGS="$GOFLAGS -mod=readonly"

cd "$SRC"
printf '%s\n' "build-registrar: $(go version); $SRC version $VERSION" >&2
mkdir -p "$(dirname "$OUT")"
go build -ldflags "-s -w -buildid= -X main.version=$VERSION" -o "$OUT" .
"$OUT" -version >&2
sha256sum "$OUT"
