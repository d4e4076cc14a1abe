#!/usr/bin/env python3
"""Sleeps 1 ms at a time until SIGTERM, then prints the longest it woke up late, in ms.

Run beside a benchmark: a long oversleep means the machine (or its virtual CPUs) stalled, so a
latency spike in that run says nothing about the server under test.
"""
import signal
import sys
import time

worst = 0.0


def stop(*_):
    print(f"{worst * 1000:.1f}")
    sys.stdout.flush()
    sys.exit(0)


signal.signal(signal.SIGTERM, stop)
while True:
    before = time.monotonic()
    time.sleep(0.001)
    worst = max(worst, time.monotonic() - before - 0.001)
