"""How far a segment can be trusted: its stability under resampling (Hennig, 2007).

The accounts are drawn with replacement, the same method re-run on each resample, and
each original segment compared with the most similar resampled segment by the Jaccard
similarity |A and B| / |A or B| (repeated draws counted, as ``fpc::clusterboot`` does);
a segment's stability is the mean over the resamples. Hennig's guidance: below 0.6 a
segment should not be trusted; 0.6-0.75 it indicates a pattern, but which accounts
belong to it is doubtful; 0.75 or more it is valid and stable; 0.85 or more, highly
stable.

Hennig, C. (2007). Cluster-wise assessment of cluster stability. Computational
Statistics & Data Analysis, 52(1), 258-271. https://doi.org/10.1016/j.csda.2006.11.025
"""

from __future__ import annotations

import numpy as np

UNSTABLE_BELOW = 0.6
"""Hennig's (2007) threshold: segments with a lower mean Jaccard similarity are unstable."""


def best_jaccard(reference: np.ndarray, boot: np.ndarray, k: int) -> np.ndarray:
    """Per reference cluster, the largest Jaccard similarity with any bootstrap cluster.

    Points count with their multiplicity in the resample; a cluster absent from the
    resample scores 0 (Hennig's ``zerobyzero = 0``).
    """
    kb = int(boot.max()) + 1
    inter = np.bincount(reference * kb + boot, minlength=k * kb).reshape(k, kb)
    union = inter.sum(axis=1)[:, None] + inter.sum(axis=0)[None, :] - inter
    with np.errstate(invalid="ignore", divide="ignore"):
        jaccard = np.where(union > 0, inter / union, 0.0)
    return jaccard.max(axis=1)
