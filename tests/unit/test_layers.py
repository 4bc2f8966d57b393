"""The layers keep their direction (docs/architecture.md, ../STYLE.md's layout).

- Imports run one way: webapp -> core.services -> core.aws / core.schemas ->
  core.rules, never back up a layer (LAYERS says what each may import).
- The core and the worker load no Flask module: imported in a clean
  interpreter, not a single flask, flask_* or werkzeug module comes along.
- The web layer (webapp/) is the only importer of Flask among the product's
  modules; the core imports neither the web layer nor local/ tooling.
- Views go through the services' methods: outside services.py (which builds
  them) and cli.py (operator commands), no webapp module touches the adapters
  behind them (`.store`, `.queue`, `.tables`, `.batches`, `.backend`).
- No import cycles among the product's modules.

Each check is a plain function over source text, so a test also shows that
it catches what it is there to catch.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from tests.helpers.stacks import ROOT

# What is not product code: the tests, benchmarks and generated or vendored trees.
NOT_PRODUCT = {"tests", "bench", "build", "docs", "static", "templates", "node_modules"}
FLASK_ROOTS = ("flask", "werkzeug")
# The adapters behind the services (core.aws.backend.Backend): views never touch them.
ADAPTERS = {"store", "queue", "tables", "batches", "backend"}
# The web layer's modules allowed to reach the adapters: the one that builds them
# (services.py) and the operator commands (cli.py: init-aws, recount, dlq, export).
ADAPTER_USERS = {"services.py", "cli.py"}
# What each layer may import of the product: only its own layer and those below it.
# core.settings and core.logs sit under everything; worker.py is an entry into services.
LAYERS = {
    "core.rules": {"core.rules"},
    "core.schemas": {"core.schemas", "core.rules"},
    "core.aws": {"core.aws", "core.rules", "core.settings"},
    "core.services": {"core.services", "core.aws", "core.schemas", "core.rules", "core.settings",
                      "core.logs"},
    "webapp": {"webapp", "core.services", "core.schemas", "core.rules", "core.settings",
               "core.logs"},
    "core.settings": set(),
    "core.logs": set(),
    "worker": {"core.services"},
}  # fmt: skip


def layer_of(module: str) -> str | None:
    """The LAYERS entry a module belongs to (None: local/ tooling, outside the layers)."""
    for layer in sorted(LAYERS, key=len, reverse=True):
        if module == layer or module.startswith(layer + "."):
            return layer
    return None


def imports_up(graph: dict[str, set[str]]) -> dict[str, list[str]]:
    """{module: the imports its layer may not make}, for every module with any."""
    found = {}
    for module, targets in graph.items():
        layer = layer_of(module)
        if layer is None:
            continue
        wrong = sorted(t for t in targets if layer_of(t) not in LAYERS[layer])
        if wrong:
            found[module] = wrong
    return found


def product_modules() -> dict[str, Path]:
    """{dotted module name: path} of every product .py file under the project root."""
    found = {}
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT).parts
        if any(p in NOT_PRODUCT or p.startswith(".") for p in parts[:-1]):
            continue
        name = ".".join(parts)[: -len(".py")]
        found[name.removesuffix(".__init__")] = path
    return found


def imported_names(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every module name an import statement in `tree` names, relative ones made absolute."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module.split(".") if is_package else module.split(".")[:-1]
                package = package[: len(package) - (node.level - 1)]
                base = ".".join([*package, base] if base else package)
            names.add(base)
            names |= {f"{base}.{alias.name}" for alias in node.names}
    return names


def flask_imports(source: str, module: str = "m") -> set[str]:
    """The flask / flask_* / werkzeug modules a module's source imports."""
    names = imported_names(ast.parse(source), module, is_package=False)
    return {n for n in names if n.split(".")[0].startswith(FLASK_ROOTS)}


def adapter_uses(source: str) -> list[str]:
    """`x.store`-style attribute uses of the Voting service's adapters, as "line: name"."""
    return [
        f"{node.lineno}: .{node.attr}"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Attribute) and node.attr in ADAPTERS
    ]


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    """{module: product modules it imports}; a package importing its own submodules is no edge."""
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        targets = set()
        for imported in imported_names(tree, name, path.name == "__init__.py"):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not imported.startswith(name + "."):
                targets.add(imported)
        graph[name] = targets
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The import cycles of `graph`: strongly connected groups of two or more modules."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


# -- the core and the worker load no Flask -----------------------------------------------------

LOADED_WEB_MODULES = """
import importlib, json, pkgutil, sys
import core, core.aws.backend, core.services.voting, core.services.worker, worker
for info in pkgutil.walk_packages(core.__path__, "core."):
    importlib.import_module(info.name)
web = sorted(m for m in sys.modules if m.split(".")[0].startswith(("flask", "werkzeug")))
core_modules = sorted(m for m in sys.modules if m == "core" or m.startswith("core."))
print(json.dumps({"web": web, "core": core_modules}))
"""


def test_importing_the_core_and_the_worker_loads_no_flask_module():
    done = subprocess.run(
        [sys.executable, "-c", LOADED_WEB_MODULES],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout)
    assert loaded["web"] == []
    # Every core module was really imported (the walk found them all).
    expected = {n for n in product_modules() if n == "core" or n.startswith("core.")}
    assert expected <= set(loaded["core"])
    assert {"core.services.worker", "core.aws.batch", "core.services.voting"} <= expected


def test_the_web_layer_is_the_only_importer_of_flask():
    modules = product_modules()
    importers = {
        name: sorted(found)
        for name, path in modules.items()
        if not name.startswith(("webapp.", "local.")) and name not in ("webapp", "local")
        if (found := flask_imports(path.read_text(encoding="utf-8"), name))
    }
    assert importers == {}
    # The scan does see Flask where it is imported.
    assert flask_imports((ROOT / "webapp" / "__init__.py").read_text(), "webapp")


def test_the_core_imports_neither_the_web_layer_nor_local_tooling():
    graph = import_graph(product_modules())
    backwards = {
        name: sorted(t for t in targets if t.split(".")[0] in ("webapp", "local", "worker"))
        for name, targets in graph.items()
        if name.split(".")[0] == "core"
    }
    assert {name: found for name, found in backwards.items() if found} == {}


def test_flask_scan_finds_every_spelling():
    source = "import flask\nfrom flask_wtf import CSRFProtect\nfrom werkzeug.exceptions import X\n"
    assert flask_imports(source) == {
        "flask",
        "flask_wtf",
        "flask_wtf.CSRFProtect",
        "werkzeug.exceptions",
        "werkzeug.exceptions.X",
    }
    assert flask_imports("import json\nfrom core.services.voting import Voting\n") == set()


# -- views go through the Voting service -------------------------------------------------------


def test_views_reach_the_store_and_queue_only_through_service_methods():
    views = sorted((ROOT / "webapp").rglob("*.py"))
    assert {p.name for p in views} >= ADAPTER_USERS | {"topics.py", "topic_pages.py", "events.py"}
    offenders = {
        path.name: uses
        for path in views
        if path.name not in ADAPTER_USERS
        if (uses := adapter_uses(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_adapter_scan_catches_a_view_reaching_around_the_service():
    view = (
        "def vote(vote_id):\n"
        "    voting = services.voting()\n"
        "    record = voting.store.get_vote(vote_id)\n"
        "    services.backend().queue.send({})\n"
        "    return voting.vote(vote_id)\n"
    )
    assert adapter_uses(view) == ["3: .store", "4: .queue", "4: .backend"]
    # Names that merely start like an adapter are not adapters.
    assert adapter_uses("settings.queue_name\nsettings.table_prefix\n") == []


# -- no import cycles --------------------------------------------------------------------------


def test_no_import_cycles_among_product_modules():
    modules = product_modules()
    assert {"core.services.worker", "core.aws.store", "webapp.api.topics", "worker"} <= set(modules)
    assert cycles(import_graph(modules)) == []


def test_cycle_check_finds_a_cycle_and_ignores_a_package_importing_its_own_parts():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []
    # Relative imports resolve against the package: core.aws.batch's "from .codec import ..."
    tree = ast.parse("from .codec import slot\nfrom ..rules.topics import UNLIMITED\n")
    names = imported_names(tree, "core.aws.batch", is_package=False)
    assert {"core.aws.codec", "core.rules.topics"} <= names


# -- one way down the layers ------------------------------------------------------------------


def test_no_import_runs_back_up_a_layer():
    modules = product_modules()
    # Every layer has modules, so the rule is checked where it matters.
    assert {layer_of(m) for m in modules} >= set(LAYERS)
    assert imports_up(import_graph(modules)) == {}


def test_the_layer_check_catches_each_way_back_up():
    graph = {
        "core.rules.game": {"core.aws.codec"},  # rules reading the store's format
        "core.schemas.events": {"core.services.events"},  # a schema reaching for a service
        "core.aws.store": {"core.schemas.topics"},
        "webapp.audience.topic_pages": {"core.aws.errors", "core.services.voting"},
        "core.services.voting": {"webapp.services"},
        "local.launcher": {"webapp", "core.aws.tables"},  # local tooling may use anything
        "core.rules.topics": {"core.rules.clock"},
    }
    assert imports_up(graph) == {
        "core.rules.game": ["core.aws.codec"],
        "core.schemas.events": ["core.services.events"],
        "core.aws.store": ["core.schemas.topics"],
        "webapp.audience.topic_pages": ["core.aws.errors"],
        "core.services.voting": ["webapp.services"],
    }
