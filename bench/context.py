"""What a benchmark is handed: the size switch, the run's PostgreSQL, earlier reports."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .env import Cluster
from .harness import RESULTS_DIR, Report


@dataclass
class Context:
    quick: bool
    cluster: Cluster
    results: Path = RESULTS_DIR
    reports: dict[str, Report] = field(default_factory=dict)

    def size(self, full: int) -> int:
        """A workload's size: as the issue states it, or a tenth with ``--quick``."""
        return max(1, full // 10) if self.quick else full

    def limit(self, full_s: float, quick_s: float) -> float:
        """Time allowed for one measured step; past it the step is stopped and projected."""
        return quick_s if self.quick else full_s
