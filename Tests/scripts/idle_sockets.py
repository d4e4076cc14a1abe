#!/usr/bin/env python3
"""Opens COUNT plain TCP connections to a port and sends nothing (no TLS handshake), from the
source addresses given (round robin; any 127.x.y.z works on Linux loopback), holds them until a
line arrives on stdin, then reports how many the server has not closed. Prints JSON lines.
With --client-hello each sends a TLS ClientHello first and then stalls, mid-handshake."""
import argparse, errno, json, resource, socket, ssl, sys


def client_hello():
    """The bytes of a TLS 1.2-1.3 ClientHello, made by Python's ssl module in memory."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    outgoing = ssl.MemoryBIO()
    tls = ctx.wrap_bio(ssl.MemoryBIO(), outgoing, server_hostname="localhost")
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return outgoing.read()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--sources", default="127.0.0.2", help="comma-separated source addresses")
    parser.add_argument("--client-hello", action="store_true", help="send a ClientHello, then stall")
    args = parser.parse_args()
    hello = client_hello() if args.client_hello else b""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    sources = args.sources.split(",")
    held = []
    for index in range(args.count):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((sources[index % len(sources)], 0))
        sock.settimeout(10)
        sock.connect((args.host, args.port))
        if hello:
            sock.sendall(hello)
        held.append(sock)
    print(json.dumps({"opened": len(held)}), flush=True)
    sys.stdin.readline()
    alive = 0
    for sock in held:
        sock.setblocking(False)
        # What the server sent before closing (its handshake answer to a ClientHello) is read past:
        # open means no end of stream after it.
        while True:
            try:
                if sock.recv(65536 if hello else 1, 0 if hello else socket.MSG_PEEK) == b"":
                    break
            except BlockingIOError:
                alive += 1
                break
            except OSError:
                break
            if not hello:
                alive += 1
                break
    print(json.dumps({"alive": alive}), flush=True)


if __name__ == "__main__":
    main()
