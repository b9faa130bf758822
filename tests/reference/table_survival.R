# Global (joint Wald) tests of a multi-level term for regression_table with survival fits.
# Run from the repository root:  Rscript tests/reference/table_survival.R > tests/reference/table_survival.json
suppressMessages({library(survival); library(cmprsk); library(jsonlite)})
pbc <- read.csv("data/pbc.csv")
wald <- function(b, V, idx) {
  w <- drop(t(b[idx]) %*% solve(V[idx, idx]) %*% b[idx])
  list(statistic = w, df = length(idx), p_value = pchisq(w, length(idx), lower.tail = FALSE))
}
out <- list()
# cause-specific Cox (death), crude and adjusted; edema as a factor (levels 0, 0.5, 1)
for (nm in c("crude", "adjusted")) {
  f <- if (nm == "crude") Surv(time, status == 2) ~ factor(edema) else
    Surv(time, status == 2) ~ factor(edema) + age + log(bili)
  fit <- coxph(f, data = pbc, ties = "efron")
  out[[paste0("cox_", nm)]] <- c(wald(coef(fit), vcov(fit), 1:2),
                                 list(coef = unname(coef(fit)), se = unname(sqrt(diag(vcov(fit))))))
}
# Fine-Gray (crr), failcode 2, same covariates, crr's robust variance
for (nm in c("crude", "adjusted")) {
  mm <- if (nm == "crude") model.matrix(~ factor(edema), pbc)[, -1, drop = FALSE] else
    model.matrix(~ factor(edema) + age + log(bili), pbc)[, -1, drop = FALSE]
  fit <- crr(pbc$time, pbc$status, mm, failcode = 2, cencode = 0)
  out[[paste0("crr_", nm)]] <- c(wald(fit$coef, fit$var, 1:2),
                                 list(coef = unname(fit$coef), se = unname(sqrt(diag(fit$var)))))
}
out$how <- paste("joint Wald chi-square b' V^-1 b of the two factor(edema) coefficients;",
                 "coxph Efron (model-based V), crr robust V; data/pbc.csv, 418 rows")
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
