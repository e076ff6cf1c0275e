"""make bench's report: reads the runs run-scenarios.sh left in OUT_DIR (incidentctl bench JSON, server CPU and
memory readings) and writes OUT_DIR/RESULTS.md with every figure and ratio, and OUT_DIR/latency.png with the
latency distributions (HdrHistogram percentile plots).

    python report.py OUT_DIR
    python report.py --line RUN.json    (one run's summary line)
"""
import csv
import json
import pathlib
import sys

GOALS = {
    "rpc": 0.8,  # health Check calls/s, ours / C++
    "create": 0.5,  # durable creates/s, ours / C++ in memory
    "p99_ms_256": 25.0,  # durable create p99 at 256 concurrent
}


def load_runs(out):
    runs = []
    with open(out / "runs.tsv") as table:
        for row in csv.DictReader(table, delimiter="\t"):
            row["report"] = json.loads((out / row["file"]).read_text())
            runs.append(row)
    return runs


def ms(micros):
    return f"{micros / 1000:.2f}" if micros is not None else "–"


def latency(report, key="latency_us"):
    return report.get(key) or {}


def errors(found):
    return ", ".join(f"{code} {count}" for code, count in sorted(found.items())) or "none"


def best(runs, scenario, label):
    """The round with the most calls/s: a burst of other work on the shared machine only ever slows a round."""
    mine = [run for run in runs if run["scenario"] == scenario and run["label"] == label]
    return max(mine, key=lambda run: run["report"]["calls_per_s"]) if mine else None


def comparison(runs, scenario, goal_ratio, title_note, extra_goal=None):
    ours, cpp = best(runs, scenario, "ours"), best(runs, scenario, "cpp")
    lines = [
        "| server | calls/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | errors | server CPU % |",
        "|---|---:|---:|---:|---:|---:|---:|---|---:|",
    ]
    for name, run in (("incident-server (ours)", ours), ("C++ reference (libgrpc++)", cpp)):
        if run is None:
            continue
        report, lat = run["report"], latency(run["report"])
        lines.append(
            f"| {name} | {report['calls_per_s']:.0f} | {ms(lat.get('p50'))} | {ms(lat.get('p90'))} | "
            f"{ms(lat.get('p99'))} | {ms(lat.get('p99.9'))} | {ms(lat.get('max'))} | {errors(report['errors'])} | "
            f"{run['server_cpu_pct']} |"
        )
    if ours and cpp and cpp["report"]["calls_per_s"] > 0:
        ratio = ours["report"]["calls_per_s"] / cpp["report"]["calls_per_s"]
        verdict = "met" if ratio >= goal_ratio else "NOT met"
        lines.append("")
        lines.append(f"Ratio ours / C++: **{ratio:.2f}x** calls/s (goal >= {goal_ratio}x{title_note}: {verdict}).")
        p99_ratio = latency(ours["report"]).get("p99", 0) / max(1, latency(cpp["report"]).get("p99", 1))
        lines.append(f"p99 ours / C++: {p99_ratio:.1f}x.")
    if extra_goal and ours:
        lines.append(extra_goal(ours["report"]))
    return lines


def stream_section(runs):
    run = best(runs, "3-stream", "ours")
    if run is None:
        return ["Not run."]
    report = run["report"]
    stream = report["stream"]
    delivery = stream["delivery_latency_us"]
    create = latency(report)
    verdict = "met" if stream["missing"] == 0 and stream["expected"] > 0 else "NOT met"
    note = []
    if not delivery:
        note = ["", "No create of the measured span reached any subscriber before the drain ended: the "
                "create-to-delivery latencies are longer than the run, so there is no percentile to report."]
    return note[1:] + ([""] if note else []) + [
        f"{stream['subscribers']} subscribers ({stream['ready']} live before the load), {report['mode']}, "
        f"{report['duration_s']:g} s measured after {report['warmup_s']:g} s of warm-up.",
        "",
        "| figure | value |",
        "|---|---:|",
        f"| creates acked (warm-up included) | {stream['creates_acked']} |",
        f"| creates/s achieved (measured span) | {report['calls_per_s']:.0f} |",
        f"| create p50 / p99 / max ms (from scheduled start) | {ms(create.get('p50'))} / {ms(create.get('p99'))} / "
        f"{ms(create.get('max'))} |",
        f"| create errors | {errors(report['errors'])} |",
        f"| creates started >10 ms behind schedule | {report['started_late']} |",
        f"| deliveries expected (acked creates x subscribers) | {stream['expected']} |",
        f"| deliveries received | {stream['delivered']} |",
        f"| **deliveries missing** (goal 0: {verdict}) | **{stream['missing']}** |",
        f"| duplicate deliveries | {stream['duplicates']} |",
        f"| deliveries with the wrong incident id (subscriber 0) | {stream['wrong_incident']} |",
        f"| create-to-delivery p50 ms | {ms(delivery.get('p50'))} |",
        f"| create-to-delivery p90 ms | {ms(delivery.get('p90'))} |",
        f"| **create-to-delivery p99 ms** | **{ms(delivery.get('p99'))}** |",
        f"| create-to-delivery p99.9 ms | {ms(delivery.get('p99.9'))} |",
        f"| create-to-delivery max ms | {ms(delivery.get('max'))} |",
        f"| streams that ended early | {errors(stream['errors'])} |",
        f"| server CPU % over the run | {run['server_cpu_pct']} |",
        f"| server peak RSS MB | {int(run['server_peak_rss_kb']) / 1024:.0f} |",
    ]


def memory_section(out, runs):
    lines = []
    idle = out / "memory-idle.tsv"
    if idle.exists():
        _, count, before, peak = idle.read_text().split()
        run = best(runs, "5-idle-streams", "ours")
        ready = run["report"]["stream"]["ready"] if run else "?"
        ended = errors(run["report"]["stream"]["errors"]) if run else "?"
        lines += [
            "| idle streams | figure | value |",
            "|---|---|---:|",
            f"| {count} | server RSS before, MB | {int(before) / 1024:.0f} |",
            f"| {count} | server peak RSS (VmHWM), MB | {int(peak) / 1024:.0f} |",
            f"| {count} | per stream, KB | {(int(peak) - int(before)) / max(1, int(count)):.1f} |",
            f"| {count} | streams live (got the ready marker) | {ready} |",
            f"| {count} | streams that ended early | {ended} |",
            "",
        ]
    soak = out / "memory-soak.tsv"
    if soak.exists():
        _, seconds, rate, before, after = soak.read_text().split()
        run = best(runs, "5-soak", "ours")
        growth = int(after) - int(before)
        lines += [
            f"Soak: {seconds} s of creates scheduled at {rate}/s on a fresh server, after a 20 s warm-up at the same "
            "rate.",
            "",
            "| figure | value |",
            "|---|---:|",
            f"| RSS before the soak, MB | {int(before) / 1024:.1f} |",
            f"| RSS after the soak, MB | {int(after) / 1024:.1f} |",
            f"| growth, MB | {growth / 1024:+.1f} ({100 * growth / max(1, int(before)):+.1f}%) |",
        ]
        if run:
            report = run["report"]
            lines += [
                f"| creates ok / failed | {report['calls_ok']} / {report['calls_failed']} "
                f"({errors(report['errors'])}) |",
                f"| create p99 / max ms | {ms(latency(report).get('p99'))} / {ms(latency(report).get('max'))} |",
            ]
        samples = out / "soak-rss.txt"
        if samples.exists():
            values = [int(line.split()[1]) for line in samples.read_text().splitlines() if len(line.split()) == 2]
            if values:
                lines.append(f"| RSS min / max during the soak (every 5 s), MB | {min(values) / 1024:.1f} / "
                             f"{max(values) / 1024:.1f} |")
    return lines or ["Not run."]


def all_runs(runs):
    lines = [
        "| scenario | server | round | calls/s | p50 ms | p99 ms | p99.9 ms | max ms | errors | server CPU % "
        "| RSS MB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for run in runs:
        report, lat = run["report"], latency(run["report"])
        lines.append(
            f"| {run['scenario']} | {run['label']} | {run['round']} | {report['calls_per_s']:.0f} | "
            f"{ms(lat.get('p50'))} | {ms(lat.get('p99'))} | {ms(lat.get('p99.9'))} | {ms(lat.get('max'))} | "
            f"{errors(report['errors'])} | {run['server_cpu_pct']} | {int(run['server_rss_kb'] or 0) / 1024:.0f} |"
        )
    return lines


def chart(out, runs):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "matplotlib is not installed: no chart."
    panels = [
        ("1-health", "(1) Health/Check, 64 concurrent", "distribution"),
        ("2-create-64", "(2) CreateIncident, 64 concurrent", "distribution"),
        ("2-create-256", "(2) CreateIncident, 256 concurrent", "distribution"),
        ("3-stream", "(3) create-to-delivery, stream fan-out", "stream"),
    ]
    figure, axes = plt.subplots(2, 2, figsize=(12, 8))
    for axis, (scenario, title, kind) in zip(axes.flat, panels):
        plotted = False
        for label, name, style in (("ours", "incident-server", "-"), ("cpp", "C++ reference", "--")):
            run = best(runs, scenario, label)
            if run is None:
                continue
            points = run["report"]["stream"]["distribution"] if kind == "stream" else run["report"]["distribution"]
            points = [(p, v) for p, v in points if p < 100]
            if not points:
                continue
            axis.plot([1 / (1 - p / 100) for p, _ in points], [v / 1000 for _, v in points], style, label=name)
            plotted = True
        axis.set_title(title)
        if not plotted:
            axis.text(0.5, 0.5, "no measured data", ha="center", va="center", transform=axis.transAxes)
            axis.set_axis_off()
            continue
        axis.set_xscale("log")
        axis.set_yscale("log")
        axis.set_xticks([2, 10, 100, 1000, 10000, 100000])
        axis.set_xticklabels(["50%", "90%", "99%", "99.9%", "99.99%", "99.999%"])
        axis.set_xlabel("percentile")
        axis.set_ylabel("latency, ms")
        axis.grid(True, which="both", alpha=0.3)
        axis.legend()
    figure.suptitle("incident-manager latency by percentile (best round of each server)")
    figure.tight_layout()
    figure.savefig(out / "latency.png", dpi=100)
    return "![latency by percentile](latency.png)"


def one_line(path):
    """The progress line run-scenarios.sh prints after each run."""
    report = json.loads(pathlib.Path(path).read_text())
    line = (f"{report['calls_per_s']:.0f} calls/s, p99 {ms(latency(report).get('p99'))} ms, "
            f"errors {errors(report['errors'])}")
    if "stream" in report:
        stream = report["stream"]
        line += (f"; {stream['ready']}/{stream['subscribers']} subscribers live, {stream['missing']} deliveries missing"
                 f", delivery p99 {ms(stream['delivery_latency_us'].get('p99'))} ms")
    return line


def main():
    if sys.argv[1] == "--line":
        print(one_line(sys.argv[2]))
        return
    out = pathlib.Path(sys.argv[1])
    runs = load_runs(out)
    machine = (out / "machine.txt").read_text().strip().splitlines()
    p0 = (out / "p0-under-flood.txt").read_text().strip() if (out / "p0-under-flood.txt").exists() else "not run"

    def p99_goal(report):
        p99 = latency(report).get("p99", 0) / 1000
        verdict = "met" if p99 < GOALS["p99_ms_256"] else "NOT met"
        goal = GOALS["p99_ms_256"]
        return f"Durable create p99 at 256 concurrent: **{p99:.2f} ms** (goal < {goal:.0f} ms: {verdict})."

    lines = [
        "# incident-manager benchmark results",
        "",
        "Made by `make bench` (Tests/Benchmarks/Scenarios/run-scenarios.sh). Client (`incidentctl bench`), servers "
        "and Postgres share this 2-core machine, and **other engineers' builds and tests were running on it at the "
        "same time**: absolute figures are noisy; ratios come from interleaved rounds (best round of each side).",
        "",
        *[f"    {line}" for line in machine],
        "",
        "## (1) RPC ceiling: grpc.health.v1.Health/Check over mTLS, 64 concurrent, closed loop",
        "",
        "Our Check asks Postgres a cheap query each time (SERVING means the database answers); the C++ reference "
        "answers SERVING from memory.",
        "",
        *comparison(runs, "1-health", GOALS["rpc"], ""),
        "",
    ]
    for concurrency in (64, 256):
        lines += [
            f"## (2) Durable creates: unique events, mixed severities (critical 1, high 4, medium 20, low 75), "
            f"{concurrency} concurrent",
            "",
            "Ours commits every create to Postgres before answering; the C++ reference answers a fixed "
            "CreateIncidentResponse from memory (the in-memory ceiling).",
            "",
            *comparison(runs, f"2-create-{concurrency}", GOALS["create"], " of the in-memory rate",
                        p99_goal if concurrency == 256 else None),
            "",
        ]
    lines += [
        "## (3) Stream fan-out: subscribers while creates run at a fixed rate",
        "",
        "Each create carries its sequence number; latency runs from the create's scheduled start to the delivery. "
        "Missing = acked creates a subscriber had not received when the run ended (after a 30 s drain).",
        "",
        *stream_section(runs),
        "",
        "## (4) P0 under flood",
        "",
        f"{p0} (owned by the pipeline work).",
        "",
        "## (5) Memory",
        "",
        *memory_section(out, runs),
        "",
        "## Latency distributions",
        "",
        chart(out, runs),
        "",
        "## Every run",
        "",
        *all_runs(runs),
        "",
    ]
    (out / "RESULTS.md").write_text("\n".join(lines))
    print(f"wrote {out / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
