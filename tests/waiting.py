"""One helper for tests that wait for another thread: poll a condition until it holds or a timeout fails the test."""

import time


def wait_until(condition, timeout: float = 10.0, poll: float = 0.005):
    """Return as soon as ``condition()`` is true; fail the test (AssertionError) after ``timeout`` seconds."""
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out"
        time.sleep(poll)
