"""The layout's rules, checked: imports run one way along the data flow, the pure parts stay pure.

The apps, in the order data flows through them: `hapanel` (settings, roles, encryption) under everything,
`monitor` (probe, rules, poller, record), then `pairs`, `alerts` and `emergency`, which build on the
monitor's models, then `board`, which shows what all of them wrote. `devtools` is never imported by them.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ALLOWED = {
    "hapanel": set(),
    "monitor": {"hapanel"},
    "pairs": {"hapanel", "monitor"},
    "alerts": {"hapanel", "monitor"},
    "emergency": {"hapanel", "monitor"},
    "board": {"hapanel", "monitor", "pairs", "alerts", "emergency"},
    "devtools": {"hapanel", "monitor", "pairs", "emergency"},
}
APPS = set(ALLOWED)
# The status rules and the probe: plain data and logic, no framework; the rules also do no I/O, read no clock.
RULES = ["monitor/readings.py", "monitor/vocabulary.py", "monitor/evaluate.py", "monitor/direction.py",
         "monitor/reading_values.py", "monitor/causes.py", "monitor/risks"]
NO_DJANGO = ["monitor/probe", "monitor/server_sql.py", *RULES]
IO_OR_CLOCK = {"socket", "ssl", "time", "datetime", "os", "subprocess", "threading", "random", "pymysql", "redis",
               "urllib", "django", "celery", "selectors"}
MAX_LINES = 450


def _modules() -> dict[str, Path]:
    out = {}
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            out[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return out


MODULES = _modules()


def _type_checking(node: ast.If) -> bool:
    return isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"


def imports(path: Path) -> set[str]:
    """Every module `path` imports at run time (at the top or in a function), without TYPE_CHECKING blocks."""
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{a.name}" for a in node.names)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text()))
    return found


def _files(*places: str) -> list[Path]:
    out = []
    for place in places:
        path = ROOT / place
        out += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return out


def test_apps_import_only_what_comes_before_them_in_the_flow():
    wrong = sorted(f"{name} imports {dep}" for name, path in MODULES.items() for dep in imports(path)
                   if dep.split(".")[0] in APPS - ALLOWED[name.split(".")[0]] - {name.split(".")[0]})
    assert wrong == []


def _resolve(name: str) -> str:
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def test_no_module_imports_itself_back_through_others():
    graph = {name: {_resolve(d) for d in imports(path)} - {"", name} for name, path in MODULES.items()}
    cycles, state = [], {}

    def walk(node: str, trail: list[str]) -> None:
        state[node] = "open"
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                cycles.append(trail[trail.index(nxt):] + [nxt])
            elif nxt not in state:
                walk(nxt, [*trail, nxt])
        state[node] = "done"

    for name in sorted(graph):
        if name not in state:
            walk(name, [name])
    # A package imports its own modules to re-export them; that is not a cycle of the flow.
    cycles = [c for c in cycles if not any(b.startswith(a + ".") for a, b in zip(c, c[1:], strict=False))]
    assert cycles == []


@pytest.mark.parametrize("path", _files(*NO_DJANGO), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_probe_and_the_rules_know_nothing_of_django(path: Path):
    assert {d for d in imports(path) if d.split(".")[0] in {"django", "celery", "redis"}} == set()


@pytest.mark.parametrize("path", _files(*RULES), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_rules_do_no_io_and_read_no_clock(path: Path):
    assert {d for d in imports(path) if d.split(".")[0] in IO_OR_CLOCK} == set()


def test_record_queues_no_task_and_knows_no_alerts():
    deps = imports(ROOT / "monitor/record.py")
    assert {d for d in deps if d.endswith(".tasks") or ".tasks." in d or d.split(".")[0] in {"celery", "alerts"}} \
        == set()


def test_production_code_never_imports_devtools():
    wrong = sorted(name for name, path in MODULES.items()
                   if not name.startswith("devtools") and any(d.split(".")[0] == "devtools" for d in imports(path)))
    assert wrong == []


def test_a_web_process_loads_neither_the_poller_nor_the_database_driver():
    """Production settings (no devtools), the URLconf and every view imported, in a fresh interpreter."""
    code = (
        "import sys, django; django.setup()\n"
        "from django.urls import get_resolver\n"
        "def walk(patterns):\n"
        "    for p in patterns:\n"
        "        walk(p.url_patterns) if hasattr(p, 'url_patterns') else p.callback\n"
        "walk(get_resolver().url_patterns)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pymysql', 'devtools')"
        " or m in ('monitor.poller', 'monitor.probe.node', 'monitor.tasks')))\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HAPANEL_", "DJANGO_"))}
    env.update(DJANGO_SETTINGS_MODULE="hapanel.settings", HAPANEL_DEVELOPMENT="0", DEBUG="0",
               SECRET_KEY="architecture-test", HAPANEL_ENCRYPTION_KEY="architecture-test")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


def test_no_application_module_is_a_long_read():
    long = sorted(f"{name}: {n} lines" for name, path in MODULES.items()
                  if (n := len(path.read_text().splitlines())) > MAX_LINES)
    assert long == []
