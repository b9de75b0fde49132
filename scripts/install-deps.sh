#!/usr/bin/env bash
# Installs what Skiff needs on a fresh Debian machine: build tools for the SQLite addon
# and the node agent's runtime (containerd, runc, CNI plugins, iptables; busybox-static
# and libc6-dev for the images the agent builds itself; docker-registry, a real OCI registry
# the image tests run on 127.0.0.1) from apt, as root, then the npm dependencies (npm ci, skipped when node_modules already
# matches package-lock.json), then bundles the CLI into dist/ (scripts/build.ts; about
# a second) so `skiff` starts without transpiling.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(ca-certificates g++ make python3 libc6-dev containerd runc containernetworking-plugins iptables nftables iproute2 busybox-static docker-registry etcd-server etcd-client)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" -ne 0 ]; then
    echo "skiff: missing packages: ${missing[*]}; run as root or: sudo apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
  echo "skiff: installing ${missing[*]}" >&2
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
  # The package enables a registry service on :5000; the tests run their own, so switch it off.
  if [[ " ${missing[*]} " == *" docker-registry "* ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now docker-registry >/dev/null 2>&1 || true
  fi
  # Same for etcd on :2379: the etcd datastore tests start their own members on free ports.
  if [[ " ${missing[*]} " == *" etcd-server "* ]] && command -v systemctl >/dev/null 2>&1; then
    systemctl disable --now etcd >/dev/null 2>&1 || true
  fi
fi

if ! command -v node >/dev/null 2>&1; then
  echo "skiff: Node.js 20 or newer is required (apt-get install nodejs gives 18 on Debian 12; use NodeSource or nvm)" >&2
  exit 1
fi

stamp=node_modules/.skiff-lock-hash
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "skiff: installing npm dependencies (npm ci; building better-sqlite3 takes about a minute)" >&2
  npm ci --no-audit --no-fund --loglevel=error
  echo "$want" > "$stamp"
fi

node --import tsx scripts/build.ts
