#!/bin/sh
# node_exporter.sh - build the Prometheus node_exporter from source through the Go
# module proxy. Usage: node_exporter.sh [VERSION] [OUTPUT]   (default 1.12.1)
set -eu
VERSION=${1:-1.12.1}; VERSION=${VERSION#v}
OUT=${2:-$PWD/node_exporter-$VERSION}
exec sh "$(dirname "$0")/go-install.sh" github.com/prometheus/node_exporter \
  "v$VERSION" "$OUT" "$VERSION"
