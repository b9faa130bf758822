## =============================================================================
## Reference values for calcstats: propensity scores, weighting, balance,
## weighted regression / survival, matching.
##
## Run from the repository root:   Rscript tests/reference/weighting.R
## Writes tests/reference/weighting_data/{lalonde,confounded_sim}.csv and
## tests/reference/weighting.json (tests read both; they never run R).
##
## R 4.2.2, survival 3.5.3, cmprsk 2.2.11, survey 4.1.1, MatchIt 4.5.1,
## sandwich 3.0.2, jsonlite 1.8.4.  WeightIt / cobalt are NOT used (not
## installed); everything they would do is written out by formula below.
## All reference values are computed from the CSV files AS RE-READ from disk,
## so a Python implementation reading the same CSVs sees identical inputs.
## =============================================================================

suppressPackageStartupMessages({
  library(survival)
  library(cmprsk)
  library(survey)
  library(MatchIt)
  library(sandwich)
  library(jsonlite)
})

options(warn = 1, stringsAsFactors = FALSE)
dd <- "tests/reference/weighting_data"
dir.create(dd, showWarnings = FALSE)
Z975 <- qnorm(0.975)

## keep length-1 numeric/character results as JSON arrays (auto_unbox would
## otherwise turn e.g. a single Cox coefficient into a scalar)
arr <- function(x) I(unname(x))

out <- list()
out$meta <- list(
  generated_by = "weighting.R",
  R_version = R.version.string,
  packages = lapply(setNames(nm = c("survival", "cmprsk", "survey", "MatchIt", "sandwich",
                                    "jsonlite")), function(p) as.character(packageVersion(p))),
  z_975 = Z975,
  notes = "See README.md for the layout and every convention."
)

## -----------------------------------------------------------------------------
## 1. Data
## -----------------------------------------------------------------------------

## 1a. lalonde (MatchIt version) ------------------------------------------------
data("lalonde", package = "MatchIt")
lal0 <- lalonde
lal0 <- data.frame(id = seq_len(nrow(lal0)), lal0, row.names = NULL)
lal0$race <- as.character(lal0$race)
write.csv(lal0, file.path(dd, "lalonde.csv"), row.names = FALSE)

## 1b. simulated confounded cohort --------------------------------------------
set.seed(20240517)
n_sim <- 600
age   <- round(rnorm(n_sim, 62, 10), 1)
sex   <- ifelse(runif(n_sim) < 0.45, "M", "F")
etiology <- sample(c("a", "b", "c"), n_sim, replace = TRUE, prob = c(0.5, 0.3, 0.2))
lp_trt <- -0.3 + 0.05 * (age - 62) + 0.6 * (sex == "M") +
  0.8 * (etiology == "b") - 0.7 * (etiology == "c")
treat <- rbinom(n_sim, 1, plogis(lp_trt))
## cause-specific hazards (exponential): cause 1 = event of interest,
## cause 2 = competing event; both depend on confounders and on treat
h1 <- 0.10 * exp(0.04 * (age - 62) + 0.3 * (sex == "M") + 0.4 * (etiology == "b") +
                   0.8 * (etiology == "c") - 0.5 * treat)
h2 <- 0.06 * exp(0.06 * (age - 62) - 0.2 * (sex == "M") + 0.3 * (etiology == "b") +
                   0.1 * (etiology == "c") + 0.3 * treat)
T1 <- rexp(n_sim, h1)
T2 <- rexp(n_sim, h2)
Tev <- pmin(T1, T2)
cause <- ifelse(T1 <= T2, 1L, 2L)
## administrative censoring: staggered entry uniform over 0-4 years, study
## closes at year 10  => administrative censoring time in [6, 10];
## random (loss to follow-up) censoring: exponential, rate 0.04 / year
C_admin <- 10 - runif(n_sim, 0, 4)
C_rand  <- rexp(n_sim, 0.04)
C <- pmin(C_admin, C_rand)
time   <- round(pmin(Tev, C), 4)
status <- ifelse(Tev <= C, cause, 0L)
## no-censoring variant (same latent event times, no censoring at all)
time_nc   <- round(Tev, 4)
status_nc <- cause
## guard against zero times created by rounding
time[time <= 0] <- 1e-4
time_nc[time_nc <= 0] <- 1e-4
sim0 <- data.frame(id = seq_len(n_sim), age = age, sex = sex, etiology = etiology,
                   treat = treat, time = time, status = status,
                   time_nc = time_nc, status_nc = status_nc)
write.csv(sim0, file.path(dd, "confounded_sim.csv"), row.names = FALSE)

out$sim_design <- list(
  seed = 20240517, n = n_sim,
  age = "round(rnorm(n, 62, 10), 1)", sex = "M with prob 0.45 else F",
  etiology = "a/b/c with prob 0.5/0.3/0.2",
  treat_model = "logit P(treat=1) = -0.3 + 0.05*(age-62) + 0.6*[M] + 0.8*[b] - 0.7*[c]",
  hazard_cause1 = "0.10*exp(0.04*(age-62) + 0.3*[M] + 0.4*[b] + 0.8*[c] - 0.5*treat)",
  hazard_cause2 = "0.06*exp(0.06*(age-62) - 0.2*[M] + 0.3*[b] + 0.1*[c] + 0.3*treat)",
  censoring = "min(10 - U(0,4) [administrative], Exp(rate 0.04) [random])",
  rounding = "time, time_nc rounded to 4 decimals",
  no_censoring_variant = "time_nc = min(T1, T2), status_nc = 1 if T1 <= T2 else 2 (same latent times)"
)

## re-read both files: ALL references below use these -------------------------
lal <- read.csv(file.path(dd, "lalonde.csv"))
lal$race <- factor(lal$race, levels = c("black", "hispan", "white"))
sim <- read.csv(file.path(dd, "confounded_sim.csv"))
sim$sex <- factor(sim$sex, levels = c("F", "M"))
sim$etiology <- factor(sim$etiology, levels = c("a", "b", "c"))

out$data_summary <- list(
  lalonde = list(n = nrow(lal), n_treated = sum(lal$treat), n_control = sum(1 - lal$treat),
                 race_levels = levels(lal$race)),
  sim = list(n = nrow(sim), n_treated = sum(sim$treat), n_control = sum(1 - sim$treat),
             status_table = as.list(table(factor(sim$status, 0:2))),
             status_nc_table = as.list(table(factor(sim$status_nc, 1:2))),
             n_tied_times = sum(duplicated(sim$time)),
             n_tied_times_nc = sum(duplicated(sim$time_nc)),
             max_time = max(sim$time))
)

## -----------------------------------------------------------------------------
## 2. Propensity-score models
## -----------------------------------------------------------------------------
## tight IRLS convergence so that the references are accurate to ~1e-12
ctl <- glm.control(epsilon = 1e-14, maxit = 100)
ps_fit_lal <- glm(treat ~ age + educ + race + married + nodegree + re74 + re75,
                  family = binomial, data = lal, control = ctl)
ps_fit_sim <- glm(treat ~ age + sex + etiology, family = binomial, data = sim, control = ctl)

ps_block <- function(fit, d) {
  list(formula = deparse(formula(fit)),
       coef_names = arr(names(coef(fit))),
       coefficients = arr(coef(fit)),
       se = arr(sqrt(diag(vcov(fit)))),
       deviance = fit$deviance, null_deviance = fit$null.deviance,
       loglik = as.numeric(logLik(fit)), iterations = fit$iter,
       id = d$id,
       ps = unname(fitted(fit)),
       linear_predictor = unname(fit$linear.predictors))
}
out$ps_lalonde <- ps_block(ps_fit_lal, lal)
out$ps_sim <- ps_block(ps_fit_sim, sim)

## -----------------------------------------------------------------------------
## 3. Weights
## -----------------------------------------------------------------------------
make_w <- function(e, t, estimand) {
  switch(estimand,
         ATE = t / e + (1 - t) / (1 - e),
         ATT = t + (1 - t) * e / (1 - e),
         ATC = t * (1 - e) / e + (1 - t),
         ATO = t * (1 - e) + (1 - t) * e)
}
stabilize <- function(w, t) w * ifelse(t == 1, mean(t), 1 - mean(t))
trim_q <- function(w, q = 0.99) {           # pooled, type 7
  cap <- unname(quantile(w, q, type = 7)); pmin(w, cap)
}
trim_q_cap <- function(w, q = 0.99) unname(quantile(w, q, type = 7))
## WeightIt::trim()-style (current WeightIt source, not run here): quantile
## type 3, focal group (all weights equal, e.g. treated for ATT) excluded
trim_weightit <- function(w, t, q = 0.99) {
  same <- tapply(w, t, function(x) isTRUE(all.equal(max(x), min(x))))
  trim_me <- !(as.character(t) %in% names(same)[same])
  cap <- unname(quantile(w[trim_me], q, type = 3))
  w[trim_me & w > cap] <- cap
  list(w = w, cap = cap)
}
kish <- function(w) sum(w)^2 / sum(w^2)

weights_block <- function(e, t, id) {
  res <- list(id = id, treat = t, ps = e)
  ess <- list(); caps <- list()
  add <- function(name, w) {
    res[[name]] <<- w
    ess[[name]] <<- list(treated = kish(w[t == 1]), control = kish(w[t == 0]),
                         sum_w_treated = sum(w[t == 1]), sum_w_control = sum(w[t == 0]))
  }
  for (est in c("ATE", "ATT", "ATC", "ATO")) {
    w <- make_w(e, t, est)
    add(est, w)
    add(paste0(est, "_stabilized"), stabilize(w, t))
    caps[[paste0(est, "_trim99")]] <- trim_q_cap(w)
    add(paste0(est, "_trim99"), trim_q(w))
    add(paste0(est, "_cap10"), pmin(w, 10))
    tw <- trim_weightit(w, t)
    caps[[paste0(est, "_trim99_weightit_style")]] <- tw$cap
    add(paste0(est, "_trim99_weightit_style"), tw$w)
  }
  ## stabilized ATE, then trimmed
  ws <- stabilize(make_w(e, t, "ATE"), t)
  caps[["ATE_stabilized_trim99"]] <- trim_q_cap(ws)
  add("ATE_stabilized_trim99", trim_q(ws))
  add("ATE_stabilized_cap10", pmin(ws, 10))
  res$stabilization_factors <- list(treated = mean(t), control = 1 - mean(t))
  res$trim99_caps <- caps
  res$kish_ess <- ess
  res
}
W_lal <- weights_block(fitted(ps_fit_lal), lal$treat, lal$id)
W_sim <- weights_block(fitted(ps_fit_sim), sim$treat, sim$id)
out$weights_lalonde <- W_lal
out$weights_sim <- W_sim
lal$w_ate <- W_lal$ATE; lal$w_att <- W_lal$ATT
sim$w <- W_sim$ATE;     sim$w_att <- W_sim$ATT

## -----------------------------------------------------------------------------
## 4. Balance (cobalt conventions, by hand)
## -----------------------------------------------------------------------------
wmean <- function(x, w) sum(w * x) / sum(w)
wvar_unbiased <- function(x, w) cov.wt(matrix(x, ncol = 1), wt = w, method = "unbiased")$cov[1, 1]

## one row per continuous covariate / binary covariate / factor level
expand_covs <- function(d, covs) {
  rows <- list()
  for (v in covs) {
    x <- d[[v]]
    if (is.factor(x)) {
      for (lv in levels(x)) rows[[length(rows) + 1]] <-
          list(variable = v, level = lv, type = "factor_level", x = as.numeric(x == lv))
    } else if (all(x %in% c(0, 1))) {
      rows[[length(rows) + 1]] <- list(variable = v, level = NA_character_, type = "binary",
                                       x = as.numeric(x))
    } else {
      rows[[length(rows) + 1]] <- list(variable = v, level = NA_character_, type = "continuous",
                                       x = as.numeric(x))
    }
  }
  rows
}

balance_table <- function(d, covs, t, w, estimand, sd_sample_t = NULL, sd_sample_x = NULL) {
  ## sd_sample_*: sample used for the SMD denominator (default: d itself);
  ## for matched data cobalt uses the FULL (pre-matching) sample.
  rows <- expand_covs(d, covs)
  rows_sd <- if (is.null(sd_sample_x)) rows else expand_covs(sd_sample_x, covs)
  tt <- if (is.null(sd_sample_t)) t else sd_sample_t
  res <- lapply(seq_along(rows), function(k) {
    r <- rows[[k]]; x <- r$x; xs <- rows_sd[[k]]$x
    x1 <- x[t == 1]; x0 <- x[t == 0]; w1 <- w[t == 1]; w0 <- w[t == 0]
    xs1 <- xs[tt == 1]; xs0 <- xs[tt == 0]
    if (r$type == "continuous") { v1 <- var(xs1); v0 <- var(xs0) }
    else { p1 <- mean(xs1); p0 <- mean(xs0); v1 <- p1 * (1 - p1); v0 <- p0 * (1 - p0) }
    denom <- if (estimand == "ATT") sqrt(v1) else sqrt((v1 + v0) / 2)
    diff_u <- mean(x1) - mean(x0)
    diff_w <- wmean(x1, w1) - wmean(x0, w0)
    if (r$type == "continuous") {
      vr_u <- var(x1) / var(x0)
      vr_w <- wvar_unbiased(x1, w1) / wvar_unbiased(x0, w0)
    } else { vr_u <- NA_real_; vr_w <- NA_real_ }
    data.frame(variable = r$variable, level = r$level, type = r$type,
               mean_treated_unweighted = mean(x1), mean_control_unweighted = mean(x0),
               mean_treated_weighted = wmean(x1, w1), mean_control_weighted = wmean(x0, w0),
               diff_unweighted = diff_u, diff_weighted = diff_w,
               sd_denominator = denom,
               smd_unweighted = diff_u / denom, smd_weighted = diff_w / denom,
               vr_unweighted = vr_u, vr_weighted = vr_w)
  })
  do.call(rbind, res)
}
covs_lal <- c("age", "educ", "race", "married", "nodegree", "re74", "re75")
covs_sim <- c("age", "sex", "etiology")
bal_lal_ate <- balance_table(lal, covs_lal, lal$treat, W_lal$ATE, "ATE")
bal_lal_att <- balance_table(lal, covs_lal, lal$treat, W_lal$ATT, "ATT")
bal_sim_ate <- balance_table(sim, covs_sim, sim$treat, W_sim$ATE, "ATE")
bal_sim_att <- balance_table(sim, covs_sim, sim$treat, W_sim$ATT, "ATT")
out$balance <- list(
  lalonde_ATE = bal_lal_ate, lalonde_ATT = bal_lal_att,
  sim_ATE = bal_sim_ate, sim_ATT = bal_sim_att,
  sanity = list(
    lalonde_ATE_max_abs_smd_unweighted = max(abs(bal_lal_ate$smd_unweighted)),
    lalonde_ATE_max_abs_smd_weighted = max(abs(bal_lal_ate$smd_weighted)),
    lalonde_ATT_max_abs_smd_weighted = max(abs(bal_lal_att$smd_weighted)),
    sim_ATE_max_abs_smd_unweighted = max(abs(bal_sim_ate$smd_unweighted)),
    sim_ATE_max_abs_smd_weighted = max(abs(bal_sim_ate$smd_weighted)),
    sim_ATT_max_abs_smd_weighted = max(abs(bal_sim_att$smd_weighted)))
)

## -----------------------------------------------------------------------------
## 5. Weighted GLMs with sandwich SEs (lalonde, ATE weights)
## -----------------------------------------------------------------------------
lal$w <- W_lal$ATE
lal$any_re78 <- as.numeric(lal$re78 > 0)
lal$re78_k <- round(lal$re78 / 1000)
des <- svydesign(ids = ~1, weights = ~w, data = lal)

glm_block <- function(fit, sfit, extra = list()) {
  n <- nobs(fit); k <- length(coef(fit))
  V0 <- sandwich::vcovHC(fit, type = "HC0")
  V1 <- sandwich::vcovHC(fit, type = "HC1")
  Vs <- vcov(sfit)
  c(list(coef_names = names(coef(fit)),
         coefficients = unname(coef(fit)),
         se_model = unname(sqrt(diag(vcov(fit)))),
         se_HC0 = unname(sqrt(diag(V0))),
         se_HC1 = unname(sqrt(diag(V1))),
         svyglm_coefficients = unname(coef(sfit)),
         se_svyglm = unname(sqrt(diag(Vs))),
         n = n, n_coef = k,
         ratio_svy_var_over_HC0_var = unname(diag(Vs) / diag(V0)),
         n_over_n_minus_1 = n / (n - 1),
         vcov_HC0 = unname(V0), vcov_svyglm = unname(Vs)), extra)
}
## tight convergence: with the default epsilon (1e-8) svyglm stops one IRLS
## iteration earlier than glm and its vcov is evaluated at slightly different
## working weights (ratio to HC0 off n/(n-1) in the 5th digit for the logit model)
g_gauss <- glm(re78 ~ treat, family = gaussian, data = lal, weights = w, control = ctl)
l_gauss <- lm(re78 ~ treat, data = lal, weights = w)
s_gauss <- svyglm(re78 ~ treat, design = des, family = gaussian(), control = ctl)
g_qbin  <- glm(any_re78 ~ treat + age, family = quasibinomial, data = lal, weights = w, control = ctl)
g_bin   <- suppressWarnings(glm(any_re78 ~ treat + age, family = binomial, data = lal, weights = w,
                                control = ctl))
s_qbin  <- svyglm(any_re78 ~ treat + age, design = des, family = quasibinomial(), control = ctl)
g_pois  <- suppressWarnings(glm(re78_k ~ treat, family = poisson, data = lal, weights = w, control = ctl))
g_qpois <- glm(re78_k ~ treat, family = quasipoisson, data = lal, weights = w, control = ctl)
s_pois  <- svyglm(re78_k ~ treat, design = des, family = quasipoisson(), control = ctl)
## the same logit model at default glm.control, to document the effect
s_qbin_default <- svyglm(any_re78 ~ treat + age, design = des, family = quasibinomial())
g_qbin_default <- glm(any_re78 ~ treat + age, family = quasibinomial, data = lal, weights = w)

out$weighted_glm_lalonde <- list(
  weights = "ATE weights from ps_lalonde (weights_lalonde$ATE)",
  gaussian = glm_block(g_gauss, s_gauss, list(
    lm_coefficients = unname(coef(l_gauss)),
    lm_se_HC0 = unname(sqrt(diag(vcovHC(l_gauss, type = "HC0")))),
    lm_se_model = unname(sqrt(diag(vcov(l_gauss)))))),
  logistic = glm_block(g_qbin, s_qbin, list(
    response = "as.numeric(re78 > 0)", family = "quasibinomial",
    binomial_coefficients = unname(coef(g_bin)),
    binomial_se_HC0 = unname(sqrt(diag(vcovHC(g_bin, type = "HC0")))),
    max_abs_coef_diff_quasibinomial_vs_binomial = max(abs(coef(g_qbin) - coef(g_bin))),
    default_control_ratio_svy_var_over_HC0_var = unname(diag(vcov(s_qbin_default)) /
                                                          diag(vcovHC(g_qbin_default, type = "HC0"))))),
  poisson = glm_block(g_pois, s_pois, list(
    response = "round(re78/1000)", family = "poisson (svyglm: quasipoisson)",
    quasipoisson_coefficients = unname(coef(g_qpois)),
    quasipoisson_se_HC0 = unname(sqrt(diag(vcovHC(g_qpois, type = "HC0")))))),
  glm_control = "glm.control(epsilon = 1e-14, maxit = 100) for glm and svyglm",
  design = "svydesign(ids = ~1, weights = ~w, data = lalonde)"
)

## -----------------------------------------------------------------------------
## 6. Weighted survival on the simulated cohort (ATE weights, non-integer)
## -----------------------------------------------------------------------------
## 6a. weighted KM for cause 1 (competing events treated as censored) ---------
km  <- survfit(Surv(time, status == 1) ~ treat, data = sim, weights = w, id = id, robust = TRUE)
kmll <- survfit(Surv(time, status == 1) ~ treat, data = sim, weights = w, id = id, robust = TRUE,
                conf.type = "log-log")
km_unw <- survfit(Surv(time, status == 1) ~ treat, data = sim)  # classic, for contrast

## hand-computed counts at each reported time
strata_vec <- function(fit) rep(seq_along(fit$strata), fit$strata)
km_table <- function(fit, fitll, d) {
  st <- strata_vec(fit); lev <- c(0, 1)
  res <- lapply(seq_along(fit$strata), function(s) {
    idx <- which(st == s); g <- d[d$treat == lev[s], ]
    tt <- fit$time[idx]
    data.frame(
      treat = lev[s], time = tt,
      n_risk = fit$n.risk[idx], n_event = fit$n.event[idx], n_censor = fit$n.censor[idx],
      n_risk_weighted_by_hand = sapply(tt, function(u) sum(g$w[g$time >= u])),
      n_event_weighted_by_hand = sapply(tt, function(u) sum(g$w[g$time == u & g$status == 1])),
      n_risk_unweighted = sapply(tt, function(u) sum(g$time >= u)),
      n_event_unweighted = sapply(tt, function(u) sum(g$time == u & g$status == 1)),
      n_censor_unweighted = sapply(tt, function(u) sum(g$time == u & g$status != 1)),
      surv = fit$surv[idx], std_err = fit$std.err[idx],
      lower_log = fit$lower[idx], upper_log = fit$upper[idx],
      lower_loglog = fitll$lower[idx], upper_loglog = fitll$upper[idx],
      cumhaz = fit$cumhaz[idx], std_chaz = fit$std.chaz[idx])
  })
  do.call(rbind, res)
}
km_tab <- km_table(km, kmll, sim)

## hand-made weighted KM product-limit for verification
km_hand <- unlist(lapply(c(0, 1), function(a) {
  g <- sim[sim$treat == a, ]; tt <- sort(unique(g$time))
  h <- sapply(tt, function(u) sum(g$w[g$time == u & g$status == 1]) / sum(g$w[g$time >= u]))
  cumprod(1 - h)
}))

## IJ variance check: residuals(type = "surv") at a few times
chk_times <- c(1, 2, 5)
r_surv_w <- residuals(km, times = chk_times, type = "surv", weighted = TRUE)
r_surv_u <- residuals(km, times = chk_times, type = "surv", weighted = FALSE)
sk <- summary(km, times = chk_times)
grp <- sim$treat
ij_surv <- do.call(rbind, lapply(c(0, 1), function(a) data.frame(
  treat = a, time = chk_times,
  surv_summary = sk$surv[sk$strata == paste0("treat=", a)],
  std_err_summary = sk$std.err[sk$strata == paste0("treat=", a)],
  sqrt_sum_weighted_resid_sq = unname(sqrt(colSums(r_surv_w[grp == a, , drop = FALSE]^2))),
  sqrt_sum_unweighted_resid_sq = unname(sqrt(colSums(r_surv_u[grp == a, , drop = FALSE]^2))),
  sum_weighted_resid = unname(colSums(r_surv_w[grp == a, , drop = FALSE])))))
sku <- summary(km_unw, times = chk_times)
unw_tab <- data.frame(treat = rep(c(0, 1), each = length(chk_times)), time = chk_times,
                      surv = sku$surv, std_err_summary = sku$std.err,
                      std_err_log_scale = sku$std.err / sku$surv)

out$km_weighted_sim <- list(
  call = "survfit(Surv(time, status == 1) ~ treat, data = sim, weights = w, id = id, robust = TRUE)",
  logse = km$logse,
  std_err_scale = if (isTRUE(km$logse)) "log(S)" else "S (plain survival scale)",
  conf_type_default = km$conf.type,
  strata = names(km$strata), n_per_stratum = km$n,
  table = km_tab,
  max_abs_diff_surv_vs_hand_product_limit = max(abs(km$surv - km_hand)),
  max_abs_diff_nrisk_vs_weighted_sum = max(abs(km_tab$n_risk - km_tab$n_risk_weighted_by_hand)),
  ij_check = ij_surv,
  unweighted_classic_fit = list(
    logse = km_unw$logse,
    note = "plain unweighted survfit (Greenwood); fit$std.err is on the log(S) scale, summary() multiplies by S",
    table = unw_tab)
)

## 6b. weighted Aalen-Johansen -------------------------------------------------
aj <- survfit(Surv(time, factor(status, 0:2)) ~ treat, data = sim, weights = w, id = id)
st <- strata_vec(aj)
aj_tab <- do.call(rbind, lapply(seq_along(aj$strata), function(s) {
  idx <- which(st == s); g <- sim[sim$treat == c(0, 1)[s], ]; tt <- aj$time[idx]
  data.frame(treat = c(0, 1)[s], time = tt,
             n_risk = aj$n.risk[idx, 1],
             n_event_1 = aj$n.event[idx, 2], n_event_2 = aj$n.event[idx, 3],
             n_risk_unweighted_by_hand = sapply(tt, function(u) sum(g$time >= u)),
             n_risk_weighted_by_hand = sapply(tt, function(u) sum(g$w[g$time >= u])),
             n_event_1_unweighted_by_hand = sapply(tt, function(u) sum(g$time == u & g$status == 1)),
             n_event_1_weighted_by_hand = sapply(tt, function(u) sum(g$w[g$time == u & g$status == 1])),
             pstate_0 = aj$pstate[idx, 1], pstate_1 = aj$pstate[idx, 2], pstate_2 = aj$pstate[idx, 3],
             std_err_0 = aj$std.err[idx, 1], std_err_1 = aj$std.err[idx, 2], std_err_2 = aj$std.err[idx, 3],
             lower_1 = aj$lower[idx, 2], upper_1 = aj$upper[idx, 2],
             lower_2 = aj$lower[idx, 3], upper_2 = aj$upper[idx, 3])
}))
## IJ check for the CIF
r_aj <- residuals(aj, times = chk_times, type = "pstate", weighted = TRUE)  # n x times x states
saj <- summary(aj, times = chk_times)
aj_ij <- do.call(rbind, lapply(c(0, 1), function(a) data.frame(
  treat = a, time = chk_times,
  cif1_summary = saj$pstate[saj$strata == paste0("treat=", a), 2],
  std_err_cif1_summary = saj$std.err[saj$strata == paste0("treat=", a), 2],
  sqrt_sum_weighted_resid_sq_cif1 = as.vector(sqrt(colSums(r_aj[grp == a, , 2, drop = FALSE]^2))))))
out$aj_weighted_sim <- list(
  call = "survfit(Surv(time, factor(status, 0:2)) ~ treat, data = sim, weights = w, id = id)",
  states = aj$states, logse = aj$logse, conf_type = aj$conf.type,
  robust_by_default = "yes: non-integer weights force robust (IJ) variance",
  std_err_scale = "pstate (plain probability scale)",
  n_risk_semantics = if (isTRUE(all.equal(aj_tab$n_risk, aj_tab$n_risk_unweighted_by_hand)))
    "UNWEIGHTED counts (differs from survfitKM, which reports weighted sums)" else
    "weighted sums",
  n_risk_matches_unweighted = isTRUE(all.equal(aj_tab$n_risk, aj_tab$n_risk_unweighted_by_hand)),
  n_event_matches_unweighted = isTRUE(all.equal(aj_tab$n_event_1, aj_tab$n_event_1_unweighted_by_hand)),
  table = aj_tab, ij_check = aj_ij)

## 6c. weighted RMST -----------------------------------------------------------
taus <- c(2, 5, 8)
rmst_rows <- list()
for (tau in taus) {
  tb <- summary(km, rmean = tau)$table
  r_w <- residuals(km, times = tau, type = "rmst", weighted = TRUE)
  r_u <- residuals(km, times = tau, type = "rmst", weighted = FALSE)
  for (a in c(0, 1)) {
    rn <- paste0("treat=", a)
    rmst_rows[[length(rmst_rows) + 1]] <- data.frame(
      tau = tau, treat = a,
      rmean = tb[rn, "rmean"], se_rmean_print = tb[rn, "se(rmean)"],
      se_IJ_sqrt_sum_weighted_resid_sq = sqrt(sum(r_w[grp == a]^2)),
      se_sqrt_sum_unweighted_resid_sq = sqrt(sum(r_u[grp == a]^2)),
      se_IJ_sqrt_sum_w2_unweighted_resid_sq = sqrt(sum((sim$w[grp == a] * r_u[grp == a])^2)),
      sum_weighted_resid = sum(r_w[grp == a]))
  }
}
rmst_tab <- do.call(rbind, rmst_rows)

## independent check: integrate the survfit influence matrix (influence = TRUE)
km_inf <- survfit(Surv(time, status == 1) ~ treat, data = sim, weights = w, id = id,
                  robust = TRUE, influence = TRUE)
rmst_inf_se <- function(fit, s, tau) {
  inf <- fit$influence.surv[[s]]                  # n_group x n_times
  idx <- which(strata_vec(fit) == s); tt <- fit$time[idx]
  keep <- tt <= tau
  grid <- c(0, tt[keep], tau)
  dt <- diff(grid)                                # S(u) constant on [grid_j, grid_j+1)
  Iu <- cbind(0, inf[, keep, drop = FALSE])       # influence of S is 0 before first time
  rm_inf <- Iu %*% dt
  ## also check the survival std.err reproduces from the influence matrix
  c(se = sqrt(sum(rm_inf^2)),
    max_abs_diff_std_err = max(abs(sqrt(colSums(inf^2)) - fit$std.err[idx])))
}
rmst_tab$se_from_influence_matrix <- mapply(function(tau, a)
  rmst_inf_se(km_inf, a + 1, tau)["se"], rmst_tab$tau, rmst_tab$treat)
rmst_inf_std_err_check <- max(sapply(1:2, function(s) rmst_inf_se(km_inf, s, 5)["max_abs_diff_std_err"]))

## RMST difference treated - control with IJ SE (independent groups)
rmst_diff <- do.call(rbind, lapply(taus, function(tau) {
  a1 <- rmst_tab[rmst_tab$tau == tau & rmst_tab$treat == 1, ]
  a0 <- rmst_tab[rmst_tab$tau == tau & rmst_tab$treat == 0, ]
  d <- a1$rmean - a0$rmean
  se <- sqrt(a1$se_IJ_sqrt_sum_weighted_resid_sq^2 + a0$se_IJ_sqrt_sum_weighted_resid_sq^2)
  data.frame(tau = tau, rmst_treated = a1$rmean, rmst_control = a0$rmean, diff = d, se = se,
             lower = d - Z975 * se, upper = d + Z975 * se)
}))

## AJ: restricted mean time in each state (sojourn) and the lost time due to cause 1
aj_rm <- do.call(rbind, lapply(taus, function(tau) {
  r <- residuals(aj, times = tau, type = "sojourn", weighted = TRUE)   # n x states
  do.call(rbind, lapply(c(0, 1), function(a) {
    ## point value: integrate pstate step functions up to tau
    idx <- which(strata_vec(aj) == a + 1); tt <- aj$time[idx]; keep <- tt <= tau
    grid <- c(0, tt[keep], tau)
    P <- rbind(c(1, 0, 0), aj$pstate[idx[keep], , drop = FALSE])
    area <- colSums(P * diff(grid))
    data.frame(tau = tau, treat = a,
               time_in_state0 = area[1], time_lost_cause1 = area[2], time_lost_cause2 = area[3],
               se_IJ_state0 = sqrt(sum(r[grp == a, 1]^2)),
               se_IJ_cause1 = sqrt(sum(r[grp == a, 2]^2)),
               se_IJ_cause2 = sqrt(sum(r[grp == a, 3]^2)))
  }))
}))
aj_print <- summary(aj, rmean = 8)$table
aj8 <- aj_rm[aj_rm$tau == 8, ]
aj_print_check <- max(abs(aj_print[, "rmean"] -
  c(aj8$time_in_state0, aj8$time_lost_cause1, aj8$time_lost_cause2)))

out$rmst_weighted_sim <- list(
  taus = taus,
  table = rmst_tab,
  difference_treated_minus_control = rmst_diff,
  influence_matrix_reproduces_survfit_std_err_maxdiff = unname(rmst_inf_std_err_check),
  aj_restricted_time_in_state = aj_rm,
  aj_print_table_rmean8 = list(rownames = rownames(aj_print), colnames = colnames(aj_print),
                               values = unname(aj_print)),
  aj_print_rmean8_vs_hand_integral_maxdiff = aj_print_check)

## 6d. weighted Cox ------------------------------------------------------------
cox_block <- function(fit) {
  list(coef_names = arr(names(coef(fit))), coefficients = arr(coef(fit)),
       se_robust = arr(sqrt(diag(fit$var))),
       se_naive = arr(sqrt(diag(fit$naive.var))),
       loglik = fit$loglik, ties = fit$method, n = fit$n, nevent = fit$nevent,
       robust_var_equals_crossprod_dfbeta =
         isTRUE(all.equal(unname(fit$var), unname(crossprod(residuals(fit, type = "dfbeta"))))))
}
cx1  <- coxph(Surv(time, status == 1) ~ treat, data = sim, weights = w, robust = TRUE)
cx1c <- coxph(Surv(time, status == 1) ~ treat, data = sim, weights = w, cluster = id)
cx1b <- coxph(Surv(time, status == 1) ~ treat, data = sim, weights = w, robust = TRUE, ties = "breslow")
cx2  <- coxph(Surv(time, status == 1) ~ treat + age + sex, data = sim, weights = w, robust = TRUE)
cx2c <- coxph(Surv(time, status == 1) ~ treat + age + sex, data = sim, weights = w, cluster = id)
cx2b <- coxph(Surv(time, status == 1) ~ treat + age + sex, data = sim, weights = w, robust = TRUE,
              ties = "breslow")
cx0  <- coxph(Surv(time, status == 1) ~ treat, data = sim)
out$cox_weighted_sim <- list(
  treat_efron_robust = cox_block(cx1), treat_efron_cluster_id = cox_block(cx1c),
  treat_breslow_robust = cox_block(cx1b),
  treat_age_sex_efron_robust = cox_block(cx2), treat_age_sex_efron_cluster_id = cox_block(cx2c),
  treat_age_sex_breslow_robust = cox_block(cx2b),
  treat_unweighted_efron = list(coefficients = arr(coef(cx0)),
                                se = arr(sqrt(diag(vcov(cx0)))), loglik = cx0$loglik))

## 6e. weighted Fine-Gray in the no-censoring variant -------------------------
fgdat <- sim[, c("id", "treat", "age", "sex", "time_nc", "status_nc", "w")]
fg <- finegray(Surv(time_nc, factor(status_nc, 0:2)) ~ ., data = fgdat, etype = 1, weights = w)
fg_u <- finegray(Surv(time_nc, factor(status_nc, 0:2)) ~ ., data = fgdat, etype = 1)
## as requested (weights = fgwt * w) -- this DOUBLE-COUNTS w, see README
fit_fg_req <- coxph(Surv(fgstart, fgstop, fgstatus) ~ treat, data = fg, weights = fgwt * w, cluster = id)
## correct: fgwt already contains w
fit_fg <- coxph(Surv(fgstart, fgstop, fgstatus) ~ treat, data = fg, weights = fgwt, cluster = id)
fit_fg_br <- coxph(Surv(fgstart, fgstop, fgstatus) ~ treat, data = fg, weights = fgwt, cluster = id,
                   ties = "breslow")
## equivalent hand version (no censoring => G = 1): competing-event subjects
## stay in the risk set to max(time_nc)+; Cox with weights w
hand <- fgdat
hand$t_fg <- ifelse(hand$status_nc == 2, max(hand$time_nc) + 1, hand$time_nc)
fit_hand <- coxph(Surv(t_fg, status_nc == 1) ~ treat, data = hand, weights = w, cluster = id)
## unweighted
fit_fg_u <- coxph(Surv(fgstart, fgstop, fgstatus) ~ treat, data = fg_u, weights = fgwt, cluster = id)
fit_fg_u_br <- coxph(Surv(fgstart, fgstop, fgstatus) ~ treat, data = fg_u, weights = fgwt, cluster = id,
                     ties = "breslow")
crr_u <- crr(ftime = fgdat$time_nc, fstatus = fgdat$status_nc, cov1 = cbind(treat = fgdat$treat),
             failcode = 1, cencode = 0)
fgw <- function(f) list(coefficients = arr(coef(f)), se_robust = arr(sqrt(diag(f$var))),
                        se_naive = arr(sqrt(diag(f$naive.var))), loglik = f$loglik, ties = f$method)
out$finegray_weighted_sim <- list(
  data = "no-censoring variant: time_nc, status_nc (1 = event of interest, 2 = competing)",
  call = "finegray(Surv(time_nc, factor(status_nc, 0:2)) ~ ., data = sim[, c('id','treat','age','sex','time_nc','status_nc','w')], etype = 1, weights = w)",
  note_factor_levels = "factor(status_nc) without levels = 0:2 makes '1' the FIRST level, which Surv() treats as censoring; finegray(..., etype = 1) then stops with 'etype argument has a state that is not in the data'. Use factor(status_nc, 0:2).",
  censoring_distribution_weighted = FALSE,
  fgwt_equals_w_times_censoring_weight = isTRUE(all.equal(fg$fgwt, fg$w)),
  n_rows_expanded = nrow(fg), range_fgwt_over_w = range(fg$fgwt / fg$w),
  as_requested_weights_fgwt_times_w = c(fgw(fit_fg_req), list(
    warning = "fgwt already equals w * censoring weight, so fgwt*w uses w^2 (double counting)")),
  weights_fgwt_correct = fgw(fit_fg),
  weights_fgwt_correct_breslow = fgw(fit_fg_br),
  hand_equivalent_cox = fgw(fit_hand),
  unweighted_finegray_coxph_efron = fgw(fit_fg_u),
  unweighted_finegray_coxph_breslow = fgw(fit_fg_u_br),
  crr_unweighted = list(coefficients = arr(crr_u$coef), se = arr(sqrt(diag(crr_u$var))),
                        loglik = crr_u$loglik, converged = crr_u$converged))

## 6e2. weighted Fine-Gray WITH censoring (added for calcstats) --------------
## finegray() censoring weights come from the UNWEIGHTED Kaplan-Meier of the
## censoring times, and fgwt = w * G(t)/G(t_i). coxph(cluster = id) on these
## data gives the point estimate; its robust SE has no term for the estimated
## G (crr's SE has one). Tight coxph control so the coefficients are exact.
cctl <- coxph.control(eps = 1e-12, iter.max = 100, toler.inf = 1e-12)
fgcdat <- sim[, c("id", "treat", "age", "sex", "time", "status", "w")]
fgc <- finegray(Surv(time, factor(status, 0:2)) ~ ., data = fgcdat, etype = 1, weights = w)
fgc_u <- finegray(Surv(time, factor(status, 0:2)) ~ ., data = fgcdat, etype = 1)
fgc1 <- coxph(Surv(fgstart, fgstop, fgstatus) ~ treat, data = fgc, weights = fgwt, cluster = id,
              ties = "breslow", control = cctl)
fgc2 <- coxph(Surv(fgstart, fgstop, fgstatus) ~ treat + age + sex, data = fgc, weights = fgwt,
              cluster = id, ties = "breslow", control = cctl)
fgc_u1 <- coxph(Surv(fgstart, fgstop, fgstatus) ~ treat, data = fgc_u, weights = fgwt,
                cluster = id, ties = "breslow", control = cctl)
crr_c <- crr(ftime = sim$time, fstatus = sim$status, cov1 = cbind(treat = sim$treat),
             failcode = 1, cencode = 0, gtol = 1e-10)
out$finegray_weighted_censored_sim <- list(
  data = "censored data: time, status (0 censored, 1 event of interest, 2 competing)",
  call = "finegray(Surv(time, factor(status, 0:2)) ~ ., data = sim[, c('id','treat','age','sex','time','status','w')], etype = 1, weights = w); coxph(Surv(fgstart, fgstop, fgstatus) ~ ..., weights = fgwt, cluster = id, ties = 'breslow')",
  censoring_distribution_weighted = FALSE,
  se_robust_note = "coxph robust SE on finegray data: no term for the estimated censoring distribution",
  treat = fgw(fgc1), treat_age_sex = fgw(fgc2),
  unweighted_treat = fgw(fgc_u1),
  crr_unweighted_treat = list(coefficients = arr(crr_c$coef), se = arr(sqrt(diag(crr_c$var))),
                              loglik = crr_c$loglik, converged = crr_c$converged))

## 6e3. Cox with integer case weights: robust = TRUE vs the default ----------
## (non-integer weights make coxph robust by default; integer weights do not)
sim$w_int <- pmax(1, round(sim$w))
cxi_r <- coxph(Surv(time, status == 1) ~ treat + age, data = sim, weights = w_int, robust = TRUE)
cxi_n <- coxph(Surv(time, status == 1) ~ treat + age, data = sim, weights = w_int)
out$cox_integer_weights_sim <- list(
  weights = "w_int = pmax(1, round(ATE weight))", w_int = sim$w_int,
  robust_true = cox_block(cxi_r),
  default = list(coefficients = arr(coef(cxi_n)), se = arr(sqrt(diag(vcov(cxi_n)))),
                 robust_var_present = !is.null(cxi_n$naive.var)))

## 6f. marginal effects at t = 2, 5 -------------------------------------------
me_times <- c(2, 5)
sk2 <- summary(km, times = me_times)
sa2 <- summary(aj, times = me_times)
contrast <- function(r1, se1, r0, se0, t, source) {
  rd <- r1 - r0; se_rd <- sqrt(se1^2 + se0^2)
  rr <- r1 / r0; se_lrr <- sqrt(se1^2 / r1^2 + se0^2 / r0^2)
  data.frame(source = source, time = t, risk_treated = r1, se_treated = se1,
             risk_control = r0, se_control = se0,
             rd = rd, se_rd = se_rd, rd_lower = rd - Z975 * se_rd, rd_upper = rd + Z975 * se_rd,
             rr = rr, se_log_rr = se_lrr,
             rr_lower = exp(log(rr) - Z975 * se_lrr), rr_upper = exp(log(rr) + Z975 * se_lrr))
}
me_km <- contrast(1 - sk2$surv[sk2$strata == "treat=1"], sk2$std.err[sk2$strata == "treat=1"],
                  1 - sk2$surv[sk2$strata == "treat=0"], sk2$std.err[sk2$strata == "treat=0"],
                  me_times, "1 - weighted KM (competing events censored)")
me_aj <- contrast(sa2$pstate[sa2$strata == "treat=1", 2], sa2$std.err[sa2$strata == "treat=1", 2],
                  sa2$pstate[sa2$strata == "treat=0", 2], sa2$std.err[sa2$strata == "treat=0", 2],
                  me_times, "weighted Aalen-Johansen CIF, cause 1")
out$marginal_effects_sim <- list(times = me_times, table = rbind(me_km, me_aj))

## -----------------------------------------------------------------------------
## 7. Matching on lalonde
## -----------------------------------------------------------------------------
lp <- unname(ps_fit_lal$linear.predictors)      # logit(PS)
ps <- unname(fitted(ps_fit_lal))
t_l <- lal$treat
caliper_width <- 0.2 * sd(lp)                   # sd over ALL units, n - 1

## (A) reference algorithm requested for calcstats --------------------------
##   treated in decreasing PS (ordering done on logit PS, which is monotone in
##   PS and avoids ties from PS saturating in floating point; order() is
##   stable so tied treated keep data order); each treated takes the nearest
##   AVAILABLE control by |logit diff|; exact distance ties -> first control in
##   data order (which.min); caliper: allowed iff |diff| <= caliper.
##   ratio > 1: in rounds, like MatchIt (round 1: every treated gets its 1st
##   control, in the same order; round 2: every treated its 2nd, ...).
greedy_match <- function(lp, t, caliper = Inf, ratio = 1) {
  tr <- which(t == 1); co <- which(t == 0)
  ord <- tr[order(lp[tr], decreasing = TRUE)]   # m.order = "largest"
  avail <- rep(TRUE, length(co))
  mm <- matrix(NA_integer_, nrow = length(tr), ncol = ratio, dimnames = list(tr, NULL))
  for (k in seq_len(ratio)) {
    for (i in ord) {
      if (!any(avail)) break
      d <- abs(lp[i] - lp[co]); d[!avail] <- Inf
      j <- which.min(d)
      if (is.finite(d[j]) && d[j] <= caliper) {
        mm[as.character(i), k] <- co[j]; avail[j] <- FALSE
      }
    }
  }
  mm
}

## (B) emulation of MatchIt's C++ nn_matchC_vec (distance = vector) ----------
##   units sorted by sort.list(distance) (stable); for the current treated
##   unit, scan left and right in that sorted order for the first available
##   control (the caliper check 'break's the scan); choose left if
##   |d_left| <= |d_right| (so a tie goes to the LOWER distance side).
##   int_abs = TRUE reproduces the bug of MatchIt 4.5.1-4.5.3 (issue #163):
##   abs() on a double resolved to C int abs(), i.e. trunc(|x|); it breaks
##   both the caliper check and the left/right choice (fixed with std::abs in
##   commit 4b5b2f8, released in 4.5.4).
matchit_emulate <- function(dist, t, caliper = NULL, ratio = 1, int_abs = FALSE) {
  absf <- if (int_abs) function(x) trunc(abs(x)) else abs
  n <- length(dist)
  so <- sort.list(dist)                  # position -> data row
  ds <- dist[so]; ts <- t[so]
  tr <- which(t == 1)
  ord <- tr[order(dist[tr], decreasing = TRUE)]
  pos_of <- integer(n); pos_of[so] <- seq_len(n)
  avail <- ts == 0
  mm <- matrix(NA_integer_, nrow = length(tr), ncol = ratio, dimnames = list(tr, NULL))
  for (r in seq_len(ratio)) {
    for (i in ord) {
      ii <- pos_of[i]
      have <- mm[as.character(i), ]; have <- have[!is.na(have)]
      scan <- function(step) {
        k <- ii + step
        while (k >= 1 && k <= n) {
          if (ts[k] == 1 || !avail[k] || so[k] %in% have) { k <- k + step; next }
          if (!is.null(caliper) && absf(ds[ii] - ds[k]) > caliper) return(NA)
          return(k)
        }
        NA
      }
      kl <- scan(-1L); kr <- scan(1L)
      if (is.na(kl) && is.na(kr)) next
      k <- if (!is.na(kl) && !is.na(kr)) {
        if (absf(ds[kl] - ds[ii]) <= absf(ds[kr] - ds[ii])) kl else kr
      } else if (!is.na(kl)) kl else kr
      mm[as.character(i), r] <- so[k]; avail[k] <- FALSE
      if (!any(avail)) return(mm)
    }
  }
  mm
}

pairs_df <- function(mm) {
  tr <- as.integer(rownames(mm)); c1 <- mm[, 1]
  data.frame(treated_id = lal$id[tr], control_id = ifelse(is.na(c1), NA, lal$id[c1]),
             treated_ps = ps[tr], control_ps = ifelse(is.na(c1), NA, ps[c1]),
             abs_logit_dist = abs(lp[tr] - ifelse(is.na(c1), NA, lp[c1])))
}
matches_df <- function(mm) {
  res <- data.frame(treated_id = lal$id[as.integer(rownames(mm))])
  for (k in seq_len(ncol(mm))) res[[paste0("control", k, "_id")]] <-
      ifelse(is.na(mm[, k]), NA, lal$id[mm[, k]])
  res
}
match_weights <- function(mm) {
  ## treated 1; each control gets sum over its treated of 1/(#controls of that treated)
  tr <- as.integer(rownames(mm)); wt <- rep(0, nrow(lal))
  for (r in seq_len(nrow(mm))) {
    cs <- mm[r, !is.na(mm[r, ])]
    if (length(cs) == 0) next
    wt[tr[r]] <- 1; wt[cs] <- wt[cs] + 1 / length(cs)
  }
  wt
}
matched_balance <- function(mm) {
  wt <- match_weights(mm); sel <- wt > 0
  ## denominators from the FULL (pre-matching) sample, like cobalt
  b <- balance_table(lal[sel, ], covs_lal, lal$treat[sel], wt[sel], "ATT",
                     sd_sample_t = lal$treat, sd_sample_x = lal)
  b_full <- balance_table(lal, covs_lal, lal$treat, rep(1, nrow(lal)), "ATT")
  data.frame(variable = b$variable, level = b$level, type = b$type,
             sd_denominator_full_sample = b$sd_denominator,
             mean_treated_full = b_full$mean_treated_unweighted,
             mean_control_full = b_full$mean_control_unweighted,
             mean_treated_matched = b$mean_treated_weighted,
             mean_control_matched = b$mean_control_weighted,
             diff_full = b_full$diff_unweighted, diff_matched = b$diff_weighted,
             smd_full = b_full$smd_unweighted, smd_matched = b$smd_weighted,
             vr_full = b_full$vr_unweighted, vr_matched = b$vr_weighted)
}
same_sets <- function(a, b) {
  a[is.na(a)] <- -1L; b[is.na(b)] <- -1L
  all(sapply(seq_len(nrow(a)), function(i) setequal(a[i, ], b[i, ])))
}
n_diff_first <- function(a, b) { a <- a[, 1]; b <- b[, 1]; a[is.na(a)] <- -1L; b[is.na(b)] <- -1L; sum(a != b) }
summ_mm <- function(mm) {
  m1 <- !is.na(mm[, 1]); tr <- as.integer(rownames(mm))
  dd <- abs(lp[tr[m1]] - lp[mm[m1, 1]])
  list(n_treated_matched = sum(m1), n_treated_unmatched = sum(!m1),
       n_controls_matched = sum(!is.na(mm)),
       max_abs_logit_dist_first_match = max(dd),
       n_first_matches_outside_caliper = sum(dd > caliper_width))
}

## MatchIt runs
fml <- treat ~ age + educ + race + married + nodegree + re74 + re75
m_cal <- matchit(fml, data = lal, method = "nearest", distance = "glm", link = "linear.logit",
                 m.order = "largest", caliper = 0.2, std.caliper = TRUE)
m_nocal <- matchit(fml, data = lal, method = "nearest", distance = "glm", link = "linear.logit",
                   m.order = "largest")
m_r2 <- matchit(fml, data = lal, method = "nearest", distance = "glm", link = "linear.logit",
                m.order = "largest", ratio = 2)
mi_mat <- function(m) {
  mm <- m$match.matrix
  matrix(as.integer(mm), nrow = nrow(mm), dimnames = list(rownames(mm), NULL))
}
MI_cal <- mi_mat(m_cal); MI_nocal <- mi_mat(m_nocal); MI_r2 <- mi_mat(m_r2)
mi_dist <- unname(m_nocal$distance)
mi_caliper <- unname(m_cal$caliper)

## plain-R reference (A)
A_cal <- greedy_match(lp, t_l, caliper_width)
A_nocal <- greedy_match(lp, t_l)
A_r2 <- greedy_match(lp, t_l, ratio = 2)
A_r2_cal <- greedy_match(lp, t_l, caliper_width, ratio = 2)
## emulations (B), fed with MatchIt's own distance & caliper
E_fix_cal <- matchit_emulate(mi_dist, t_l, caliper = mi_caliper)
E_fix_nocal <- matchit_emulate(mi_dist, t_l)
E_fix_r2 <- matchit_emulate(mi_dist, t_l, ratio = 2)
E_bug_cal <- matchit_emulate(mi_dist, t_l, caliper = mi_caliper, int_abs = TRUE)
E_bug_nocal <- matchit_emulate(mi_dist, t_l, int_abs = TRUE)
E_bug_r2 <- matchit_emulate(mi_dist, t_l, ratio = 2, int_abs = TRUE)

## differences between (A) and the fixed-MatchIt emulation are tie-breaking only?
tie_only <- function(a, b) {
  i <- which(a[, 1] != b[, 1] | xor(is.na(a[, 1]), is.na(b[, 1])))
  tr <- as.integer(rownames(a))[i]
  list(n_differ = length(i),
       differing_treated_ids = lal$id[tr],
       all_equal_distance = isTRUE(all(abs(abs(lp[tr] - lp[a[i, 1]]) - abs(lp[tr] - lp[b[i, 1]])) < 1e-12)))
}

out$matching_lalonde <- list(
  distance = "logit(PS) = linear predictor of ps_lalonde",
  order = "treated processed in decreasing PS (= decreasing logit PS, m.order = 'largest'); R order() is stable, tied treated keep data order",
  tie_rule = "nearest available control by |logit diff|; exact distance ties -> first control in data order (which.min)",
  caliper_sd_logit_ps = sd(lp), caliper_width = caliper_width,
  caliper_rule = "match allowed iff |logit diff| <= caliper_width; otherwise the treated unit stays unmatched",
  plain_R_caliper = c(summ_mm(A_cal), list(pairs = pairs_df(A_cal), balance_ATT = matched_balance(A_cal))),
  plain_R_no_caliper = c(summ_mm(A_nocal), list(pairs = pairs_df(A_nocal),
                                                balance_ATT = matched_balance(A_nocal))),
  plain_R_ratio2_no_caliper = c(summ_mm(A_r2), list(
    algorithm = "round 1: every treated (decreasing PS) takes its nearest available control; round 2: same again for the 2nd control",
    matches = matches_df(A_r2), balance_ATT = matched_balance(A_r2))),
  plain_R_ratio2_caliper = c(summ_mm(A_r2_cal), list(matches = matches_df(A_r2_cal),
                                                     balance_ATT = matched_balance(A_r2_cal))),
  matchit_version = as.character(packageVersion("MatchIt")),
  matchit_caliper_width = mi_caliper,
  matchit_distance_equals_lp = isTRUE(all.equal(mi_dist, lp)),
  matchit_caliper = c(summ_mm(MI_cal), list(pairs = pairs_df(MI_cal),
                                            balance_ATT = matched_balance(MI_cal))),
  matchit_no_caliper = c(summ_mm(MI_nocal), list(pairs = pairs_df(MI_nocal))),
  matchit_ratio2_no_caliper = c(summ_mm(MI_r2), list(matches = matches_df(MI_r2))),
  comparison = list(
    plain_R_vs_matchit_no_caliper_identical = same_sets(A_nocal, MI_nocal),
    plain_R_vs_matchit_no_caliper_n_first_match_differ = n_diff_first(A_nocal, MI_nocal),
    plain_R_vs_matchit_caliper_identical = same_sets(A_cal, MI_cal),
    plain_R_vs_matchit_ratio2_identical = same_sets(A_r2, MI_r2),
    emulation_int_abs_reproduces_matchit_4.5.1_caliper = same_sets(E_bug_cal, MI_cal),
    emulation_int_abs_reproduces_matchit_4.5.1_no_caliper = same_sets(E_bug_nocal, MI_nocal),
    emulation_int_abs_reproduces_matchit_4.5.1_ratio2 = same_sets(E_bug_r2, MI_r2),
    plain_R_vs_fixed_matchit_emulation_caliper_identical = same_sets(A_cal, E_fix_cal),
    plain_R_vs_fixed_matchit_emulation_no_caliper_identical = same_sets(A_nocal, E_fix_nocal),
    plain_R_vs_fixed_matchit_emulation_ratio2_identical = same_sets(A_r2, E_fix_r2),
    plain_R_vs_fixed_emulation_no_caliper_differences = tie_only(A_nocal, E_fix_nocal),
    plain_R_vs_fixed_emulation_caliper_differences = tie_only(A_cal, E_fix_cal)),
  fixed_matchit_emulation_caliper = c(summ_mm(E_fix_cal), list(pairs = pairs_df(E_fix_cal))),
  fixed_matchit_emulation_no_caliper = c(summ_mm(E_fix_nocal), list(pairs = pairs_df(E_fix_nocal))),
  fixed_matchit_emulation_ratio2 = c(summ_mm(E_fix_r2), list(matches = matches_df(E_fix_r2)))
)

## -----------------------------------------------------------------------------
## 8. write JSON
## -----------------------------------------------------------------------------
json <- jsonlite::toJSON(out, digits = NA, auto_unbox = TRUE, dataframe = "columns",
                         na = "null", pretty = FALSE)
jf <- "tests/reference/weighting.json"
writeLines(json, jf)
cat("wrote", jf, "(", round(file.size(jf) / 1024), "KB )\n")
