#!/usr/bin/env bash
# Runs every test of Gatehouse: unit tests and functional tests with real backends on 127.0.0.1.
# It installs what the tests need itself, so a fresh Debian machine with the .NET 10 SDK is enough.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

command -v dotnet >/dev/null || { echo "test.sh: the .NET 10 SDK (dotnet) is required" >&2; exit 1; }

# Real parts the tests start: a real OpenID Connect provider (npm oidc-provider, tests/idp) needs Node.js.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq nodejs npm
fi
npm ci --prefix tests/idp --no-audit --no-fund --loglevel=error

# The dashboard is tested end to end in Debian's headless Chromium, driven by npm playwright-core (tests/dashboard),
# which uses /usr/bin/chromium and downloads no browser of its own.
if [ ! -x /usr/bin/chromium ]; then
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq chromium
fi
npm ci --prefix tests/dashboard --no-audit --no-fund --loglevel=error

# Rate limits and response caches shared between gateways are tested against a real Debian redis-server, which the tests start themselves.
if ! command -v redis-server >/dev/null; then
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq redis-server
fi

# The metrics tests check the exposition with promtool and scrape the gateway with a real Debian prometheus server.
if ! command -v prometheus >/dev/null || ! command -v promtool >/dev/null; then
    sudo_cmd=""; [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    $sudo_cmd apt-get install -y -qq prometheus
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
dotnet test Gatehouse.slnx --nologo "$@" 2>&1 | tee "$log" || status=$?

# One plain closing line over all test assemblies, for people and CI alike.
awk '/(Passed|Failed)! +- +Failed: +[0-9]+, Passed: +[0-9]+, Skipped: +[0-9]+/ {
        gsub(",", ""); f += $4; p += $6; s += $8 }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit $status
