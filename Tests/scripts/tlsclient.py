#!/usr/bin/env python3
"""A raw TLS client for refex's end-to-end tests: sends exact bytes, dribbles them slowly,
holds many connections open, pauses mid-request, or idles after an answer. Prints JSON results on stdout."""
import argparse, json, resource, socket, ssl, sys, time


def context(args):
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=args.ca)
    if args.cert:
        ctx.load_cert_chain(args.cert, args.key)
    return ctx


def connect(args, ctx):
    raw = socket.create_connection((args.host, args.port), timeout=args.timeout)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def read_all(sock, deadline):
    """Reads until the peer closes or the deadline passes; returns (bytes, closed)."""
    data = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return data, False
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def cmd_send(args):
    ctx = context(args)
    sock = connect(args, ctx)
    unescape = lambda text: text.encode("latin-1").decode("unicode_escape").encode("latin-1")
    payload = unescape(args.data) * args.repeat + unescape(args.then)
    sock.sendall(payload)
    data, closed = read_all(sock, time.monotonic() + args.read_seconds)
    if args.statuses_only:
        statuses = [int(part[:3]) for part in data.split(b"HTTP/1.1 ")[1:] if part[:3].isdigit()]
        print(json.dumps({"statuses": statuses, "closed": closed}))
        return
    print(json.dumps({"response": data.decode("latin-1"), "closed": closed}))


def cmd_slow(args):
    ctx = context(args)
    sock = connect(args, ctx)
    payload = args.data.encode("latin-1").decode("unicode_escape").encode("latin-1")
    start = time.monotonic()
    sent = 0
    closed_after = None
    response = b""
    for byte in payload:
        try:
            sock.sendall(bytes([byte]))
            sent += 1
        except (ssl.SSLError, OSError):
            closed_after = time.monotonic() - start
            break
        got, closed = read_all(sock, time.monotonic() + args.interval)
        response += got
        if closed:
            closed_after = time.monotonic() - start
            break
    if closed_after is None:
        got, closed = read_all(sock, time.monotonic() + args.read_seconds)
        response += got
        if closed:
            closed_after = time.monotonic() - start
    print(json.dumps({"sent": sent, "closedAfter": closed_after, "response": response.decode("latin-1")}))


def cmd_hold(args):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    ctx = context(args)
    held = []
    for _ in range(args.count):
        held.append(connect(args, ctx))
    print(json.dumps({"held": len(held)}), flush=True)
    sys.stdin.readline()
    alive = 0
    for sock in held:
        sock.setblocking(False)
        try:
            if sock.recv(1) == b"":
                continue
        except ssl.SSLWantReadError:
            alive += 1
            continue
        except (ssl.SSLError, OSError):
            continue
        alive += 1
    print(json.dumps({"alive": alive}), flush=True)


def cmd_pause(args):
    ctx = context(args)
    sock = connect(args, ctx)
    first = args.first.encode("latin-1").decode("unicode_escape").encode("latin-1")
    rest = args.rest.encode("latin-1").decode("unicode_escape").encode("latin-1")
    sock.sendall(first)
    print(json.dumps({"sent": "first"}), flush=True)
    sys.stdin.readline()
    try:
        sock.sendall(rest)
    except (ssl.SSLError, OSError):
        pass  # closed meanwhile: what it answered before is still read below
    data, closed = read_all(sock, time.monotonic() + args.read_seconds)
    print(json.dumps({"response": data.decode("latin-1"), "closed": closed}), flush=True)


def read_response(sock, deadline):
    """Reads one response with a Content-Length body; returns (bytes, closed)."""
    data = b""
    while time.monotonic() < deadline:
        head_end = data.find(b"\r\n\r\n")
        if head_end >= 0:
            length = 0
            for line in data[:head_end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value.strip())
            if len(data) >= head_end + 4 + length:
                return data, False
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return data, False
        except (ssl.SSLError, ConnectionResetError, BrokenPipeError):
            return data, True
        if not chunk:
            return data, True
        data += chunk
    return data, False


def cmd_idle(args):
    """Sends one request, reads its whole response, then holds the connection idle (nothing
    in flight) until the server closes it or --read-seconds pass."""
    ctx = context(args)
    sock = connect(args, ctx)
    sock.sendall(args.data.encode("latin-1").decode("unicode_escape").encode("latin-1"))
    data, closed = read_response(sock, time.monotonic() + args.timeout)
    print(json.dumps({"response": data.decode("latin-1"), "closed": closed}), flush=True)
    if closed:
        return
    more, closed = read_all(sock, time.monotonic() + args.read_seconds)
    print(json.dumps({"more": more.decode("latin-1"), "closed": closed}), flush=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert")
    parser.add_argument("--key")
    parser.add_argument("--timeout", type=float, default=10)
    parser.add_argument("--read-seconds", type=float, default=5)
    sub = parser.add_subparsers(dest="command", required=True)
    send = sub.add_parser("send")
    send.add_argument("--data", required=True)
    send.add_argument("--repeat", type=int, default=1, help="send DATA this many times, then --then")
    send.add_argument("--then", default="")
    send.add_argument("--statuses-only", action="store_true", help="print the response statuses, not the text")
    slow = sub.add_parser("slow")
    slow.add_argument("--data", required=True)
    slow.add_argument("--interval", type=float, default=0.5)
    hold = sub.add_parser("hold")
    hold.add_argument("--count", type=int, required=True)
    pause = sub.add_parser("pause")
    pause.add_argument("--first", required=True)
    pause.add_argument("--rest", required=True)
    idle = sub.add_parser("idle")
    idle.add_argument("--data", required=True)
    args = parser.parse_args()
    {"send": cmd_send, "slow": cmd_slow, "hold": cmd_hold, "pause": cmd_pause, "idle": cmd_idle}[args.command](args)


if __name__ == "__main__":
    main()
