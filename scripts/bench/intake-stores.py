#!/usr/bin/env python3
"""Helpers for scripts/bench-intake-stores.sh (issue 15), one job per subcommand:

    intake-stores.py metrics SCRAPE...      the nodes' /metrics texts, summed: one JSON line
    intake-stores.py record KEY=VALUE...    merges a refex-bench JSON object (stdin) with KEY=VALUE
                                            (KEY@json=VALUE: VALUE is JSON): one JSON line
    intake-stores.py summary RAW            the raw runs and checks (JSON lines) as Markdown tables
"""
import json
import re
import sys

LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)")
SUMMED = {
    "refex_store_log_head_lock_commits_total": "lockCommits",
    "refex_store_log_head_lock_held_seconds_total": "lockHeldSeconds",
    "refex_store_log_head_lock_wait_seconds_total": "lockWaitSeconds",
    "refex_store_commit_groups_total": "commitGroups",
    "refex_store_commit_group_writes_total": "commitGroupWrites",
}


def metrics(paths: list) -> None:
    """Sums each node's counters (every node counts its own commits and its own HTTP answers);
    the longest hold is the longest of any node's, since that node started."""
    out = {key: 0.0 for key in SUMMED.values()}
    out.update({"lockHeldMaxSeconds": 0.0, "accepted202": 0, "scraped": 0, "lockMetrics": False})
    for path in paths:
        try:
            text = open(path).read()
        except OSError:
            continue
        if text:
            out["scraped"] += 1
        for line in text.splitlines():
            match = LINE.match(line)
            if not match:
                continue
            name, labels, value = match.group(1), match.group(2) or "", match.group(3)
            try:
                number = float(value)
            except ValueError:
                continue
            if name in SUMMED:
                out[SUMMED[name]] += number
                if name.startswith("refex_store_log_head_lock"):
                    out["lockMetrics"] = True
            elif name == "refex_store_log_head_lock_held_max_seconds":
                out["lockHeldMaxSeconds"] = max(out["lockHeldMaxSeconds"], number)
            elif name == "refex_http_requests_total" and 'status="202"' in labels and 'method="POST"' in labels:
                out["accepted202"] += int(number)
    print(json.dumps(out))


def record(pairs: list) -> None:
    text = sys.stdin.read().strip()
    try:
        out = json.loads(text) if text else {}
    except json.JSONDecodeError:
        out = {"unparsed": text[:2000]}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key.endswith("@json"):
            out[key[:-5]] = json.loads(value) if value else None
        else:
            out[key] = value
    print(json.dumps(out))


# --- the tables ------------------------------------------------------------------------------------


def fmt(value, digits=0, unit=""):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}{unit}"


def lock_figures(run: dict):
    """Per run, from the change in the nodes' metrics: lock commits, referrals per commit, hold and
    wait per commit, and the ceiling that follows (referrals per second of lock held)."""
    before, after = run.get("metricsBefore") or {}, run.get("metricsAfter") or {}
    if not after.get("lockMetrics"):
        return None
    commits = after["lockCommits"] - before.get("lockCommits", 0)
    held = after["lockHeldSeconds"] - before.get("lockHeldSeconds", 0)
    waited = after["lockWaitSeconds"] - before.get("lockWaitSeconds", 0)
    referrals = int(run.get("storedAfter", 0)) - int(run.get("storedBefore", 0))
    groups = after["commitGroups"] - before.get("commitGroups", 0)
    writes = after["commitGroupWrites"] - before.get("commitGroupWrites", 0)
    if commits <= 0 or held <= 0:
        return None
    return {
        "commits": commits,
        "referralsPerCommit": referrals / commits,
        "heldMsPerCommit": 1000 * held / commits,
        "waitMsPerCommit": 1000 * waited / commits,
        "heldMaxMs": 1000 * after["lockHeldMaxSeconds"],
        "ceiling": referrals / held,
        "commitsCeiling": commits / held,
        "writesPerGroup": writes / groups if groups > 0 else None,
        "lockBusy": held / max(run.get("wallSeconds") or run.get("measuredSeconds") or 1, 1e-9),
    }


def summary(path: str) -> None:
    lines = [json.loads(line) for line in open(path) if line.strip()]
    runs = [r for r in lines if r.get("kind") == "run"]
    checks = [r for r in lines if r.get("kind") == "check"]
    stores = []
    for r in runs:
        if r["store"] not in stores:
            stores.append(r["store"])

    def find(store, scenario):
        return next((r for r in runs if r["store"] == store and r["scenario"] == scenario), None)

    out = ["| store | run | referrals/s | p50 ms | p99 ms | errors |", "|---|---|---:|---:|---:|---:|"]
    for r in runs:
        latency = r.get("latencyMs") or {}
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            r["storeLabel"], r["runLabel"], fmt(r.get("requestsPerSecond")), fmt(latency.get("p50"), 2),
            fmt(latency.get("p99"), 2), fmt(r.get("errors"))))

    lock_rows = [(r, lock_figures(r)) for r in runs]
    lock_rows = [(r, f) for r, f in lock_rows if f]
    if lock_rows:
        out += ["", "The log head's lock (PostgreSQL; from the change in the nodes' `refex_store_log_head_lock_*` over each run, "
                "warm-up included; the ceiling is the referrals per second of lock held: 1 / (hold per commit) × referrals per commit):", "",
                "| store | run | lock commits | referrals/commit | held ms/commit | waited ms/commit | longest hold ms (since start) | lock busy | ceiling referrals/s |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for r, f in lock_rows:
            out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                r["storeLabel"], r["runLabel"], fmt(f["commits"]), fmt(f["referralsPerCommit"], 1), fmt(f["heldMsPerCommit"], 2),
                fmt(f["waitMsPerCommit"], 2), fmt(f["heldMaxMs"], 1), fmt(100 * f["lockBusy"], 0, " %"), fmt(f["ceiling"])))

    failed = False
    if checks:
        out += ["", "| store | 202s (client) | 202s (refex's metrics) | referrals stored | `referral.received` entries | `log verify` | verdict |",
                "|---|---:|---:|---:|---:|---|---|"]
        for c in checks:
            out.append("| %s | %s | %s | %s | %s | %s | %s |" % (
                c["storeLabel"], fmt(int(c["client202"])), fmt(int(c["server202"])), fmt(int(c["stored"])), fmt(int(c["logged"])),
                c["verify"], c["verdict"]))
            failed = failed or not c["verdict"].startswith(("OK", "MORE"))

    # The targets.
    def rps(store, scenario):
        r = find(store, scenario)
        return r.get("requestsPerSecond") if r else None

    def p99(store, scenario):
        r = find(store, scenario)
        return (r.get("latencyMs") or {}).get("p99") if r else None

    def verdict(ok):
        return "**met**" if ok else "**missed**"

    out += ["", "Targets:", ""]
    sqlite64, one64, two64 = rps("sqlite", "c64"), rps("postgres-1", "c64"), rps("postgres-2", "c64")
    if sqlite64 and one64 is not None:
        ratio = one64 / sqlite64
        out.append(f"- PostgreSQL, one node, ≥ 50 % of SQLite's intake at 64 connections: {verdict(ratio >= 0.5)} "
                   f"({fmt(one64)} against {fmt(sqlite64)} referrals/s, {100 * ratio:.0f} %)")
    if two64 is not None and one64:
        out.append(f"- two nodes beside one (no target; the nodes and the database share the machine's cores): "
                   f"{fmt(two64)} against {fmt(one64)} referrals/s, ×{two64 / one64:.2f}")
    rate_runs = [r for r in runs if r["scenario"] == "rate"]
    for r in rate_runs:
        value = p99(r["store"], "rate")
        ok = value is not None and value < 50 and r.get("errors", 1) == 0
        out.append(f"- p99 under 50 ms at {fmt(r.get('rate'))} referrals/s, {r['storeLabel']}: {verdict(ok)} "
                   f"(p99 {fmt(value, 1)} ms, p50 {fmt((r.get('latencyMs') or {}).get('p50'), 1)} ms, {fmt(r.get('errors'))} errors)")
    if rate_runs:
        out.append("  (open loop: latency counts from each request's scheduled send, so a store slower than the rate shows its queue)")
    if checks:
        out.append(f"- zero lost or doubled: {verdict(not failed)} (each store's verdict above)")
    for store in ("postgres-2", "postgres-1"):
        r = find(store, "c64")
        f = lock_figures(r) if r else None
        if f:
            out.append(f"- what bounds scale-out ({r['storeLabel']}, 64 connections): the log head's lock is held "
                       f"{f['heldMsPerCommit']:.2f} ms per commit (to COMMIT returning, its fsync included) for "
                       f"{f['referralsPerCommit']:.1f} referrals per commit, so however many nodes, intake cannot pass about "
                       f"**{fmt(f['ceiling'])} referrals/s** at this group size (1 / {f['heldMsPerCommit']:.2f} ms × "
                       f"{f['referralsPerCommit']:.1f}); the lock was busy {100 * f['lockBusy']:.0f} % of the run")
            break
    print("\n".join(out))
    if failed:
        sys.exit(1)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    command, rest = sys.argv[1], sys.argv[2:]
    if command == "metrics":
        metrics(rest)
    elif command == "record":
        record(rest)
    elif command == "summary" and len(rest) == 1:
        summary(rest[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
