#!/usr/bin/env bash
# Optional system packages: bubblewrap (sandbox isolation) and Chromium (browser tests).
# Installed only when missing; failures are tolerated (the grader falls back to weaker
# isolation and the browser tests skip with a reason).
set -u
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != "0" ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system: cannot install ${missing[*]} (need root and apt-get)"; exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1 || true
apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 || echo "install-system: apt-get install ${missing[*]} failed"
