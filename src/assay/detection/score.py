"""From signals to a score and a verdict: a logistic model whose every term is a signal,
so the reasons for a score are exactly its terms.

The weights and thresholds are fitted on generated, labelled marketplaces
(`bench/calibrate.py`) and shipped in `weights.json`; docs/detection.md says how."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources

INFRINGING = "infringing"
SUSPECT = "suspect"


@dataclass(frozen=True)
class Evidence:
    """One observation about a listing and a brand: a feature of the model, and its reason."""

    feature: str
    detail: str


@dataclass(frozen=True)
class Signal:
    kind: str
    detail: str
    weight: float

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind, "detail": self.detail, "weight": round(self.weight, 3)}


@dataclass(frozen=True)
class Model:
    bias: float
    weights: dict[str, float]
    infringing_at: float
    suspect_at: float

    @classmethod
    def shipped(cls) -> Model:
        data = json.loads(resources.files("assay.detection").joinpath("weights.json").read_text())
        return cls(data["bias"], data["weights"], data["thresholds"]["infringing"], data["thresholds"]["suspect"])

    def score(self, evidence: Iterable[Evidence]) -> tuple[float, tuple[Signal, ...]]:
        """The probability that the listing infringes this brand's rights, and the signals behind it,
        strongest first. Each signal's weight is its term in the log-odds."""
        signals = tuple(sorted(
            (Signal(e.feature, e.detail, self.weights.get(e.feature, 0.0)) for e in evidence),
            key=lambda s: (-abs(s.weight), s.kind)))
        logit = self.bias + sum(s.weight for s in signals)
        return 1.0 / (1.0 + math.exp(-logit)), signals

    def verdict(self, score: float) -> str | None:
        if score >= self.infringing_at:
            return INFRINGING
        if score >= self.suspect_at:
            return SUSPECT
        return None
