"""A small text progress bar for sweeps (points done/total, failures, elapsed time, ETA)."""
from __future__ import annotations

import sys
import time
from typing import TextIO


def _clock(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "--:--"
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """Progress of a sweep, drawn on ``stream`` (stderr by default).

    On a terminal the bar is redrawn in place; otherwise (log files, CI) a line is printed at most
    every ``interval`` seconds and at the end.  The ETA extrapolates the rate of points finished in
    this run (points skipped because they were already finished do not count).

    Parameters
    ----------
    total : int
        Points in the sweep.
    skipped : int
        Points already finished before this run.
    stream : file or None
        Where to draw; ``None`` draws nothing.
    interval : float
        Seconds between lines when ``stream`` is not a terminal.
    """

    def __init__(self, total: int, skipped: int = 0, stream: TextIO | None = sys.stderr,
                 interval: float = 10.0, width: int = 28):
        self.total, self.skipped = total, skipped
        self.done, self.failed = skipped, 0
        self.stream, self.interval, self.width = stream, interval, width
        self.t0 = time.monotonic()
        self._last = -float("inf")
        self._tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self.draw(force=True)

    def eta(self) -> float:
        """Seconds left at this run's rate (NaN before the first point of the run finishes)."""
        ran = self.done - self.skipped
        if ran <= 0:
            return float("nan")
        return (time.monotonic() - self.t0) / ran * (self.total - self.done)

    def line(self) -> str:
        frac = self.done / self.total if self.total else 1.0
        filled = int(round(frac * self.width))
        bar = "#" * filled + "." * (self.width - filled)
        text = f"[{bar}] {self.done}/{self.total} points"
        if self.skipped:
            text += f" ({self.skipped} resumed)"
        text += f", {self.failed} failed, elapsed {_clock(time.monotonic() - self.t0)}"
        text += f", ETA {_clock(self.eta())}" if self.done < self.total else ""
        return text

    def update(self, ok: bool = True) -> None:
        """Count one finished point (``ok=False`` for a failed one) and redraw."""
        self.done += 1
        self.failed += 0 if ok else 1
        self.draw(force=self.done == self.total)

    def draw(self, force: bool = False) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        if self._tty:
            self.stream.write("\r" + self.line() + ("\n" if self.done == self.total else ""))
        elif force or now - self._last >= self.interval:
            self.stream.write(self.line() + "\n")
        else:
            return
        self._last = now
        self.stream.flush()

    def close(self) -> None:
        """Finish the line (after an interruption the bar stays where it stopped)."""
        if self.stream is not None and self._tty and self.done < self.total:
            self.stream.write("\n")
            self.stream.flush()
