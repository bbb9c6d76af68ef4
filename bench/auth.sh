#!/usr/bin/env bash
# Cost of access control on a route: the same Gatehouse process serves a routing-only route and a route with
# IP filter + JWT (from the real test identity provider, tests/idp) + scope check; wrk drives both in turn.
#
# Usage: bench/auth.sh            (publishes the gateway and the bench backend into .bench/ first)
#   DURATION=8s RUNS=3 WARMUP=20s CONNECTIONS=32 SKIP_PUBLISH=1
# Pinning as in run.sh: the gateway alone on CPU 0; backend, identity provider and wrk on CPU 1.
source "$(dirname "${BASH_SOURCE[0]}")/route-bench.sh"
route_bench_init auth
BACKEND_PORT=18190
GATEWAY_PORT=18191
[[ -d $REPO_ROOT/tests/idp/node_modules ]] || npm ci --prefix "$REPO_ROOT/tests/idp" --no-audit --no-fund --loglevel=error

start_backend "$BACKEND_PORT"
(cd "$REPO_ROOT/tests/idp" && exec taskset -c 1 node server.mjs 0) >"$RUN/idp.log" 2>&1 &
started $!
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
start_gateway "$GATEWAY_PORT"

TOKEN=$(curl -fs -u app:app-secret -d grant_type=client_credentials -d scope=orders.read -d resource=urn:gateway \
    "http://127.0.0.1:$IDP_PORT/token" | sed -E 's/.*"access_token":"([^"]+)".*/\1/')
expect_200 "http://127.0.0.1:$GATEWAY_PORT/secured/small" -H "Authorization: Bearer $TOKEN"

# Warm both paths: tiered JIT needs tens of seconds under load to reach its final code.
rps "$WARMUP" "http://127.0.0.1:$GATEWAY_PORT/plain/small" >/dev/null
rps "$WARMUP" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$GATEWAY_PORT/secured/small" >/dev/null
plain=(); secured=()
for _ in $(seq "$RUNS"); do
    plain+=("$(rps "$DURATION" "http://127.0.0.1:$GATEWAY_PORT/plain/small")")
    secured+=("$(rps "$DURATION" -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$GATEWAY_PORT/secured/small")")
done
p=$(mean "${plain[@]}"); s=$(mean "${secured[@]}")
echo "routing-only (rewrite):          ${plain[*]} req/s (mean $p)"
echo "IP filter + JWT + scope (same):  ${secured[*]} req/s (mean $s)"
awk -v s="$s" -v p="$p" 'BEGIN { printf "ratio: %.2fx\n", s / p }'
