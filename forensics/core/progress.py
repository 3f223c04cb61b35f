"""A terminal progress bar driven by the same progress(done, total, message) callback as jobs."""

from __future__ import annotations

import time
from typing import Any


class TerminalProgress:
    """Draws a one-line bar on a terminal; silent when the stream is not a terminal."""

    def __init__(self, stream: Any, label: str = "", width: int = 30) -> None:
        self.stream = stream
        self.label = label
        self.width = width
        # Management commands hand us an OutputWrapper; its terminal is ``_out``.
        isatty = getattr(getattr(stream, "_out", stream), "isatty", None)
        self.enabled = bool(isatty and isatty())
        self._last = 0.0
        self._drawn = False

    def __call__(self, done: int, total: int, message: str = "") -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        frac = min(1.0, done / total) if total else 0.0
        bar = "#" * int(frac * self.width)
        self._emit(f"\r{self.label[:40]:40} [{bar:<{self.width}}] {frac:6.1%}")
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._emit("\r" + " " * (self.width + 52) + "\r")
            self._drawn = False

    def _emit(self, text: str) -> None:
        # OutputWrapper.write appends a newline unless told otherwise; a bar must not.
        if hasattr(self.stream, "style_func"):
            self.stream.write(text, ending="")
        else:
            self.stream.write(text)
        self.stream.flush()
