#!/usr/bin/env bash
# gRPC through the gateway: the same unary call (bookstore.v1.Bookstore/GetShelf) made by gRPC clients passed
# through, and by REST/JSON clients transcoded (GET /v1/shelves/7 -> GetShelfRequest -> JSON), against one h2c gRPC
# backend. Both are driven by h2load over cleartext HTTP/2 on the same gateway listener, so the only difference is
# the transcoding. The issue's target: transcoded req/s at least 0.5x pass-through req/s.
#
# Usage: bench/transcoding.sh     (publishes the gateway and the gRPC bench backend into .bench/ first)
#   DURATION=8s RUNS=3 WARMUP=20s CONNECTIONS=32 STREAMS=8 SKIP_PUBLISH=1
# Needs h2load (Debian: apt-get install nghttp2-client). Pinning as in run.sh: the gateway alone on CPU 0;
# backend and h2load on CPU 1.
source "$(dirname "${BASH_SOURCE[0]}")/route-bench.sh"
command -v h2load >/dev/null || { echo "transcoding.sh: h2load not found (Debian: apt-get install nghttp2-client)" >&2; exit 1; }
route_bench_init transcoding
STREAMS=${STREAMS:-8}
if [[ ${SKIP_PUBLISH:-0} != 1 ]]; then
    dotnet publish "$REPO_ROOT/bench/GrpcBackend" -c Release -o "$OUT/grpc-backend" --artifacts-path "$OUT/artifacts" >"$RUN/publish-grpc-backend.log" 2>&1
fi
BACKEND_PORT=18195
GATEWAY_PORT=18196
(cd "$OUT/grpc-backend" && exec taskset -c 1 dotnet GrpcBackend.dll "$BACKEND_PORT" "$RUN/bookstore.pb") >"$RUN/grpc-backend.log" 2>&1 &
started $!
for _ in $(seq 100); do [[ -s $RUN/bookstore.pb ]] && break; sleep 0.1; done

cat >"$RUN/gatehouse.yaml" <<YAML
listen: ["h2c://127.0.0.1:$GATEWAY_PORT"]
admin: { listen: "" }
services:
  bookstore:
    targets: ["http://127.0.0.1:$BACKEND_PORT"]
    protocol: grpc
    grpc: { descriptors: bookstore.pb }
routes:
  - { name: grpc, match: { path: "/bookstore.v1.Bookstore/{**rest}" }, service: bookstore }
  - { name: rest, match: { path: "/v1/{**rest}" }, service: bookstore, transcode: grpc }
YAML
taskset -c 0 dotnet "$OUT/gatehouse/gatehouse.dll" run --config "$RUN/gatehouse.yaml" >"$RUN/gatehouse.log" 2>&1 &
started $!

# The gRPC request body: one uncompressed frame holding GetShelfRequest { shelf: 7 } (field 1, varint 7).
printf '\x00\x00\x00\x00\x02\x08\x07' >"$RUN/get-shelf.bin"
grpc_url="http://127.0.0.1:$GATEWAY_PORT/bookstore.v1.Bookstore/GetShelf"
rest_url="http://127.0.0.1:$GATEWAY_PORT/v1/shelves/7"
h2() { # h2 DURATION URL [h2load args...]: requests per second of one h2load run from CPU 1 (only 2xx counted)
    taskset -c 1 h2load -t1 -c"$CONNECTIONS" -m"$STREAMS" -D "${1%s}" "${@:3}" "$2" >"$RUN/h2load.out" 2>&1 || true
    awk '/^finished in/ { rps = $4 } /^status codes:/ { ok = $3 } /^requests:/ { total = $2 }
         END { if (ok == 0 || total == 0) print 0; else printf "%d\n", rps * ok / total }' "$RUN/h2load.out"
}
grpc() { h2 "$1" "$grpc_url" -d "$RUN/get-shelf.bin" -H 'content-type: application/grpc' -H 'te: trailers'; }
rest() { h2 "$1" "$rest_url"; }

for _ in $(seq 100); do
    [[ $(curl -s --http2-prior-knowledge -o /dev/null -w '%{http_code}' "$rest_url") == 200 ]] && break
    sleep 0.1
done
body=$(curl -s --http2-prior-knowledge "$rest_url")
[[ $body == '{"id":"7","theme":"theme-7"}' ]] || { echo "transcoding.sh: $rest_url answered '$body'" >&2; cat "$RUN/gatehouse.log" >&2; exit 1; }
status=$(curl -s --http2-prior-knowledge -o /dev/null -D - --data-binary @"$RUN/get-shelf.bin" -H 'content-type: application/grpc' -H 'te: trailers' "$grpc_url" | awk 'tolower($1) == "grpc-status:" { print $2 }' | tr -d '\r')
# A unary gRPC answer carries grpc-status in its trailers; curl -D prints them after the headers.
[[ ${status:-0} == 0 ]] || { echo "transcoding.sh: gRPC pass-through answered grpc-status $status" >&2; exit 1; }

# Warm both paths: tiered JIT needs tens of seconds under load to reach its final code.
grpc "$WARMUP" >/dev/null
rest "$WARMUP" >/dev/null
passthrough=(); transcoded=()
for _ in $(seq "$RUNS"); do
    passthrough+=("$(grpc "$DURATION")")
    transcoded+=("$(rest "$DURATION")")
done
p=$(mean "${passthrough[@]}"); t=$(mean "${transcoded[@]}")
echo "gRPC pass-through (h2c):        ${passthrough[*]} req/s (mean $p)"
echo "REST/JSON transcoded to gRPC:   ${transcoded[*]} req/s (mean $t)"
awk -v p="$p" -v t="$t" 'BEGIN { if (p > 0) printf "transcoded / pass-through: %.2fx (target >= 0.50x)\n", t / p }'
