#!/usr/bin/env bash
# Starts and stops a localstripe test peer by hand (the Rust tests start their own through
# localstripe_server.py). State stays in STATE_DIR, so stop + start keeps every payment.
#
#   tests/peers/localstripe.sh start [PORT] [STATE_DIR]   prints the base URL (PORT 0 = any free)
#   tests/peers/localstripe.sh stop STATE_DIR
#
# Then e.g.: curl -H "Authorization: Bearer sk_test_x" "$URL/v1/events"
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${SHOPCAST_VENV:-$HOME/.cache/shopcast-venv}"

case "${1:-}" in
start)
    port="${2:-0}"
    state="${3:-$(mktemp -d -t localstripe.XXXXXX)}"
    if [ ! -x "$venv/bin/python" ]; then
        echo "no Python venv at $venv: run tests/peers/setup.sh" >&2
        exit 1
    fi
    mkdir -p "$state"
    "$venv/bin/python" "$here/localstripe_server.py" "$port" "$state" \
        >"$state/stdout" 2>"$state/server.log" &
    echo $! >"$state/localstripe.pid"
    for _ in $(seq 50); do
        if read -r word actual <"$state/stdout" 2>/dev/null && [ "$word" = PORT ]; then
            echo "http://127.0.0.1:$actual"
            echo "state: $state (stop with: $0 stop $state)" >&2
            exit 0
        fi
        if ! kill -0 "$(cat "$state/localstripe.pid")" 2>/dev/null; then
            cat "$state/server.log" >&2
            echo "localstripe did not start: run tests/peers/setup.sh" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "localstripe did not report its port within 5 s; see $state/server.log" >&2
    exit 1
    ;;
stop)
    state="${2:?usage: $0 stop STATE_DIR}"
    if [ -f "$state/localstripe.pid" ]; then
        kill "$(cat "$state/localstripe.pid")" 2>/dev/null || true
        rm -f "$state/localstripe.pid"
    fi
    ;;
*)
    echo "usage: $0 start [PORT] [STATE_DIR] | stop STATE_DIR" >&2
    exit 2
    ;;
esac
