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
source "$(dirname "${BASH_SOURCE[0]}")/route-bench.sh"
command -v redis-server >/dev/null || { echo "ratelimit.sh: redis-server not found (Debian: apt-get install redis-server)" >&2; exit 1; }
route_bench_init ratelimit
BACKEND_PORT=18192
GATEWAY_PORT=18193
REDIS_PORT=18194
start_backend "$BACKEND_PORT"
taskset -c 1 redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no >"$RUN/redis.log" 2>&1 &
started $!
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
start_gateway "$GATEWAY_PORT"
for path in plain local quiet shared; do expect_200 "http://127.0.0.1:$GATEWAY_PORT/$path/small"; done

# wrk prints "N requests in ..." and "Requests/sec: R"; keep both.
run_wrk() { taskset -c 1 wrk -t1 -c"$CONNECTIONS" -d"$1" "$2" >"$RUN/wrk.out"; }
last_rps() { awk '/Requests\/sec/ { print int($2) }' "$RUN/wrk.out"; }
requests() { awk '/requests in/ { print $1 }' "$RUN/wrk.out"; }
script_calls() { redis-cli -p "$REDIS_PORT" info commandstats | awk -F'[:=,]' '/^cmdstat_eval(sha)?:/ { n += $3 } END { print n + 0 }'; }

# Warm every path: tiered JIT needs tens of seconds under load to reach its final code.
for path in plain local quiet shared; do run_wrk "$WARMUP" "http://127.0.0.1:$GATEWAY_PORT/$path/small"; done
plain=(); local_=(); quiet=(); shared=(); trips=()
# The routes take turns in a rotating order (round 1: plain local quiet shared, round 2: local quiet shared plain,
# ...), so no route is always measured right after the same one; use a multiple of 4 runs.
measure() { # measure ROUTE
    case $1 in
        plain) run_wrk "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/plain/small"; plain+=("$(last_rps)") ;;
        local) run_wrk "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/local/small"; local_+=("$(last_rps)") ;;
        quiet) run_wrk "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/quiet/small"; quiet+=("$(last_rps)") ;;
        shared)
            before=$(script_calls)
            run_wrk "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/shared/small"; shared+=("$(last_rps)")
            after=$(script_calls)
            trips+=("$(awk -v c=$((after - before)) -v r="$(requests)" 'BEGIN { printf "%.3f", c / r }')") ;;
    esac
}
order=(plain local quiet shared)
for round in $(seq "$RUNS"); do
    for i in 0 1 2 3; do measure "${order[$(((round - 1 + i) % 4))]}"; done
done
p=$(mean "${plain[@]}"); l=$(mean "${local_[@]}"); q=$(mean "${quiet[@]}"); s=$(mean "${shared[@]}")
echo "routing-only (rewrite):       ${plain[*]} req/s (mean $p)"
echo "+ local GCRA limit (memory):  ${local_[*]} req/s (mean $l)"
echo "+ local, fields on 429 only:  ${quiet[*]} req/s (mean $q)"
echo "+ shared GCRA limit (Redis):  ${shared[*]} req/s (mean $s); Redis script calls per request: ${trips[*]}"
awk -v l="$l" -v q="$q" -v s="$s" -v p="$p" 'BEGIN { printf "ratios to routing-only: local %.3fx, local with fields on 429 only %.3fx, Redis %.3fx\n", l / p, q / p, s / p }'
