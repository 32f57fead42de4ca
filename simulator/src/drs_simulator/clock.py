"""Simulated time: a clock that runs ``speed`` times faster than the wall clock and can be advanced."""

from __future__ import annotations

import threading
import time


class SimulatedClock:
    """Simulated epoch seconds.

    ``now()`` = the epoch time at which the clock started + real seconds elapsed * ``speed`` + every
    manual ``advance()``. ``speed`` 0 freezes the clock: it then moves only through ``advance()``.
    """

    def __init__(self, speed: float = 1.0, start: float | None = None) -> None:
        if speed < 0:
            raise ValueError(f"speed must be >= 0, got {speed}")
        self._lock = threading.Lock()
        self._speed = float(speed)
        self._anchor_sim = time.time() if start is None else float(start)
        self._anchor_real = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> float:
        with self._lock:
            return self._anchor_sim + (time.monotonic() - self._anchor_real) * self._speed

    def advance(self, seconds: float) -> float:
        """Move simulated time forward by ``seconds``; returns the new simulated time."""
        if seconds < 0:
            raise ValueError(f"cannot move the clock backwards ({seconds} s)")
        with self._lock:
            self._anchor_sim += float(seconds)
            return self._anchor_sim + (time.monotonic() - self._anchor_real) * self._speed

    def set_speed(self, speed: float) -> None:
        """Change the speed from now on, without a jump in simulated time."""
        if speed < 0:
            raise ValueError(f"speed must be >= 0, got {speed}")
        with self._lock:
            real = time.monotonic()
            self._anchor_sim += (real - self._anchor_real) * self._speed
            self._anchor_real = real
            self._speed = float(speed)

    def real_seconds_for(self, simulated_seconds: float) -> float | None:
        """Real seconds needed for ``simulated_seconds`` to pass (None when the clock is frozen)."""
        if self._speed == 0:
            return None
        return simulated_seconds / self._speed
