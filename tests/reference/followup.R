# Reference values for calcstats.median_followup: median follow-up by the reverse
# Kaplan-Meier method (Schemper & Smith 1996), its confidence interval and quartiles.
# Run from the repository root:  Rscript tests/reference/followup.R
# Writes tests/reference/followup.json.
#
# The reverse Kaplan-Meier curve swaps the roles of the outcome: being censored is the
# "event", and an event (any code > 0, competing events included) censors follow-up:
#   survfit(Surv(time, status == 0) ~ g)      (status 0 = censored, 1, 2, ... = events)
#   survfit(Surv(time, 1 - dead) ~ g)         (a 0/1 event column)
# Median and quartiles with their limits are R's quantile.survfit.
suppressMessages({library(survival); library(jsonlite)})

pbc <- read.csv("data/pbc.csv")
pbc$years <- pbc$time / 365.25
pbc$dead <- as.integer(pbc$status == 2)

quant <- function(fit) {
  q <- quantile(fit, probs = c(0.25, 0.5, 0.75))
  one <- function(m) if (is.null(dim(m))) matrix(m, nrow = 1) else m
  est <- one(q$quantile); lo <- one(q$lower); hi <- one(q$upper)
  tab <- summary(fit)$table
  if (is.null(dim(tab))) tab <- matrix(tab, nrow = 1, dimnames = list(NULL, names(tab)))
  list(
    strata = if (is.null(fit$strata)) "all" else names(fit$strata),
    n = unname(tab[, "records"]),
    n_censored = unname(tab[, "events"]),   # the reverse curve's "events"
    median = unname(est[, 2]), conf_low = unname(lo[, 2]), conf_high = unname(hi[, 2]),
    q1 = unname(est[, 1]), q3 = unname(est[, 3])
  )
}

out <- list(r = R.version.string, survival = as.character(packageVersion("survival")))
# status codes 0/1/2 (transplant and death end follow-up), days; the two conf types
out$pbc_log <- quant(survfit(Surv(time, status == 0) ~ 1, data = pbc))
out$pbc_loglog <- quant(survfit(Surv(time, status == 0) ~ 1, data = pbc,
                                conf.type = "log-log"))
out$pbc_plain_90 <- quant(survfit(Surv(time, status == 0) ~ 1, data = pbc,
                                  conf.type = "plain", conf.int = 0.90))
# a 0/1 event column, years, by edema (three groups) and by sex
out$pbc_dead_edema <- quant(survfit(Surv(years, 1 - dead) ~ edema, data = pbc))
out$pbc_dead_sex <- quant(survfit(Surv(years, 1 - dead) ~ sex, data = pbc))
# the trial patients only, with the 1 - status idiom on a 0/1 column
trial <- pbc[!is.na(pbc$trt), ]
out$trial_dead <- quant(survfit(Surv(time, 1 - dead) ~ 1, data = trial))

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE, na = "null"),
           "tests/reference/followup.json")
