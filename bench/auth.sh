#!/usr/bin/env bash
# Cost of access control on a route: the same Gatehouse process serves a routing-only route and a route with
# IP filter + JWT (from the real test identity provider, tests/idp) + scope check; wrk drives both in turn.
#
# Usage: bench/auth.sh            (publishes the gateway and the bench backend into .bench/ first)
#   DURATION=8s RUNS=3 WARMUP=20s CONNECTIONS=32 SKIP_PUBLISH=1
# Pinning as in run.sh: the gateway alone on CPU 0; backend, identity provider and wrk on CPU 1.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO_ROOT/.bench
RUN=$OUT/run-auth
DURATION=${DURATION:-8s}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-20s}
CONNECTIONS=${CONNECTIONS:-32}
BACKEND_PORT=18190
GATEWAY_PORT=18191
mkdir -p "$RUN"
if [[ ${SKIP_PUBLISH:-0} != 1 ]]; then
    dotnet publish "$REPO_ROOT/src/Gatehouse" -c Release -o "$OUT/gatehouse" --artifacts-path "$OUT/artifacts" >"$RUN/publish-gatehouse.log" 2>&1
    dotnet publish "$REPO_ROOT/bench/Backend" -c Release -o "$OUT/backend" --artifacts-path "$OUT/artifacts" >"$RUN/publish-backend.log" 2>&1
fi
[[ -d $REPO_ROOT/tests/idp/node_modules ]] || npm ci --prefix "$REPO_ROOT/tests/idp" --no-audit --no-fund --loglevel=error

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

(cd "$OUT/backend" && exec taskset -c 1 dotnet Backend.dll "http://127.0.0.1:$BACKEND_PORT") >/dev/null 2>&1 &
pids+=($!)
(cd "$REPO_ROOT/tests/idp" && exec taskset -c 1 node server.mjs 0) >"$RUN/idp.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q listening "$RUN/idp.log" 2>/dev/null && break; sleep 0.1; done
IDP_PORT=$(awk '/listening/ { print $2 }' "$RUN/idp.log")

cat >"$RUN/gatehouse.yaml" <<YAML
listen: ["http://127.0.0.1:$GATEWAY_PORT"]
admin: { listen: "" }
identityProviders:
  corp: { issuer: "http://127.0.0.1:$IDP_PORT", audiences: ["urn:gateway"] }
services:
  backend: { targets: ["http://127.0.0.1:$BACKEND_PORT"] }
routes:
  - name: secured
    match: { path: "/secured/{**rest}" }
    service: backend
    rewrite: { stripPrefix: /secured }
    ipFilter: { allow: ["127.0.0.0/8"] }
    auth: { providers: [corp], scopes: [orders.read] }
  - name: plain
    match: { path: "/plain/{**rest}" }
    service: backend
    rewrite: { stripPrefix: /plain }
YAML
taskset -c 0 dotnet "$OUT/gatehouse/gatehouse.dll" run --config "$RUN/gatehouse.yaml" >"$RUN/gatehouse.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$GATEWAY_PORT/plain/small" && break; sleep 0.1; done
curl -fs -o /dev/null "http://127.0.0.1:$GATEWAY_PORT/plain/small" || { echo "auth.sh: the gateway did not start:" >&2; cat "$RUN/gatehouse.log" >&2; exit 1; }

TOKEN=$(curl -fs -u app:app-secret -d grant_type=client_credentials -d scope=orders.read -d resource=urn:gateway \
    "http://127.0.0.1:$IDP_PORT/token" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$GATEWAY_PORT/secured/small")
[[ $status == 200 ]] || { echo "auth.sh: the secured route answered $status" >&2; exit 1; }

rps() { taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$1" "${@:2}" | awk '/Requests\/sec/ { print int($2) }'; }
# Warm both paths: tiered JIT needs tens of seconds under load to reach its final code.
rps "$WARMUP" "http://127.0.0.1:$GATEWAY_PORT/plain/small" >/dev/null
rps "$WARMUP" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$GATEWAY_PORT/secured/small" >/dev/null
plain=(); secured=()
for _ in $(seq "$RUNS"); do
    plain+=("$(rps "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/plain/small")")
    secured+=("$(rps "$DURATION" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$GATEWAY_PORT/secured/small")")
done
mean() { local sum=0; for v in "$@"; do sum=$((sum + v)); done; echo $((sum / $#)); }
p=$(mean "${plain[@]}"); s=$(mean "${secured[@]}")
echo "routing-only (rewrite):          ${plain[*]} req/s (mean $p)"
echo "IP filter + JWT + scope (same):  ${secured[*]} req/s (mean $s)"
awk -v s="$s" -v p="$p" 'BEGIN { printf "ratio: %.2fx\n", s / p }'
