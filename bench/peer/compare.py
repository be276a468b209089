"""Pacte and django-helpdesk side by side, in one run: the same tickets, the same operations,
timed in turn (Pacte, peer, peer, Pacte, …), each ratio taken pair by pair.

    .venv/bin/python bench/peer/compare.py [--tickets 100000] [--pairs 30] [--mails 1000]

The first run makes the peer's virtual environment (var/peer/venv, from bench/peer/
requirements.txt). Each side is one long-running process in its own environment with its own
database (var/peer/*.sqlite3, or PostgreSQL databases named *bench* with --database-url and
--peer-database-url); see bench/peer/README.md. Prints, for each operation, the medians, the
min/median/max of the pair ratios (the peer's time ÷ Pacte's) and the SQL queries of each.
Exits 1 when an operation fails on either side; a missed target is printed, not an error.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VAR = ROOT / "var" / "peer"
sys.path[:] = [str(ROOT), *(p for p in sys.path if Path(p or ".").resolve() != HERE)]

from bench.peer import mails  # noqa: E402

parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
parser.add_argument("--tickets", type=int, default=100_000)
parser.add_argument("--pairs", type=int, default=30, help="timed pairs of each operation")
parser.add_argument("--mails", type=int, default=1_000, help="messages each side ingests")
parser.add_argument("--escalate-batch", type=int, default=10, help="due tickets per escalation")
parser.add_argument(
    "--budget",
    type=float,
    default=60.0,
    help="seconds per operation and side after which fewer pairs are kept (at least 3)",
)
parser.add_argument(
    "--profile",
    type=int,
    default=0,
    metavar="RUNS",
    help="then run each operation RUNS times under cProfile on each side: "
    "var/peer/profile-SIDE-OP.pstats, and the top functions printed",
)
parser.add_argument("--only", help="comma-separated operations (default: all)")
parser.add_argument("--database-url", help="Pacte's: postgres://…bench…")
parser.add_argument("--peer-database-url", help="the peer's: postgres://…bench…")
parser.add_argument("--venv", type=Path, default=VAR / "venv", help="the peer's environment")
parser.add_argument("--var", type=Path, default=VAR, help="databases, messages, profiles")

# name, what Pacte does, what the peer does, target (the median pair ratio), per-item divisor
OPERATIONS = [
    ("queue", "agent queue /desk/ (agent, 50 rows)", "staff ticket list + its 50 rows", 20.0),
    ("ticket_page", "ticket page (agent)", "ticket page (staff)", None),
    ("ticket_api", "API: one ticket (token)", "API: one ticket (staff session)", None),
    ("create_form", "create: customer's form", "create: public form", 2.0),
    ("create_api", "create: API (customer)", "create: API (staff)", 2.0),
    ("ingest", "mail in process (mail_receive)", "mail in process (extract_email_metadata)", 5.0),
    ("escalate", "escalate due clocks (sweep + task)", "escalate_tickets command", 10.0),
]


@dataclass
class Figures:
    pacte: list[float] = field(default_factory=list)
    peer: list[float] = field(default_factory=list)
    pacte_queries: list[int] = field(default_factory=list)
    peer_queries: list[int] = field(default_factory=list)

    def ratios(self) -> list[float]:
        return [peer / pacte for pacte, peer in zip(self.pacte, self.peer, strict=True)]


class Process:
    """One side: a long-running interpreter that answers bench/peer/protocol.py's lines."""

    def __init__(
        self, python: Path | str, script: str, database_url: str | None, var: Path
    ) -> None:
        command = [str(python), str(HERE / script), "--shapes", str(var / "shapes.tsv")]
        command += ["--var", str(var)]
        if database_url:
            command += ["--database-url", database_url]
        self.name = script
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": "0"},
        )
        self.facts = self.read()["ready"]

    def read(self) -> dict[str, Any]:
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if not line:
            sys.exit(f"{self.name} stopped (exit {self.process.wait()}); its errors are above")
        reply = json.loads(line)
        if "error" in reply:
            sys.exit(f"FAILED: {reply['error']}")
        return reply

    def ask(self, op: str, arg: Any = None) -> dict[str, Any]:
        assert self.process.stdin is not None
        self.process.stdin.write(json.dumps({"op": op, "arg": arg}) + "\n")
        self.process.stdin.flush()
        return self.read()

    def close(self) -> None:
        if self.process.poll() is None:
            self.ask_quit()

    def ask_quit(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.write('{"op": "quit"}\n')
        self.process.stdin.close()
        self.process.wait(timeout=60)


def peer_environment(venv: Path) -> Path:
    python = venv / "bin" / "python"
    wanted = (HERE / "requirements.txt").read_text()
    stamp = venv / "requirements.txt"
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    print(f"making the peer's environment in {venv} …", flush=True)
    subprocess.run([sys.executable, "-m", "venv", "--clear", str(venv)], check=True)
    installed = subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "-r",
            str(HERE / "requirements.txt"),
        ],
        capture_output=True,
        text=True,
    )
    if installed.returncode:
        sys.exit(f"pip could not install the peer:\n{installed.stdout}{installed.stderr}")
    stamp.write_text(wanted)
    return python


def database_fresh(url: str) -> None:
    """Drop and create the peer's PostgreSQL database, whose name must contain 'bench'."""
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    if not url.startswith(("postgres://", "postgresql://")) or "bench" not in name:
        sys.exit("--peer-database-url: a PostgreSQL database whose name contains 'bench'")
    with psycopg.connect(urlsplit(url)._replace(path="/postgres").geturl()) as server:
        server.autocommit = True
        server.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        server.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def pairs(
    sides: tuple[Process, Process], op: str, args: list[Any], budget: float, figures: Figures
) -> None:
    """Alternate the sides (Pacte first, then the peer first, …) over `args`, one pair each."""
    spent = [0.0, 0.0]
    for n, arg in enumerate(args):
        order = (0, 1) if n % 2 == 0 else (1, 0)
        replies: list[dict[str, Any]] = [{}, {}]
        for index in order:
            replies[index] = sides[index].ask(op, arg)
            spent[index] += replies[index]["ms"] / 1000
        figures.pacte.append(replies[0]["ms"])
        figures.peer.append(replies[1]["ms"])
        figures.pacte_queries.append(replies[0]["queries"])
        figures.peer_queries.append(replies[1]["queries"])
        if n + 1 >= 3 and max(spent) > budget and op != "ingest":
            break


def spread(values: list[float]) -> str:
    return f"{min(values):.1f} / {statistics.median(values):.1f} / {max(values):.1f}"


def queries(counts: list[int]) -> str:
    seen = sorted(set(counts))
    return str(seen[0]) if len(seen) == 1 else f"{seen[0]}–{seen[-1]}"


def report(results: dict[str, Figures], args: argparse.Namespace) -> None:
    print(
        "\n| operation (Pacte / django-helpdesk) | Pacte median ms | peer median ms |"
        " ratio min / median / max | queries Pacte / peer | pairs | target |"
    )
    print("|---|---:|---:|---|---|---:|---|")
    for op, ours, theirs, target in OPERATIONS:
        if op not in results:
            continue
        figures = results[op]
        per = args.escalate_batch if op == "escalate" else 1
        ratios = figures.ratios()
        median = statistics.median(ratios)
        verdict = (
            "—"
            if target is None
            else (f"≥ {target:g}×: " + ("met" if median >= target else "MISSED"))
        )
        unit = " (per ticket)" if per > 1 else ""
        print(
            f"| {ours} / {theirs}{unit} | {statistics.median(figures.pacte) / per:.2f} |"
            f" {statistics.median(figures.peer) / per:.2f} | {spread(ratios)} |"
            f" {queries(figures.pacte_queries)} / {queries(figures.peer_queries)} |"
            f" {len(ratios)} | {verdict} |"
        )
    if "ingest" in results:
        figures = results["ingest"]
        rates = [
            len(figures.pacte) / (sum(figures.pacte) / 1000),
            len(figures.peer) / (sum(figures.peer) / 1000),
        ]
        print(
            f"\nmail in process, {len(figures.pacte)} messages each: Pacte {rates[0]:.0f} msg/s,"
            f" django-helpdesk {rates[1]:.0f} msg/s (target ≥ 250 msg/s: "
            + ("met" if rates[0] >= 250 else "MISSED")
            + ")"
        )
    if "queue" in results:
        most = max(results["queue"].pacte_queries)
        print(
            f"agent queue: {most} queries (target ≤ 10: "
            + ("met" if most <= 10 else "MISSED")
            + ")"
        )


def profiles(
    sides: tuple[Process, Process], chosen: list[str], paths: list[str], args: argparse.Namespace
) -> None:
    """Where each side spends an operation's time, by function (own time, cProfile)."""
    for op in chosen:
        # Escalations their batch; ingestion the messages written past the timed ones.
        arg = {"escalate": args.escalate_batch, "ingest": paths[3 + args.mails :]}.get(op)
        for side, name in zip(sides, ("pacte", "peer"), strict=True):
            path = args.var / f"profile-{name}-{op}.pstats"
            request = {"name": op, "arg": arg, "runs": args.profile, "path": str(path)}
            top = side.ask("profile", {**request, "budget": args.budget})["top"]
            print(
                f"\n## {name}: {op}, {args.profile} runs, by own time ({path.name})\n ncalls{top}"
            )


def main() -> int:
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else [op for op, *_ in OPERATIONS]
    args.var.mkdir(parents=True, exist_ok=True)
    python = peer_environment(args.venv)
    paths = [str(p) for p in mails.write(args.var / "mails", args.mails + 3 + args.profile)]
    started = time.perf_counter()
    pacte = Process(sys.executable, "pacte_side.py", args.database_url, args.var)
    seeded = pacte.ask("seed", args.tickets)["seeded"]
    if args.peer_database_url:
        database_fresh(args.peer_database_url)
    peer = Process(python, "peer_side.py", args.peer_database_url, args.var)
    peer_seeded = peer.ask("seed", args.tickets)["seeded"]
    print(pacte.facts["facts"])
    print(f"peer      {peer.facts['facts']}")
    print(
        f"seeded    {seeded:,} tickets in Pacte, {peer_seeded:,} in django-helpdesk"
        f" ({time.perf_counter() - started:.0f} s); load average {load()}",
        flush=True,
    )
    sides = (pacte, peer)
    results: dict[str, Figures] = {}
    for op, *_ in OPERATIONS:
        if op not in chosen:
            continue
        if op == "ingest":
            warm, timed = paths[:3], paths[3 : 3 + args.mails]
        elif op == "escalate":
            warm, timed = [args.escalate_batch], [args.escalate_batch] * args.pairs
        else:
            warm, timed = [None], [None] * args.pairs
        for arg in warm:  # imports, caches, the first connection
            for side in sides:
                side.ask(op, arg)
        results[op] = Figures()
        pairs(sides, op, timed, args.budget, results[op])
        print(f"{op:12} done; load average {load()}", flush=True)
    report(results, args)
    if args.profile:
        profiles(sides, chosen, paths, args)
    for side in sides:
        side.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
