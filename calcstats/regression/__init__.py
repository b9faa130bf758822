"""calcstats.regression: GLMs with epidemiological output, Firth, MI, E-values, diagnostics."""

from calcstats.regression._diagnostics import auc, calibration, hosmer_lemeshow, vif
from calcstats.regression._evalue import EValue, evalue
from calcstats.regression._firth import FirthLogisticResult
from calcstats.regression._glm import linear, log_binomial, logistic, poisson
from calcstats.regression._inference import effect_by, lr_test
from calcstats.regression._mice import MiceResult, mice
from calcstats.regression._negbin import negative_binomial
from calcstats.regression._pool import PooledResult, pool
from calcstats.regression._results import (
    LinearResult,
    LogBinomialResult,
    LogisticResult,
    NegativeBinomialResult,
    PoissonResult,
    RegressionResult,
)

__all__ = [
    "EValue",
    "FirthLogisticResult",
    "LinearResult",
    "LogBinomialResult",
    "LogisticResult",
    "MiceResult",
    "NegativeBinomialResult",
    "PoissonResult",
    "PooledResult",
    "RegressionResult",
    "auc",
    "calibration",
    "effect_by",
    "evalue",
    "hosmer_lemeshow",
    "linear",
    "log_binomial",
    "logistic",
    "lr_test",
    "mice",
    "negative_binomial",
    "poisson",
    "pool",
    "vif",
]
