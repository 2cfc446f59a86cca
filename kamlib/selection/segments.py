"""Segments of accounts, with business-worded profiles and a stability figure per segment.

:class:`AccountSegmentation` groups accounts by their features (net revenue, growth,
lifetime value, cost to serve, ...) so that the key-account selection workbook can show
senior management which kinds of accounts the company has, in words rather than numbers
("large, costly to serve, declining"), and how far each group can be trusted. The
estimator is here; what it takes is in :mod:`.segment_inputs`, how segments are named in
:mod:`.segment_names`, how their stability is measured in :mod:`.segment_stability`.

What it does, in order (``fit``):

1. **Validates** ``X``: a pandas DataFrame, one row per account, numeric feature columns
   with finite values; at least three accounts that are not all identical. Problems are
   raised as :class:`SegmentationError` naming the column and row and saying what to do.
2. **Transforms** the features explicitly. Money-like columns are heavy-tailed: a few
   whales would otherwise decide the segments alone. Columns listed in ``log_features``
   go through a signed log, ``sign(x) * log1p(|x|)`` (``log1p`` for non-negative values,
   and still defined for loss-making accounts with negative net revenue). With the
   default ``log_features="auto"`` these are the columns whose sample skewness exceeds
   :data:`SKEW_THRESHOLD` in absolute value (the fitted choice is in ``log_features_``).
   Every column is then standardised (mean 0, standard deviation 1) so no unit dominates.
   The log works in the column's own units (currency units for money), and it sets
   loss-making accounts far from profitable ones, so they tend to form a segment of their
   own; pass ``log_features=None`` or an explicit list to decide otherwise.
3. **Chooses the number of segments** ``k`` in ``k_range`` (inclusive) unless
   ``n_clusters`` fixes it. Criteria, stored per ``k`` in ``scores_``:

   - ``method="kmeans"``: the mean **silhouette** width (Rousseeuw, 1987), higher is
     better; computed on at most :data:`SILHOUETTE_ROWS` seeded rows (it costs n^2);
   - ``method="gmm"`` (Gaussian mixture): the **Bayesian information criterion**
     (Schwarz, 1978), lower is better.

   Ties go to the smaller ``k``. ``k_range`` is clipped to what the data allows
   (``k`` below the number of accounts and at most the number of distinct accounts); the
   clipping is stated in ``notes_`` and as a :class:`SegmentationWarning`.
4. **Fits** the final model with fixed seeds derived from ``random_state``: the same
   input and the same ``random_state`` give identical labels.
5. **Measures stability** per segment by the bootstrap of Hennig (2007): draw the
   accounts with replacement ``n_bootstrap`` times, re-run the same method with the
   chosen ``k`` on each resample, and for each original segment take the Jaccard
   similarity |A and B| / |A or B| between its resampled members A and the most similar
   bootstrap segment B (counting repeated draws, as Hennig's ``fpc::clusterboot`` does);
   a segment's stability is the mean over the resamples, in [0, 1]. Hennig's guidance
   (``fpc::clusterboot``): below 0.6 a segment should not be trusted (listed in
   ``unstable_``); 0.6-0.75 it indicates a pattern, but which accounts belong to it is
   doubtful; 0.75 or more it is valid and stable; 0.85 or more, highly stable.
6. **Profiles** each segment (``profiles_``): size, share, stability, the mean and
   median of every feature, and a **name in business words**. A segment is named by
   its 2 most distinctive features (3 when two segments would otherwise share a name),
   those whose segment mean lies furthest from the overall mean in the standardised
   space (``deviations_``); each contributes its "low" or "high" word from a vocabulary
   (:data:`DEFAULT_VOCABULARY`, extendable per call) according to whether the segment's
   median lies below or above the overall median. A feature whose mean and median point
   in different directions is not used. Unknown features read "low <feature>" /
   "high <feature>". Names are unique: if two still coincide, " (segment <n>)" is added.
   Segments are numbered by size, 0 the largest.

Scale. Everything is vectorised. Above ``sample_size`` accounts, ``k`` is chosen and
stability measured on a seeded random sample of ``sample_size`` accounts (stability is
then that of the method at that sample size, a conservative figure). The final k-means
model is fitted on all accounts, started from the sample's centres (Lloyd's k-means up to
``minibatch_threshold`` accounts, mini-batch k-means above it); a Gaussian mixture is
fitted on the sample and assigns all accounts, as EM on millions of rows would take too
long. ``predict`` assigns new accounts to the fitted segments.

Why scikit-learn rather than our own clustering: k-means++ seeding, Lloyd and mini-batch
k-means, EM for Gaussian mixtures with covariance regularisation, BIC and the silhouette
are mature, fast (compiled, multi-threaded) and widely reviewed in scikit-learn; a
hand-written version would be slower and a source of subtle bugs (empty clusters,
degenerate covariances) for no gain. The parts that are ours are the ones scikit-learn
does not have: the explicit transform, the choice of ``k``, Hennig's stability and the
business-worded profiles.

References
----------
Hennig, C. (2007). Cluster-wise assessment of cluster stability. Computational Statistics
& Data Analysis, 52(1), 258-271. https://doi.org/10.1016/j.csda.2006.11.025

Rousseeuw, P. J. (1987). Silhouettes: a graphical aid to the interpretation and
validation of cluster analysis. Journal of Computational and Applied Mathematics, 20,
53-65. https://doi.org/10.1016/0377-0427(87)90125-7

Schwarz, G. (1978). Estimating the dimension of a model. The Annals of Statistics, 6(2),
461-464. https://doi.org/10.1214/aos/1176344136
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClusterMixin
from sklearn.cluster import KMeans, MiniBatchKMeans
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.metrics import silhouette_score
from sklearn.mixture import GaussianMixture
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

from kamlib.selection.errors import SegmentationError, SegmentationWarning
from kamlib.selection.segment_inputs import check_frame, check_variation
from kamlib.selection.segment_names import (
    DEFAULT_VOCABULARY,
    deviations,
    segment_names,
)
from kamlib.selection.segment_stability import UNSTABLE_BELOW, best_jaccard
from kamlib.words.catalogue import _
from kamlib.words.formats import number

__all__ = [
    "DEFAULT_VOCABULARY",
    "AccountSegmentation",
    "NotFittedError",
    "SegmentationError",
    "SegmentationWarning",
]

#: Columns whose absolute sample skewness exceeds this are log-transformed by "auto".
SKEW_THRESHOLD = 1.0
#: Most rows the silhouette is computed on (its cost grows with the square of the rows).
SILHOUETTE_ROWS = 5_000

Method = Literal["kmeans", "gmm"]


class AccountSegmentation(ClusterMixin, BaseEstimator):
    """Segment accounts by k-means or a Gaussian mixture, with profiles and stability.

    Parameters
    ----------
    method : "kmeans" or "gmm"
        k-means (k chosen by silhouette) or Gaussian mixture, full covariances (by BIC).
    n_clusters : int or None
        Number of segments; ``None`` chooses it within ``k_range``.
    k_range : (int, int)
        Smallest and largest number of segments tried, inclusive; clipped to the data.
    random_state : int or None
        Seed of every random choice; ``None`` gives results that differ between runs.
    n_bootstrap : int
        Bootstrap resamples for the stability figure; 0 skips it (stability is NaN).
    log_features : "auto", None or list of column names
        Columns given the signed log transform: "auto" picks skewed columns, ``None``
        none.
    vocabulary : mapping or None
        ``feature -> (low word, high word)`` for segment names, on top of
        :data:`DEFAULT_VOCABULARY`.
    n_init : int or None
        Starts of each fit, the best kept; ``None``: 4 for k-means (random k-means++
        seeds), 1 for a mixture (started from k-means, and 4 times slower with 4).
    sample_size : int
        Above this many accounts, ``k`` and stability are computed on a seeded sample.
    minibatch_threshold : int
        Above this many accounts, the final k-means is mini-batch k-means.

    Attributes
    ----------
    labels_ : pd.Series
        Segment of each account (int, 0 the largest segment), indexed like ``X``.
    n_clusters_ : int
    criterion_ : str
        "silhouette" (higher is better) or "bic" (lower is better).
    scores_ : pd.Series
        The criterion per ``k`` tried, indexed by ``k``.
    k_range_ : (int, int)
        ``k_range`` after clipping to the data.
    log_features_ : list of str
    stability_ : pd.Series
        Mean bootstrap Jaccard similarity per segment (Hennig, 2007).
    unstable_ : list of int
        Segments with stability below 0.6.
    deviations_ : pd.DataFrame
        Segment mean minus overall mean of each feature, in standard deviations of the
        transformed feature; what the names are built from.
    profiles_ : pd.DataFrame
        Per segment: name, size, share, stability, unstable, then "<feature> mean" and
        "<feature> median" in the original units.
    notes_ : list of str
        Adjustments made to the request, in sentences for the report.
    feature_names_in_ : np.ndarray
    n_features_in_ : int
    """

    def __init__(self, method: Method = "kmeans", n_clusters: int | None = None,
                 k_range: tuple[int, int] = (2, 8), random_state: int | None = 0,
                 n_bootstrap: int = 50, log_features: str | Sequence[str] | None = "auto",
                 vocabulary: Mapping[str, tuple[str, str]] | None = None, n_init: int | None = None,
                 sample_size: int = 10_000, minibatch_threshold: int = 200_000):
        self.method = method
        self.n_clusters = n_clusters
        self.k_range = k_range
        self.random_state = random_state
        self.n_bootstrap = n_bootstrap
        self.log_features = log_features
        self.vocabulary = vocabulary
        self.n_init = n_init
        self.sample_size = sample_size
        self.minibatch_threshold = minibatch_threshold

    # ------------------------------------------------------------------ public API

    def fit(self, X: pd.DataFrame, y: None = None) -> AccountSegmentation:
        """Choose the number of segments, fit, measure stability and profile the segments."""
        self._check_options()
        # One thread: on samples of ``sample_size`` rows, starting threads costs more than
        # it saves (k-means 30x, mixtures 20x slower with 2 threads on a busy 2-core
        # machine), and results then do not depend on the machine's thread count.
        with threadpool_limits(limits=1):
            self._fit(X)
        for note in self.notes_:
            warnings.warn(note, SegmentationWarning, stacklevel=2)
        return self

    def _fit(self, X: pd.DataFrame) -> None:
        self.notes_: list[str] = []
        values = check_frame(X)
        check_variation(values)
        Z = self._fit_transform(X, values)
        sample_seed, model_seed, boot_seed = np.random.SeedSequence(self.random_state).spawn(3)
        self._seed = int(model_seed.generate_state(1)[0])
        sample = _sample_rows(len(Z), self.sample_size, np.random.default_rng(sample_seed))
        if sample is not None:
            self.notes_.append(_("The number of segments and their stability were computed "
                                 "on a random sample of {sample} of the {accounts} "
                                 "accounts.").format(sample=number(len(sample)),
                                                     accounts=number(len(Z))))
        Zs = Z if sample is None else Z[sample]
        chosen = self._choose_k(Zs, len(Z))
        self.model_ = self._final_model(chosen, Z, sample)
        labels = self._fit_labels(Z)
        self.labels_ = pd.Series(labels, index=X.index, name="segment")
        reference = labels if sample is None else labels[sample]
        self.stability_ = self._stability(Zs, reference, np.random.default_rng(boot_seed))
        self.unstable_ = [int(c) for c in self.stability_.index[
            self.stability_.to_numpy() < UNSTABLE_BELOW]]
        self.deviations_ = deviations(Z, labels, self.n_clusters_, X.columns)
        self.profiles_ = self._profiles(X, values, labels)

    def _fit_transform(self, X: pd.DataFrame, values: np.ndarray) -> np.ndarray:
        """Choose the log features, fit the scaler and return the standardised features."""
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        self.n_features_in_ = X.shape[1]
        self.log_features_ = self._choose_log_features(X, values)
        self._log_mask = np.isin(self.feature_names_in_, self.log_features_)
        logged = self._logged(values)
        self.scaler_ = StandardScaler().fit(logged)
        return self.scaler_.transform(logged)

    def _choose_k(self, Zs: np.ndarray, n: int) -> KMeans | GaussianMixture:
        """Fit every candidate k on the sample; set scores_ and n_clusters_; return the best."""
        ks = self._candidate_ks(n, Zs)
        self.criterion_ = "silhouette" if self.method == "kmeans" else "bic"
        models, scores = {}, {}
        for k in ks:
            models[k] = self._try_fit(k, self._seed, Zs)
            scores[k] = np.nan if models[k] is None else self._score(models[k], Zs)
        self.scores_ = pd.Series(scores, name=self.criterion_, dtype=float).rename_axis("k")
        if self.scores_.isna().all():
            raise SegmentationError(
                f"X could not be segmented into {ks[0]} to {ks[-1]} segments: every fit "
                f"collapsed (too few distinct accounts for the features). Segment more "
                f"accounts, use fewer features or fewer segments.")
        best = self.scores_.idxmax() if self.criterion_ == "silhouette" else self.scores_.idxmin()
        self.n_clusters_ = int(best)
        return models[self.n_clusters_]

    def _fit_labels(self, Z: np.ndarray) -> np.ndarray:
        """Labels of the training rows, renumbered by size (0 the largest segment)."""
        raw = self.model_.predict(Z)
        sizes = np.bincount(raw, minlength=self.n_clusters_)
        order = np.argsort(-sizes, kind="stable")
        self._relabel = np.empty_like(order)
        self._relabel[order] = np.arange(self.n_clusters_)
        if (sizes == 0).any():
            self.notes_.append(_("{empty} of the {segments} segments received no accounts; "
                                 "they are listed with size 0.").format(
                                     empty=int((sizes == 0).sum()), segments=self.n_clusters_))
        return self._relabel[raw]

    def predict(self, X: pd.DataFrame) -> pd.Series:
        """Segment of each account in ``X`` (the fitted feature columns; others are ignored)."""
        if not hasattr(self, "model_"):
            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet. "
                                 f"Call 'fit' with your accounts before calling 'predict'.")
        if not isinstance(X, pd.DataFrame):
            raise SegmentationError(f"X must be a pandas DataFrame with the columns "
                                    f"{list(self.feature_names_in_)}. Got {type(X).__name__}.")
        missing = [c for c in self.feature_names_in_ if c not in X.columns]
        if missing:
            raise SegmentationError(
                f"X must have the feature columns the segmentation was fitted on. Got no "
                f"column {', '.join(repr(c) for c in missing)}. Compute the same features "
                f"for the new accounts.")
        features = X[list(self.feature_names_in_)]
        values = check_frame(features, minimum=1)
        with threadpool_limits(limits=1):
            raw = self.model_.predict(self.scaler_.transform(self._logged(values)))
        return pd.Series(self._relabel[raw], index=X.index, name="segment")

    # ------------------------------------------------------------------ fitting steps

    def _check_options(self) -> None:
        if self.method not in ("kmeans", "gmm"):
            raise SegmentationError(f'method must be "kmeans" or "gmm". Got {self.method!r}.')
        if self.n_clusters is not None and not (_is_int(self.n_clusters)
                                                and self.n_clusters >= 2):
            raise SegmentationError(f"n_clusters must be an integer of at least 2, or None to "
                                    f"choose it from k_range. Got {self.n_clusters!r}.")
        k_range = self.k_range
        if not (isinstance(k_range, (tuple, list)) and len(k_range) == 2
                and all(_is_int(k) for k in k_range) and 2 <= k_range[0] <= k_range[1]):
            raise SegmentationError(f"k_range must be two integers (smallest, largest number "
                                    f"of segments) with 2 <= smallest <= largest. "
                                    f"Got {k_range!r}.")
        for name, low in (("n_bootstrap", 0), ("n_init", 1), ("sample_size", 100),
                          ("minibatch_threshold", 1)):
            value = getattr(self, name)
            if name == "n_init" and value is None:
                continue
            if not (_is_int(value) and value >= low):
                raise SegmentationError(f"{name} must be an integer of at least {low}. "
                                        f"Got {value!r}.")
        if self.random_state is not None and not (_is_int(self.random_state)
                                                  and self.random_state >= 0):
            raise SegmentationError(f"random_state must be a non-negative integer or None. "
                                    f"Got {self.random_state!r}.")
        for feature, words in (self.vocabulary or {}).items():
            if not (isinstance(words, (tuple, list)) and len(words) == 2
                    and all(isinstance(w, str) and w for w in words)):
                raise SegmentationError(f"vocabulary must map each feature to (low word, high "
                                        f"word). Got {words!r} for {feature!r}.")

    def _choose_log_features(self, X: pd.DataFrame, values: np.ndarray) -> list[str]:
        columns = list(X.columns)
        if self.log_features is None:
            return []
        if isinstance(self.log_features, str):
            if self.log_features != "auto":
                raise SegmentationError(f'log_features must be "auto", None or a list of '
                                        f'column names. Got {self.log_features!r}.')
            skew = pd.DataFrame(values, columns=columns).skew().fillna(0.0)
            return [c for c in columns if abs(skew[c]) > SKEW_THRESHOLD]
        unknown = [c for c in self.log_features if c not in columns]
        if unknown:
            raise SegmentationError(f"log_features must name columns of X. Got "
                                    f"{', '.join(repr(c) for c in unknown)}, not in X.")
        return [c for c in columns if c in set(self.log_features)]

    def _logged(self, values: np.ndarray) -> np.ndarray:
        if not self._log_mask.any():
            return values
        out = values.copy()
        part = out[:, self._log_mask]
        out[:, self._log_mask] = np.sign(part) * np.log1p(np.abs(part))
        return out

    def _candidate_ks(self, n: int, Zs: np.ndarray) -> list[int]:
        """The k to try: n_clusters, or k_range clipped to what the data allows."""
        distinct = len(np.unique(Zs, axis=0))
        allowed = min(n - 1, distinct)
        if self.n_clusters is not None:
            if self.n_clusters >= n:
                raise SegmentationError(
                    f"n_clusters must be smaller than the number of accounts. Got "
                    f"n_clusters={self.n_clusters} for {n} accounts. Ask for at most "
                    f"{n - 1} segments, or segment more accounts.")
            if self.n_clusters > distinct:
                raise SegmentationError(
                    f"n_clusters must not exceed the number of distinct accounts. Got "
                    f"n_clusters={self.n_clusters}, but the accounts have only {distinct} "
                    f"distinct combinations of feature values. Ask for at most {distinct} "
                    f"segments.")
            self.k_range_ = (int(self.n_clusters), int(self.n_clusters))
            return [int(self.n_clusters)]
        low, high = (int(k) for k in self.k_range)
        if allowed < low:
            raise SegmentationError(
                f"X must hold more accounts than segments. Got {n} accounts ({distinct} "
                f"distinct) for k_range={tuple(self.k_range)}, which starts at {low} "
                f"segments. Lower k_range or segment more accounts.")
        if high > allowed:
            self.notes_.append(_(
                "k_range {asked} was clipped to ({low}, {allowed}): with {accounts} accounts "
                "({distinct} distinct) there can be at most {allowed} segments (fewer than "
                "the accounts, no more than the distinct accounts).").format(
                    asked=tuple(self.k_range), low=low, allowed=allowed, accounts=n,
                    distinct=distinct))
            high = allowed
        self.k_range_ = (low, high)
        return list(range(low, high + 1))

    def _new_model(self, k: int, seed: int) -> KMeans | GaussianMixture:
        if self.method == "kmeans":
            return KMeans(n_clusters=k, n_init=self.n_init or 4, random_state=seed)
        return GaussianMixture(n_components=k, covariance_type="full", n_init=self.n_init or 1,
                               random_state=seed)

    def _score(self, model: KMeans | GaussianMixture, Zs: np.ndarray) -> float:
        if self.method == "gmm":
            return float(model.bic(Zs))
        labels = model.labels_
        if len(np.unique(labels)) < 2:
            return np.nan
        rows = min(len(Zs), SILHOUETTE_ROWS)
        return float(silhouette_score(Zs, labels, sample_size=rows if rows < len(Zs) else None,
                                      random_state=self._seed))

    def _final_model(self, chosen: KMeans | GaussianMixture, Z: np.ndarray,
                     sample: np.ndarray | None) -> KMeans | MiniBatchKMeans | GaussianMixture:
        if sample is None or self.method == "gmm":
            return chosen
        k = self.n_clusters_
        if len(Z) > self.minibatch_threshold:
            return MiniBatchKMeans(n_clusters=k, init=chosen.cluster_centers_, n_init=1,
                                   batch_size=4096, random_state=self._seed).fit(Z)
        return KMeans(n_clusters=k, init=chosen.cluster_centers_, n_init=1,
                      random_state=self._seed).fit(Z)

    def _try_fit(self, k: int, seed: int, Z: np.ndarray) -> KMeans | GaussianMixture | None:
        """A fitted model, or None when the fit collapses (e.g. duplicated accounts)."""
        with warnings.catch_warnings():
            # Fewer distinct points than k in a resample: handled by the callers.
            warnings.simplefilter("ignore", ConvergenceWarning)
            try:
                return self._new_model(k, seed).fit(Z)
            except ValueError:  # a mixture component with an ill-defined covariance
                if self.method != "gmm":
                    raise
                return None

    def _stability(self, Zs: np.ndarray, reference: np.ndarray,
                   rng: np.random.Generator) -> pd.Series:
        """Mean over bootstraps of each segment's best Jaccard similarity (Hennig, 2007).

        A resample on which the method fails counts as similarity 0 for every segment.
        """
        k = self.n_clusters_
        index = pd.RangeIndex(k, name="segment")
        if self.n_bootstrap == 0:
            return pd.Series(np.nan, index=index, name="stability")
        n = len(Zs)
        total = np.zeros(k)
        for _draw in range(self.n_bootstrap):
            rows = rng.integers(0, n, n)
            seed = int(rng.integers(0, 2**31 - 1))
            model = self._try_fit(k, seed, Zs[rows])
            if model is not None:
                total += best_jaccard(reference[rows], model.predict(Zs[rows]), k)
        return pd.Series(total / self.n_bootstrap, index=index, name="stability")

    # ------------------------------------------------------------------ profiles

    def _profiles(self, X: pd.DataFrame, values: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
        k = self.n_clusters_
        grouped = pd.DataFrame(values, columns=X.columns).groupby(labels)
        means = grouped.mean().reindex(range(k))
        medians = grouped.median().reindex(range(k))
        sizes = np.bincount(labels, minlength=k)
        overall = pd.Series(np.median(values, axis=0), index=X.columns)
        names = segment_names(self.deviations_, medians, overall,
                               {**DEFAULT_VOCABULARY, **(self.vocabulary or {})}, sizes)
        stats = pd.concat([means.add_suffix(" mean"), medians.add_suffix(" median")], axis=1)
        order = [f"{c} {s}" for c in X.columns for s in ("mean", "median")]
        return (pd.DataFrame({"name": names, "size": sizes, "share": sizes / len(labels),
                              "stability": self.stability_.to_numpy(),
                              "unstable": self.stability_.to_numpy() < UNSTABLE_BELOW},
                             index=pd.RangeIndex(k, name="segment"))
                .join(stats[order]))


def _is_int(value: object) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def _sample_rows(n: int, size: int, rng: np.random.Generator) -> np.ndarray | None:
    if n <= size:
        return None
    return np.sort(rng.choice(n, size=size, replace=False))


