#!/usr/bin/env python3
"""Runs localstripe (a fake Stripe API) for Shopcast's tests: on 127.0.0.1 only, with its state
in a directory we choose, so several tests can each run their own and restart it on the same
port without losing what was paid.

usage: localstripe_server.py [PORT [STATE_DIR]]
  PORT       0 (the default) lets the OS pick a free port.
  STATE_DIR  where the pickle store lives (default: $LOCALSTRIPE_STATE_DIR, else a new temp dir).
             An existing store there is loaded, so a restart keeps every object and event.

Prints "PORT <n>" as the first line on stdout once the socket is listening. Stops on SIGTERM or
SIGINT. The stock `localstripe` command instead binds all interfaces and keeps its state in the
fixed file /tmp/localstripe.pickle, shared by every instance.
"""

import os
import pickle
import socket
import sys
import tempfile
import time

from aiohttp import web
from localstripe import resources, server


def use_state_dir(state_dir):
    """Points localstripe's store at state_dir; writes are atomic so a killed server never leaves
    half a pickle behind."""
    path = os.path.join(state_dir, "localstripe.pickle")

    def try_load_from_disk(self):
        try:
            with open(path, "rb") as f:
                old = pickle.load(f)
        except FileNotFoundError:
            return
        self.clear()
        self.update(old)

    def dump_to_disk(self):
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            pickle.dump(dict(self), f, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)

    resources.Store.try_load_from_disk = try_load_from_disk
    resources.Store.dump_to_disk = dump_to_disk
    resources.store.try_load_from_disk()


def listen(port):
    """Binds 127.0.0.1:port. A restart asks for the port it had before, which the OS may hold
    for a moment: retry for a few seconds."""
    deadline = time.monotonic() + 5
    while True:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            if port == 0 or time.monotonic() > deadline:
                raise
            time.sleep(0.1)
            continue
        sock.listen(128)
        return sock


def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    if len(sys.argv) > 2:
        state_dir = sys.argv[2]
    else:
        state_dir = os.environ.get("LOCALSTRIPE_STATE_DIR") or tempfile.mkdtemp(
            prefix="localstripe-"
        )
    os.makedirs(state_dir, exist_ok=True)
    use_state_dir(state_dir)

    sock = listen(port)
    print("PORT %d" % sock.getsockname()[1], flush=True)
    web.run_app(server.app, sock=sock, print=None, access_log=None)


if __name__ == "__main__":
    main()
