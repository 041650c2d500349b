#!/bin/sh
# go-install.sh - build one Go command with `go install PKG@VERSION` (outside any module),
# fetched only through the Go module proxy, with pinned flags so the output is
# byte-identical for a given toolchain; Prometheus-style version stamping
# (github.com/prometheus/common/version), which the Prometheus ecosystem uses.
#
# Usage: go-install.sh PACKAGE MODULE_VERSION OUTPUT [APP_VERSION]
#   PACKAGE         the command's package, e.g. github.com/prometheus/node_exporter
#   MODULE_VERSION  the module's tag, e.g. v1.12.1
#   OUTPUT          path of the binary to write
#   APP_VERSION     value of version.Version (default MODULE_VERSION without the v)
# Prints "<sha256>  <OUTPUT>" on stdout as its last line; progress goes to stderr.
#
# Environment (all optional):
#   DATALAB_GO_DIR  shared Go state dir (default ~/.cache/datalab/go)
#   GOMODCACHE      module cache (default $DATALAB_GO_DIR/mod)
#   GOCACHE         build cache  (default $DATALAB_GO_DIR/cache)
#   GO_MODULE       the module of PACKAGE (default its first three path elements)
#   GO_TAGS         build tags (default none)
#   BUILD_DATE      version.BuildDate (default the tag's time from the proxy: stable)
#
# `go install pkg@version` refuses modules whose go.mod has replace directives (Vault,
# Consul: see vault.sh); Prometheus and node_exporter have none.
set -eu

PKG=$1; VERSION=$2; OUT=$3; APPV=${4:-${2#v}}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac

# The pinned Go environment (shared by every build script).
. "$(dirname "$0")/go-env.sh"

log() { printf '%s\n' "go-install: $*" >&2; }

WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
cd "$WORK"   # outside any Go module
MOD=${GO_MODULE:-$(echo "$PKG" | cut -d/ -f1-3)}
BUILD_DATE=${BUILD_DATE:-$(go list -m -f '{{.Time.UTC.Format "20060102-15:04:05"}}' "$MOD@$VERSION")}
V=github.com/prometheus/common/version
LDFLAGS="-s -w -buildid= -X $V.Version=$APPV -X $V.Revision= -X $V.Branch= -X $V.BuildUser=datalab -X $V.BuildDate=$BUILD_DATE"
log "$(go version); $PKG@$VERSION tags='${GO_TAGS:-}' ldflags='$LDFLAGS'"
GOBIN="$WORK/bin" go install -tags "${GO_TAGS:-}" -ldflags "$LDFLAGS" "$PKG@$VERSION"
mkdir -p "$(dirname "$OUT")"
mv "$WORK/bin/$(basename "$PKG")" "$OUT"
log "size $(wc -c < "$OUT") bytes"
sha256sum "$OUT"
