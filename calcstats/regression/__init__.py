"""calcstats.regression: GLMs with epidemiological output, Firth, MI, E-values, diagnostics."""

from calcstats.regression._glm import linear, log_binomial, logistic, negative_binomial, poisson
from calcstats.regression._inference import effect_by, lr_test

__all__ = [
    "effect_by",
    "linear",
    "log_binomial",
    "logistic",
    "lr_test",
    "negative_binomial",
    "poisson",
]
