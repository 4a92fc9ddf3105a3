#!/usr/bin/env bash
# dist.sh - release archives and krew manifests for the three plugins.
#
#   krew/dist.sh VERSION OUTDIR [RELEASE_URL] [HOMEPAGE]
#
# Writes OUTDIR/kubectl-NAME_vVERSION_linux_amd64.tar.gz (the executable,
# mode 0755, and LICENSE, no links: what krew accepts) and OUTDIR/plugins/
# NAME.yaml, so OUTDIR is also a krew index tree.  RELEASE_URL is where the
# archives will be downloaded from (default: file://OUTDIR, for local tests
# with `kubectl krew install --manifest=... --archive=...`).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
version=${1:?usage: dist.sh VERSION OUTDIR [RELEASE_URL] [HOMEPAGE]}
out=${2:?usage: dist.sh VERSION OUTDIR [RELEASE_URL] [HOMEPAGE]}
mkdir -p "$out/plugins"
out=$(cd "$out" && pwd)
url=${3:-file://$out}
homepage=${4:-}
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

for p in fluxwi sopsenc sopsverify; do
    archive="kubectl-${p}_v${version}_linux_amd64.tar.gz"
    rm -rf "${stage:?}"/*
    install -m 0755 "$top/bin/kubectl-$p" "$stage/kubectl-$p"
    install -m 0644 "$top/LICENSE" "$stage/LICENSE"
    tar -C "$stage" --owner=0 --group=0 --numeric-owner --sort=name \
        --mtime=@0 -cf - "kubectl-$p" LICENSE | gzip -n9 >"$out/$archive"
    sum=$(sha256sum "$out/$archive" | cut -d' ' -f1)
    sed -e "s|@VERSION@|$version|g" -e "s|@RELEASE_URL@|$url|g" \
        -e "s|@SHA256@|$sum|g" -e "s|@HOMEPAGE@|$homepage|g" \
        "$top/krew/$p.yaml.in" |
        { if [[ -z $homepage ]]; then grep -v '^  homepage: $'; else cat; fi; } \
        >"$out/plugins/$p.yaml"
    echo "$out/$archive"
    echo "$out/plugins/$p.yaml"
done
