"""From named flows to file names: which flows get a file, and the rule a name must follow.

Writing the files into the out directory is ``_output``'s job.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final

from minivoice_flow._cli._discover import Found
from minivoice_flow._cli._report import Problem
from minivoice_flow._fields import describe
from minivoice_flow._flow import Flow

#: A flow's name as a file name: portable, no path separators, no hidden files, no "..".
SAFE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
SAFE_NAME_RULE: Final = (
    'a name must start with a letter or digit and hold only letters, digits, ".", "_" and '
    '"-", at most 100 characters, with no ".."'
)
SUFFIX: Final = ".json"


def is_safe_name(name: str) -> bool:
    return SAFE_NAME.fullmatch(name) is not None and ".." not in name


def distinct(found: Iterable[Found]) -> list[Found]:
    """Each flow once, where it was first found.

    A flow bound to several module-level names, or equal flows made in several modules (a
    module imported by a sibling as well as by the build), is one flow.
    """
    first: dict[Flow, Found] = {}
    for item in found:
        first.setdefault(item.flow, item)
    return list(first.values())


def select(
    flows: Iterable[Found], locate: Callable[[Found], str]
) -> tuple[dict[str, Found], list[Problem]]:
    """The flows that get a file, by name, and a problem for each name that cannot have one.

    ``flows`` are distinct. Two of them with one name, a name that is not a safe file name,
    and names that differ only in case (one file on a case-insensitive file system) are
    problems, located with ``locate``.
    """
    by_name: dict[str, list[Found]] = {}
    for item in flows:
        assert item.flow.name is not None  # discovery keeps only named flows
        by_name.setdefault(item.flow.name, []).append(item)
    chosen: dict[str, Found] = {}
    problems = []
    for name, group in by_name.items():
        if len(group) > 1:
            message = (
                f"{len(group)} different flows are named {describe(name)}: "
                f"{_places(group, locate)}; give each its own name"
            )
            problems.append(Problem(locate(group[0]), message))
        elif not is_safe_name(name):
            message = (
                f"the flow name {describe(name)} ({group[0].attribute}) cannot be a file name: "
                f"{SAFE_NAME_RULE}"
            )
            problems.append(Problem(locate(group[0]), message))
        else:
            chosen[name] = group[0]
    problems.extend(_case_clashes(chosen, locate))
    return chosen, problems


def _case_clashes(chosen: dict[str, Found], locate: Callable[[Found], str]) -> list[Problem]:
    """Names that differ only in case; they are removed from ``chosen``."""
    folded: dict[str, list[str]] = {}
    for name in chosen:
        folded.setdefault(name.casefold(), []).append(name)
    problems = []
    for names in folded.values():
        if len(names) > 1:
            group = [chosen.pop(name) for name in names]
            shown = ", ".join(describe(name) for name in names)
            message = (
                f"the flow names {shown} differ only in case, so they would be one file on a "
                f"case-insensitive file system: {_places(group, locate)}"
            )
            problems.append(Problem(locate(group[0]), message))
    return problems


def _places(group: Iterable[Found], locate: Callable[[Found], str]) -> str:
    return ", ".join(f"{item.attribute} ({locate(item)})" for item in group)


def file_name(flow_name: str) -> str:
    return flow_name + SUFFIX


def is_flow_file(name: str) -> bool:
    """Whether ``name`` is a file name the build could give a flow."""
    return name.endswith(SUFFIX) and is_safe_name(name.removesuffix(SUFFIX))
