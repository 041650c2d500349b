#!/bin/sh
# etcd.sh - build etcd, etcdctl and etcdutl from source through the Go module proxy and
# pack them as one reproducible tar: bin/etcd, bin/etcdctl, bin/etcdutl.
#
# Usage: etcd.sh [VERSION] [OUTPUT]   (default 3.7.4, ./etcd-VERSION.tar)
# Prints "<sha256>  <OUTPUT>" on stdout as its last line; progress goes to stderr.
#
# Environment (all optional): DATALAB_GO_DIR (default ~/.cache/datalab/go), GOMODCACHE,
# GOCACHE, BUILD_DIR (work dir, default ~/.cache/datalab/build/etcd).
#
# Why a wrapper module: etcd's server, etcdctl and etcdutl modules carry local replace
# directives (../api, ../client/v3, ...), which `go install pkg@version` refuses. A
# throwaway module that requires the three as tools resolves them from the proxy at
# exactly VERSION, and `go build` of the main packages then works. The flags are
# go-install.sh's (CGO off, -trimpath, -buildvcs=false, -s -w -buildid=), and the tar
# has fixed names, owners, modes and times, so the file's sha256 is stable for a
# given toolchain.
set -eu

VERSION=${1:-3.7.4}; VERSION=${VERSION#v}
OUT=${2:-$PWD/etcd-$VERSION.tar}
case $OUT in /*) ;; *) OUT=$PWD/$OUT ;; esac

BUILD_DIR=${BUILD_DIR:-$HOME/.cache/datalab/build/etcd}
# The pinned Go environment (shared by every build script).
. "$(dirname "$0")/go-env.sh"

log() { printf '%s\n' "build-etcd: $*" >&2; }
command -v tar >/dev/null 2>&1 || { log "needs GNU tar"; exit 1; }

mkdir -p "$BUILD_DIR"
WORK=$(mktemp -d "$BUILD_DIR/work.XXXXXX"); trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
log "$(go version); go.etcd.io/etcd/{server,etcdctl,etcdutl}/v3@v$VERSION"
go mod init datalab.local/etcd-build >/dev/null 2>&1
go get -tool "go.etcd.io/etcd/server/v3@v$VERSION" "go.etcd.io/etcd/etcdctl/v3@v$VERSION" \
  "go.etcd.io/etcd/etcdutl/v3@v$VERSION" >&2
mkdir -p pkg/bin
for cmd in server:etcd etcdctl:etcdctl etcdutl:etcdutl; do
  log "go build ${cmd%%:*} -> bin/${cmd#*:}"
  go build -ldflags "-s -w -buildid=" -o "pkg/bin/${cmd#*:}" "go.etcd.io/etcd/${cmd%%:*}/v3"
done
"$WORK/pkg/bin/etcd" --version | head -1 >&2
mkdir -p "$(dirname "$OUT")"
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode=go-w,a+rX \
  --format=gnu -C pkg -cf "$OUT" bin
log "size $(wc -c < "$OUT") bytes"
sha256sum "$OUT"
