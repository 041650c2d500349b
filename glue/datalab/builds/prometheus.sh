#!/bin/sh
# prometheus.sh - build the Prometheus server from source through the Go module proxy,
# WITH its web UI (the React "mantine-ui") embedded: `go build -tags builtinassets`.
#
# Usage: prometheus.sh [VERSION] [OUTPUT]   (default 3.16.0, ./prometheus-VERSION)
# Prints "<sha256>  <OUTPUT>" on stdout as its last line; progress goes to stderr.
#
# Needs go (the pinned toolchain, artifacts.yml), node (>= 20.19: vite 8) and npm on
# PATH, and the npm registry (the UI's packages; pnpm itself comes from there too).
#
# Environment (all optional):
#   DATALAB_GO_DIR   shared Go state dir (default ~/.cache/datalab/go)
#   GOMODCACHE       module cache (default $DATALAB_GO_DIR/mod)
#   GOCACHE          build cache  (default $DATALAB_GO_DIR/cache)
#   DATALAB_NPM_DIR  npm/pnpm state: pnpm itself, its package store and caches
#                    (default ~/.cache/datalab/npm)
#   PROMETHEUS_BUILD_DIR  work dir (or BUILD_DIR, as `datalab lab prepare` sets it); the
#                    sources and node_modules go to
#                    $PROMETHEUS_BUILD_DIR/src/prometheus-VERSION, removed at the end
#                    (default ~/.cache/datalab/build/prometheus)
#   BUILD_DATE       version.BuildDate (default the tag's time from the proxy: stable)
#
# How, and why this way
# - Prometheus 3.x is published as Go module github.com/prometheus/prometheus
#   v0.<major><minor, 2 digits>.<patch> (3.16.0 = v0.316.0). The module zip holds the
#   UI's sources (web/ui: a pnpm workspace with its lockfile) but not the built assets,
#   and `go install pkg@version` cannot build generated files into a module, so, like
#   vault.sh, the module is downloaded with `go mod download` and built from a
#   writable copy, the way upstream's `make build` does it with BUILD_UI=mantine:
#   pnpm install, build_ui.sh --mantine-ui, scripts/compress_assets.sh (gzip -n, no
#   name or time in the .gz, and web/ui/embed.go listing them), go build with the tag.
#   Only the Mantine UI is built, not the old React app (`--enable-feature=old-ui`
#   would find no assets).
# - pnpm is pinned (PNPM_VERSION below; the UI declares no packageManager, upstream CI
#   takes any pnpm < 13; 12.18.0 was the newest when 3.16.0 was tagged, 2026-11-05) and
#   installed from the npm registry into $DATALAB_NPM_DIR/tools. pnpm 12 is a native
#   executable, so it does not care about the Node version; pnpm 11 would (node >= 22.13).
#   The UI's .nvmrc asks for Node 24.21.0 (a warning only upstream); Node 20.20 builds
#   the same files (vite 8 needs >= 20.19).
# - `pnpm install --frozen-lockfile`: exactly the versions and integrity hashes of the
#   lockfile, and the workspace's supply-chain policies (minimumReleaseAge, allowBuilds
#   for esbuild/unrs-resolver only). 3.16.0's lockfile pins @mantine/code-highlight
#   9.7.2, which is not on the npm registry (404; its newest is 9.6.2 while the other
#   @mantine packages have 9.7.2), so `pnpm install` cannot succeed as published: the
#   3.16.0 patch below pins code-highlight 9.6.2 (package.json and lockfile, with its
#   registry integrity). Its peerDependencies ask for @mantine/core 9.6.2 exactly while
#   the UI has 9.7.2 (a frozen install does not check peers); tsc type-checks the UI
#   against it during the build. It draws the Configuration page's YAML.
# - Reproducible: the lockfile fixes every package; vite's output names are content
#   hashes and it writes no timestamps; gzip -n; the Go flags are go-install.sh's
#   (-trimpath -buildvcs=false, CGO off, -s -w -buildid=, fixed ldflags) so
#   `prometheus --version` reads as before. The .gz bytes depend on the gzip program
#   (GNU gzip 1.12 here; pigz or busybox gzip compress differently).
set -eu

VERSION=${1:-3.16.0}; VERSION=${VERSION#v}
OUT=${2:-$PWD/prometheus-$VERSION}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac
MAJOR=${VERSION%%.*}; REST=${VERSION#*.}; MINOR=${REST%%.*}; PATCH=${REST#*.}
MODVER=$(printf 'v0.%d%02d.%d' "$MAJOR" "$MINOR" "$PATCH")
MOD=github.com/prometheus/prometheus
PNPM_VERSION=12.18.0

DATALAB_GO_DIR=${DATALAB_GO_DIR:-$HOME/.cache/datalab/go}
DATALAB_NPM_DIR=${DATALAB_NPM_DIR:-$HOME/.cache/datalab/npm}
PROMETHEUS_BUILD_DIR=${PROMETHEUS_BUILD_DIR:-${BUILD_DIR:-$HOME/.cache/datalab/build/prometheus}}

# Go: the same pins as go-install.sh (everything that changes the output bytes).
export GOMODCACHE="${GOMODCACHE:-$DATALAB_GO_DIR/mod}"
export GOCACHE="${GOCACHE:-$DATALAB_GO_DIR/cache}"
export GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"
export GOSUMDB="${GOSUMDB:-sum.golang.org}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0 GOOS="${GOOS:-linux}" GOARCH="${GOARCH:-amd64}" GOWORK=off
if [ "$GOARCH" = amd64 ]; then export GOAMD64="${GOAMD64:-v1}"; fi
export GOFLAGS="-trimpath -buildvcs=false -mod=readonly"
unset GOEXPERIMENT 2>/dev/null || true
# npm/pnpm and the UI build: caches outside the tree, no CI-only behaviour (upstream's
# Makefile runs the build with CI=""), no update check, fixed locale and zone.
export npm_config_cache="$DATALAB_NPM_DIR"
export XDG_CACHE_HOME="$DATALAB_NPM_DIR/xdg/cache" XDG_DATA_HOME="$DATALAB_NPM_DIR/xdg/data"
export XDG_STATE_HOME="$DATALAB_NPM_DIR/xdg/state"
export pnpm_config_update_notifier=false npm_config_update_notifier=false
export CI='' LC_ALL=C TZ=UTC

log() { printf '%s\n' "build-prometheus: $*" >&2; }
for tool in go node npm bash gzip patch; do
  command -v "$tool" >/dev/null 2>&1 || { log "needs '$tool' on PATH"; exit 1; }
done

# 1. pnpm, pinned, installed once into the npm state dir (npm checks the registry's
#    integrity hash of the tarball).
PNPM_PREFIX=$DATALAB_NPM_DIR/tools/pnpm-$PNPM_VERSION
if [ "$("$PNPM_PREFIX/bin/pnpm" --version 2>/dev/null || true)" != "$PNPM_VERSION" ]; then
  log "installing pnpm $PNPM_VERSION into $PNPM_PREFIX"
  rm -rf "$PNPM_PREFIX"
  npm install --global --prefix "$PNPM_PREFIX" --no-fund --no-audit \
    "pnpm@$PNPM_VERSION" >&2
fi
PNPM=$PNPM_PREFIX/bin/pnpm
[ "$("$PNPM" --version)" = "$PNPM_VERSION" ] || { log "pnpm is not $PNPM_VERSION"; exit 1; }

# 2. The module (zip verified against sum.golang.org) and a writable copy of it.
mkdir -p "$PROMETHEUS_BUILD_DIR"
cd "$PROMETHEUS_BUILD_DIR"   # outside any Go module
DIR=$(go mod download -json "$MOD@$MODVER" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
if [ -z "$DIR" ] || [ ! -f "$DIR/web/ui/pnpm-lock.yaml" ]; then
  log "no module dir with web/ui for $MOD@$MODVER"; exit 1
fi
BUILD_DATE=${BUILD_DATE:-$(go list -m -f '{{.Time.UTC.Format "20060102-15:04:05"}}' "$MOD@$MODVER")}
SRC=$PROMETHEUS_BUILD_DIR/src/prometheus-$VERSION
rm -rf "$SRC"
trap 'rm -rf "$SRC"' EXIT
mkdir -p "$PROMETHEUS_BUILD_DIR/src"
cp -R "$DIR" "$SRC"
chmod -R u+w "$SRC"
cd "$SRC"
log "$(go version); node $(node --version); pnpm $PNPM_VERSION; $MOD@$MODVER in $SRC"

# 3. Version-specific fixes (see header).
case $VERSION in
3.16.0)
log "patch: web/ui pins @mantine/code-highlight 9.6.2 (9.7.2 is not on the npm registry)"
patch -p1 --no-backup-if-mismatch -s <<'PATCH_UI'
--- a/web/ui/mantine-ui/package.json
+++ b/web/ui/mantine-ui/package.json
@@ -22,7 +22,7 @@
     "@floating-ui/dom": "^1.8.0",
     "@lezer/common": "^1.5.3",
     "@lezer/highlight": "^1.2.5",
-    "@mantine/code-highlight": "^9.7.2",
+    "@mantine/code-highlight": "9.6.2",
     "@mantine/core": "^9.7.2",
     "@mantine/dates": "^9.7.2",
     "@mantine/hooks": "^9.7.2",
--- a/web/ui/pnpm-lock.yaml
+++ b/web/ui/pnpm-lock.yaml
@@ -69,8 +69,8 @@
         specifier: ^1.2.5
         version: 1.2.5
       '@mantine/code-highlight':
-        specifier: ^9.7.2
-        version: 9.7.2(@mantine/core@9.7.2(@mantine/hooks@9.7.2(react@19.3.1))(@types/react@19.3.0)(react-dom@19.3.1(react@19.3.1))(react@19.3.1))(@mantine/hooks@9.7.2(react@19.3.1))(react-dom@19.3.1(react@19.3.1))(react@19.3.1)
+        specifier: 9.6.2
+        version: 9.6.2(@mantine/core@9.7.2(@mantine/hooks@9.7.2(react@19.3.1))(@types/react@19.3.0)(react-dom@19.3.1(react@19.3.1))(react@19.3.1))(@mantine/hooks@9.7.2(react@19.3.1))(react-dom@19.3.1(react@19.3.1))(react@19.3.1)
       '@mantine/core':
         specifier: ^9.7.2
         version: 9.7.2(@mantine/hooks@9.7.2(react@19.3.1))(@types/react@19.3.0)(react-dom@19.3.1(react@19.3.1))(react@19.3.1)
@@ -800,11 +800,11 @@
   '@lezer/lr@1.4.11':
     resolution: {integrity: sha512-UwgZcl1R66H2hDzBrA7kWyYmX6s8p5TQ+e/t7CuvgCtBEPxbEPaHYHu+pJBvTvDotEJpuQkJjbXuHiw5Cixxgw==}
 
-  '@mantine/code-highlight@9.7.2':
-    resolution: {integrity: sha512-Vf1CGJw8QOT+roLOapSMnh/x4cdH/Qmd1kXLgkggbYuSIs5Io/6th5AbW7hFd1PXyBeZjvDos/rO+Ae85Aw6NQ==}
+  '@mantine/code-highlight@9.6.2':
+    resolution: {integrity: sha512-lEtpNTvLeKB0UKn/f6iH8NKwUtn++Otfg0KCTsIf9ThpSAwkexBTxuo5mDr4UwljalHRIAmFi9otdQ82l6ecYA==}
     peerDependencies:
-      '@mantine/core': 9.7.2
-      '@mantine/hooks': 9.7.2
+      '@mantine/core': 9.6.2
+      '@mantine/hooks': 9.6.2
       react: ^19.2.0
       react-dom: ^19.2.0
 
@@ -4306,7 +4306,7 @@
     dependencies:
       '@lezer/common': 1.5.3
 
-  '@mantine/code-highlight@9.7.2(@mantine/core@9.7.2(@mantine/hooks@9.7.2(react@19.3.1))(@types/react@19.3.0)(react-dom@19.3.1(react@19.3.1))(react@19.3.1))(@mantine/hooks@9.7.2(react@19.3.1))(react-dom@19.3.1(react@19.3.1))(react@19.3.1)':
+  '@mantine/code-highlight@9.6.2(@mantine/core@9.7.2(@mantine/hooks@9.7.2(react@19.3.1))(@types/react@19.3.0)(react-dom@19.3.1(react@19.3.1))(react@19.3.1))(@mantine/hooks@9.7.2(react@19.3.1))(react-dom@19.3.1(react@19.3.1))(react@19.3.1)':
     dependencies:
       '@mantine/core': 9.7.2(@mantine/hooks@9.7.2(react@19.3.1))(@types/react@19.3.0)(react-dom@19.3.1(react@19.3.1))(react@19.3.1)
       '@mantine/hooks': 9.7.2(react@19.3.1)
PATCH_UI
;;
esac

# 4. The UI: dependencies exactly as locked, then upstream's own build script
#    (lezer-promql, codemirror-promql, then mantine-ui: tsc && vite build, moved to
#    web/ui/static/mantine-ui).
cd "$SRC/web/ui"
log "pnpm install --frozen-lockfile (store $DATALAB_NPM_DIR/pnpm-store)"
"$PNPM" install --frozen-lockfile --store-dir "$DATALAB_NPM_DIR/pnpm-store" >&2
log "building the UI (build_ui.sh --mantine-ui)"
PATH="$PNPM_PREFIX/bin:$PATH" bash build_ui.sh --mantine-ui >&2
[ -f static/mantine-ui/index.html ] || { log "the UI build made no static/mantine-ui/index.html"; exit 1; }

# 5. Upstream's compression step: static/**.gz (gzip -n) and web/ui/embed.go.
cd "$SRC"
bash scripts/compress_assets.sh >&2
log "embedded: $(find web/ui/static -name '*.gz' | sort | tr '\n' ' ')"

# 6. Build with the assets embedded; the same ldflags as go-install.sh.
V=github.com/prometheus/common/version
LDFLAGS="-s -w -buildid= -X $V.Version=$VERSION -X $V.Revision= -X $V.Branch= -X $V.BuildUser=datalab -X $V.BuildDate=$BUILD_DATE"
mkdir -p "$(dirname "$OUT")"
log "go build -tags builtinassets -ldflags '$LDFLAGS' ./cmd/prometheus (GOFLAGS='$GOFLAGS')"
go build -tags builtinassets -ldflags "$LDFLAGS" -o "$OUT" ./cmd/prometheus
log "$("$OUT" --version 2>&1 | head -1 || true)"
log "size $(wc -c < "$OUT") bytes"
sha256sum "$OUT"
