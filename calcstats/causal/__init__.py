"""Confounding by design: propensity scores, weights, balance, matching, bootstrap.

``propensity`` fits the treatment model and gives the weights of an estimand (ATE, ATT,
ATC, ATO); ``balance`` compares the groups before and after weighting or matching
(cobalt's conventions); ``match`` pairs treated and control units on the logit of the
score; ``marginal_risks`` turns two weighted curves into risk differences and ratios;
``bootstrap`` repeats a whole analysis (propensity model → weights → outcome model) on
resampled data. See docs/weighting.md.
"""

from calcstats.causal._balance import BalanceResult, balance
from calcstats.causal._bootstrap import BootstrapResult, bootstrap
from calcstats.causal._marginal import MarginalRiskResult, marginal_risks
from calcstats.causal._match import MatchResult, match
from calcstats.causal._propensity import Positivity, PropensityResult, propensity
from calcstats.causal._weights import Trim, Weighting

__all__ = [
    "BalanceResult",
    "BootstrapResult",
    "MarginalRiskResult",
    "MatchResult",
    "Positivity",
    "PropensityResult",
    "Trim",
    "Weighting",
    "balance",
    "bootstrap",
    "marginal_risks",
    "match",
    "propensity",
]
