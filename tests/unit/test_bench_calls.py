"""The benchmarks call their shared Lab (bench/common.py) only as it is defined today.

`make bench` runs outside `make test`, so a changed signature (the web process's thread
count went with the gevent server) would otherwise break a benchmark unseen until the
next bench run: bench/quiz.py still passed `threads=` to Lab.web.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

from bench.common import Lab

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_every_call_of_the_lab_passes_only_what_its_methods_take():
    wrong = []
    for script in sorted(BENCH.glob("*.py")):
        for node in ast.walk(ast.parse(script.read_text(), str(script))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and isinstance(node.func.value, ast.Name) and node.func.value.id == "lab"):
                continue  # fmt: skip
            method = getattr(Lab, node.func.attr, None)
            if method is None:
                wrong.append(f"{script.name}:{node.lineno}: Lab has no {node.func.attr}")
                continue
            taken = inspect.signature(method).parameters
            takes_any = any(p.kind is p.VAR_KEYWORD for p in taken.values())
            for keyword in node.keywords:
                if keyword.arg is not None and keyword.arg not in taken and not takes_any:
                    wrong.append(f"{script.name}:{node.lineno}: lab.{node.func.attr}"
                                 f"({keyword.arg}=...) is not taken")  # fmt: skip
    assert wrong == []
