"""A catalogue with one field more, standing in for an edit of ``_actions.py`` in tests.

``Play`` gains ``volume`` (the subclass keeps the name ``Play``, as the edited class would),
defined exactly as a real field would be (attrs field, validator,
``FieldSpec`` in its metadata). ``install_volume`` also makes the builder and the wire format
use the extended class, as they would after a real edit.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from attrs import field, frozen

from minivoice_flow import Flow, _wire
from minivoice_flow import Play as RealPlay
from minivoice_flow._actions import CATALOGUE, ActionInfo, FieldInfo, _defined_by
from minivoice_flow._fields import FieldSpec
from minivoice_flow._flow import _builder_method

VOLUME = FieldSpec(
    "integer", "Loudness relative to the recording.", minimum=-6, maximum=6, unit="dB"
)


@frozen
class Play(RealPlay):
    """Play an audio file to the call, then continue."""

    volume: int | None = field(default=None, kw_only=True, **_defined_by(VOLUME))


def extended_catalogue() -> tuple[ActionInfo, ...]:
    """The real catalogue with ``play`` given the extra field."""
    volume = FieldInfo("volume", required=False, annotation="int | None", spec=VOLUME)
    return tuple(
        info._replace(type=Play, fields=(*info.fields, volume)) if info.kind == "play" else info
        for info in CATALOGUE
    )


@contextmanager
def install_volume(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Make ``Flow.play`` build ``Play`` and the wire format know it, for one test."""
    with monkeypatch.context() as patch:
        patch.setattr(Flow, "play", _builder_method(Play))
        fields = [(f.name, f.spec.json_type) for f in extended_catalogue()[0].fields]
        patch.setitem(_wire._PLANS, Play, _wire._plan("play", fields))
        yield
