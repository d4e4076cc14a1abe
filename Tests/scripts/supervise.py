#!/usr/bin/env python3
"""Runs a command as a child and stands in for it: forwards SIGTERM, SIGINT, SIGHUP, SIGUSR1 and
SIGUSR2,
exits with its status, and takes it down (SIGKILL) if killed itself.

For programs that close every descriptor they did not open, as systemd-socket-activate does before
it execs the daemon: Foundation's Process learns that a child ended when a socket the child
inherited closes, so such a program, started directly, looks finished while it still runs.

usage: supervise.py PROGRAM ARG..."""
import ctypes, os, signal, sys

PR_SET_PDEATHSIG = 1


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    parent = os.getpid()
    pid = os.fork()
    if pid == 0:
        # Dies with this process, even by SIGKILL; kept across exec.
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent:
            os._exit(1)
        os.execvp(sys.argv[1], sys.argv[1:])
    for number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2):
        signal.signal(number, lambda received, _: os.kill(pid, received))
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
