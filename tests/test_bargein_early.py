"""A reply talked over in its first moments is stopped: the person's first word 0.4 s after the reply's first sound
(a question said right after the one being answered), in the looped room at full echo level, through
scripts/bargein_room.py as `listen` runs barge-in (the capture bus, echo cancellation, the watcher).

The old watcher learned its echo level over each reply's first second and could not stop the reply meanwhile; the
person's voice was learned as echo, the bar rose to their own level and the reply played on: talked over at 0.2-0.6 s,
no reply of 12 was stopped (6 at full echo, 6 at half), against all but one with the learning that leaves out the
first 180 ms and learns only from frames that do not count towards stopping the reply."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from .conftest import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.audio]


def test_a_reply_talked_over_in_its_first_moments_is_stopped() -> None:
    room = [sys.executable, str(ROOT / "scripts" / "bargein_room.py")]
    result = subprocess.run(
        [*room, "--replies", "1", "--talk-over", "3", "--talk-at", "0.4"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    summary = re.search(r"self-interruptions (\d+)/1 replies; talk-overs caught (\d+)/3", result.stdout)
    assert summary, result.stdout + result.stderr[-2000:]
    interrupted, caught = map(int, summary.groups())
    assert interrupted == 0 and caught >= 2, result.stdout
