"""Progress helpers shared by the CLI and the GUI."""

import math

from adcopy_desktop.core.progress import CancelToken, format_duration


def test_durations_read_as_people_say_them():
    assert format_duration(44.6) == "45 s"
    assert format_duration(185) == "3 min 05 s"
    assert format_duration(3720) == "1 h 02 min"
    assert [format_duration(v) for v in (None, math.nan, -1.0)] == ["–", "–", "–"]


def test_cancel_token_is_seen_once_set():
    token = CancelToken()
    assert not token.cancelled
    token.cancel()
    assert token.cancelled
