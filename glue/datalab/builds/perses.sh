#!/bin/sh
# perses.sh - build the Perses server and its CLI (percli) from source through the Go
# module proxy, into one tar (bin/perses, bin/percli).
#
# Usage: perses.sh [VERSION] [OUTPUT]   (default 0.54.0, ./perses-VERSION.tar)
# Prints "<sha256>  <OUTPUT>" as its last line; progress goes to stderr.
#
# Why it is done this way
# - The server embeds its web UI through ui/embed.go, which upstream generates from the
#   built UI (scripts/compress_assets.sh); the module zip has only the template, so
#   `go install` fails with "undefined: embedFS". The build runs in a writable copy of the
#   module with embed.go written here.
# - The UI itself cannot be built from the npm registry: its lockfile needs
#   @perses-dev/client 0.54.0 and @perses-dev/spec 0.2.0, which the registry answers 404
#   (checked 2026-12-07). The server gets upstream's placeholder page instead (the same
#   one compress_assets.sh writes when there is no built UI); the API, the provisioning
#   and the datasource proxy are complete without it.
set -eu

VERSION=${1:-0.54.0}; VERSION=${VERSION#v}
OUT=${2:-$PWD/perses-$VERSION.tar}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
MOD=github.com/perses/perses

BUILD_DIR=${BUILD_DIR:-$HOME/.cache/datalab/build/perses}
. "$(dirname "$0")/go-env.sh"
export GOFLAGS="$GOFLAGS -mod=readonly"

log() { printf '%s\n' "build-perses: $*" >&2; }
for tool in tar gzip; do
  command -v $tool >/dev/null 2>&1 || { log "needs $tool (apt-get install $tool)"; exit 1; }
done

mkdir -p "$BUILD_DIR"
WORK=$(mktemp -d "$BUILD_DIR/work.XXXXXX"); trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
log "$(go version); $MOD@v$VERSION"
DIR=$(go mod download -json "$MOD@v$VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
[ -n "$DIR" ] && [ -f "$DIR/go.mod" ] || { log "no module dir for $MOD@v$VERSION"; exit 1; }
# The tag's time, as the proxy records it: the binaries' build date (reproducible).
BUILD_DATE=$(go list -m -f '{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}' "$MOD@v$VERSION")

cp -R "$DIR" src && chmod -R u+w src && cd src
# ui/embed.go: the template, then the placeholder page, gzipped (the assets package
# serves index.html from index.html.gz).
mkdir -p ui/app/dist
cat > ui/app/dist/index.html <<'HTML'
<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Perses</title></head>
<body><p>This Perses build has no web UI (its npm dependencies are not available);
use the API, percli or the provisioned dashboards.</p></body></html>
HTML
gzip -n -9 -f ui/app/dist/index.html
cp ui/embed.go.tmpl ui/embed.go
printf '//go:embed app/dist/index.html.gz\nvar embedFS embed.FS\n' >> ui/embed.go

LDFLAGS="-s -w -buildid="
for v in Version=$VERSION Revision= Branch= BuildDate=$BUILD_DATE; do
  LDFLAGS="$LDFLAGS -X github.com/prometheus/common/version.$v"
done
mkdir -p "$WORK/pkg/bin"
for cmd in perses percli; do
  log "go build ./cmd/$cmd"
  go build -ldflags "$LDFLAGS" -o "$WORK/pkg/bin/$cmd" "./cmd/$cmd"
done
"$WORK/pkg/bin/perses" --version 2>&1 | head -1 >&2 || true
mkdir -p "$(dirname "$OUT")"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode=go-w,a+rX \
  --format=gnu -C "$WORK/pkg" -cf "$OUT" bin
log "size $(wc -c < "$OUT") bytes"
sha256sum "$OUT"
