"""Fixtures of the client unit tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from scripted import Script, ScriptedServer


@pytest.fixture
def server() -> Iterator[Callable[..., ScriptedServer]]:
    made: list[ScriptedServer] = []

    def make(*scripts: Script) -> ScriptedServer:
        made.append(ScriptedServer(list(scripts)))
        return made[-1]

    yield make
    for s in made:
        s.close()
