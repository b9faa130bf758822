# Reference values for calcstats.survival curves and k-sample tests
# (kaplan_meier, logrank, cumulative_incidence, gray_test, rmst).
# Run from the repository root:  Rscript tests/reference/survival_curves.R
# Writes tests/reference/survival_small.csv (made data: heavy ties, strata, competing
# events, case weights) and tests/reference/survival_curves.json.
suppressMessages({library(survival); library(cmprsk); library(jsonlite)})

pbc <- read.csv("data/pbc.csv")
pbc$years <- pbc$time / 365.25
pbc$death <- as.integer(pbc$status == 2)

# ---- made data: integer times 1..8 (heavy ties), 3 groups, 2 strata, causes 1/2 ------
set.seed(20261125)
n <- 90
small <- data.frame(
  time = sample(1:8, n, replace = TRUE),
  status = sample(0:2, n, replace = TRUE, prob = c(0.35, 0.4, 0.25)),
  g = sample(c("a", "b", "c"), n, replace = TRUE),
  s = sample(c("x", "y"), n, replace = TRUE),
  w = round(runif(n, 0.5, 2), 2)
)
# group c ends with everybody at risk failing at its last time (S drops to 0)
small$time[small$g == "c"] <- pmin(small$time[small$g == "c"], 7)
small <- rbind(small, data.frame(time = c(8, 8), status = c(1, 2), g = "c", s = "x", w = 1))
small$score <- c(a = 0, b = 1, c = 3)[small$g]
small$event1 <- as.integer(small$status == 1)
write.csv(small, "tests/reference/survival_small.csv", row.names = FALSE)

out <- list(r = R.version.string, survival = as.character(packageVersion("survival")),
            cmprsk = as.character(packageVersion("cmprsk")))

curve <- function(fit) {
  st <- if (is.null(fit$strata)) rep("all", length(fit$time)) else
    rep(names(fit$strata), fit$strata)
  list(strata = st, time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
       n_censor = fit$n.censor, surv = fit$surv,
       # std.err is on the log scale (Greenwood) unless logse is FALSE (robust IJ)
       std_err = if (isFALSE(fit$logse)) fit$std.err else fit$std.err * fit$surv,
       lower = fit$lower, upper = fit$upper)
}
medians <- function(fit) {
  tab <- summary(fit)$table
  if (is.null(dim(tab))) tab <- t(as.matrix(tab))
  list(median = unname(tab[, "median"]), lower = unname(tab[, "0.95LCL"]),
       upper = unname(tab[, "0.95UCL"]))
}
at_times <- function(fit, times) {
  s <- summary(fit, times = times)
  list(strata = if (is.null(s$strata)) rep("all", length(s$time)) else as.character(s$strata),
       time = s$time, n_risk = s$n.risk, n_event = s$n.event, n_censor = s$n.censor,
       surv = s$surv, std_err = s$std.err, lower = s$lower, upper = s$upper)
}

# ---- Kaplan-Meier -------------------------------------------------------------------
km <- list()
for (ct in c("log-log", "log", "plain")) {
  f1 <- survfit(Surv(years, death) ~ edema, data = pbc, conf.type = ct)
  f2 <- survfit(Surv(time, event1) ~ g, data = small, conf.type = ct)
  km[[paste0("pbc_edema_", ct)]] <- list(curve = curve(f1), median = medians(f1),
                                          at = at_times(f1, c(0.05, 1, 2.5, 5, 10)))
  km[[paste0("small_g_", ct)]] <- list(curve = curve(f2), median = medians(f2),
                                        at = at_times(f2, c(0.5, 2, 3.5, 7)))
}
# case weights. R's default: Greenwood with weighted counts for integer weights, the
# robust (infinitesimal-jackknife) variance when any weight is non-integer.
fw <- survfit(Surv(time, event1) ~ g, data = small, weights = w, conf.type = "log-log")
stopifnot(isFALSE(fw$logse))
fi <- survfit(Surv(time, event1) ~ g, data = small, weights = round(2 * w),
              conf.type = "log-log")
km[["small_weighted_int"]] <- list(curve = curve(fi), median = medians(fi))
f90 <- survfit(Surv(years, death) ~ edema, data = pbc, conf.type = "log-log", conf.int = 0.9)
km[["pbc_edema_90"]] <- list(curve = curve(f90), median = list(
  median = unname(summary(f90)$table[, "median"]), lower = unname(summary(f90)$table[, "0.9LCL"]),
  upper = unname(summary(f90)$table[, "0.9UCL"])))
km[["small_weighted"]] <- list(curve = curve(fw), median = medians(fw))
# median that hits 0.5 exactly over an interval (R's averaging rule)
half <- data.frame(time = c(1, 2, 3, 4, 5, 6), status = c(1, 1, 1, 0, 1, 1))
fh <- survfit(Surv(time, status) ~ 1, data = half, conf.type = "log")
km[["half"]] <- list(data = half, curve = curve(fh), median = medians(fh))
out$km <- km

# ---- log-rank (survdiff) and trend tests ----------------------------------------------
sd_out <- function(fit) {
  o <- fit$obs; e <- fit$exp
  if (is.matrix(o)) { o <- rowSums(o); e <- rowSums(e) }
  df <- length(fit$n) - 1
  list(chisq = fit$chisq, df = df, p = pchisq(fit$chisq, df, lower.tail = FALSE),
       n = as.numeric(fit$n), observed = o, expected = e, var = fit$var)
}
trend <- function(fit, scores) {
  o <- fit$obs; e <- fit$exp
  if (is.matrix(o)) { o <- rowSums(o); e <- rowSums(e) }
  u <- sum(scores * (o - e)); v <- drop(t(scores) %*% fit$var %*% scores)
  list(chisq = u^2 / v, df = 1, p = pchisq(u^2 / v, 1, lower.tail = FALSE))
}
trial <- pbc[!is.na(pbc$trt), ]
staged <- pbc[!is.na(pbc$stage), ]
lr <- list()
lr$pbc_trt <- sd_out(survdiff(Surv(time, death) ~ trt, data = trial))
lr$pbc_stage <- sd_out(survdiff(Surv(time, death) ~ stage, data = staged))
lr$pbc_edema <- sd_out(survdiff(Surv(time, death) ~ edema, data = pbc))
lr$pbc_edema_rho1 <- sd_out(survdiff(Surv(time, death) ~ edema, data = pbc, rho = 1))
lr$pbc_trt_strata_sex <- sd_out(survdiff(Surv(time, death) ~ trt + strata(sex), data = trial))
lr$small_g <- sd_out(survdiff(Surv(time, event1) ~ g, data = small))
lr$small_g_strata <- sd_out(survdiff(Surv(time, event1) ~ g + strata(s), data = small))
lr$small_g_strata_rho1 <- sd_out(survdiff(Surv(time, event1) ~ g + strata(s), data = small,
                                          rho = 1))
f <- survdiff(Surv(time, death) ~ stage, data = staged)
lr$trend_pbc_stage <- trend(f, 1:4)
f <- survdiff(Surv(time, death) ~ edema, data = pbc)
lr$trend_pbc_edema_values <- trend(f, c(0, 0.5, 1))
f <- survdiff(Surv(time, event1) ~ g + strata(s), data = small)
lr$trend_small_strata_order <- trend(f, 1:3)
f <- survdiff(Surv(time, event1) ~ score + strata(s), data = small)
lr$trend_small_strata_score <- trend(f, c(0, 1, 3))
out$logrank <- lr

# ---- Aalen-Johansen (multi-state survfit, infinitesimal-jackknife SE) ----------------
ajc <- function(fit) {
  st <- if (is.null(fit$strata)) rep("all", length(fit$time)) else
    rep(names(fit$strata), fit$strata)
  list(strata = st, time = fit$time, n_risk = fit$n.risk[, 1], pstate = fit$pstate,
       std_err = fit$std.err, lower = fit$lower, upper = fit$upper, states = fit$states)
}
aj <- list()
for (ct in c("log-log", "log", "plain")) {
  aj[[paste0("pbc_edema_", ct)]] <- ajc(survfit(Surv(years, factor(status)) ~ edema,
                                                data = pbc, conf.type = ct))
  aj[[paste0("small_g_", ct)]] <- ajc(survfit(Surv(time, factor(status)) ~ g, data = small,
                                              conf.type = ct))
}
aj[["small_g_90"]] <- ajc(survfit(Surv(time, factor(status)) ~ g, data = small,
                                  conf.type = "log-log", conf.int = 0.9))
out$aj <- aj

# ---- Gray's test (cmprsk::cuminc) --------------------------------------------------
gray <- function(ci) {
  tt <- ci$Tests
  list(cause = rownames(tt), stat = unname(tt[, "stat"]), p = unname(tt[, "pv"]),
       df = unname(tt[, "df"]))
}
gr <- list()
gr$pbc_edema <- gray(cuminc(pbc$time, pbc$status, group = pbc$edema))
gr$pbc_edema_strata_sex <- gray(cuminc(pbc$time, pbc$status, group = pbc$edema,
                                       strata = pbc$sex))
gr$pbc_edema_rho1 <- gray(cuminc(pbc$time, pbc$status, group = pbc$edema, rho = 1))
gr$small_g <- gray(cuminc(small$time, small$status, group = small$g))
gr$small_g_strata <- gray(cuminc(small$time, small$status, group = small$g, strata = small$s))
gr$pbc_trt <- gray(cuminc(trial$time, trial$status, group = trial$trt))
out$gray <- gr

# ---- RMST: print.survfit's restricted mean and its SE; differences by hand -----------
rm_out <- function(fit, tau) {
  tab <- summary(fit, rmean = tau)$table
  if (is.null(dim(tab))) tab <- t(as.matrix(tab))
  est <- unname(tab[, "rmean"]); se <- unname(tab[, "se(rmean)"])
  z <- qnorm(0.975)
  res <- list(tau = tau, rmean = est, se = se)
  if (length(est) > 1) {
    d <- est[-1] - est[1]; sed <- sqrt(se[-1]^2 + se[1]^2)
    r <- log(est[-1] / est[1]); ser <- sqrt(se[-1]^2 / est[-1]^2 + se[1]^2 / est[1]^2)
    res$diff <- d; res$diff_se <- sed
    res$diff_lower <- d - z * sed; res$diff_upper <- d + z * sed
    res$diff_p <- 2 * pnorm(-abs(d / sed))
    res$ratio <- exp(r); res$ratio_lower <- exp(r - z * ser); res$ratio_upper <- exp(r + z * ser)
    res$ratio_p <- 2 * pnorm(-abs(r / ser))
  }
  res
}
rmst <- list()
rmst$pbc_all_10 <- rm_out(survfit(Surv(years, death) ~ 1, data = pbc), 10)
rmst$pbc_trt_10 <- rm_out(survfit(Surv(years, death) ~ trt, data = trial), 10)
rmst$pbc_edema_5 <- rm_out(survfit(Surv(years, death) ~ edema, data = pbc), 5)
rmst$small_g_6.5 <- rm_out(survfit(Surv(time, event1) ~ g, data = small), 6.5)
out$rmst <- rmst

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, matrix = "rowmajor"),
           "tests/reference/survival_curves.json")
cat("wrote tests/reference/survival_curves.json\n")
