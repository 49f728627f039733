#!/usr/bin/env bash
# A throwaway PostgreSQL 15 server for the engine's tests on PostgreSQL (the schema parity
# test and the suite run with SHOPCAST_TEST_POSTGRES), tuned for speed, not for keeping data.
#
#   tests/peers/postgres.sh start DIR   prints the server URL: postgres://shop@127.0.0.1:PORT
#   tests/peers/postgres.sh stop DIR    stops it and removes DIR
#   tests/peers/postgres.sh pause DIR   stops it, keeping its data (a server gone away)
#   tests/peers/postgres.sh resume DIR  starts it again on the same port
#
# e.g. export SHOPCAST_TEST_POSTGRES="$(tests/peers/postgres.sh start /tmp/shop-pg)"
# The user `shop` is the superuser, trusted without a password; tests create their own
# databases on it. As root, the server runs as the `postgres` user (initdb refuses root).
set -euo pipefail

usage() {
    echo "usage: $0 start DIR | stop DIR | pause DIR | resume DIR" >&2
    exit 2
}

bindir() {
    if [ -x /usr/lib/postgresql/15/bin/pg_ctl ]; then
        echo /usr/lib/postgresql/15/bin
    elif command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/pg_ctl" ]; then
        pg_config --bindir
    else
        echo "PostgreSQL 15 is not installed: install the postgresql package (apt-get install postgresql)" >&2
        exit 1
    fi
}

# Runs a command as the cluster's owner: ourselves, or `postgres` when we are root.
as_owner() {
    if [ "$(id -u)" -ne 0 ]; then
        "$@"
    elif command -v runuser >/dev/null; then
        runuser -u postgres -- "$@"
    else
        su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
    fi
}

free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

cmd="${1:-}"
dir="${2:-}"
[ -n "$dir" ] || usage

case "$cmd" in
start)
    bin="$(bindir)"
    if [ -e "$dir/data" ]; then
        echo "$dir already holds a cluster: stop it first ($0 stop $dir)" >&2
        exit 1
    fi
    mkdir -p "$dir"
    dir="$(cd "$dir" && pwd)"
    # The owner may not be able to read the folder we are in.
    cd /
    if [ "$(id -u)" -eq 0 ]; then
        if ! id postgres >/dev/null 2>&1; then
            echo "no postgres user to run the server as: install the postgresql package" >&2
            exit 1
        fi
        chown postgres "$dir"
        if ! as_owner test -w "$dir"; then
            echo "the postgres user cannot reach $dir (a parent folder is closed to it): use a folder under /tmp" >&2
            exit 1
        fi
    fi
    if ! as_owner "$bin/initdb" -D "$dir/data" -A trust -U shop -E UTF8 --locale=C.UTF-8 \
        >"$dir/initdb.log" 2>&1; then
        cat "$dir/initdb.log" >&2
        echo "initdb failed in $dir" >&2
        exit 1
    fi
    # A free port can be taken between the probe and the start: try a few.
    for _ in 1 2 3 4 5; do
        port="$(free_port)"
        if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
            -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off \
                -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
            start >/dev/null; then
            echo "$port" >"$dir/port"
            if "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" -t 30; then
                echo "postgres://shop@127.0.0.1:$port"
                echo "server log: $dir/server.log (stop with: $0 stop $dir)" >&2
                exit 0
            fi
        fi
    done
    cat "$dir/server.log" >&2 || true
    echo "PostgreSQL did not start in $dir; see $dir/server.log" >&2
    exit 1
    ;;
pause)
    as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    ;;
resume)
    port="$(cat "$dir/port")"
    as_owner "$(bindir)/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
        -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off \
            -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
        start >/dev/null
    ;;
stop)
    if [ -f "$dir/data/postmaster.pid" ]; then
        as_owner "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
    fi
    rm -rf "$dir"
    ;;
*)
    usage
    ;;
esac
