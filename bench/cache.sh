#!/usr/bin/env bash
# Cache-hit throughput: one Gatehouse process serves the bench backend's 16 KB body on a routing-only route and on a
# route with a memory cache (ttl 1h, so every measured request after the first is a hit); wrk drives each in turn.
# The issue's target: cache hits at least 1.5x the routing-only requests per second.
#
# Usage: bench/cache.sh     (publishes the gateway and the bench backend into .bench/ first)
#   DURATION=8s RUNS=3 WARMUP=20s CONNECTIONS=32 SKIP_PUBLISH=1
# Pinning as in run.sh: the gateway alone on CPU 0; backend and wrk on CPU 1.
source "$(dirname "${BASH_SOURCE[0]}")/route-bench.sh"
route_bench_init cache
BACKEND_PORT=18210
GATEWAY_PORT=18211
start_backend "$BACKEND_PORT"

cat >"$RUN/gatehouse.yaml" <<YAML
listen: ["http://127.0.0.1:$GATEWAY_PORT"]
admin: { listen: "" }
cache: { memory: { maxBytes: 64MB } }
services:
  backend: { targets: ["http://127.0.0.1:$BACKEND_PORT"] }
routes:
  - { name: cached, match: { path: "/cached/{**rest}" }, service: backend, rewrite: { stripPrefix: /cached }, cache: { ttl: 1h } }
  - { name: plain, match: { path: "/plain/{**rest}" }, service: backend, rewrite: { stripPrefix: /plain } }
YAML
start_gateway "$GATEWAY_PORT"
for path in plain cached; do expect_200 "http://127.0.0.1:$GATEWAY_PORT/$path/16k"; done
status=$(curl -s -D - -o /dev/null "http://127.0.0.1:$GATEWAY_PORT/cached/16k" | tr -d '\r' | awk -F': ' 'tolower($1) == "cache-status" { print $2 }')
[[ $status == "Gatehouse; hit"* ]] || { echo "cache.sh: /cached/16k is not a cache hit (Cache-Status: $status)" >&2; exit 1; }

for path in plain cached; do rps "$WARMUP" "http://127.0.0.1:$GATEWAY_PORT/$path/16k" >/dev/null; done
plain=(); cached=()
for _ in $(seq "$RUNS"); do
    plain+=("$(rps "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/plain/16k")")
    cached+=("$(rps "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/cached/16k")")
done
p=$(mean "${plain[@]}"); c=$(mean "${cached[@]}")
echo "routing-only, 16 KB:     ${plain[*]} req/s (mean $p)"
echo "cache hits, 16 KB:       ${cached[*]} req/s (mean $c)"
awk -v c="$c" -v p="$p" 'BEGIN { printf "cache hits / routing-only: %.3fx (target 1.5x)\n", c / p }'
