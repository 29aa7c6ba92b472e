"""The suite's results as JSON (everything) and Markdown (the tables the README shows)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

LATENCY = ("views_per_s", "p50_ms", "p95_ms", "p99_ms")


def _row(cells: list[Any]) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    return [_row(header), _row(["---"] + ["---:"] * (len(header) - 1)), *map(_row, rows), ""]


def _latency_rows(figures: dict[str, Any], skip: tuple[str, ...] = ()) -> list[list[Any]]:
    return [
        [name, *(row.get(k, "") for k in LATENCY)]
        for name, row in figures.items()
        if isinstance(row, dict) and "p99_ms" in row and name not in skip
    ]


def markdown(results: dict[str, Any]) -> str:
    w = results["workloads"]
    lines = [
        f"# Benchmark results ({results['started']}{', quick' if results['quick'] else ''})",
        "",
        f"{results['machine']['cpus']} CPUs, Python {results['machine']['python']}; "
        "sources on loopback; load generator in its own process.",
        "",
    ]
    header = ["measure", "views/s", "p50 ms", "p95 ms", "p99 ms"]
    if "overhead" in w:
        o = w["overhead"]
        lines += [f"## 1. Overhead ({o['sources']} zero-latency sources, {o['concurrency']} "
                  "clients)", ""]  # fmt: skip
        rows = []
        names = {
            "bare": "bare proxy",
            "typed": "typed proxy (mapping and insights, no consent or log)",
            "gateway": "gateway",
            "compared": "gateway, compared code",
        }
        for backend in ("sqlite", "postgres"):
            if backend in o:
                b = o[backend]
                for key, label in names.items():
                    if key in b:
                        suffix = "" if key in ("bare", "typed") else f" ({backend})"
                        rows.append([label + suffix, *(b[key][k] for k in LATENCY),
                                     b[key].get("cpu_ms_per_view", "")])  # fmt: skip
                rows.append([f"**ratio ({backend})**", f"**{b['ratio']}**", "", "", "",
                             b.get("cpu ratio", "")])  # fmt: skip
                if "ratio to typed" in b:
                    rows.append([f"ratio to the typed proxy ({backend}): consent and log",
                                 b["ratio to typed"], "", "", "",
                                 b.get("cpu ratio to typed", "")])  # fmt: skip
                if "ratio (compared)" in b:
                    rows.append([f"ratio, compared code ({backend})", b["ratio (compared)"],
                                 "", "", "", b.get("cpu ratio (compared)", "")])  # fmt: skip
        lines += _table([*header, "server CPU ms/view"], rows)
    if "fanout" in w:
        f = w["fanout"]
        lines += [f"## 2. Fan-out (every source answers after {f['delay_ms']:.0f} ms)", ""]
        rows = [["floor (slowest source, direct)", "", f["floor"]["p50_ms"], "",
                 f["floor"]["p99_ms"], ""]]  # fmt: skip
        rows += [[*r, f[r[0]]["p99_over_floor_ms"]] for r in _latency_rows(f, ("floor",))]
        lines += _table([*header, "p99 over floor"], rows)
    if "log" in w:
        g = w["log"]
        lines += ["## 3. Access log", ""]
        rows = [[name, f"{rate:,}"] for name, rate in g["appends_per_s"].items()]
        v = g["verify"]
        rows.append([f"verify, s per million ({v['entries']:,} entries checked)",
                     v["seconds_per_million"]])  # fmt: skip
        lines += _table(["measure", "appends/s"], rows)
    if "scale" in w:
        s = w["scale"]
        lines += [f"## 4. Scale-out (PostgreSQL, {s.get('concurrency', '')} clients)", ""]
        lines += (
            [f"skipped: {s['skipped']}", ""]
            if "skipped" in s
            else _table(["gateway processes", *header[1:]], _latency_rows(s))
        )
    if "size" in w:
        z = w["size"]
        lines += [f"## 5. Size ({z['entries']:,} log entries and {z['consents']:,} consents "
                  "against an empty database, SQLite)", ""]  # fmt: skip
        lines += _table(header, _latency_rows(z))
        for clients, change in z.get("degradation", {}).items():
            lines += [f"- full against empty, {clients}: views/s {change['views_per_s_pct']:+}% "
                      f"worse, p99 {change['p99_pct']:+}% (target: at most 20% worse)"]  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def write_reports(results: dict[str, Any], folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    json_path, md_path = folder / "suite.json", folder / "RESULTS.md"
    json_path.write_text(json.dumps(results, indent=2), encoding="utf-8")
    md_path.write_text(markdown(results), encoding="utf-8")
    return json_path, md_path
