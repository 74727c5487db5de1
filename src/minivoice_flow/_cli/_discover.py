"""Finding the flows to export: import the user's modules and collect their named flows.

A PATH given to ``build`` is one of:

- a ``.py`` file: imported under a private, unique module name, so two files called
  ``menu.py`` in different directories never clash;
- a directory without ``__init__.py``: every ``*.py`` file directly in it, in name order, each
  imported as above;
- a package directory (with ``__init__.py``): imported under its own name, with every
  submodule and subpackage;
- a dotted module name (``myapp.flows``), imported as ``python -m`` would, from the working
  directory or the installed packages, with its submodules if it is a package.

While a file or directory is imported, its directory is first on ``sys.path`` (as it is for
``python file.py``), so a flow module can import a sibling by plain name. Afterwards
``sys.path`` is restored and the siblings are forgotten, so the next directory may have
modules of the same names.

What is exported from each module: every module-level ``Flow`` whose name is not None, and
the named flows returned by ``__minivoice_flows__()`` of any other module-level object whose
type defines that method (a helper that makes several related flows). A Flow without a name
is a building block, such as a shared prefix, and is not exported.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import re
import sys
import traceback
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Final

from attrs import define, field, frozen

import minivoice_flow
from minivoice_flow._cli._report import Problem, shown_path
from minivoice_flow._flow import Flow

#: A module-level object whose type has this method contributes the named flows it returns.
BUNDLE_METHOD: Final = "__minivoice_flows__"

#: Prefix of the private names user files are imported under.
_PRIVATE_PREFIX: Final = "_minivoice_flow_user_"
_DOTTED_NAME: Final = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")
_NOT_IN_NAME: Final = re.compile(r"\W")
_OWN_PACKAGE: Final = Path(minivoice_flow.__file__).resolve().parent


@frozen
class Found:
    """A named flow and where it was found."""

    flow: Flow
    #: The module's file as shown to the user, or its dotted name when it has no file.
    module: str
    #: The module-level name it is bound to (for a bundle: the bundle's name).
    binding: str
    #: How it is reached from the module: ``MENU`` or ``PATHS.__minivoice_flows__()[2]``.
    attribute: str


@frozen
class Loaded:
    """A user module that was imported, for reading its source afterwards."""

    module: ModuleType
    file: Path | None


@define
class Discovery:
    """Everything the PATHs gave: modules, named flows (in the order found) and problems."""

    modules: list[Loaded] = field(factory=list)
    flows: list[Found] = field(factory=list)
    problems: list[Problem] = field(factory=list)
    #: The objects with ``__minivoice_flows__`` (flow sets, for one), in the order found.
    bundles: list[object] = field(factory=list)


def discover(targets: Sequence[str]) -> Discovery:
    """Import every PATH (file, directory, package or module name) and collect its flows."""
    loader = _Loader()
    for target in targets:
        loader.load(target)
    return loader.found


class _Loader:
    def __init__(self) -> None:
        self.found = Discovery()
        self._seen: set[Path] = set()
        self._count = 0

    def load(self, target: str) -> None:
        path = Path(target)
        if path.is_file():
            if path.suffix != ".py":
                self._problem(target, "not a Python file (.py), a directory or a module name")
                return
            with _importing_from(path.resolve().parent):
                self._load_file(path)
        elif path.is_dir():
            if (path / "__init__.py").is_file():
                self._load_package_directory(path)
            else:
                self._load_directory(path)
        elif _DOTTED_NAME.fullmatch(target) and not target.endswith(".py"):
            self._load_module_name(target)
        else:
            self._problem(target, "no such file or directory")

    def _load_directory(self, directory: Path) -> None:
        files = sorted(p for p in directory.glob("*.py") if p.is_file())
        if not files:
            self._problem(str(directory), "the directory holds no Python modules (*.py)")
            return
        with _importing_from(directory.resolve()):
            for file in files:
                self._load_file(file)

    def _load_file(self, file: Path) -> None:
        resolved = file.resolve()
        if resolved in self._seen:
            return
        self._seen.add(resolved)
        self._count += 1
        name = f"{_PRIVATE_PREFIX}{self._count}_{_NOT_IN_NAME.sub('_', file.stem)}"
        shown = shown_path(file)
        spec = importlib.util.spec_from_file_location(name, file)
        if spec is None or spec.loader is None:
            self._problem(shown, "cannot be imported as a Python module")
            return
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as error:
            del sys.modules[name]
            self.found.problems.append(_import_problem(shown, error))
            return
        self._collect(module, shown, file)

    def _load_package_directory(self, directory: Path) -> None:
        resolved = directory.resolve()
        name = resolved.name
        if not name.isidentifier():
            self._problem(
                str(directory),
                f"{name!r} cannot be a package name; pass its modules' files instead",
            )
            return
        with _importing_from(resolved.parent):
            already = sys.modules.get(name)
            if already is not None and _file_of(already) != resolved / "__init__.py":
                self._problem(
                    str(directory),
                    f"a different module named {name!r} is already imported "
                    f"(from {_file_of(already) or 'a built-in'}); rename the package or pass "
                    "its modules' files",
                )
                return
            self._load_package_tree(name, shown_path(directory))

    def _load_module_name(self, name: str) -> None:
        # Like ``python -m``: the working directory comes first, then the installed packages.
        with _importing_from(Path.cwd(), forget=False):
            self._load_package_tree(name, name)

    def _load_package_tree(self, name: str, shown: str) -> None:
        """Import ``name`` and, if it is a package, every module below it."""
        module = self._import(name, shown)
        if module is None:
            return
        for info in pkgutil.iter_modules(getattr(module, "__path__", []), f"{name}."):
            self._load_package_tree(info.name, info.name)

    def _import(self, name: str, shown: str) -> ModuleType | None:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name is not None and (name + ".").startswith(error.name + "."):
                self._problem(shown, "no such file, directory or module")
            else:
                self.found.problems.append(_import_problem(shown, error))
            return None
        except (Exception, SystemExit) as error:
            self.found.problems.append(_import_problem(shown, error))
            return None
        file = _file_of(module)
        if file is not None:
            if file in self._seen:
                return module
            self._seen.add(file)
        self._collect(module, shown_path(file) if file else name, file)
        return module

    def _collect(self, module: ModuleType, shown: str, file: Path | None) -> None:
        self.found.modules.append(Loaded(module, file))
        for binding, value in list(vars(module).items()):
            if isinstance(value, Flow):
                if value.name is not None:
                    self.found.flows.append(Found(value, shown, binding, binding))
            elif callable(getattr(type(value), BUNDLE_METHOD, None)):
                self._collect_bundle(value, shown, binding)

    def _collect_bundle(self, bundle: object, shown: str, binding: str) -> None:
        if not any(bundle is known for known in self.found.bundles):
            self.found.bundles.append(bundle)
        call = f"{binding}.{BUNDLE_METHOD}()"
        try:
            items = list(getattr(bundle, BUNDLE_METHOD)())
        except Exception as error:
            self._problem(shown, f"{call} failed: {type(error).__name__}: {error}")
            return
        for index, item in enumerate(items):
            if not isinstance(item, Flow):
                self._problem(
                    shown, f"{call} gave {type(item).__name__} at position {index}; expected Flow"
                )
            elif item.name is not None:
                self.found.flows.append(Found(item, shown, binding, f"{call}[{index}]"))

    def _problem(self, where: str, message: str) -> None:
        self.found.problems.append(Problem(where, message))


@contextmanager
def _importing_from(directory: Path, *, forget: bool = True) -> Iterator[None]:
    """``directory`` first on ``sys.path`` while user code is imported, then as before.

    With ``forget``, modules imported from inside ``directory`` by plain name are dropped from
    ``sys.modules`` afterwards, so another directory's module of the same name is not
    mistaken for them. Modules imported before, and this package's own, are kept.
    """
    saved = list(sys.path)
    before = set(sys.modules)
    sys.path.insert(0, str(directory))
    try:
        yield
    finally:
        sys.path[:] = saved
        if forget:
            for name in set(sys.modules) - before:
                file = _file_of(sys.modules[name])
                if (
                    file is not None
                    and file.is_relative_to(directory)
                    and not name.startswith(_PRIVATE_PREFIX)
                    and not file.is_relative_to(_OWN_PACKAGE)
                ):
                    del sys.modules[name]


def _file_of(module: ModuleType) -> Path | None:
    file = getattr(module, "__file__", None)
    return Path(file).resolve() if isinstance(file, str) else None


def _import_problem(shown: str, error: BaseException) -> Problem:
    """The import failure of a user module, at the user's line that raised it."""
    where = shown
    if isinstance(error, SyntaxError) and error.filename:
        where = f"{shown_path(Path(error.filename))}:{error.lineno}"
    else:
        frame = _user_frame(error.__traceback__)
        if frame is not None:
            where = f"{shown_path(Path(frame.filename))}:{frame.lineno}"
    message = f"importing {shown} failed: {type(error).__name__}: {error}"
    return Problem(where, message, _traceback_lines(error))


def _traceback_lines(error: BaseException) -> tuple[str, ...]:
    """The traceback of ``error``, line by line.

    The lines of the frames and of the words between chained exceptions are lines; an
    exception's own line stays one line whatever its message holds, so a line break in the
    message cannot pass for a line of the traceback (it is escaped when printed).
    """
    lines: list[str] = []
    for chunk in traceback.format_exception(error):
        if chunk.startswith(("  File ", "Traceback ", "\n")):
            lines.extend(chunk.removesuffix("\n").split("\n"))
        else:
            lines.append(chunk.removesuffix("\n"))
    return tuple(lines)


def _user_frame(tb: TracebackType | None) -> traceback.FrameSummary | None:
    """The innermost frame in user code: not in the import machinery, not in this package."""
    frames = [
        frame
        for frame in traceback.extract_tb(tb)
        if not frame.filename.startswith("<")
        and not Path(frame.filename).resolve().is_relative_to(_OWN_PACKAGE)
    ]
    return frames[-1] if frames else None
