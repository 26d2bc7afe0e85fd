"""What the app imports, it installs. A package that only the test tools bring in works in
`make test` and fails in `make run` on a fresh machine (as requests once did)."""

import ast
import sys
from importlib.metadata import PackageNotFoundError, packages_distributions, requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PACKAGE = Path(__file__).resolve().parent.parent / "sharing"


def installed_with_the_app() -> set[str]:
    """Our distribution's requirements and theirs, as far as they reach (the extras asked for)."""
    found: set[str] = set()
    waiting = [("sharing", frozenset[str]())]
    while waiting:
        name, extras = waiting.pop()
        try:
            wanted = requires(name) or []
        except PackageNotFoundError:  # an optional dependency not installed here
            continue
        for line in wanted:
            requirement = Requirement(line)
            if requirement.marker and not any(requirement.marker.evaluate({"extra": extra})
                                              for extra in extras | {""}):
                continue  # the test tools (extra "dev"), or another platform's
            key = canonicalize_name(requirement.name)
            if key not in found:
                found.add(key)
                waiting.append((requirement.name, frozenset(requirement.extras)))
    return found


def imported_by_the_app() -> dict[str, Path]:
    """The top-level modules the package imports that are neither its own nor the standard library's."""
    modules: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "sharing" and top not in sys.stdlib_module_names:
                    modules.setdefault(top, path)
    return modules


def test_every_package_the_app_imports_is_installed_with_it():
    installed = installed_with_the_app()
    providers = packages_distributions()
    missing = {module: str(path.relative_to(PACKAGE.parent)) for module, path in imported_by_the_app().items()
               if not {canonicalize_name(dist) for dist in providers.get(module, [])} & installed}
    assert not missing, f"imported but not required by setup.cfg's install_requires: {missing}"
