#!/bin/sh
# prometheus.sh - build the Prometheus server from source through the Go module proxy.
# Usage: prometheus.sh [VERSION] [OUTPUT]   (default 3.16.0, ./prometheus-VERSION)
#
# Prometheus 3.x is published as Go module github.com/prometheus/prometheus
# v0.<major><minor, 2 digits>.<patch> (3.16.0 = v0.316.0). Built without the
# `builtinassets` tag: the React web UI is not embedded (its assets come from an npm
# build that is not part of the Go module), so the HTTP API, /metrics, /-/ready and
# /-/healthy work and the UI pages answer 500 "Error opening React index.html".
set -eu
VERSION=${1:-3.16.0}; VERSION=${VERSION#v}
OUT=${2:-$PWD/prometheus-$VERSION}
MAJOR=${VERSION%%.*}; REST=${VERSION#*.}; MINOR=${REST%%.*}; PATCH=${REST#*.}
MODVER=$(printf 'v0.%d%02d.%d' "$MAJOR" "$MINOR" "$PATCH")
exec sh "$(dirname "$0")/go-install.sh" github.com/prometheus/prometheus/cmd/prometheus \
  "$MODVER" "$OUT" "$VERSION"
