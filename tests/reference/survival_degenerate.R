# Reference values for logrank and gray_test on data whose variance matrix is singular.
# Run from the repository root:  Rscript tests/reference/survival_degenerate.R
# Writes tests/reference/survival_degenerate.json.
#
# R's survdiff inverts the reduced variance matrix with solve() and stops when it is
# singular; cmprsk::cuminc checks the rank with qr() and reports stat = -1. calcstats
# instead uses a generalised inverse with the degrees of freedom reduced to the rank
# (and refuses when the rank is 0). The values calcstats must reproduce are computed
# here in R: the generalised-inverse statistic by hand (MASS::ginv, rank from qr), and
# the same test on the data without the rows that carry no information, which R can fit.
suppressMessages({library(survival); library(cmprsk); library(MASS); library(jsonlite)})

err <- function(expr) tryCatch({ force(expr); NA_character_ },
                               error = function(e) conditionMessage(e))
fit_parts <- function(y, g, s) {
  f <- survival:::survdiff.fit(y, g, s)
  o <- f$observed; e <- f$expected
  if (is.matrix(o)) { o <- rowSums(o); e <- rowSums(e) }
  list(observed = o, expected = e, var = f$var)
}
sd_out <- function(fit) {
  o <- fit$obs; e <- fit$exp
  if (is.matrix(o)) { o <- rowSums(o); e <- rowSums(e) }
  df <- sum(e > 0) - 1
  list(chisq = fit$chisq, df = df, p = pchisq(fit$chisq, df, lower.tail = FALSE),
       observed = o, expected = e, var = fit$var)
}
ginv_test <- function(parts) {
  keep <- parts$expected > 0
  u <- ((parts$observed - parts$expected)[keep])[-1]
  v <- (parts$var[keep, keep])[-1, -1, drop = FALSE]
  rank <- qr(v)$rank
  chisq <- drop(t(u) %*% ginv(v) %*% u)
  list(chisq = chisq, df = rank, p = pchisq(chisq, rank, lower.tail = FALSE))
}
gray <- function(ci) {
  tt <- ci$Tests
  list(cause = rownames(tt), stat = unname(tt[, "stat"]), p = unname(tt[, "pv"]),
       df = unname(tt[, "df"]))
}
out <- list(r = R.version.string, survival = as.character(packageVersion("survival")),
            cmprsk = as.character(packageVersion("cmprsk")))

# 1. at the only event time everyone at risk dies: the variance is 0 (rank 0)
d1 <- data.frame(time = c(1, 1, 1, 1, 2, 2), status = c(0, 0, 0, 0, 1, 1),
                 g = c("a", "a", "a", "a", "a", "b"))
out$everyone_dies <- list(
  data = d1,
  survdiff_error = err(survdiff(Surv(time, status) ~ g, data = d1)),
  parts = fit_parts(Surv(d1$time, d1$status), d1$g, rep(1, nrow(d1))),
  cuminc = gray(cuminc(d1$time, d1$status, d1$g)))

# 2. group c: one subject censored before the first event (expected 0, no variance)
d2 <- data.frame(time = c(0.5, 1, 2, 3, 4, 5, 6, 7), status = c(0, 1, 1, 0, 1, 1, 1, 0),
                 g = c("c", "a", "b", "a", "b", "a", "b", "a"))
d2ab <- d2[d2$g != "c", ]
out$single_censored_group <- list(
  data = d2,
  logrank = sd_out(survdiff(Surv(time, status) ~ g, data = d2)),
  cuminc = gray(cuminc(d2$time, d2$status, d2$g)),
  cuminc_without_c = gray(cuminc(d2ab$time, d2ab$status, d2ab$g)))

# 3. stratum x: a and b only at a time where everyone at risk dies; stratum y: b vs c.
#    All three groups have expected > 0, but the variance has rank 1 (b vs c only).
d3 <- data.frame(
  time = c(1, 2, 2, 1, 3, 5, 2, 4, 6, 7),
  status = c(0, 1, 1, 1, 0, 1, 1, 1, 0, 1),
  g = c("a", "a", "b", "b", "b", "b", "c", "c", "c", "c"),
  s = c("x", "x", "x", "y", "y", "y", "y", "y", "y", "y"))
parts3 <- fit_parts(Surv(d3$time, d3$status), d3$g, d3$s)
d3y <- d3[d3$s == "y", ]
out$stratified_overlap <- list(
  data = d3,
  survdiff_error = err(survdiff(Surv(time, status) ~ g + strata(s), data = d3)),
  parts = parts3,
  ginv = ginv_test(parts3),
  logrank_stratum_y = sd_out(survdiff(Surv(time, status) ~ g, data = d3y)),
  cuminc = gray(cuminc(d3$time, d3$status, d3$g, strata = d3$s)),
  cuminc_stratum_y = gray(cuminc(d3y$time, d3y$status, d3y$g)))

# 4. two causes: the only cause-1 failure is in group a with nobody of group b at risk
#    (rank 0 for cause 1), while cause 2 is testable
d4 <- data.frame(time = c(3, 3, 1, 1), status = c(0, 1, 2, 2), g = c("a", "a", "b", "b"))
out$one_cause_degenerate <- list(data = d4, cuminc = gray(cuminc(d4$time, d4$status, d4$g)))

# 5. 16 rows, 4 groups, 2 strata: Gray's variance estimate has a negative diagonal
#    entry (not a variance); cuminc still solves, and so does calcstats, with a warning
d5 <- data.frame(
  time = c(1, 2, 2, 1, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 1, 2),
  status = c(0, 0, 2, 1, 0, 1, 1, 1, 1, 0, 1, 1, 2, 1, 0, 2),
  g = c("g3", "g3", "g0", "g0", "g3", "g3", "g0", "g1", "g1", "g2", "g3", "g2", "g3", "g3",
        "g2", "g1"),
  s = c("s0", "s0", "s0", "s1", "s0", "s1", "s1", "s0", "s1", "s0", "s0", "s1", "s0", "s1",
        "s1", "s0"))
ci5 <- cuminc(d5$time, d5$status, d5$g, d5$s)
out$indefinite_variance <- list(data = d5, cuminc = gray(ci5))

# 6. the pooled F reaches 1 before group b's last failure, where only b is at risk:
#    cuminc's variance is then 0/0 in b's entries; with b last they are not used
d6 <- data.frame(time = c(1, 1, 1, 1, 2, 3), status = c(0, 1, 1, 1, 1, 1),
                 g = c("a", "a", "a", "a", "b", "b"))
out$pooled_incidence_one <- list(
  data = d6, cuminc = gray(cuminc(d6$time, d6$status, d6$g)),
  cuminc_b_first_error = err(cuminc(d6$time, d6$status, ifelse(d6$g == "a", "z", "b"))))

# 7. RMST to tau = 5.5 when no group has an event before tau: se(rmean) = 0 in both groups,
#    so a difference has no interval or p-value (by hand: z = 0 / 0)
d7 <- data.frame(time = c(5, 6, 7, 5, 6, 8), status = c(0, 1, 1, 0, 1, 1),
                 g = c("a", "a", "a", "b", "b", "b"))
tab7 <- summary(survfit(Surv(time, status) ~ g, data = d7), rmean = 5.5)$table
out$rmst_no_events_before_tau <- list(data = d7, tau = 5.5, rmean = unname(tab7[, "rmean"]),
                                      se = unname(tab7[, "se(rmean)"]))

# 8. cox.zph when every event is at the same time: the test matrix is singular
set.seed(1)
d8 <- data.frame(time = c(rep(5, 10), round(runif(30, 6, 10), 3)),
                 status = rep(c(1, 0), c(10, 30)), x = round(rnorm(40), 3))
f8 <- coxph(Surv(time, status) ~ x, data = d8)
out$zph_one_event_time <- list(data = d8, coef = unname(coef(f8)),
                               cox_zph_error = err(cox.zph(f8)))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, matrix = "rowmajor",
                  dataframe = "columns"),
           "tests/reference/survival_degenerate.json")
cat("wrote tests/reference/survival_degenerate.json\n")
