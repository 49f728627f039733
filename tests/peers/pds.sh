#!/usr/bin/env bash
# Starts and stops the reference Bluesky PDS by hand (the Rust tests start their own, one per
# test, through pds/start.js). Data stays in STATE_DIR until you delete it.
#
#   tests/peers/pds.sh start [STATE_DIR]   prints the PDS base URL
#   tests/peers/pds.sh stop STATE_DIR
#
# Then e.g.: curl -H 'content-type: application/json' "$URL/xrpc/com.atproto.server.createAccount" \
#              -d '{"handle":"alice.test","email":"a@example.com","password":"pw-for-alice"}'
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

case "${1:-}" in
start)
    state="${2:-$(mktemp -d -t pds.XXXXXX)}"
    if [ ! -d "$here/pds/node_modules/@atproto/pds" ]; then
        echo "the reference PDS is not installed: run tests/peers/setup.sh" >&2
        exit 1
    fi
    mkdir -p "$state"
    node "$here/pds/start.js" "$state/data" </dev/null >"$state/stdout" 2>"$state/server.log" &
    echo $! >"$state/pds.pid"
    for _ in $(seq 300); do
        if read -r word url <"$state/stdout" 2>/dev/null && [ "$word" = PDS ]; then
            echo "$url"
            echo "state: $state (stop with: $0 stop $state)" >&2
            exit 0
        fi
        if ! kill -0 "$(cat "$state/pds.pid")" 2>/dev/null; then
            cat "$state/server.log" >&2
            echo "the PDS did not start: run tests/peers/setup.sh" >&2
            exit 1
        fi
        sleep 0.1
    done
    echo "the PDS did not report its URL within 30 s; see $state/server.log" >&2
    exit 1
    ;;
stop)
    state="${2:?usage: $0 stop STATE_DIR}"
    if [ -f "$state/pds.pid" ]; then
        kill "$(cat "$state/pds.pid")" 2>/dev/null || true
        rm -f "$state/pds.pid"
    fi
    ;;
*)
    echo "usage: $0 start [STATE_DIR] | stop STATE_DIR" >&2
    exit 2
    ;;
esac
