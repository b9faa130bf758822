# Reference values for case weights in calcstats.survival's curves (cumulative_incidence,
# rmst): R's survfit with weights = , and print.survfit(rmean = ) of a weighted fit.
# Run from the repository root:  Rscript tests/reference/survival_weighted.R
# Reads tests/reference/survival_small.csv (written by survival_curves.R); writes
# tests/reference/survival_weighted.json.
suppressMessages({library(survival); library(jsonlite)})

small <- read.csv("tests/reference/survival_small.csv")
small$w_int <- round(2 * small$w)

out <- list(r = R.version.string, survival = as.character(packageVersion("survival")))

# Aalen-Johansen with case weights: weighted counts, infinitesimal-jackknife SE
# sum_i (w_i U_i)^2 (for integer weights too: not the SE of replicated rows)
ajc <- function(fit) {
  list(strata = rep(names(fit$strata), fit$strata), time = fit$time,
       n_risk = fit$n.risk[, 1], pstate = fit$pstate, std_err = fit$std.err,
       lower = fit$lower, upper = fit$upper)
}
aj <- list()
aj$small_g_w <- ajc(survfit(Surv(time, factor(status)) ~ g, data = small, weights = w,
                            conf.type = "log-log"))
aj$small_g_w_int <- ajc(survfit(Surv(time, factor(status)) ~ g, data = small,
                                weights = w_int, conf.type = "log-log"))
out$aj <- aj

# restricted mean of a weighted Kaplan-Meier curve and print.survfit's SE
rm_out <- function(fit, tau) {
  tab <- summary(fit, rmean = tau)$table
  list(tau = tau, rmean = unname(tab[, "rmean"]), se = unname(tab[, "se(rmean)"]))
}
# non-integer weights (e.g. IPTW): survfit's default is the robust (infinitesimal-jackknife)
# variance, so the RMST SE is sqrt(sum of squared weighted rmst residuals) per group
small$id <- seq_len(nrow(small))
fit_ij <- survfit(Surv(time, event1) ~ g, data = small, weights = w, id = id)
r_ij <- residuals(fit_ij, type = "rmst", times = 6.5, weighted = TRUE)
rmst <- list()
rmst$small_g_w <- list(tau = 6.5,
                       rmean = unname(summary(fit_ij, rmean = 6.5)$table[, "rmean"]),
                       se = unname(sqrt(tapply(r_ij^2, small$g, sum))))
# integer (frequency) weights: survfit's Greenwood variance, print.survfit's se(rmean)
rmst$small_g_w_int <- rm_out(survfit(Surv(time, event1) ~ g, data = small, weights = w_int),
                             6.5)
out$rmst <- rmst

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, matrix = "rowmajor"),
           "tests/reference/survival_weighted.json")
cat("wrote tests/reference/survival_weighted.json\n")
