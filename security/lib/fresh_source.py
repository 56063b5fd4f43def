#!/usr/bin/env python3
"""A loopback TCP forwarder that gives every connection its own source address.

Candor slows sign-in down per client address (three free failures, then doubling waits). A
scanner such as sqlmap sends hundreds of failing sign-ins, so without this nearly every probe would
be answered 429 by the backoff before the input reached the database, and "not injectable" would
prove nothing. Linux routes all of 127.0.0.0/8 to the loopback interface, so each upstream
connection is bound to a new 127.x.y.z address: the server sees a new client every time, exactly as
it would see a botnet, and every probe is processed in full.

Usage: fresh_source.py UPSTREAM_PORT PORT_FILE
Listens on 127.0.0.1 on a free port, writes that port to PORT_FILE, forwards to
127.0.0.1:UPSTREAM_PORT until killed. Loopback only; it never connects anywhere else.
"""
import itertools
import socket
import sys
import threading


def addresses():
    for b in range(16, 255):
        for c in range(0, 256):
            for d in range(1, 255):
                yield f"127.{b}.{c}.{d}"


def pipe(src, dst):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def main():
    upstream = int(sys.argv[1])
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(128)
    with open(sys.argv[2], "w") as f:
        f.write(f"{listener.getsockname()[1]}\n")
    source = itertools.cycle(addresses())
    lock = threading.Lock()
    while True:
        client, _ = listener.accept()
        with lock:
            addr = next(source)
        up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            up.bind((addr, 0))
            up.connect(("127.0.0.1", upstream))
        except OSError:
            client.close()
            up.close()
            continue
        threading.Thread(target=pipe, args=(client, up), daemon=True).start()
        threading.Thread(target=pipe, args=(up, client), daemon=True).start()


if __name__ == "__main__":
    main()
