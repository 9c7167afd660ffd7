#!/usr/bin/env bash
# The main job on a fresh machine: install, build, start berthd, make busybox:latest offline, run a container,
# then build the example in examples/hello and run it.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
[ -d node_modules ] || npm ci --no-audit --no-fund
npm run build --silent
SOCK=${BERTH_SOCK:-/run/berth/berth.sock}
export BERTH_HOST=unix://$SOCK
if ! ./bin/berth version >/dev/null 2>&1; then
  mkdir -p /var/log
  nohup ./bin/berthd --host "unix://$SOCK" >/var/log/berthd.log 2>&1 &
  for _ in $(seq 1 100); do ./bin/berth version >/dev/null 2>&1 && break; sleep 0.1; done
  echo "berthd started (pid $!, log /var/log/berthd.log, socket $SOCK)"
fi
if ! ./bin/berth image inspect busybox:latest >/dev/null 2>&1; then
  node scripts/busybox-rootfs.mjs | ./bin/berth import --change 'CMD ["sh"]' - busybox:latest
fi
./bin/berth run --rm busybox echo hello from berth
./bin/berth build --progress plain -t berth-hello examples/hello
./bin/berth run --rm berth-hello cat /srv/index.html
