# go-env.sh - sourced by the build scripts: the Go environment that fixes a build's
# output bytes for a given toolchain (CGO off, linux/amd64 v1, -trimpath, no VCS stamp,
# no user GOFLAGS or GOEXPERIMENT), and the shared module and build caches.
# Scripts add their own GOFLAGS after sourcing it (e.g. -mod=readonly).
DATALAB_GO_DIR=${DATALAB_GO_DIR:-$HOME/.cache/datalab/go}
export GOMODCACHE="${GOMODCACHE:-$DATALAB_GO_DIR/mod}"
export GOCACHE="${GOCACHE:-$DATALAB_GO_DIR/cache}"
export GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"
export GOSUMDB="${GOSUMDB:-sum.golang.org}"
export GOTOOLCHAIN="${GOTOOLCHAIN:-local}"
export CGO_ENABLED=0 GOOS="${GOOS:-linux}" GOARCH="${GOARCH:-amd64}" GOWORK=off
if [ "$GOARCH" = amd64 ]; then export GOAMD64="${GOAMD64:-v1}"; fi
export GOFLAGS="-trimpath -buildvcs=false"
unset GOEXPERIMENT 2>/dev/null || true
