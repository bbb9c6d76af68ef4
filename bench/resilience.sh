#!/usr/bin/env bash
# Cost of resilience on the healthy path: the same Gatehouse process serves a routing-only route and a route whose
# service has timeouts (connect, response, idle) + retry + circuit breaker + bulkhead; both services point at the
# same healthy backend. wrk drives both in turn. Target: resilient >= 0.97x routing-only.
#
# Usage: bench/resilience.sh      (publishes the gateway and the bench backend into .bench/ first)
#   DURATION=8s RUNS=3 WARMUP=20s CONNECTIONS=32 SKIP_PUBLISH=1
# Pinning as in run.sh: the gateway alone on CPU 0; backend and wrk on CPU 1.
source "$(dirname "${BASH_SOURCE[0]}")/route-bench.sh"
route_bench_init resilience
BACKEND_PORT=18196
GATEWAY_PORT=18197
start_backend "$BACKEND_PORT"

cat >"$RUN/gatehouse.yaml" <<YAML
listen: ["http://127.0.0.1:$GATEWAY_PORT"]
admin: { listen: "" }
services:
  plain: { targets: ["http://127.0.0.1:$BACKEND_PORT"] }
  resilient:
    targets: ["http://127.0.0.1:$BACKEND_PORT"]
    timeout: { connect: 2s, response: 10s, idle: 30s }
    retry: { attempts: 2, on: [connectFailure, reset, 502, 503, 504], backoff: 50ms, budget: 20% }
    circuitBreaker: { failureRatio: 0.5, minimumRequests: 20, window: 10s, breakFor: 30s }
    maxConcurrentRequests: 10000
routes:
  - name: resilient
    match: { path: "/resilient/{**rest}" }
    service: resilient
    rewrite: { stripPrefix: /resilient }
  - name: plain
    match: { path: "/plain/{**rest}" }
    service: plain
    rewrite: { stripPrefix: /plain }
YAML
start_gateway "$GATEWAY_PORT"
expect_200 "http://127.0.0.1:$GATEWAY_PORT/resilient/small"

# Warm both paths: tiered JIT needs tens of seconds under load to reach its final code.
rps "$WARMUP" "http://127.0.0.1:$GATEWAY_PORT/plain/small" >/dev/null
rps "$WARMUP" "http://127.0.0.1:$GATEWAY_PORT/resilient/small" >/dev/null
plain=(); resilient=()
for _ in $(seq "$RUNS"); do
    plain+=("$(rps "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/plain/small")")
    resilient+=("$(rps "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/resilient/small")")
done
p=$(mean "${plain[@]}"); r=$(mean "${resilient[@]}")
echo "routing-only (rewrite):                              ${plain[*]} req/s (mean $p)"
echo "timeouts + retry + breaker + bulkhead (same):        ${resilient[*]} req/s (mean $r)"
awk -v r="$r" -v p="$p" 'BEGIN { printf "ratio: %.2fx\n", r / p }'
