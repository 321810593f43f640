#!/usr/bin/env bash
# The baseline: what a user types by hand for the same cluster (head + 2 workers on one host,
# token auth, shm sized like the project does), then waits until all 3 nodes are alive.
# Expects the engine to use the mirror already and the token at $TOKEN_FILE (mode 0600, uid 1000).
set -euo pipefail
IMAGE=${IMAGE:?set IMAGE, e.g. rayproject/ray:2.60.0-py311-cpu}
TOKEN_FILE=${TOKEN_FILE:?set TOKEN_FILE}
SHM=${SHM:?set SHM in bytes}
NET=plainbench

docker pull "$IMAGE" >/dev/null
docker network create "$NET" >/dev/null
common=(-d --network "$NET" --shm-size "$SHM" --restart unless-stopped
        -e RAY_AUTH_MODE=token -e RAY_AUTH_TOKEN_PATH=/run/secrets/ray_auth_token
        -v "$TOKEN_FILE:/run/secrets/ray_auth_token:ro" --label plainbench=1)
docker run "${common[@]}" --name plain-head -p 127.0.0.1:8266:8265 "$IMAGE" \
  ray start --head --port=6379 --dashboard-host=0.0.0.0 --disable-usage-stats --block >/dev/null
for i in 1 2; do
  docker run "${common[@]}" --name "plain-worker-$i" "$IMAGE" \
    ray start --address=plain-head:6379 --disable-usage-stats --block >/dev/null
done
# Wait until the dashboard reports 3 alive nodes.
python3 - "$TOKEN_FILE" <<'PY'
import json, sys, time, urllib.request
token = open(sys.argv[1]).read().strip()
deadline = time.monotonic() + 300
while time.monotonic() < deadline:
    try:
        request = urllib.request.Request("http://127.0.0.1:8266/api/v0/nodes?limit=100",
                                         headers={"Authorization": "Bearer " + token})
        rows = json.load(urllib.request.urlopen(request, timeout=5))["data"]["result"]["result"]
        if sum(row["state"] == "ALIVE" for row in rows) == 3:
            sys.exit(0)
    except Exception:
        pass
    time.sleep(0.5)
sys.exit("timed out waiting for 3 alive nodes")
PY
