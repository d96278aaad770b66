"""The Textual app: screens, widgets and styles. Reads and writes only through ``storage``."""

from .app import PipetrackApp, run

__all__ = ["PipetrackApp", "run"]
