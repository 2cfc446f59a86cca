"""The lifetime-value models keep scikit-learn's estimator contract.

Two parts. First, scikit-learn's own estimator checks
(``sklearn.utils.estimator_checks.estimator_checks_generator``), each model against every
check that applies; the checks that do not apply are listed in :data:`NOT_APPLICABLE`
with the reason, and skipped with it. Second, the contract those skipped checks stand for
(fit returns self and leaves the options alone, refitting gives the same answer, a clone
is unfitted, a pickle predicts the same, bad input is refused), tested on purchase
histories, which is what these models fit on.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import pytest
import sklearn.exceptions
from sklearn.base import BaseEstimator, clone
from sklearn.utils.estimator_checks import estimator_checks_generator
from sklearn.utils.validation import check_is_fitted

from kamlib.economics.value import (
    BGNBD,
    ConvergenceWarning,
    GammaGamma,
    NotFittedError,
    ShiftedBetaGeometric,
    gamma_gamma_eligible,
)
from kamlib.economics.value._base import ValueModel

Simulator = Callable[..., pd.DataFrame]

# Why the checks below do not apply. Each builds a random feature matrix X (and target y)
# and calls fit(X, y). These models fit on purchase histories instead:
# BGNBD.fit(frequency, recency, T), one row per customer; GammaGamma.fit(frequency,
# monetary_value) on the customers gamma_gamma_eligible selects; ShiftedBetaGeometric.fit(
# active), one cohort's survivor counts. No X stands for any of them, so a check's fit
# fails on its arguments before it tests anything. Where the check's point holds for
# purchase histories too, the test named in the reason makes it on them.


def _on_x(point: str, tested_by: str = "") -> str:
    where = f" (on purchase histories: {tested_by})" if tested_by else ""
    return f"fits on a feature matrix X to check that {point}{where}."


NO_FEATURES = "n_features_in_ counts the columns of X; purchase histories have no features."
X_ERRORS = ("fits on malformed X to check scikit-learn's own messages (check_array); "
            "the models refuse malformed histories with messages naming the column and "
            "position, tested in test_value_bgnbd.py, test_value_gamma_gamma.py, "
            "test_value_sbg.py.")
PREDICT_ON_X = ("compares predict/transform/score outputs on X; the models have none: "
                "their predictions take each customer's history.")

NOT_APPLICABLE: dict[str, str] = {
    "check_estimators_fit_returns_self": _on_x(
        "fit returns self", "test_fit_returns_self_and_leaves_the_options_alone"),
    "check_estimators_overwrite_params": _on_x(
        "fit leaves the parameters alone", "test_fit_returns_self_and_leaves_the_options_alone"),
    "check_dont_overwrite_parameters": _on_x(
        "fit adds only attributes ending in _",
        "test_fit_returns_self_and_leaves_the_options_alone"),
    "check_fit_check_is_fitted": _on_x(
        "check_is_fitted fails before fit and passes after",
        "test_fit_returns_self_and_leaves_the_options_alone"),
    "check_fit_idempotent": _on_x("refitting gives the same model",
                                  "test_refitting_gives_the_same_model"),
    "check_estimators_pickle": _on_x("a pickled model predicts the same",
                                     "test_a_pickled_model_predicts_the_same"),
    "check_fit_score_takes_y": _on_x("fit and score take (X, y) first; fit takes the "
                                     "history's columns by name, and there is no score"),
    "check_estimators_dtypes": _on_x("X of any numeric dtype fits",
                                     "test_whole_counts_of_any_dtype_give_the_same_model"),
    "check_f_contiguous_array_estimator": _on_x("a Fortran-ordered X fits"),
    "check_readonly_memmap_input": _on_x("a read-only memory-mapped X fits"),
    "check_array_api_input": _on_x("X from another array library fits (run only with "
                                   "SCIPY_ARRAY_API=1)"),
    "check_pipeline_consistency": "fits in a Pipeline, which hands on X and y; the models "
                                  "are not pipeline steps.",
    "check_n_features_in": NO_FEATURES,
    "check_n_features_in_after_fitting": NO_FEATURES,
    "check_fit1d": X_ERRORS,
    "check_fit2d_1sample": X_ERRORS,
    "check_fit2d_1feature": X_ERRORS,
    "check_fit2d_predict1d": X_ERRORS,
    "check_complex_data": X_ERRORS,
    "check_dtype_object": X_ERRORS,
    "check_estimators_empty_data_messages": X_ERRORS,
    "check_estimators_nan_inf": X_ERRORS,
    "check_estimator_sparse_tag": X_ERRORS,
    "check_estimator_sparse_array": X_ERRORS,
    "check_estimator_sparse_matrix": X_ERRORS,
    "check_positive_only_tag_during_fit": X_ERRORS,
    "check_methods_sample_order_invariance": PREDICT_ON_X,
    "check_methods_subset_invariance": PREDICT_ON_X,
    "check_dict_unchanged": PREDICT_ON_X,
}

UNFITTED = [BGNBD(), GammaGamma(), ShiftedBetaGeometric()]


def _check_name(check: Callable[..., Any]) -> str:
    """The check's function name, through the skip wrapper and partials."""
    check = getattr(check, "__wrapped__", check)
    while isinstance(check, partial):
        check = check.func
    return check.__name__


def _scikit_learn_checks() -> list[Any]:
    cases = []
    for model in UNFITTED:
        for estimator, check in estimator_checks_generator(
                model, expected_failed_checks=NOT_APPLICABLE, mark="skip"):
            keywords = getattr(getattr(check, "__wrapped__", check), "keywords", {})
            suffix = "".join(f"-{k}={v}" for k, v in keywords.items())
            cases.append(pytest.param(estimator, check, id=f"{type(model).__name__}-"
                                      f"{_check_name(check)}{suffix}"))
    return cases


@pytest.mark.parametrize("estimator, check", _scikit_learn_checks())
def test_scikit_learn_estimator_check(estimator: BaseEstimator,
                                      check: Callable[[BaseEstimator], None]) -> None:
    check(estimator)


@pytest.mark.parametrize("model", UNFITTED, ids=lambda m: type(m).__name__)
def test_the_list_of_checks_that_do_not_apply_is_current(model: BaseEstimator) -> None:
    # Every name in NOT_APPLICABLE is a check scikit-learn still runs on this model, and
    # the checks that apply are the API checks that need no X: a new scikit-learn check
    # is either run (and must pass) or added to the list with its reason.
    names = {_check_name(check) for _, check in estimator_checks_generator(model)}
    assert set(NOT_APPLICABLE) <= names
    assert names - set(NOT_APPLICABLE) >= {
        "check_estimator_cloneable", "check_estimator_repr", "check_no_attributes_set_in_init",
        "check_do_not_raise_errors_in_init_or_set_params", "check_get_params_invariance",
        "check_set_params", "check_parameters_default_constructible",
        "check_estimators_unfitted", "check_mixin_order"}


# The same contract on purchase histories -----------------------------------------------

REGULAR = [1000, 631, 468, 382, 326, 297, 262, 241]  # Fader & Hardie (2007), "regular"


@dataclass(frozen=True)
class Case:
    """A model, options other than the defaults, what it fits on and one prediction."""

    model: type[ValueModel]
    options: dict[str, Any]
    data: tuple[Any, ...]
    predict: Callable[[Any], Any]


#: Options other than the defaults, per model.
OPTIONS: dict[type[ValueModel], dict[str, Any]] = {
    BGNBD: {"penalizer": 0.01, "tol": 1e-9, "max_iter": 500},
    GammaGamma: {"penalizer": 0.001, "max_iter": 800},
    ShiftedBetaGeometric: {"tol": 1e-8},
}


@pytest.fixture(scope="module")
def histories(simulate: Simulator) -> dict[type[ValueModel], Case]:
    history = simulate(400, seed=3)
    rfm = (history["frequency"], history["recency"], history["T"])
    eligible = history[gamma_gamma_eligible(history["frequency"], history["monetary_value"])]
    spend = (eligible["frequency"], eligible["monetary_value"])
    cohort = (np.array(REGULAR),)
    return {
        BGNBD: Case(BGNBD, OPTIONS[BGNBD], rfm, lambda m: m.probability_alive(*rfm)),
        GammaGamma: Case(GammaGamma, OPTIONS[GammaGamma], spend,
                         lambda m: m.conditional_expected_value(*spend)),
        ShiftedBetaGeometric: Case(ShiftedBetaGeometric, OPTIONS[ShiftedBetaGeometric],
                                   cohort, lambda m: m.survival(np.arange(10))),
    }


@pytest.fixture(params=list(OPTIONS), ids=lambda model: model.__name__)
def case(request: pytest.FixtureRequest, histories: dict[type[ValueModel], Case]) -> Case:
    return histories[request.param]


def test_get_params_and_set_params_round_trip(case: Case) -> None:
    model = case.model(**case.options)
    params = model.get_params()
    assert params == {"penalizer": 0.0, "tol": 1e-10, "max_iter": 2000, **case.options}
    assert model.get_params(deep=False) == params
    rebuilt = case.model()
    assert rebuilt.set_params(**params) is rebuilt
    assert rebuilt.get_params() == params
    assert case.model(**rebuilt.get_params()).get_params() == params
    with pytest.raises(ValueError, match="Invalid parameter 'alpha'"):
        rebuilt.set_params(alpha=1.0)  # a fitted parameter, not an option


def test_clone_is_an_unfitted_equal_estimator(case: Case) -> None:
    fitted = case.model(**case.options).fit(*case.data)
    copy = clone(fitted)
    assert copy is not fitted and type(copy) is case.model
    assert copy.get_params() == fitted.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(copy)
    assert not [name for name in vars(copy) if name.endswith("_")]
    # Refitting the clone on the same history gives the same model.
    np.testing.assert_array_equal(case.predict(copy.fit(*case.data)), case.predict(fitted))


def test_fit_returns_self_and_leaves_the_options_alone(case: Case) -> None:
    model = case.model(**case.options)
    before = model.get_params()
    with pytest.raises(NotFittedError):
        check_is_fitted(model)
    assert model.fit(*case.data) is model
    assert model.get_params() == before
    check_is_fitted(model)
    public = [name for name in vars(model) if not name.startswith("_")]
    assert sorted(set(public) - set(before)) == sorted(
        name for name in public if name.endswith("_"))
    assert set(model.params_) == set(case.model.param_names)


def test_refitting_gives_the_same_model(case: Case) -> None:
    model = case.model(**case.options).fit(*case.data)
    first, params = case.predict(model), dict(model.params_)
    model.fit(*case.data)
    assert model.params_ == params
    np.testing.assert_array_equal(case.predict(model), first)


def test_whole_counts_of_any_dtype_give_the_same_model(case: Case) -> None:
    # The counts (frequency, survivors) as int32 rather than float64: every column is
    # converted to float64 and checked, so the fit is the same.
    counts, *rest = case.data
    as_int = np.asarray(counts).astype(np.int32)
    model = case.model(**case.options).fit(as_int, *rest)
    assert model.params_ == case.model(**case.options).fit(*case.data).params_


def test_a_pickled_model_predicts_the_same(case: Case) -> None:
    model = case.model(**case.options).fit(*case.data)
    restored = pickle.loads(pickle.dumps(model))
    assert restored.get_params() == model.get_params()
    assert restored.params_ == model.params_
    np.testing.assert_array_equal(case.predict(restored), case.predict(model))


@pytest.mark.parametrize("option, value, message", [
    ("penalizer", -1.0, "penalizer must be a finite number >= 0.0. Got -1.0."),
    ("tol", "small", "tol must be a finite number > 0.0. Got 'small'."),
    ("max_iter", 2.5, "max_iter must be a positive integer. Got 2.5."),
    ("max_iter", None, "max_iter must be a positive integer. Got None."),
])
def test_options_are_checked_in_fit_not_when_set(case: Case, option: str, value: object,
                                                 message: str) -> None:
    model = case.model(**case.options).set_params(**{option: value})  # stored as given
    assert getattr(model, option) == value
    with pytest.raises(ValueError, match=f"^{message.replace('.', '[.]')}$"):
        model.fit(*case.data)
    assert not hasattr(model, "params_")


def test_a_whole_float_max_iter_still_fits(case: Case) -> None:
    model = case.model(max_iter=2000.0).fit(*case.data)
    np.testing.assert_allclose(case.predict(model), case.predict(case.model().fit(*case.data)))


def test_methods_before_fit_raise_scikit_learns_not_fitted_error() -> None:
    assert NotFittedError is sklearn.exceptions.NotFittedError
    # Callers that caught the former kamlib class by its bases still catch it.
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    with pytest.raises(NotFittedError, match="not fitted yet. Call 'fit' with your data before "
                                             "calling 'expected_active'"):
        ShiftedBetaGeometric().expected_active(3)


def test_convergence_warning_is_a_scikit_learn_convergence_warning() -> None:
    assert issubclass(ConvergenceWarning, sklearn.exceptions.ConvergenceWarning)
    history = pd.DataFrame({"frequency": [0.0, 1.0, 2.0, 5.0], "recency": [0.0, 3.0, 6.0, 9.0],
                            "T": [10.0, 10.0, 10.0, 10.0]})
    with pytest.warns(sklearn.exceptions.ConvergenceWarning, match="did not converge"):
        BGNBD(max_iter=1).fit(history["frequency"], history["recency"], history["T"])
