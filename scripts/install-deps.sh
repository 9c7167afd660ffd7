#!/usr/bin/env bash
# Installs the system packages Berth needs, when missing. Idempotent; run as root.
set -euo pipefail
packages=(runc conmon busybox-static tini catatonit attr iproute2 procps util-linux iptables containernetworking-plugins python3 skopeo docker-registry openssl podman tmux)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if ! command -v docker >/dev/null 2>&1; then
  echo "note: the docker CLI is not on the PATH; tests that drive berthd with it will fail" >&2
fi
