"""Load a function defined in a notebook, to test an exercise's check without a kernel.

The notebook's code cells are executed in order, up to the one that defines the name, in a
fresh namespace; cells that call a check (`.check(`, `.hint(`, `.solution(`) and cells that
only IPython can run (top-level `await`, magics) are passed over. So the solution (from
solutions/) and the stub (from the generated exercises/) are exactly what the learner sees.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path
from typing import Any

import nbformat

ROOT = Path(__file__).resolve().parents[1]
CHECKER_CALL = re.compile(r"\.(check|hint|solution)\(")


def _defines(tree: ast.Module, name: str) -> bool:
    kinds = ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    return any(isinstance(node, kinds) and node.name == name for node in tree.body)


def load(folder: str, notebook: str, name: str) -> Any:
    """The object `name` as defined in `folder/notebook` (e.g. "solutions", "01-x.ipynb")."""
    path = ROOT / folder / notebook
    namespace: dict[str, Any] = {"__name__": f"notebook_{path.stem.replace('-', '_')}"}
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type != "code" or CHECKER_CALL.search(cell.source):
            continue
        try:
            code = compile(cell.source, str(path), "exec")
        except SyntaxError:
            continue
        with contextlib.redirect_stdout(io.StringIO()):
            exec(code, namespace)
        if _defines(ast.parse(cell.source), name):
            return namespace[name]
    raise LookupError(f"{folder}/{notebook} defines no {name!r}")
