#!/usr/bin/env python3
"""Starts a program as systemd's socket activation does (sd_listen_fds(3)): makes a TCP socket for
each --listen NAME=HOST:PORT, puts them at descriptors 3, 4, ... in order, sets LISTEN_FDS,
LISTEN_PID (this process, which the program replaces) and LISTEN_FDNAMES, and execs the program.

  --unnamed          leave LISTEN_FDNAMES out (as systemd-socket-activate without --fdname)
  --not-listening N  bind socket N but never listen() on it (a wrong socket, to be refused)
  --ports FILE       write {"NAME": port, ...} to FILE before exec
  --wrong-pid        set LISTEN_PID to another process (the sockets are not for the program)

usage: socket_activate.py [options] --listen NAME=HOST:PORT ... -- PROGRAM ARG..."""
import argparse, fcntl, json, os, socket, sys


def main():
    if "--" not in sys.argv:
        sys.exit(__doc__)
    split = sys.argv.index("--")
    parser = argparse.ArgumentParser()
    parser.add_argument("--listen", action="append", default=[])
    parser.add_argument("--unnamed", action="store_true")
    parser.add_argument("--not-listening", action="append", default=[])
    parser.add_argument("--ports")
    parser.add_argument("--wrong-pid", action="store_true")
    args = parser.parse_args(sys.argv[1:split])
    command = sys.argv[split + 1:]

    names, held, ports = [], [], {}
    for spec in args.listen:
        name, address = spec.split("=", 1)
        host, port = address.rsplit(":", 1)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host.strip("[]"), int(port)))
        if name not in args.not_listening:
            sock.listen(128)
        ports[name] = sock.getsockname()[1]
        # Park each above the target range first, so that moving one to 3+i never overwrites another.
        held.append(fcntl.fcntl(sock.fileno(), fcntl.F_DUPFD, 100))
        sock.close()
        names.append(name)
    for index, fd in enumerate(held):
        os.dup2(fd, 3 + index, inheritable=True)
        os.close(fd)

    if args.ports:
        with open(args.ports, "w") as out:
            json.dump(ports, out)
    env = dict(os.environ)
    env["LISTEN_FDS"] = str(len(held))
    env["LISTEN_PID"] = str(os.getppid() if args.wrong_pid else os.getpid())
    if not args.unnamed:
        env["LISTEN_FDNAMES"] = ":".join(names)
    os.execvpe(command[0], command, env)


if __name__ == "__main__":
    main()
