#!/usr/bin/env python3
"""Turns the raw runs of scripts/bench.sh (one JSON object a line) into the Markdown table for BENCHMARKS.md."""
import json
import statistics
import sys

TARGETS = {
    "keepalive": ("keep-alive throughput ≥ 60% of nginx", 0.60),
    "handshake": ("new-handshake rate ≥ 80% of nginx", 0.80),
}
P99_LIMIT_MS = 5.0


def main(path):
    machine, end, runs = {}, {}, []
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            if "machine" in record:
                machine = record["machine"]
            elif "loadEnd" in record:
                end = record
            else:
                runs.append(record)

    scenarios = []
    for run in runs:
        if run["scenario"] not in scenarios:
            scenarios.append(run["scenario"])

    def pick(scenario, server):
        return [r for r in runs if r["scenario"] == scenario and r["server"] == server]

    def median(values):
        return statistics.median(values) if values else 0.0

    out = []
    out.append(f"Measured {len(set(r['round'] for r in runs))} round(s); medians across rounds "
               f"(p99 at the fixed rate: the worst round).")
    out.append("")
    out.append("| scenario | refex req/s | nginx req/s | refex ÷ nginx | refex p50 / p99 ms | nginx p50 / p99 ms "
               "| server CPU ms per 1k req, refex / nginx | errors refex / nginx | target | met |")
    out.append("|---|---:|---:|---:|---:|---:|---:|---:|---|---|")
    verdicts = []
    for scenario in scenarios:
        refex, nginx = pick(scenario, "refex"), pick(scenario, "nginx")
        rr = median([r.get("requestsPerSecond", 0) for r in refex])
        nr = median([r.get("requestsPerSecond", 0) for r in nginx])
        ratio = rr / nr if nr else 0.0

        def lat(rs, key):
            return median([r.get("latencyMs", {}).get(key, 0) for r in rs])

        def cpu_per_k(rs):
            values = [1000 * 1000 * r["serverCPUSeconds"] / max(1, r.get("requests", 0) + r.get("errors", 0))
                      for r in rs if r.get("requests")]
            return median(values)

        errors_r = sum(max(0, r.get("errors", 0)) for r in refex)
        errors_n = sum(max(0, r.get("errors", 0)) for r in nginx)
        kind = scenario.split("-")[0]

        def worst_p99(rs):
            return max((r.get("latencyMs", {}).get("p99", 0) for r in rs), default=0)

        if kind in TARGETS:
            target, limit = TARGETS[kind]
            met = ratio >= limit
            outcome = f"{'yes' if met else '**no**'} ({ratio:.0%})"
            p99_shown_r, p99_shown_n = lat(refex, "p99"), lat(nginx, "p99")
        else:
            worst = worst_p99(refex)
            met = worst < P99_LIMIT_MS and errors_r == 0 and rr > 0
            target = f"p99 < {P99_LIMIT_MS:g} ms at 1,000 req/s"
            outcome = f"{'yes' if met else '**no**'} (worst p99 {worst:.2f} ms)"
            p99_shown_r, p99_shown_n = worst, worst_p99(nginx)
        out.append(
            f"| {scenario} | {rr:,.0f} | {nr:,.0f} | {ratio:.2f} | {lat(refex, 'p50'):.2f} / {p99_shown_r:.2f} "
            f"| {lat(nginx, 'p50'):.2f} / {p99_shown_n:.2f} | {cpu_per_k(refex):.0f} / {cpu_per_k(nginx):.0f} "
            f"| {errors_r} / {errors_n} | {target} | {outcome} |")
        verdicts.append((scenario, met))

    out.append("")
    m = machine
    out.append(f"Machine: {m.get('cpu', '?')}, {m.get('cpus', '?')} CPUs shared by server and load generator"
               f"{' (pinned: servers on CPU 1, load generator on CPU 0)' if m.get('pinned') else ' (not pinned)'}; "
               f"Linux {m.get('kernel', '?')}; {m.get('openssl', '?')}; nginx {m.get('nginx', '?')}; {m.get('swift', '?')}.")
    out.append(f"Load average before / after: {m.get('loadStart', '?')} / {end.get('loadEnd', '?')}. "
               f"refex logLevel {m.get('refexLogLevel', '?')}; response head bytes refex {m.get('refexHeadBytes', '?')}, "
               f"nginx {m.get('nginxHeadBytes', '?')}; body {m.get('bodyBytes', '?')} bytes each.")
    out.append("")
    out.append("Per round (machine stall: the longest a 1 ms sleep beside the run overslept; CPU steal: time the "
               "hypervisor gave the virtual CPUs to others):")
    out.append("")
    out.append("| round | scenario | server | req/s | p50 ms | p90 ms | p99 ms | max ms | errors | server CPU s | client CPU s "
               "| machine stall ms | CPU steal s |")
    out.append("|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sorted(runs, key=lambda r: (scenarios.index(r["scenario"]), r["server"], r["round"])):
        l = r.get("latencyMs", {})
        out.append(f"| {r['round']} | {r['scenario']} | {r['server']} | {r.get('requestsPerSecond', 0):,.0f} | "
                   f"{l.get('p50', 0):.2f} | {l.get('p90', 0):.2f} | {l.get('p99', 0):.2f} | {l.get('max', 0):.2f} | "
                   f"{r.get('errors', 0)} | {r.get('serverCPUSeconds', 0):.2f} | {r.get('clientCPUSeconds', 0):.2f} | "
                   f"{r.get('machineMaxStallMs', 0):.0f} | {r.get('stealSeconds', 0):.2f} |")
    print("\n".join(out))


if __name__ == "__main__":
    main(sys.argv[1])
