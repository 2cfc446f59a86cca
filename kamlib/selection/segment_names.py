"""Segment names in business words: 'large, costly to serve', not 'segment 3'.

A segment is named by its 2 most distinctive features (3 when two segments would
otherwise share a name): those whose segment mean lies furthest from the overall mean in
the standardised space. Each gives its "low" or "high" word from a vocabulary
(:data:`DEFAULT_VOCABULARY`, extendable per call) by whether the segment's median lies
below or above the overall median; a feature whose mean and median point in different
directions is not used. Unknown features read "low <feature>" / "high <feature>". Names
are unique: if two still coincide, " (segment <n>)" is added.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from kamlib.words.catalogue import N_, _
from kamlib.words.labels import label

DEFAULT_VOCABULARY: dict[str, tuple[str, str]] = {
    "net_revenue": (N_("small"), N_("large")),
    "net_revenue_growth": (N_("declining"), N_("growing")),
    "lifetime_value": (N_("low lifetime value"), N_("high lifetime value")),
    "net_margin": (N_("thin-margin"), N_("profitable")),
    "cost_to_serve_ratio": (N_("cheap to serve"), N_("costly to serve")),
    "share_of_wallet": (N_("low share of wallet"), N_("high share of wallet")),
    "strategic_fit": (N_("low strategic fit"), N_("high strategic fit")),
    "growth_potential": (N_("low growth potential"), N_("high growth potential")),
    "relationship_years": (N_("new"), N_("long-standing")),
    "product_lines": (N_("narrow"), N_("broad")),
}
"""Words for a segment whose median lies (below, above) the overall median, per feature,
in English; looked up in the catalogue when a segment is named."""
NAME_WORDS = 2
"""Words per segment name; one more is used when two names would otherwise coincide."""


def deviations(Z: np.ndarray, labels: np.ndarray, k: int, columns: pd.Index) -> pd.DataFrame:
    """Segment means of the standardised features: deviations from the overall mean in SDs."""
    counts = np.bincount(labels, minlength=k)
    sums = np.column_stack([np.bincount(labels, weights=Z[:, j], minlength=k)
                            for j in range(Z.shape[1])])
    with np.errstate(invalid="ignore", divide="ignore"):
        means = sums / counts[:, None]
    return pd.DataFrame(means, index=pd.RangeIndex(k, name="segment"), columns=columns)


def _words(feature: str, vocabulary: Mapping[str, tuple[str, str]]) -> tuple[str, str]:
    """The (low, high) words of a feature: the vocabulary's, or 'low <feature>'."""
    if feature in vocabulary:
        low, high = vocabulary[feature]
        return _(low), _(high)
    name = label(str(feature)).lower()
    return _("low {feature}").format(feature=name), _("high {feature}").format(feature=name)


def _ranked_words(deviation: pd.Series, median: pd.Series, overall: pd.Series,
                  vocabulary: Mapping[str, tuple[str, str]]) -> list[str]:
    """Words for one segment, most distinctive feature first."""
    direction = np.sign(median - overall)
    direction = direction.where(direction != 0, np.sign(deviation))
    usable = (direction == np.sign(deviation)) & (deviation != 0) & deviation.notna()
    ranked = deviation[usable].abs().sort_values(ascending=False, kind="stable").index
    return [_words(f, vocabulary)[int(direction[f] > 0)] for f in ranked]


def segment_names(deviations: pd.DataFrame, medians: pd.DataFrame, overall: pd.Series,
                   vocabulary: Mapping[str, tuple[str, str]], sizes: np.ndarray) -> list[str]:
    """Short, distinct names: 2 words, 3 where two would clash, then a segment number."""
    ranked = [_ranked_words(deviations.loc[c], medians.loc[c], overall, vocabulary)
              if sizes[c] else [] for c in deviations.index]
    length = [NAME_WORDS] * len(ranked)

    def clashes() -> list[int]:
        keys = [frozenset(words[:n]) for words, n in zip(ranked, length, strict=False)]
        return [c for c, key in enumerate(keys) if keys.count(key) > 1]

    for c in clashes():
        length[c] = NAME_WORDS + 1
    names = [", ".join(words[:n]) or (_("no accounts") if not sizes[c] else _("typical"))
             for c, (words, n) in enumerate(zip(ranked, length, strict=False))]
    still = set(clashes())
    numbered = _("{name} (segment {segment})")
    return [numbered.format(name=name, segment=c) if c in still else name
            for c, name in enumerate(names)]
