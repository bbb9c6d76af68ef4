#!/usr/bin/env bash
# Cost of observability: two Gatehouse processes serve the same route, one with the access log (to a file on disk),
# metrics and tracing on at their defaults (trace context on every request, 1% of new traces recorded and exported
# over OTLP), the other with all three off; wrk drives each in turn. Observability is process-wide, hence two
# processes rather than two routes. The OTLP exporter posts to the bench backend, which answers 404: a real HTTP
# round trip per batch, as with a collector. The target is >= 0.95x of the "off" figure.
#
# Usage: bench/observability.sh     (publishes the gateway and the bench backend into .bench/ first)
#   DURATION=8s RUNS=3 WARMUP=20s CONNECTIONS=32 SKIP_PUBLISH=1
# Pinning as in run.sh: the gateways on CPU 0 (one loaded at a time); backend and wrk on CPU 1.
source "$(dirname "${BASH_SOURCE[0]}")/route-bench.sh"
route_bench_init observability
BACKEND_PORT=18195
ON_PORT=18196
OFF_PORT=18197
start_backend "$BACKEND_PORT"

write_config() { # write_config FILE PORT OBSERVABILITY
    cat >"$1" <<YAML
listen: ["http://127.0.0.1:$2"]
admin: { listen: "$4" }
observability: $3
services:
  backend: { targets: ["http://127.0.0.1:$BACKEND_PORT"] }
routes:
  - { name: plain, match: { path: "/plain/{**rest}" }, service: backend, rewrite: { stripPrefix: /plain } }
YAML
}

start_one() { # start_one NAME PORT: runs $RUN/NAME.yaml and waits for /plain/small to answer
    taskset -c 0 dotnet "$OUT/gatehouse/gatehouse.dll" run --no-watch --config "$RUN/$1.yaml" >"$RUN/$1.log" 2>&1 &
    started $!
    for _ in $(seq 100); do curl -fs -o /dev/null "http://127.0.0.1:$2/plain/small" && return 0; sleep 0.1; done
    echo "observability.sh: the '$1' gateway did not start:" >&2
    cat "$RUN/$1.log" >&2
    exit 1
}

rm -f "$RUN"/access.log*
write_config "$RUN/on.yaml" "$ON_PORT" \
    "{ accessLog: { output: \"$RUN/access.log\" }, metrics: { enabled: true }, tracing: { otlpEndpoint: \"http://127.0.0.1:$BACKEND_PORT\" } }" \
    "http://127.0.0.1:18198"
write_config "$RUN/off.yaml" "$OFF_PORT" "{ metrics: { enabled: false }, tracing: { enabled: false } }" ""
start_one on "$ON_PORT"
start_one off "$OFF_PORT"
expect_200 "http://127.0.0.1:$ON_PORT/plain/small"
expect_200 "http://127.0.0.1:$OFF_PORT/plain/small"

# Warm both: tiered JIT needs tens of seconds under load to reach its final code.
rps "$WARMUP" "http://127.0.0.1:$ON_PORT/plain/small" >/dev/null
rps "$WARMUP" "http://127.0.0.1:$OFF_PORT/plain/small" >/dev/null
on=(); off=()
for _ in $(seq "$RUNS"); do
    off+=("$(rps "$DURATION" "http://127.0.0.1:$OFF_PORT/plain/small")")
    on+=("$(rps "$DURATION" "http://127.0.0.1:$ON_PORT/plain/small")")
done
a=$(mean "${off[@]}"); b=$(mean "${on[@]}")
lines=$(cat "$RUN"/access.log* | wc -l)
dropped=$(curl -fs http://127.0.0.1:18198/metrics | awk '/^gatehouse_access_log_dropped_total/ { n += $2 } END { print n + 0 }')
echo "observability off:                        ${off[*]} req/s (mean $a)"
echo "access log (file) + metrics + tracing on: ${on[*]} req/s (mean $b); $lines log lines, $dropped dropped"
awk -v a="$a" -v b="$b" 'BEGIN { printf "ratio on/off: %.3fx (target >= 0.95x)\n", b / a }'
