"""An import-linter contract type of our own: no app imports another app's private names.

import-linter's own contracts see which modules import which; they cannot see *what* is imported. An
underscore name is a module's own business, so reaching for one from another app couples the two apps
to a detail either may change; where another app needs it, it gets a public name. The contract reads
each module's source with `ast`, so imports spread over several lines are seen whole."""

from __future__ import annotations

import ast
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import grimp
from importlinter import Contract, ContractCheck, fields, output


@dataclass(frozen=True)
class PrivateImport:
    importer: str
    line: int
    target: str


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _source(module: str) -> Path | None:
    """The module's file, found without importing anything (importing an app's package would need
    Django's settings)."""
    top, *rest = module.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not spec.submodule_search_locations:
        return None
    base = Path(next(iter(spec.submodule_search_locations))).joinpath(*rest)
    for candidate in (base / "__init__.py", base.with_suffix(".py")):
        if candidate.is_file():
            return candidate
    return None


def _absolute(module: str, node: ast.ImportFrom, is_package: bool) -> str:
    if not node.level:
        return node.module or ""
    parts = module.split(".")
    base = parts if is_package else parts[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def private_imports(module: str, apps: set[str]) -> list[PrivateImport]:
    """The imports in `module` of another app's private module or name (`apps`: the top-level apps)."""
    path = _source(module)
    if path is None:
        return []
    own = module.split(".")[0]
    found: list[PrivateImport] = []
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Import | ast.ImportFrom):
            continue
        targets: list[tuple[str, list[str]]] = []
        if isinstance(node, ast.ImportFrom):
            source = _absolute(module, node, path.name == "__init__.py")
            targets.append((source, [alias.name for alias in node.names]))
        else:
            targets.extend((alias.name, []) for alias in node.names)
        for source, names in targets:
            app = source.split(".")[0]
            if app == own or app not in apps:
                continue
            parts = source.split(".")
            private = [".".join(parts[: at + 1]) for at, part in enumerate(parts) if _private(part)]
            private += [f"{source}.{name}" for name in names if _private(name)]
            found.extend(PrivateImport(module, node.lineno, target) for target in private)
    return found


class PrivateNamesContract(Contract):
    """Modules of `apps` import no underscore-named module or name of another of `apps`.

    Configuration options:
        - apps: the top-level packages (apps) to check, each against all the others."""

    type_name = "private names"

    apps = fields.ListField(subfield=fields.StringField())

    def check(self, graph: grimp.ImportGraph, verbose: bool) -> ContractCheck:
        apps = {str(app) for app in self.apps}  # type: ignore[attr-defined]
        violations = [
            found
            for module in sorted(graph.modules)
            if module.split(".")[0] in apps
            for found in private_imports(module, apps)
        ]
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            output.print_error(
                f"{violation.importer} (l.{violation.line}) imports the private {violation.target}",
                bold=False,
            )
            output.new_line()
