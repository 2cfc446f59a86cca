"""Tests of kamlib.selection.segments: account segmentation, business-worded profiles and stability.

The real-data tests use the wholesale customers data: annual spend (monetary units) of
440 clients of a Portuguese wholesale distributor on six product categories, with each
client's channel (1 = Horeca: hotels, restaurants, cafés; 2 = Retail). Source: Cardoso,
M. (2013). Wholesale customers [Dataset]. UCI Machine Learning Repository.
https://doi.org/10.24432/C5030X, licensed CC BY 4.0. The file is read from
../shared/datasets and the tests skip, with a reason, when it is absent.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score
from support import WHOLESALE, needs_shared

from kamlib.errors import KamError
from kamlib.selection.segment_names import segment_names
from kamlib.selection.segment_stability import best_jaccard
from kamlib.selection.segments import (
    DEFAULT_VOCABULARY,
    AccountSegmentation,
    NotFittedError,
    SegmentationError,
    SegmentationWarning,
)

SPEND = ["Fresh", "Milk", "Grocery", "Frozen", "Detergents_Paper", "Delicassen"]
SPEND_WORDS = {
    "Fresh": ("light on fresh", "fresh-heavy"),
    "Milk": ("light on milk", "milk-heavy"),
    "Grocery": ("light on grocery", "grocery-heavy"),
    "Frozen": ("light on frozen", "frozen-heavy"),
    "Detergents_Paper": ("light on detergents & paper", "detergents & paper-heavy"),
    "Delicassen": ("light on delicatessen", "delicatessen-heavy"),
}


def words(name: str) -> set[str]:
    return set(name.split(", "))


@pytest.fixture(scope="module")
def wholesale() -> pd.DataFrame:
    if not WHOLESALE.exists():
        pytest.skip(f"real dataset {WHOLESALE.name} not found in ../shared/datasets")
    # Rows 10-17 of the UCI export carry the column descriptions in extra trailing fields.
    return pd.read_csv(WHOLESALE, usecols=range(8))


@pytest.fixture(scope="module")
def wholesale_kmeans(wholesale: pd.DataFrame) -> AccountSegmentation:
    return AccountSegmentation(vocabulary=SPEND_WORDS).fit(wholesale[SPEND])


def blobs(n_per: int = 100, seed: int = 1) -> pd.DataFrame:
    """Three well-separated groups of accounts in three features (none skewed).

    Group 0 is cheap to serve; group 1 large and costly to serve; group 2 profitable and
    costly to serve.
    """
    rng = np.random.default_rng(seed)
    centers = np.array([[0.0, 0.0, 0.0], [10.0, 0.0, 10.0], [0.0, 10.0, 10.0]])
    values = np.repeat(centers, n_per, axis=0) + rng.normal(size=(3 * n_per, 3))
    return pd.DataFrame(values, columns=["net_revenue", "net_margin", "cost_to_serve_ratio"],
                        index=pd.Index([f"A{i:04d}" for i in range(3 * n_per)],
                                       name="account_id"))


def structureless(n: int = 300, seed: int = 1) -> pd.DataFrame:
    """One Gaussian cloud in five features: any split into 4 segments is arbitrary."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(rng.normal(size=(n, 5)), columns=[f"f{i}" for i in range(5)])


# ---------------------------------------------------------------------- real data

@needs_shared(WHOLESALE)
def test_wholesale_segments_match_the_known_channels(wholesale, wholesale_kmeans):
    """Two segments by silhouette, agreeing with Horeca/Retail (adjusted Rand index)."""
    seg = wholesale_kmeans
    assert seg.log_features_ == SPEND  # all six spends are heavily right-skewed
    assert seg.n_clusters_ == 2
    ari = adjusted_rand_score(wholesale["Channel"], seg.labels_)
    # Measured: ARI 0.514 (k-means, k = 2, signed log + standardised; 244 of 298 Horeca
    # and 134 of 142 Retail clients fall in "their" segment). 0.45 leaves room for
    # library changes in k-means++ seeding without letting a real regression through.
    assert ari > 0.45


@needs_shared(WHOLESALE)
def test_wholesale_profiles_are_in_business_words(wholesale, wholesale_kmeans):
    profiles = wholesale_kmeans.profiles_
    retail_like = pd.crosstab(wholesale_kmeans.labels_, wholesale["Channel"])[2].idxmax()
    assert words(profiles.loc[retail_like, "name"]) == {"grocery-heavy",
                                                        "detergents & paper-heavy"}
    other = 1 - retail_like
    assert words(profiles.loc[other, "name"]) == {"light on grocery",
                                                  "light on detergents & paper"}
    assert profiles.loc[retail_like, "Grocery median"] > 2 * profiles.loc[other,
                                                                           "Grocery median"]
    assert profiles["size"].sum() == len(wholesale)
    assert profiles["share"].sum() == pytest.approx(1.0)


@needs_shared(WHOLESALE)
def test_wholesale_stability_per_segment(wholesale_kmeans):
    stability = wholesale_kmeans.stability_
    assert list(stability.index) == [0, 1]
    # Measured: 0.965 and 0.954 (50 bootstrap resamples): both segments highly stable in
    # Hennig's (2007) reading (> 0.85).
    assert (stability > 0.85).all()
    assert wholesale_kmeans.unstable_ == []
    assert not wholesale_kmeans.profiles_["unstable"].any()


@needs_shared(WHOLESALE)
def test_wholesale_gaussian_mixture_is_chosen_by_bic(wholesale):
    seg = AccountSegmentation(method="gmm", vocabulary=SPEND_WORDS).fit(wholesale[SPEND])
    assert seg.criterion_ == "bic"
    assert seg.n_clusters_ == seg.scores_.idxmin()
    # Measured: BIC is lowest at k = 3 (6269 against 6434 at k = 2); the retail-like
    # segment is still the grocery and detergents & paper heavy one.
    retail_like = pd.crosstab(seg.labels_, wholesale["Channel"])[2].idxmax()
    assert words(seg.profiles_.loc[retail_like, "name"]) == {"grocery-heavy",
                                                            "detergents & paper-heavy"}


# ---------------------------------------------------------------------- model choice

def test_same_input_and_seed_give_identical_results():
    X = blobs()
    for method in ("kmeans", "gmm"):
        first = AccountSegmentation(method=method, n_bootstrap=10).fit(X)
        second = AccountSegmentation(method=method, n_bootstrap=10).fit(X.copy())
        pd.testing.assert_series_equal(first.labels_, second.labels_)
        pd.testing.assert_series_equal(first.scores_, second.scores_)
        pd.testing.assert_series_equal(first.stability_, second.stability_)
        pd.testing.assert_frame_equal(first.profiles_, second.profiles_)


def test_large_input_path_is_deterministic_and_labels_every_account():
    """Above sample_size: k and stability on a sample; mini-batch k-means on all rows."""
    X = pd.concat([blobs(n_per=400, seed=s) for s in (1, 2)], ignore_index=True)
    options = {"sample_size": 300, "minibatch_threshold": 1000, "n_bootstrap": 5}
    with pytest.warns(SegmentationWarning, match="random sample of 300 of the 2,400"):
        first = AccountSegmentation(**options).fit(X)
    with pytest.warns(SegmentationWarning):
        second = AccountSegmentation(**options).fit(X)
    pd.testing.assert_series_equal(first.labels_, second.labels_)
    assert type(first.model_).__name__ == "MiniBatchKMeans"
    assert first.n_clusters_ == 3
    assert first.labels_.notna().all() and len(first.labels_) == len(X)
    assert adjusted_rand_score(first.labels_, np.tile(np.repeat([0, 1, 2], 400), 2)) > 0.99


def test_chosen_k_is_the_best_score():
    X = blobs()
    kmeans = AccountSegmentation(n_bootstrap=0).fit(X)
    assert kmeans.criterion_ == "silhouette"
    assert list(kmeans.scores_.index) == list(range(2, 9))
    assert kmeans.n_clusters_ == kmeans.scores_.idxmax() == 3
    gmm = AccountSegmentation(method="gmm", n_bootstrap=0).fit(X)
    assert gmm.criterion_ == "bic"
    assert gmm.n_clusters_ == gmm.scores_.idxmin() == 3


def test_fixed_n_clusters_skips_the_choice():
    seg = AccountSegmentation(n_clusters=4, n_bootstrap=0).fit(blobs())
    assert seg.n_clusters_ == 4
    assert list(seg.scores_.index) == [4]
    assert seg.k_range_ == (4, 4)


def test_segments_are_numbered_by_size():
    X = blobs().iloc[50:]  # 50, 100 and 100 accounts
    seg = AccountSegmentation(n_bootstrap=0).fit(X)
    assert seg.profiles_["size"].tolist() == [100, 100, 50]
    assert seg.labels_.iloc[:50].eq(2).all()


# ---------------------------------------------------------------------- stability

def test_well_separated_segments_are_stable():
    seg = AccountSegmentation().fit(blobs())
    assert seg.stability_.between(0, 1).all()
    assert (seg.stability_ > 0.9).all()
    assert seg.unstable_ == []


def test_segments_without_structure_are_flagged_unstable():
    seg = AccountSegmentation(n_clusters=4).fit(structureless())
    assert seg.stability_.between(0, 1).all()
    assert seg.unstable_  # measured: all four below 0.6 (0.38 to 0.49)
    assert seg.unstable_ == [int(c) for c in seg.stability_.index[seg.stability_ < 0.6]]
    assert seg.profiles_.loc[seg.unstable_, "unstable"].all()


def test_no_bootstrap_gives_no_stability():
    seg = AccountSegmentation(n_bootstrap=0).fit(blobs())
    assert seg.stability_.isna().all()
    assert seg.unstable_ == []


def test_best_jaccard_counts_resampled_points_with_multiplicity():
    reference = np.array([0, 0, 0, 1, 1, 1])
    assert best_jaccard(reference, np.array([1, 1, 1, 0, 0, 0]), 2).tolist() == [1.0, 1.0]
    # Segment 0 = {a, a, b}; bootstrap segment 0 = {a, a}: Jaccard 2/3.
    # Segment 1 = {c, d, e}; best bootstrap segment 1 = {b, c, d, e}: Jaccard 3/4.
    got = best_jaccard(reference, np.array([0, 0, 1, 1, 1, 1]), 2)
    assert got == pytest.approx([2 / 3, 3 / 4])
    # A segment absent from the resample scores 0 (Hennig's zerobyzero = 0).
    assert best_jaccard(np.array([0, 0, 0]), np.array([0, 0, 0]), 2).tolist() == [1.0, 0.0]


# ---------------------------------------------------------------------- profiles

def test_profiles_hold_size_share_stability_means_and_medians():
    X = blobs()
    seg = AccountSegmentation(n_bootstrap=5).fit(X)
    profiles = seg.profiles_
    assert list(profiles.columns[:5]) == ["name", "size", "share", "stability", "unstable"]
    for column in X.columns:
        for stat in ("mean", "median"):
            expected = getattr(X.groupby(seg.labels_)[column], stat)()
            np.testing.assert_allclose(profiles[f"{column} {stat}"], expected)
    assert profiles["name"].is_unique


def test_names_use_the_default_vocabulary():
    seg = AccountSegmentation(n_bootstrap=0).fit(blobs())
    names = seg.profiles_["name"]
    # Most distinctive feature first: 1.41 standard deviations against 0.71 for the others.
    assert names[seg.labels_.iloc[0]].startswith("cheap to serve, ")
    assert names[seg.labels_.iloc[100]].startswith("large, ")
    assert names[seg.labels_.iloc[200]].startswith("profitable, ")
    allowed = {word for pair in DEFAULT_VOCABULARY.values() for word in pair}
    assert all(len(words(name)) == 2 and words(name) <= allowed for name in names)


def test_unknown_features_read_low_and_high():
    X = blobs().set_axis(["Visits", "open_tickets", "noise"], axis=1)
    seg = AccountSegmentation(n_bootstrap=0).fit(X)
    vocabulary = {w for name in seg.profiles_["name"] for w in words(name)}
    assert vocabulary <= {"low visits", "high visits", "low open tickets",
                          "high open tickets", "low noise", "high noise"}
    assert "high visits" in vocabulary


def test_vocabulary_can_be_extended_and_overridden():
    X = blobs().rename(columns={"cost_to_serve_ratio": "Visits"})
    seg = AccountSegmentation(n_bootstrap=0, vocabulary={"net_revenue": ("minor", "major")})
    names = " ".join(seg.fit(X).profiles_["name"])
    assert "major" in names and "large" not in names
    assert DEFAULT_VOCABULARY["net_revenue"] == ("small", "large")  # default untouched


def test_clashing_names_get_a_third_word_then_a_segment_number():
    columns = ["net_revenue", "net_margin", "net_revenue_growth"]
    deviations = pd.DataFrame([[2.0, 1.5, 0.5], [1.8, 1.2, -0.4], [-1.0, -0.5, 0.1],
                               [-1.1, -0.6, 0.1]], columns=columns)
    medians = deviations.copy()  # medians on the same side of 0 as the means
    overall = pd.Series(0.0, index=columns)
    names = segment_names(deviations, medians, overall, DEFAULT_VOCABULARY,
                           np.array([10, 10, 10, 10]))
    assert names[0] == "large, profitable, growing"
    assert names[1] == "large, profitable, declining"
    assert names[2] == "small, thin-margin, growing (segment 2)"
    assert names[3] == "small, thin-margin, growing (segment 3)"


def test_a_feature_whose_mean_and_median_disagree_is_not_used_in_names():
    columns = ["net_revenue", "net_margin"]
    deviations = pd.DataFrame([[1.0, 0.5], [-1.0, -0.5]], columns=columns)
    medians = pd.DataFrame([[-1.0, 0.5], [1.0, -0.5]], columns=columns)  # revenue: disagree
    names = segment_names(deviations, medians, pd.Series(0.0, index=columns),
                           DEFAULT_VOCABULARY, np.array([5, 5]))
    assert names == ["profitable", "thin-margin"]


# ---------------------------------------------------------------------- transform

def test_auto_logs_skewed_columns_only():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"net_revenue": rng.lognormal(10, 1.5, 500),
                      "net_margin": rng.normal(0.1, 0.05, 500)})
    X.loc[:4, "net_revenue"] *= -1  # loss-making accounts: signed log keeps them finite
    seg = AccountSegmentation(n_bootstrap=0).fit(X)
    assert seg.log_features_ == ["net_revenue"]
    assert AccountSegmentation(n_bootstrap=0, log_features=None).fit(X).log_features_ == []
    explicit = AccountSegmentation(n_bootstrap=0, log_features=["net_margin"]).fit(X)
    assert explicit.log_features_ == ["net_margin"]


# ---------------------------------------------------------------------- predict

def test_predict_on_training_rows_reproduces_labels():
    X = blobs()
    for method in ("kmeans", "gmm"):
        seg = AccountSegmentation(method=method, n_bootstrap=0).fit(X)
        pd.testing.assert_series_equal(seg.predict(X), seg.labels_)
        shuffled = X.iloc[::-1][list(reversed(X.columns))].assign(account_name="x")
        pd.testing.assert_series_equal(seg.predict(shuffled), seg.labels_.iloc[::-1])


def test_predict_new_accounts():
    seg = AccountSegmentation(n_bootstrap=0).fit(blobs())
    new = pd.DataFrame({"net_revenue": [10.2, 0.1], "net_margin": [0.3, 9.7],
                        "cost_to_serve_ratio": [9.5, 10.4]}, index=["N1", "N2"])
    got = seg.predict(new)
    assert got.tolist() == [seg.labels_.iloc[100], seg.labels_.iloc[200]]
    assert got.index.tolist() == ["N1", "N2"]


def test_predict_errors():
    seg = AccountSegmentation(n_bootstrap=0)
    with pytest.raises(NotFittedError, match=r"not fitted yet\. Call 'fit'"):
        seg.predict(blobs())
    seg.fit(blobs())
    with pytest.raises(SegmentationError, match="Got no column 'net_margin'"):
        seg.predict(blobs().drop(columns="net_margin"))
    with pytest.raises(SegmentationError, match=r"missing value .* column 'net_revenue' at "
                                                 r"row 'A0003'"):
        seg.predict(blobs().assign(net_revenue=lambda f: f["net_revenue"].where(
            f.index != "A0003")))


def test_estimator_follows_scikit_learn_conventions():
    seg = AccountSegmentation(method="gmm", k_range=(2, 4))
    assert seg.get_params()["k_range"] == (2, 4)
    assert not hasattr(seg, "labels_")
    twin = clone(seg).set_params(n_bootstrap=0)
    assert twin.fit(blobs()) is twin
    assert twin.n_features_in_ == 3
    assert list(twin.feature_names_in_) == ["net_revenue", "net_margin", "cost_to_serve_ratio"]
    assert twin.fit_predict(blobs()).equals(twin.labels_)


# ---------------------------------------------------------------------- degenerate input

@pytest.mark.parametrize(("X", "message"), [
    (pd.DataFrame({"net_revenue": []}),
     r"X must hold at least 3 accounts .* Got an empty frame \(no accounts\)\. Add accounts"),
    (pd.DataFrame({"net_revenue": [1.0]}, index=["A1"]),
     r"X must hold at least 3 accounts .* Got a single account\."),
    (pd.DataFrame({"net_revenue": [5.0] * 6, "net_margin": [0.1] * 6}),
     (r"X must vary between accounts\. Got 6 accounts with identical values in every column "
     r"\(zero variance\), so no segmentation is possible\.")),
    (pd.DataFrame({"net_revenue": [1.0, 2.0, np.nan, 4.0], "net_margin": [1.0, 2, 3, 4]},
                  index=["A1", "A2", "A3", "A4"]),
     (r"X must contain finite numbers only\. Got a missing value \(NaN\) in column "
     r"'net_revenue' at row 'A3'\. Fill in or drop")),
    (pd.DataFrame({"net_revenue": [1.0, np.inf, 3.0]}),
     (r"X must contain finite numbers only\. Got an infinite value \(inf\) in column "
     r"'net_revenue' at row 1\.")),
    (pd.DataFrame({"net_revenue": [1.0, 2.0, 3.0], "segment": ["a", "b", "c"]}),
     (r"X must have numeric columns only\. Got column 'segment' of type .*, e\.g\. 'a' at row "
     r"0\. Convert it")),
    (pd.DataFrame(index=range(5)), r"X must have at least one feature column\. Got none\."),
    (np.ones((5, 2)), r"X must be a pandas DataFrame .* Got ndarray\."),
])
def test_degenerate_input_says_what_is_wrong(X, message):
    with pytest.raises(SegmentationError, match=message):
        AccountSegmentation().fit(X)


def test_more_segments_than_accounts_is_refused():
    X = pd.DataFrame({"net_revenue": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(SegmentationError, match=r"n_clusters must be smaller than the number "
                                                r"of accounts\. Got n_clusters=5 for 4 "
                                                r"accounts\. Ask for at most 3 segments"):
        AccountSegmentation(n_clusters=5).fit(X)
    duplicated = pd.DataFrame({"net_revenue": [1.0, 1.0, 1.0, 2.0, 2.0, 2.0]})
    with pytest.raises(SegmentationError, match=r"only 2 distinct combinations"):
        AccountSegmentation(n_clusters=3).fit(duplicated)
    with pytest.raises(SegmentationError, match=r"X must hold more accounts than segments"):
        AccountSegmentation(k_range=(3, 5)).fit(duplicated)


def test_k_range_is_clipped_to_the_data_and_that_is_stated():
    X = pd.DataFrame({"net_revenue": [1.0, 2.0, 3.0, 10.0, 11.0]})
    with pytest.warns(SegmentationWarning, match=r"k_range \(2, 8\) was clipped to \(2, 4\)"):
        seg = AccountSegmentation(n_bootstrap=5).fit(X)
    assert seg.k_range_ == (2, 4)
    assert list(seg.scores_.index) == [2, 3, 4]
    assert any("clipped" in note for note in seg.notes_)


def test_nothing_is_noted_or_warned_for_ordinary_input():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        seg = AccountSegmentation(n_bootstrap=2).fit(blobs())
    assert seg.notes_ == []


@pytest.mark.parametrize(("options", "message"), [
    ({"method": "hierarchical"}, r'method must be "kmeans" or "gmm"\. Got \'hierarchical\''),
    ({"n_clusters": 1}, r"n_clusters must be an integer of at least 2"),
    ({"k_range": (1, 4)}, r"k_range must be two integers .* Got \(1, 4\)"),
    ({"k_range": (5, 3)}, r"k_range must be two integers"),
    ({"n_bootstrap": -1}, r"n_bootstrap must be an integer of at least 0\. Got -1"),
    ({"random_state": "seed"}, r"random_state must be a non-negative integer or None"),
    ({"log_features": "all"}, r'log_features must be "auto", None or a list'),
    ({"log_features": ["revenue"]}, r"log_features must name columns of X\. Got 'revenue'"),
    ({"vocabulary": {"net_revenue": "big"}}, (r"vocabulary must map each feature to \(low "
                                             r"word, high word\)")),
])
def test_invalid_options_say_what_is_expected(options, message):
    with pytest.raises(SegmentationError, match=message):
        AccountSegmentation(**options).fit(blobs())


def test_errors_are_kam_errors_and_value_errors():
    assert issubclass(SegmentationError, KamError)
    assert issubclass(SegmentationError, ValueError)


def test_a_feature_may_be_called_segment():
    X = blobs().rename(columns={"cost_to_serve_ratio": "segment"})
    seg = AccountSegmentation(n_bootstrap=0).fit(X)
    assert "segment mean" in seg.profiles_.columns
    assert seg.profiles_["size"].tolist() == [100, 100, 100]
