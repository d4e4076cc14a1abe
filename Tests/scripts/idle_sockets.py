#!/usr/bin/env python3
"""Opens COUNT plain TCP connections to a port and sends nothing (no TLS handshake), from the
source addresses given (round robin; any 127.x.y.z works on Linux loopback), holds them until a
line arrives on stdin, then reports how many the server has not closed. Prints JSON lines."""
import argparse, errno, json, resource, socket, sys


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--sources", default="127.0.0.2", help="comma-separated source addresses")
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sources = args.sources.split(",")
    held = []
    for index in range(args.count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((sources[index % len(sources)], 0))
        sock.settimeout(10)
        sock.connect((args.host, args.port))
        held.append(sock)
    print(json.dumps({"opened": len(held)}), flush=True)
    sys.stdin.readline()
    alive = 0
    for sock in held:
        sock.setblocking(False)
        try:
            if sock.recv(1, socket.MSG_PEEK) == b"":
                continue
        except BlockingIOError:
            alive += 1
            continue
        except OSError:
            continue
        alive += 1
    print(json.dumps({"alive": alive}), flush=True)


if __name__ == "__main__":
    main()
