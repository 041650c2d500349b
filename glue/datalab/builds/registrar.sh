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

DATALAB_GO_DIR=${DATALAB_GO_DIR:-$HOME/.cache/datalab/go}
export GOMODCACHE="${GOMODCACHE:-$DATALAB_GO_DIR/mod}"
export GOCACHE="${GOCACHE:-$DATALAB_GO_DIR/cache}"
export GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"
export GOSUMDB="${GOSUMDB:-sum.golang.org}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0 GOOS="${GOOS:-linux}" GOARCH="${GOARCH:-amd64}" GOWORK=off
if [ "$GOARCH" = amd64 ]; then export GOAMD64="${GOAMD64:-v1}"; fi
export GOFLAGS="-trimpath -buildvcs=false -mod=readonly"
unset GOEXPERIMENT 2>/dev/null || true

cd "$SRC"
printf '%s\n' "build-registrar: $(go version); $SRC version $VERSION" >&2
mkdir -p "$(dirname "$OUT")"
go build -ldflags "-s -w -buildid= -X main.version=$VERSION" -o "$OUT" .
"$OUT" -version >&2
sha256sum "$OUT"
