"""What a billing format is: the columns that identify it, the ones it needs, and its row mapping."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from collector.billing.values import Row, column_key
from collector.records import CostRecord

FormatName = str  # "focus", "aws_cur", "azure_export", "gcp_export"


@dataclass(frozen=True)
class BillingFormat:
    """A billing file format. `required` lists columns as alternatives ("Date|UsageDate": either will do)."""

    name: FormatName
    title: str
    required: tuple[str, ...]
    markers: tuple[str, ...]  # columns only this format has; any one of them suggests it
    to_record: Callable[[Row], CostRecord]

    def missing(self, header: Iterable[str]) -> list[str]:
        """The required columns (or alternatives) absent from header."""
        keys = {column_key(h) for h in header}
        return [need for need in self.required if not any(column_key(alt) in keys for alt in need.split("|"))]

    def score(self, header: Iterable[str]) -> int:
        """How much header looks like this format: marker columns found, plus required columns found."""
        keys = {column_key(h) for h in header}
        markers = sum(column_key(m) in keys for m in self.markers)
        return 0 if not markers else markers + len(self.required) - len(self.missing(header))
