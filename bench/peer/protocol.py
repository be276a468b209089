"""The line protocol between bench/peer/compare.py and its two sides, Pacte and the peer.

Each side is one long-running process in its own virtual environment. It reads one JSON
object a line on standard input (``{"op": name, "arg": …}``) and answers one on standard
output: ``{"ms": …, "queries": …}`` for a timed operation, ``{"error": …}`` when it failed.
Only the operation is timed: what prepares it (the rows an escalation needs) is not. This
module needs only the standard library and Django, which both environments have.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any

Operation = Callable[[Any], object]
CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class Side:
    """The operations of one system, served to the driver one request at a time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.operations: dict[str, Operation] = {}
        self.preparations: dict[str, Operation] = {}
        self.seed: Operation = lambda _arg: 0
        self.queries = 0

    def operation(
        self, name: str, prepare: Operation | None = None
    ) -> Callable[[Operation], Operation]:
        def register(function: Operation) -> Operation:
            self.operations[name] = function
            if prepare is not None:
                self.preparations[name] = prepare
            return function

        return register

    def _count(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # SQL queries, not transaction control (BEGIN DEFERRED, SAVEPOINT, …).
        self.queries += not sql.lstrip().upper().startswith(CONTROL)
        return execute(sql, params, many, context)

    def timed(self, name: str, arg: Any) -> dict[str, Any]:
        from django.db import connection

        if name in self.preparations:
            arg = self.preparations[name](arg)
        self.queries = 0
        with connection.execute_wrapper(self._count):
            started = time.perf_counter()
            checked = self.operations[name](arg)
            ms = (time.perf_counter() - started) * 1000
        return {"ms": ms, "queries": self.queries, "checked": checked}

    def profile(self, name: str, arg: Any, runs: int, path: str, budget: float) -> str:
        """Run an operation `runs` times under cProfile, or fewer once `budget` seconds are
        spent; save the stats, return the top."""
        import cProfile
        import io
        import pstats

        profiler, started = cProfile.Profile(), time.perf_counter()
        for run in range(runs):
            if run and time.perf_counter() - started > budget:
                break
            each = arg[run] if isinstance(arg, list) else arg  # one message a run
            prepared = self.preparations[name](each) if name in self.preparations else each
            profiler.enable()
            self.operations[name](prepared)
            profiler.disable()
        profiler.dump_stats(path)
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs().sort_stats("tottime")
        stats.print_stats(12)
        return out.getvalue().split("ncalls", 1)[-1]

    def serve(self, facts: dict[str, str]) -> None:
        """Answer the driver until it says quit; what Django prints goes to standard error."""
        answers, sys.stdout = sys.stdout, sys.stderr

        def answer(reply: dict[str, Any]) -> None:
            answers.write(json.dumps(reply, default=str) + "\n")
            answers.flush()

        answer({"ready": facts})
        for line in sys.stdin:
            request = json.loads(line)
            name = request["op"]
            if name == "quit":
                break
            try:
                if name == "seed":
                    answer({"seeded": self.seed(request.get("arg"))})
                elif name == "profile":
                    answer({"top": self.profile(**request["arg"])})
                else:
                    answer(self.timed(name, request.get("arg")))
            except Exception as error:  # the driver stops and prints it
                traceback.print_exc()
                answer({"error": f"{self.name} {name}: {type(error).__name__}: {error}"})


def status(response: Any, expected: int) -> str:
    """Check a test-client response's status; its length is what the driver shows."""
    if response.status_code != expected:
        body = response.content[:300].decode(errors="replace")
        raise AssertionError(f"status {response.status_code}, expected {expected}: {body}")
    return f"{len(response.content)} bytes"
