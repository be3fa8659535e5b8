"""The progress bar of a sweep (points done/total, failures, elapsed time, ETA), drawn by tqdm."""

from __future__ import annotations

import sys
import time
from typing import TextIO

from tqdm import tqdm


def _clock(seconds: float) -> str:
    if seconds != seconds or seconds == float("inf"):
        return "--:--"
    return tqdm.format_interval(seconds)


class Progress:
    """Progress of a sweep, drawn on ``stream`` (stderr by default) by ``tqdm``.

    On a terminal the bar is redrawn in place at most 10 times a second; otherwise (log files,
    CI) at most every ``interval`` seconds, and always at the end.  The ETA extrapolates the rate
    of points finished in this run (points skipped because they were already finished do not
    count).

    Parameters
    ----------
    total : int
        Points in the sweep.
    skipped : int, default 0
        Points already finished before this run.
    stream : file or None, default sys.stderr
        Where to draw; ``None`` draws nothing.
    interval : float, default 10.0
        Seconds between redraws when ``stream`` is not a terminal.
    width : int, default 28
        Characters of the bar itself.
    """

    def __init__(
        self,
        total: int,
        skipped: int = 0,
        stream: TextIO | None = sys.stderr,
        interval: float = 10.0,
        width: int = 28,
    ):
        self.total, self.skipped = total, skipped
        self.done, self.failed = skipped, 0
        self.stream, self.interval, self.width = stream, interval, width
        self.t0 = time.monotonic()
        tty = bool(stream is not None and getattr(stream, "isatty", lambda: False)())
        self._bar = (
            None
            if stream is None
            else tqdm(
                total=total,
                initial=skipped,
                file=stream,
                desc=self.line(),
                ascii=".#",
                bar_format="[{bar:%d}] {desc}" % width,
                mininterval=0.1 if tty else interval,
                dynamic_ncols=False,
                leave=True,
            )
        )

    def eta(self) -> float:
        """Seconds left at this run's rate (NaN before the first point of the run finishes)."""
        ran = self.done - self.skipped
        if ran <= 0:
            return float("nan")
        return (time.monotonic() - self.t0) / ran * (self.total - self.done)

    def line(self) -> str:
        """The text after the bar: points done, resumed and failed, elapsed time and ETA."""
        text = f"{self.done}/{self.total} points"
        if self.skipped:
            text += f" ({self.skipped} resumed)"
        text += f", {self.failed} failed, elapsed {_clock(time.monotonic() - self.t0)}"
        text += f", ETA {_clock(self.eta())}" if self.done < self.total else ""
        return text

    def update(self, ok: bool = True) -> None:
        """Count one finished point (``ok=False`` for a failed one) and redraw.

        Parameters
        ----------
        ok : bool, default True
            Whether the point succeeded.
        """
        self.done += 1
        self.failed += 0 if ok else 1
        if self._bar is not None:
            self._bar.set_description_str(self.line(), refresh=False)
            self._bar.update(1)
            if self.done == self.total:
                self._bar.refresh()

    def close(self) -> None:
        """Finish the line (after an interruption the bar stays where it stopped)."""
        if self._bar is not None:
            self._bar.set_description_str(self.line(), refresh=False)
            self._bar.close()
            self._bar = None
