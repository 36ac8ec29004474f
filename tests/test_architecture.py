"""The shape of the code: no import cycles, small modules, no path edits, the runtime never
importing the test fake. Read from the source (``ast``), so a regression fails here first."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sensor", "dashboard")
MAX_LINES = 400  # "no module over ~400 lines"


def modules() -> Iterator[tuple[str, Path]]:
    for pkg in PACKAGES:
        for path in sorted((ROOT / pkg).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            yield name, path


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """Project modules ``name`` imports anywhere in its file (function-level and
    TYPE_CHECKING imports included: a cycle there is still a cycle in the design)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    is_pkg = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_pkg else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            subs = [f"{base}.{a.name}" for a in node.names]
            # ``from pkg import submodule`` needs the package's __init__ too, but only
            # names that are not submodules make it an import of what __init__ defines.
            targets = subs + ([base] if any(t not in known for t in subs) else [])
        else:
            continue
        for t in targets:
            # the deepest project module the import names
            while t and t not in known:
                t = t.rpartition(".")[0]
            if t and t != name:
                out.add(t)
    return out


def graph() -> dict[str, set[str]]:
    mods = dict(modules())
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def find_cycle(g: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(n: str) -> list[str] | None:
        state[n] = 1
        stack.append(n)
        for m in sorted(g.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m) :] + [m]
            if m not in state and (c := visit(m)):
                return c
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(g):
        if n not in state and (c := visit(n)):
            return c
    return None


def test_no_import_cycles() -> None:
    assert find_cycle(graph()) is None


def test_the_cycle_finder_finds_one() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_module_is_too_long() -> None:
    long = {name: n for name, path in modules() if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}


def test_no_path_edits_anywhere() -> None:
    offenders = []
    for folder in ("sensor", "dashboard", "benchmarks", "recordings", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if path.name == "test_architecture.py":
                continue
            if re.search(r"sys\.path\.(insert|append)|\[\"PYTHONPATH\"\]\s*=", text):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_the_runtime_never_imports_the_fake_bluez() -> None:
    g = graph()
    runtime = [n for n in g if n.startswith(("sensor", "dashboard")) and not n.startswith("sensor.fake_bluez")]
    # Commands that run the fake for demos import it inside the command; nothing else may.
    allowed = {"sensor.cli.export"}
    users = sorted(n for n in runtime if n not in allowed and any(d.startswith("sensor.fake_bluez") for d in g[n]))
    assert users == []


def test_the_runtime_never_imports_the_fake_phyphox() -> None:
    g = graph()
    runtime = [n for n in g if n.startswith(("sensor", "dashboard")) and not n.startswith("sensor.fake_phyphox")]
    assert sorted(n for n in runtime if any(d.startswith("sensor.fake_phyphox") for d in g[n])) == []
