#!/usr/bin/env python3
"""Helpers for scripts/bench-intake-peers.sh (issue 17), one job per subcommand:

    intake-peers.py ceiling DIR SECONDS WARMUP       one-row commit ceiling: one JSON line
    intake-peers.py wal-sampler FILE OUT INTERVAL    appends "seconds<TAB>bytes" of FILE every INTERVAL s until SIGTERM
    intake-peers.py metrics SCRAPE                   refex's /metrics text: one JSON line (202s answered, group size)
    intake-peers.py record KEY=VALUE...              merges a refex-bench JSON line (stdin) with KEY=VALUE: one JSON line
    intake-peers.py refex-group RAW SCENARIO ROUND   the commit group refex reached in that run, whole (nothing if unknown)
    intake-peers.py summary RAW                      the raw runs (JSON lines) as the Markdown table
"""
import json
import os
import re
import signal
import sqlite3
import statistics
import sys
import time


# --- the one-row commit ceiling --------------------------------------------------------------------


def ceiling(directory: str, seconds: float, warmup: float) -> None:
    """SQLite's rate of durable commits of one 4 KiB row each: WAL, synchronous=FULL, on the disk
    DIRECTORY is on (SQLite's defaults otherwise, automatic checkpoints included). What one client
    could get if each of its referrals cost exactly one such commit."""
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, "ceiling.db")
    for suffix in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + suffix):
            os.unlink(path + suffix)
    db = sqlite3.connect(path, isolation_level=None)
    mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    db.execute("PRAGMA synchronous = FULL")
    db.execute("CREATE TABLE rows (id INTEGER PRIMARY KEY, body BLOB NOT NULL) STRICT")
    row = os.urandom(4096)
    latencies = []
    start = time.monotonic()
    measure_from, end = start + warmup, start + warmup + seconds
    while True:
        began = time.monotonic()
        if began >= end:
            break
        db.execute("BEGIN IMMEDIATE")
        db.execute("INSERT INTO rows (body) VALUES (?)", (row,))
        db.execute("COMMIT")
        if began >= measure_from:
            latencies.append(time.monotonic() - began)
    wal = os.path.getsize(path + "-wal") if os.path.exists(path + "-wal") else 0
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    latencies.sort()
    count = len(latencies)
    print(json.dumps({
        "journalMode": mode, "synchronous": "FULL", "rowBytes": len(row), "seconds": seconds, "commits": count,
        "commitsPerSecond": round(count / seconds, 1) if seconds else 0,
        "commitMsP50": round(latencies[count // 2] * 1e3, 3) if count else 0,
        "commitMsP99": round(latencies[int(count * 0.99)] * 1e3, 3) if count else 0,
        "walBytes": wal,
    }))


# --- the WAL's size, sampled ------------------------------------------------------------------------


def wal_sampler(path: str, out: str, interval: float) -> None:
    """Stats the file (no SQLite connection: a reader could hold the WAL back from restarting)."""
    stop = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    start = time.monotonic()
    with open(out, "w") as f:
        while not stop:
            try:
                size = os.stat(path).st_size
            except FileNotFoundError:
                size = 0
            f.write(f"{time.monotonic() - start:.2f}\t{size}\n")
            f.flush()
            time.sleep(interval)


def wal_samples(out: str) -> list:
    try:
        with open(out) as f:
            return [(float(t), int(b)) for t, b in (line.split("\t") for line in f if "\t" in line)]
    except FileNotFoundError:
        return []


# --- refex's /metrics -------------------------------------------------------------------------------

SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)')
# A commit group (batch) size: refex_…commit…/…writer… naming batch, group or size. REFEX_GROUP_METRIC names it exactly.
GROUP_NAME = re.compile(r'^refex_\w*(commit|writer?_)\w*(batch|group|size)\w*$|^refex_\w*(batch|group)\w*(commit|write)\w*$')


def metrics(scrape_path: str) -> None:
    """202s answered to POST /v1/referrals (all listeners), and the commit group size metric if refex has one:
    for a histogram or summary its _sum and _count (mean = Δsum ÷ Δcount), else the sampled value."""
    accepted, groups, pages = 0.0, {}, None
    wanted = os.environ.get("REFEX_GROUP_METRIC")
    try:
        text = open(scrape_path).read()
    except FileNotFoundError:
        text = ""
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        if not match:
            continue
        name, labels, value = match.group(1), match.group(2) or "", match.group(3)
        try:
            number = float(value)
        except ValueError:
            continue
        if name == "refex_http_requests_total" and 'status="202"' in labels and 'method="POST"' in labels:
            accepted += number
        # The database pages (WAL frames) refex's commits wrote: pages per commit = Δpages ÷ Δcommits.
        if name == "refex_store_commit_pages_total":
            pages = (pages or 0.0) + number
            continue
        # refex's counter pair: commits (count) and the writes they held (sum); mean = Δwrites ÷ Δcommits.
        if not wanted and name in ("refex_store_commit_groups_total", "refex_store_commit_group_writes_total"):
            entry = groups.setdefault("refex_store_commit_group", {"sum": 0.0, "count": 0.0, "value": 0.0})
            entry["count" if name == "refex_store_commit_groups_total" else "sum"] += number
            continue
        base = re.sub(r"_(sum|count|bucket)$", "", name)
        if (wanted and base == wanted) or (not wanted and GROUP_NAME.match(base) and not name.endswith("_bucket")):
            if name.endswith("_bucket"):
                continue
            kind = "sum" if name.endswith("_sum") else "count" if name.endswith("_count") else "value"
            entry = groups.setdefault(base, {"sum": 0.0, "count": 0.0, "value": 0.0})
            entry[kind] += number
    print(json.dumps({"accepted202": accepted, "groupMetrics": groups, "commitPages": pages, "scraped": bool(text)}))


# --- one run's record -------------------------------------------------------------------------------


def record(pairs: list) -> None:
    line = sys.stdin.read().strip()
    try:
        result = json.loads(line) if line else {}
    except json.JSONDecodeError:
        result = {}
    if not result:
        result = {"requests": 0, "errors": -1, "noResult": True}
    for pair in pairs:
        key, _, value = pair.partition("=")
        if key.endswith("@json"):
            key = key[:-5]
            try:
                result[key] = json.loads(value) if value else None
            except json.JSONDecodeError:
                result[key] = None
        elif key.endswith("@wal"):
            samples = wal_samples(value)
            result[key[:-4]] = {"peakBytes": max(b for _, b in samples), "endBytes": samples[-1][1], "samples": len(samples)} if samples else None
        else:
            try:
                result[key] = int(value) if re.fullmatch(r"-?\d+", value) else float(value)
            except ValueError:
                result[key] = value
    print(json.dumps(result))
    print(progress(result), file=sys.stderr)


def progress(r: dict) -> str:
    """One line per run for the terminal."""
    head = f"  round {r.get('round')} {r.get('scenario', ''):<13} {r.get('server', ''):<7}"
    if r.get("noResult"):
        return f"{head} no result"
    if r.get("server") == "ceiling":
        return f"{head} {r.get('commitsPerSecond', 0):>8.0f} commits/s of one 4 KiB row, commit p99 {r.get('commitMsP99', 0):.2f} ms"
    if r.get("server") == "storage":
        return (f"{head} {r.get('referralsPerSecond', 0):>8.0f} referrals/s at group {r.get('group')}, commit p99 "
                f"{r.get('commitMsP99', 0):.2f} ms, {r.get('cpuUsPerReferral', 0):.0f} µs CPU per referral, "
                f"{r.get('pagesPerCommit', 0):.1f} pages per commit")
    latency, wal = r.get("latencyMs", {}), r.get("wal") or {}
    peak = "—" if not wal else f"{wal['peakBytes'] / 2**20:.1f} MiB"
    return (f"{head} {r.get('requestsPerSecond', 0):>8.0f} req/s  p99 {latency.get('p99', 0):7.2f} ms  202s {r.get('expectedResponses', '?')}  "
            f"errors {r.get('errors')}  server CPU {r.get('serverCPUSeconds')} s  WAL peak {peak}")


# --- the table --------------------------------------------------------------------------------------

SCENARIOS = {
    "keepalive-1": "keep-alive, 1 connection",
    "keepalive-8": "keep-alive, 8 connections",
    "keepalive-64": "keep-alive, 64 connections",
    "open-500": "500/s open loop, 64 connections",
}


def mib(value) -> str:
    return "—" if value is None else f"{value / 2**20:,.1f} MiB"


def intervals_of(run: dict) -> tuple:
    """(requests per interval, the interval's seconds), padded with 0 for intervals in which nothing was answered."""
    intervals, width = list(run.get("intervalRequests") or []), run.get("intervalSeconds") or 0
    expected = round(run.get("measuredSeconds", 0) / width) if width else 0
    return intervals + [0] * max(0, expected - len(intervals)), width


def group_mean(before: dict, after: dict):
    """(metric name, mean group size over the run) from two scrapes, or None."""
    if not before or not after:
        return None
    for name, end in (after.get("groupMetrics") or {}).items():
        start = (before.get("groupMetrics") or {}).get(name, {"sum": 0, "count": 0, "value": 0})
        count = end["count"] - start["count"]
        if count > 0:
            return name, (end["sum"] - start["sum"]) / count
        if end.get("value"):
            return name, end["value"]
    return None


def pages_per_commit(before: dict, after: dict):
    """refex's database pages (WAL frames) per commit over a run, from two scrapes, or None."""
    if not before or not after or before.get("commitPages") is None or after.get("commitPages") is None:
        return None
    group = (after.get("groupMetrics") or {}).get("refex_store_commit_group")
    start = (before.get("groupMetrics") or {}).get("refex_store_commit_group", {"count": 0})
    commits = group["count"] - start["count"] if group else 0
    return (after["commitPages"] - before["commitPages"]) / commits if commits > 0 else None


def refex_group(raw: str, scenario: str, round_: str) -> None:
    """The mean commit group refex reached in its run of SCENARIO in ROUND, rounded (at least 1); nothing if unknown."""
    found = None
    with open(raw) as f:
        for line in f:
            r = json.loads(line)
            if r.get("kind", "run") == "run" and r.get("server") == "refex" and r.get("scenario") == scenario and str(r.get("round")) == round_:
                found = group_mean(r.get("metricsBefore"), r.get("metricsAfter"))
    if found:
        print(max(1, min(4096, round(found[1]))))


def targets(rates: dict, p99s: dict, ceiling_rate, storage_64, sustained) -> list:
    """The issue's targets, each met or missed from this run's numbers (— where a number is missing)."""
    lines = []

    def verdict(ok):
        return "—" if ok is None else ("met" if ok else "**missed**")

    def ratio(a, b):
        return a / b if a is not None and b else None

    def shown(value, form):
        return "—" if value is None else form.format(value)

    r1, p1 = rates["keepalive-1"]
    lines.append(f"- keep-alive, 1 connection: ≥ 1.5× the peer ({shown(ratio(r1, p1), '{:.2f}×')}: "
                 f"{verdict(None if ratio(r1, p1) is None else ratio(r1, p1) >= 1.5)}) and ≥ half the one-row commit ceiling "
                 f"({shown(ratio(r1, ceiling_rate), '{:.2f}')} of it: "
                 f"{verdict(None if ratio(r1, ceiling_rate) is None else ratio(r1, ceiling_rate) >= 0.5)})")
    r64, p64 = rates["keepalive-64"]
    lines.append(f"- keep-alive, 64 connections: ≥ 2× the peer ({shown(ratio(r64, p64), '{:.2f}×')}: "
                 f"{verdict(None if ratio(r64, p64) is None else ratio(r64, p64) >= 2)}) and ≥ 90% of the storage program "
                 f"({shown(ratio(r64, storage_64), '{:.0%}')} of it, at the group refex reached: "
                 f"{verdict(None if ratio(r64, storage_64) is None else ratio(r64, storage_64) >= 0.9)})")
    refex_p99, peer_p99 = p99s["open-500"]
    lines.append(f"- 500/s open loop: p99 ≤ half the peer's ({shown(ratio(refex_p99, peer_p99), '{:.2f} of it')}: "
                 f"{verdict(None if ratio(refex_p99, peer_p99) is None else ratio(refex_p99, peer_p99) <= 0.5)}) and < 10 ms "
                 f"({verdict(None if refex_p99 is None else refex_p99 < 10)})")
    if sustained:
        intervals, width = intervals_of(sustained)
        peak = (sustained.get("wal") or {}).get("peakBytes")
        kept = intervals[-1] / intervals[0] if len(intervals) > 1 and intervals[0] else None
        lines.append(f"- sustained at 64 connections for {sustained.get('measuredSeconds', 0):.0f} s (the target: 300 s): WAL under 512 MB "
                     f"({verdict(None if peak is None else peak < 512e6)}), last {width:g} s ≥ 90% of the first "
                     f"({shown(kept, '{:.0%}')}: {verdict(None if kept is None else kept >= 0.9)})")
    return lines


def summary(path: str) -> None:
    meta, runs, checks = {}, [], []
    with open(path) as f:
        for line in f:
            item = json.loads(line)
            kind = item.pop("kind", "run")
            if kind == "meta":
                meta.update(item)
            elif kind == "check":
                checks.append(item)
            else:
                runs.append(item)

    def pick(server, scenario=None):
        return [r for r in runs if r.get("server") == server and (scenario is None or r.get("scenario") == scenario)]

    def median(values):
        values = [v for v in values if v is not None]
        return statistics.median(values) if values else None

    def rps(items):
        return median([r.get("requestsPerSecond") for r in items if not r.get("noResult")])

    def p99(items):
        return median([r.get("latencyMs", {}).get("p99") for r in items if not r.get("noResult")])

    def worst_p99(items):
        values = [r.get("latencyMs", {}).get("p99") for r in items if not r.get("noResult")]
        return max(values) if values else None

    def cpu_us(items):
        per = [r["serverCPUSeconds"] / r["expectedResponses"] * 1e6 for r in items
               if r.get("expectedResponses") and r.get("serverCPUSeconds") is not None]
        return median(per)

    def fmt(value, digits=0, unit=""):
        if value is None:
            return "—"
        return f"{value:,.{digits}f}{unit}"

    ceiling_runs = pick("ceiling")
    ceiling_rate = median([r.get("commitsPerSecond") for r in ceiling_runs])
    rounds = meta.get("rounds", len({r.get("round") for r in runs}))
    out = [
        f"{rounds} round(s) of {meta.get('duration', '?')} s per scenario after {meta.get('warmup', '?')} s of warm-up; medians across "
        f"rounds (the open loop's p99: the median, the worst round in brackets). {meta.get('machine', '')}",
        "",
        "| scenario | refex req/s | peer req/s | refex ÷ peer | storage program, refex's write pattern | one-row commit ceiling "
        "| p99 ms refex / peer | CPU µs per referral refex / peer | refex group size | WAL peak refex / peer | errors refex / peer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    group_note = None
    for scenario, label in SCENARIOS.items():
        refex, peer, storage = pick("refex", scenario), pick("peer", scenario), pick("storage", scenario)
        if not refex and not peer:
            continue
        rr, pr = rps(refex), rps(peer)
        ratio = f"**{rr / pr:.2f}**" if rr is not None and pr else "—"
        if storage:
            sr = median([s.get("referralsPerSecond") for s in storage])
            storage_text = f"{fmt(sr)}/s (group {fmt(median([s.get('group') for s in storage]))})"
        else:
            storage_text = "—"
        if scenario.startswith("open"):
            p99_text = f"{fmt(p99(refex), 1)} ({fmt(worst_p99(refex), 1)}) / {fmt(p99(peer), 1)} ({fmt(worst_p99(peer), 1)})"
        else:
            p99_text = f"{fmt(p99(refex), 1)} / {fmt(p99(peer), 1)}"
        groups = [group_mean(r.get("metricsBefore"), r.get("metricsAfter")) for r in refex]
        groups = [g for g in groups if g]
        if groups:
            group_note = groups[0][0]
            group_text = fmt(median([g[1] for g in groups]), 1)
        else:
            group_text = "n/a"
        wal_refex = median([(r.get("wal") or {}).get("peakBytes") for r in refex])
        wal_peer = median([(r.get("wal") or {}).get("peakBytes") for r in peer])
        errors = f"{sum(r.get('errors', 0) for r in refex)} / {sum(r.get('errors', 0) for r in peer)}"
        out.append(
            f"| {label} | {fmt(rr)} | {fmt(pr)} | {ratio} | {storage_text} | {fmt(ceiling_rate)}/s | {p99_text} "
            f"| {fmt(cpu_us(refex))} / {fmt(cpu_us(peer))} | {group_text} | {mib(wal_refex)} / {mib(wal_peer)} | {errors} |"
        )

    sustained = pick("refex", "sustained-64")
    if sustained:
        s = sustained[0]
        intervals, width = intervals_of(s)
        first = intervals[0] / width if intervals and width else None
        last = intervals[-1] / width if intervals and width else None
        wal = s.get("wal") or {}
        out += [
            "",
            f"| sustained, 64 connections, {fmt(s.get('measuredSeconds'))} s | refex req/s | first {fmt(width)} s | last {fmt(width)} s "
            "| last ÷ first | WAL peak | WAL at the end | p99 ms | CPU µs per referral | errors |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| refex | {fmt(s.get('requestsPerSecond'))} | {fmt(first)}/s | {fmt(last)}/s "
            f"| {f'{last / first:.2f}' if first and last is not None else '—'} | {mib(wal.get('peakBytes'))} | {mib(wal.get('endBytes'))} "
            f"| {fmt(s.get('latencyMs', {}).get('p99'), 1)} | {fmt(cpu_us([s]))} | {s.get('errors', 0)} |",
        ]
        if width:
            out.append("")
            out.append(f"refex req/s per {fmt(width)} s: " + ", ".join(fmt(n / width) for n in intervals) + ".")

    out.append("")
    out.append("Targets (issue 17):")
    out += targets(
        {scenario: (rps(pick("refex", scenario)), rps(pick("peer", scenario))) for scenario in SCENARIOS},
        {scenario: (p99(pick("refex", scenario)), p99(pick("peer", scenario))) for scenario in SCENARIOS},
        ceiling_rate, median([s.get("referralsPerSecond") for s in pick("storage", "keepalive-64")]),
        sustained[0] if sustained else None,
    )
    out.append("")
    if group_note:
        out.append(f"Group size: the mean of refex's `{group_note}` over each run (from /metrics before and after).")
    else:
        out.append("Group size: refex exposes no commit group (batch) size metric on its ops listener's /metrics "
                   "(looked for refex_…commit…/…writer… naming batch, group or size; REFEX_GROUP_METRIC=NAME names one), so n/a.")
    if ceiling_runs:
        c = ceiling_runs[0]
        out.append(f"One-row commit ceiling: SQLite commits of one {c.get('rowBytes')}-byte row each, journal_mode={c.get('journalMode')}, "
                   f"synchronous=FULL, in the benchmark's folder (the same disk as both stores); commit p99 "
                   f"{fmt(median([r.get('commitMsP99') for r in ceiling_runs]), 2)} ms.")
    storage = pick("storage")
    if storage:
        out.append("Storage program: scripts/bench/store_pattern.c (refex's writes per referral as its writer makes them now, on a "
                   "store made by `refex store init`: keys made ahead, the main database alone per commit, no savepoints, the "
                   "blind-index entries and keys committed beside it; no HTTP, TLS or crypto) at the group size refex reached in "
                   "the same round's run of the scenario; CPU µs per referral "
                   + ", ".join(f"{SCENARIOS.get(sc, sc)}: {fmt(median([s.get('cpuUsPerReferral') for s in storage if s.get('scenario') == sc]))}"
                               for sc in SCENARIOS if any(s.get('scenario') == sc for s in storage)) + ".")
    page_notes = []
    for scenario, label in SCENARIOS.items():
        refex_pages = median([pages_per_commit(r.get("metricsBefore"), r.get("metricsAfter")) for r in pick("refex", scenario)])
        storage_pages = median([s.get("pagesPerCommit") for s in pick("storage", scenario)])
        if refex_pages is not None or storage_pages is not None:
            page_notes.append(f"{label}: refex {fmt(refex_pages, 1)}, storage program {fmt(storage_pages, 1)}")
    if page_notes:
        out.append("Database pages (WAL frames) per commit: " + "; ".join(page_notes) + ".")
    out.append("")
    out.append("Every 202 against the store:")
    for check in checks:
        out.append(f"- {check.get('text')}")
    print("\n".join(out))


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    command, args = sys.argv[1], sys.argv[2:]
    if command == "ceiling" and len(args) == 3:
        ceiling(args[0], float(args[1]), float(args[2]))
    elif command == "wal-sampler" and len(args) == 3:
        wal_sampler(args[0], args[1], float(args[2]))
    elif command == "metrics" and len(args) == 1:
        metrics(args[0])
    elif command == "record":
        record(args)
    elif command == "refex-group" and len(args) == 3:
        refex_group(*args)
    elif command == "summary" and len(args) == 1:
        summary(args[0])
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
