"""Customer lifetime value models for key accounts: BG/NBD, Gamma-Gamma, sBG and CLV.

The models are scikit-learn estimators (``sklearn.base.BaseEstimator``): ``__init__`` only
stores options, so ``get_params``, ``set_params`` and ``sklearn.base.clone`` work as for any
scikit-learn model; ``fit`` validates its options and input and returns ``self``; fitted
attributes end in ``_`` (``params_``, ``log_likelihood_``, ``n_obs_``, ``standard_errors_``,
``covariance_``); and prediction methods called before ``fit`` raise scikit-learn's
:class:`~sklearn.exceptions.NotFittedError` (importable from here too). They fit on
purchase histories (one row per customer, or one cohort's survivor counts), not on a
feature matrix X and target y, so they are not meant for scikit-learn's pipelines or
model selection; ``tests/value/test_estimator_contract.py`` runs scikit-learn's own
estimator checks that apply and says why the others do not. All models are fitted by
maximum likelihood on log-parameters with analytic gradients, fully vectorised over
customers (a million accounts fit in seconds).

* :class:`BGNBD` - repeat purchases and probability alive (non-contractual).
* :class:`GammaGamma` - value (here: net margin) per purchase, plus
  :func:`gamma_gamma_eligible` to select the customers it can be fitted on.
* :class:`ShiftedBetaGeometric` - renewals of contracts (contractual).
* :func:`lifetime_value` - discounted expected net margin per account over a horizon,
  with a parametric-bootstrap uncertainty interval; :class:`IntervalWarning` when the
  fit's likelihood is nearly flat in some direction and the interval had to follow the
  likelihood rather than the inverse Hessian (see ``clv``).

Why our own code: the reference implementation ``lifetimes`` is unmaintained (last
release 0.11.3 in 2020) and breaks on current numpy/pandas; ``pymc-marketing`` is
maintained but pulls in PyMC and PyTensor, far heavier than the few hundred lines these
closed-form likelihoods need. Our tests reproduce each paper's published estimates on
the paper's own data.

References
----------
Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). "Counting Your Customers" the Easy
Way: An Alternative to the Pareto/NBD Model. Marketing Science, 24(2), 275-284.
https://doi.org/10.1287/mksc.1040.0098

Fader, P. S., Hardie, B. G. S. & Lee, K. L. (2005). RFM and CLV: Using Iso-Value Curves
for Customer Base Analysis. Journal of Marketing Research, 42(4), 415-430.
https://doi.org/10.1509/jmkr.2005.42.4.415

Fader, P. S. & Hardie, B. G. S. (2007). How to Project Customer Retention. Journal of
Interactive Marketing, 21(1), 76-90. https://doi.org/10.1002/dir.20074

Fader, P. S. & Hardie, B. G. S. (2010). Customer-Base Valuation in a Contractual
Setting: The Perils of Ignoring Heterogeneity. Marketing Science, 29(1), 85-93
(used for the sBG's discounted expected residual lifetime, DERL).
https://doi.org/10.1287/mksc.1080.0482
"""

from sklearn.exceptions import NotFittedError

from kamlib.economics.value._base import ConvergenceWarning, IntervalWarning
from kamlib.economics.value.bgnbd import BGNBD
from kamlib.economics.value.clv import lifetime_value
from kamlib.economics.value.gamma_gamma import GammaGamma, gamma_gamma_eligible
from kamlib.economics.value.sbg import ShiftedBetaGeometric

__all__ = [
    "BGNBD",
    "ConvergenceWarning",
    "GammaGamma",
    "IntervalWarning",
    "NotFittedError",
    "ShiftedBetaGeometric",
    "gamma_gamma_eligible",
    "lifetime_value",
]
