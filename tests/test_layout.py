"""The code's shape: no module over 500 lines, no function over 60 lines without its reason
written beside it, and no `type: ignore` without its error code and its reason.

Walks every Python file under tickets/, sla/ and config/ (migrations are generated, so they
are left out). A function's length counts from its `def` to its last line, docstring
included, decorators not; the reason for a longer one is a comment on the line directly
above it (above its first decorator when it has any):

    # Over 60 lines: <why one long function reads better than several>
    def ...

An ignore names the errors it silences and says why mypy cannot see what we know:

    value = thing.attribute  # type: ignore[attr-defined]  # <reason>

No database: these read source text only.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("tickets", "sla", "config")
MAX_MODULE_LINES = 500
MAX_FUNCTION_LINES = 60
LONG_REASON = "# Over 60 lines:"
IGNORE_RE = re.compile(r"type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)")
CODES_RE = re.compile(r"\[\s*[a-z][a-z0-9-]*(\s*,\s*[a-z][a-z0-9-]*)*\s*\]")
REASON_RE = re.compile(r"\s*#\s*\S")


@dataclass(frozen=True)
class Function:
    name: str  # qualified: Class.method, outer.<locals>.inner
    line: int  # of the def
    length: int  # def to last line, docstring included
    above: str  # the line directly above its first decorator, or its def ("" at the top)


def python_files() -> list[Path]:
    return sorted(
        path
        for package in CHECKED
        for path in (ROOT / package).rglob("*.py")
        if "migrations" not in path.relative_to(ROOT).parts
    )


def module_length(source: str) -> int:
    return len(source.splitlines())


def functions(source: str) -> Iterator[Function]:
    """Every function and method, nested and async ones included."""
    lines = source.splitlines()

    def walk(node: ast.AST, prefix: str) -> Iterator[Function]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                yield Function(
                    name=prefix + child.name,
                    line=child.lineno,
                    length=(child.end_lineno or child.lineno) - child.lineno + 1,
                    above=lines[first - 2].strip() if first >= 2 else "",
                )
                yield from walk(child, f"{prefix}{child.name}.<locals>.")
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, f"{prefix}{child.name}.")
            else:
                yield from walk(child, prefix)

    yield from walk(ast.parse(source), "")


def long_functions_without_reason(source: str) -> list[Function]:
    return [
        function
        for function in functions(source)
        if function.length > MAX_FUNCTION_LINES
        and not (
            function.above.startswith(LONG_REASON)
            and function.above.removeprefix(LONG_REASON).strip()
        )
    ]


def bad_ignores(source: str) -> list[tuple[int, str]]:
    """(line, what is wrong) for each `type: ignore` comment without an error code in
    brackets or without a second comment giving the reason."""
    problems = []
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type != tokenize.COMMENT:
            continue
        match = IGNORE_RE.search(token.string)
        if match is None:
            continue
        line = token.start[0]
        codes = match.group("codes")
        if codes is None or not CODES_RE.fullmatch(codes):
            problems.append((line, "no error code in brackets"))
        elif not REASON_RE.match(match.group("rest")):
            problems.append((line, "no reason (`  # why` after the ignore)"))
    return problems


def _report(title: str, problems: list[str]) -> str:
    return f"{title} ({len(problems)}):\n  " + "\n  ".join(problems)


def _relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_no_module_over_500_lines() -> None:
    problems = [
        f"{_relative(path)}: {length} lines"
        for path in python_files()
        if (length := module_length(path.read_text(encoding="utf-8"))) > MAX_MODULE_LINES
    ]
    assert not problems, _report(f"Modules over {MAX_MODULE_LINES} lines: split them", problems)


def test_no_long_function_without_reason() -> None:
    problems = [
        f"{_relative(path)}:{function.line} {function.name}: {function.length} lines"
        for path in python_files()
        for function in long_functions_without_reason(path.read_text(encoding="utf-8"))
    ]
    assert not problems, _report(
        f"Functions over {MAX_FUNCTION_LINES} lines: split them, or write "
        f"'{LONG_REASON} <reason>' on the line above the def (or its first decorator)",
        problems,
    )


def test_every_type_ignore_has_code_and_reason() -> None:
    problems = [
        f"{_relative(path)}:{line}: {problem}"
        for path in python_files()
        for line, problem in bad_ignores(path.read_text(encoding="utf-8"))
    ]
    assert not problems, _report(
        "type: ignore comments must read '# type: ignore[code]  # reason'", problems
    )


# --- the checks themselves ---------------------------------------------------------------------


def _function_source(name: str, body_lines: int, *, above: str = "", decorator: str = "") -> str:
    """A module with one function of `body_lines` + 1 lines (def included)."""
    head = [line for line in (above, decorator) if line]
    body = [f"    x{i} = {i}" for i in range(body_lines)]
    return "\n".join(["import functools", "", *head, f"def {name}() -> None:", *body]) + "\n"


def test_module_length_counts_lines() -> None:
    assert module_length("x = 1\n" * 500) == 500
    assert module_length("x = 1\n" * 501) == 501
    assert module_length("") == 0


def test_files_walked_leave_out_migrations() -> None:
    files = [_relative(path) for path in python_files()]
    assert "tickets/models/__init__.py" in files
    assert "config/settings/base.py" in files
    assert not [name for name in files if "/migrations/" in name]


def test_function_of_60_lines_passes() -> None:
    assert long_functions_without_reason(_function_source("short", 59)) == []


def test_long_function_without_reason_is_caught() -> None:
    [found] = long_functions_without_reason(_function_source("long", 60))
    assert (found.name, found.line, found.length) == ("long", 3, 61)


def test_long_function_with_reason_passes() -> None:
    source = _function_source("long", 80, above="# Over 60 lines: one table, read top down")
    assert long_functions_without_reason(source) == []


def test_reason_goes_above_the_decorators() -> None:
    reason = "# Over 60 lines: one table, read top down"
    decorated = _function_source("long", 80, above=reason, decorator="@functools.cache")
    assert long_functions_without_reason(decorated) == []
    between = "\n".join(["@functools.cache", reason, "def long() -> None:"])
    between += "".join(f"\n    x{i} = {i}" for i in range(80)) + "\n"
    assert [f.name for f in long_functions_without_reason(between)] == ["long"]


def test_reason_must_say_something() -> None:
    source = _function_source("long", 80, above="# Over 60 lines:")
    assert [f.name for f in long_functions_without_reason(source)] == ["long"]
    elsewhere = _function_source("long", 80, above="# over sixty lines, sorry")
    assert [f.name for f in long_functions_without_reason(elsewhere)] == ["long"]


def test_methods_nested_and_async_functions_are_measured() -> None:
    body = "".join(f"\n            x{i} = {i}" for i in range(70))
    head = ["class Thing:", "    async def method(self) -> None:", "        def inner() -> None:"]
    source = "\n".join(head) + body + "\n"
    found = {f.name: f.length for f in long_functions_without_reason(source)}
    assert found == {"Thing.method": 72, "Thing.method.<locals>.inner": 71}


def test_bare_ignore_is_caught() -> None:
    source = "x = y  # type: ignore[attr-defined]\n"
    assert bad_ignores(source) == [(1, "no reason (`  # why` after the ignore)")]


def test_ignore_without_code_is_caught() -> None:
    assert bad_ignores("x = y  # type: ignore\n") == [(1, "no error code in brackets")]
    assert bad_ignores("x = y  # type: ignore  # because\n") == [(1, "no error code in brackets")]
    assert bad_ignores("x = y  # type: ignore[]  # because\n") == [(1, "no error code in brackets")]


def test_ignore_with_empty_reason_is_caught() -> None:
    source = "x = y  # type: ignore[attr-defined]  #\n"
    assert bad_ignores(source) == [(1, "no reason (`  # why` after the ignore)")]


def test_ignore_with_code_and_reason_passes() -> None:
    source = (
        "x = y  # type: ignore[attr-defined]  # set by the plugin at runtime\n"
        "z = w  # type: ignore[arg-type, misc]  # stubs say str, it takes bytes too\n"
        's = "# type: ignore"  # a string is not a comment\n'
    )
    assert bad_ignores(source) == []
