#!/usr/bin/env bash
# Cost of rate limiting on a route: one Gatehouse process serves a routing-only route, the same route with a local
# (in-memory GCRA) limit (with the RateLimit fields on every response, the default, and on 429s only), and with a
# Redis-shared GCRA limit; wrk drives each in turn. Limits are far above the load,
# so every request is admitted and the figure is the cost of deciding. Redis round trips per request are read from
# Redis's own INFO commandstats (script calls / requests served).
#
# Usage: bench/ratelimit.sh     (publishes the gateway and the bench backend into .bench/ first)
#   DURATION=8s RUNS=3 WARMUP=20s CONNECTIONS=32 SKIP_PUBLISH=1
# Pinning as in run.sh: the gateway alone on CPU 0; backend, redis-server and wrk on CPU 1.
set -euo pipefail
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=$REPO_ROOT/.bench
RUN=$OUT/run-ratelimit
DURATION=${DURATION:-8s}
RUNS=${RUNS:-3}
WARMUP=${WARMUP:-20s}
CONNECTIONS=${CONNECTIONS:-32}
BACKEND_PORT=18192
GATEWAY_PORT=18193
REDIS_PORT=18194
mkdir -p "$RUN"
command -v redis-server >/dev/null || { echo "ratelimit.sh: redis-server not found (Debian: apt-get install redis-server)" >&2; exit 1; }
if [[ ${SKIP_PUBLISH:-0} != 1 ]]; then
    dotnet publish "$REPO_ROOT/src/Gatehouse" -c Release -o "$OUT/gatehouse" --artifacts-path "$OUT/artifacts" >"$RUN/publish-gatehouse.log" 2>&1
    dotnet publish "$REPO_ROOT/bench/Backend" -c Release -o "$OUT/backend" --artifacts-path "$OUT/artifacts" >"$RUN/publish-backend.log" 2>&1
fi

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

(cd "$OUT/backend" && exec taskset -c 1 dotnet Backend.dll "http://127.0.0.1:$BACKEND_PORT") >/dev/null 2>&1 &
pids+=($!)
taskset -c 1 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >"$RUN/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done

cat >"$RUN/gatehouse.yaml" <<YAML
listen: ["http://127.0.0.1:$GATEWAY_PORT"]
admin: { listen: "" }
redis: { connection: "127.0.0.1:$REDIS_PORT", timeout: 50ms }
rateLimits:
  local: { algorithm: gcra, limit: 100000000, window: 1m, key: ip }
  quiet: { algorithm: gcra, limit: 100000000, window: 1m, key: ip, headers: onReject }
  shared: { algorithm: gcra, limit: 100000000, window: 1m, key: ip, store: redis }
services:
  backend: { targets: ["http://127.0.0.1:$BACKEND_PORT"] }
routes:
  - { name: local, match: { path: "/local/{**rest}" }, service: backend, rewrite: { stripPrefix: /local }, rateLimit: [local] }
  - { name: quiet, match: { path: "/quiet/{**rest}" }, service: backend, rewrite: { stripPrefix: /quiet }, rateLimit: [quiet] }
  - { name: shared, match: { path: "/shared/{**rest}" }, service: backend, rewrite: { stripPrefix: /shared }, rateLimit: [shared] }
  - { name: plain, match: { path: "/plain/{**rest}" }, service: backend, rewrite: { stripPrefix: /plain } }
YAML
taskset -c 0 dotnet "$OUT/gatehouse/gatehouse.dll" run --config "$RUN/gatehouse.yaml" >"$RUN/gatehouse.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$GATEWAY_PORT/plain/small" && break; sleep 0.1; done
for path in plain local quiet shared; do
    status=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$GATEWAY_PORT/$path/small")
    [[ $status == 200 ]] || { echo "ratelimit.sh: /$path answered $status" >&2; cat "$RUN/gatehouse.log" >&2; exit 1; }
done

# wrk prints "N requests in ..." and "Requests/sec: R"; keep both.
run_wrk() { taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$1" "$2" >"$RUN/wrk.out"; }
rps() { awk '/Requests\/sec/ { print int($2) }' "$RUN/wrk.out"; }
requests() { awk '/requests in/ { print $1 }' "$RUN/wrk.out"; }
script_calls() { redis-cli -p "$REDIS_PORT" info commandstats | awk -F'[:=,]' '/^cmdstat_eval(sha)?:/ { n += $3 } END { print n + 0 }'; }

# Warm every path: tiered JIT needs tens of seconds under load to reach its final code.
for path in plain local quiet shared; do run_wrk "$WARMUP" "http://127.0.0.1:$GATEWAY_PORT/$path/small"; done
plain=(); local_=(); quiet=(); shared=(); trips=()
for _ in $(seq "$RUNS"); do
    run_wrk "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/plain/small"; plain+=("$(rps)")
    run_wrk "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/local/small"; local_+=("$(rps)")
    run_wrk "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/quiet/small"; quiet+=("$(rps)")
    before=$(script_calls)
    run_wrk "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/shared/small"; shared+=("$(rps)")
    after=$(script_calls)
    trips+=("$(awk -v c=$((after - before)) -v r="$(requests)" 'BEGIN { printf "%.3f", c / r }')")
done
mean() { local sum=0; for v in "$@"; do sum=$((sum + v)); done; echo $((sum / $#)); }
p=$(mean "${plain[@]}"); l=$(mean "${local_[@]}"); q=$(mean "${quiet[@]}"); s=$(mean "${shared[@]}")
echo "routing-only (rewrite):       ${plain[*]} req/s (mean $p)"
echo "+ local GCRA limit (memory):  ${local_[*]} req/s (mean $l)"
echo "+ local, fields on 429 only:  ${quiet[*]} req/s (mean $q)"
echo "+ shared GCRA limit (Redis):  ${shared[*]} req/s (mean $s); Redis script calls per request: ${trips[*]}"
awk -v l="$l" -v q="$q" -v s="$s" -v p="$p" 'BEGIN { printf "ratios to routing-only: local %.3fx, local with fields on 429 only %.3fx, Redis %.3fx\n", l / p, q / p, s / p }'
