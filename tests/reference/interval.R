## interval.R -- R reference values for interval-censored survival
##   (Turnbull NPMLE via survfit + independent high-precision NPMLE,
##    parametric AFT models via survreg, Weibull PH reparametrisation,
##    imputation fits, right-censored check on `lung`).
##
## Run from tests/reference:   Rscript interval.R
## Writes: interval_data/{bcdeter,ic_sim,lung}.csv, interval.json (see interval_data/README.md)
## Deterministic: fixed RNG kind + seed; no dates/timings in the output.

suppressPackageStartupMessages({
  library(survival)
  library(KMsurv)
  library(jsonlite)
})
options(warn = 1, stringsAsFactors = FALSE)

## ------------------------------------------------------------------------
## 0. helpers
## ------------------------------------------------------------------------
num <- function(x) { x <- as.numeric(x); x }           # strip names
nlist <- function(x) as.list(setNames(as.numeric(x), names(x)))  # named vec -> JSON object

## ------------------------------------------------------------------------
## 1. DATA
## ------------------------------------------------------------------------
## 1a. bcdeter (KMsurv): breast cosmetic deterioration, months.
##     ?bcdeter: treat 1 = radiotherapy only, 2 = radiotherapy + chemotherapy
data(bcdeter, package = "KMsurv")
treat_levels <- c("radiotherapy only", "radiotherapy+chemotherapy")
bc_out <- data.frame(
  id         = seq_len(nrow(bcdeter)),
  left       = as.numeric(bcdeter$lower),
  right      = as.numeric(bcdeter$upper),          # NA = +Inf (right-censored)
  treat      = treat_levels[bcdeter$treat],
  treat_code = as.integer(bcdeter$treat),          # KMsurv coding 1/2
  chemo      = as.integer(bcdeter$treat == 2)      # 0/1 indicator
)
write.csv(bc_out, "interval_data/bcdeter.csv", row.names = FALSE, na = "")

## 1b. simulated interval-censored data
RNGkind("Mersenne-Twister", "Inversion", "Rejection")
seed <- 20240517L
set.seed(seed)
n_sim <- 300L
true_beta  <- c("(Intercept)" = 1.0, x = 0.4, z = -0.3)
true_sigma <- 1 / 1.5                                # Weibull shape 1.5
x <- rbinom(n_sim, 1, 0.5)
z <- round(rnorm(n_sim), 4)
w_err <- log(rexp(n_sim))                            # std. smallest-extreme-value
T_true <- exp(true_beta[1] + true_beta[2] * x + true_beta[3] * z + true_sigma * w_err)
T_true <- pmax(round(T_true, 6), 1e-6)
fu_end <- runif(n_sim, 3, 7)                         # end of follow-up (years)
max_vis <- 20L
gapmat <- matrix(runif(n_sim * max_vis, 0.8, 1.2), n_sim, max_vis, byrow = TRUE)
left <- right <- numeric(n_sim); nvis <- integer(n_sim)
for (i in seq_len(n_sim)) {
  gap_mean <- if (x[i] == 1) 1.0 else 0.5            # x=1 visited ~yearly, x=0 ~half-yearly
  v <- round(cumsum(gap_mean * gapmat[i, ]), 2)
  stopifnot(max(v) > fu_end[i])                      # enough visits generated
  v <- v[v <= fu_end[i]]
  stopifnot(length(v) >= 1)
  nvis[i] <- length(v)
  before <- v[v < T_true[i]]; after <- v[v >= T_true[i]]
  left[i]  <- if (length(before)) max(before) else 0 # 0 = event before first visit
  right[i] <- if (length(after)) min(after) else NA  # NA = +Inf: event after last visit
}
## a few exactly observed events (recorded to 0.01 year, like the visit dates)
elig <- which(!is.na(right) & T_true >= 0.05)
exact_id <- sort(sample(elig, 10))
left[exact_id] <- right[exact_id] <- round(T_true[exact_id], 2)
sim_out <- data.frame(id = seq_len(n_sim), left = left, right = right,
                      x = x, z = z, true_time = T_true, n_visits = nvis)
write.csv(sim_out, "interval_data/ic_sim.csv", row.names = FALSE, na = "")

## 1c. lung (survival): right-censored check
data(cancer, package = "survival")
lung_out <- data.frame(time = lung$time, status = as.integer(lung$status - 1L),
                       age = lung$age, sex = lung$sex)
write.csv(lung_out, "interval_data/lung.csv", row.names = FALSE)

## read everything back so that all fits use exactly what the CSVs hold
bc  <- read.csv("interval_data/bcdeter.csv", na.strings = c("", "NA"))
bc$treat <- factor(bc$treat, levels = treat_levels)
sim <- read.csv("interval_data/ic_sim.csv", na.strings = c("", "NA"))
lng <- read.csv("interval_data/lung.csv")
stopifnot(isTRUE(all.equal(sim$left, left, tolerance = 0)),
          isTRUE(all.equal(sim$true_time, T_true, tolerance = 0)))

data_summary <- function(d) {
  rc <- is.na(d$right); ex <- !rc & d$left == d$right
  list(n = nrow(d), n_right_censored = sum(rc), n_exact = sum(ex),
       n_left_zero = sum(d$left == 0 & !ex),
       n_left_zero_ids = d$id[d$left == 0 & !ex],
       n_interval_positive_left = sum(!rc & !ex & d$left > 0),
       exact_ids = d$id[ex])
}

## ------------------------------------------------------------------------
## 2. TURNBULL / NPMLE
## ------------------------------------------------------------------------
## 2a. Innermost (Turnbull) intervals.  Convention = survfit / Surv(type="interval2"):
##   left < right : event in (left, right]   (left NA -> -Inf, right NA -> +Inf)
##   left == right: exact event at left, i.e. the closed point [t, t]
## Endpoint codes (same as survfitTurnbull's stat2): 0 = "[" exact at t,
##   1 = "]" right end, 2 = "(" left end.  Ties sorted [ , ] , ( .
##   An exact time contributes both "[" and "]" at t.
##   Innermost intervals = a "[" or "(" immediately followed by a "]".
innermost <- function(L, R) {
  Lx <- ifelse(is.na(L), -Inf, L); Rx <- ifelse(is.na(R), Inf, R)
  ex <- is.finite(Lx) & Lx == Rx
  val  <- c(Lx[!ex], Rx[!ex], Lx[ex], Rx[ex])
  code <- c(rep(2L, sum(!ex)), rep(1L, sum(!ex)), rep(0L, sum(ex)), rep(1L, sum(ex)))
  o <- order(val, code); val <- val[o]; code <- code[o]
  k <- length(val)
  idx <- which(code[-k] != 1L & code[-1] == 1L)
  data.frame(lo = val[idx], hi = val[idx + 1], point = code[idx] == 0L)
}
## membership matrix A[i, j] = 1 if innermost interval j lies inside obs i
membership <- function(L, R, iv) {
  Lx <- ifelse(is.na(L), -Inf, L); Rx <- ifelse(is.na(R), Inf, R)
  ex <- is.finite(Lx) & Lx == Rx
  cont_int <- outer(Lx, iv$lo, "<=") & outer(Rx, iv$hi, ">=")        # (lo,hi] in (L,R]
  cont_pt  <- outer(Lx, iv$lo, "<")  & outer(Rx, iv$lo, ">=")        # {t} in (L,R]
  A <- ifelse(matrix(iv$point, length(Lx), nrow(iv), byrow = TRUE), cont_pt, cont_int)
  if (any(ex)) A[ex, ] <- outer(Lx[ex], iv$lo, "==") & matrix(iv$point, sum(ex), nrow(iv), byrow = TRUE)
  ## sanity: every non-member interval must be disjoint from the observation
  disj_int <- outer(Rx, iv$lo, "<=") | outer(Lx, iv$hi, ">=")
  disj_pt  <- outer(Rx, iv$lo, "<")  | outer(Lx, iv$lo, ">=")
  D <- ifelse(matrix(iv$point, length(Lx), nrow(iv), byrow = TRUE), disj_pt, disj_int)
  if (any(ex)) D[ex, ] <- !A[ex, ]
  stopifnot(all(A | D), all(rowSums(A) >= 1))
  storage.mode(A) <- "double"
  A
}
## 2b. self-consistency EM (Turnbull) + active-set Newton polish + KKT check
npmle <- function(L, R, w = rep(1, length(L)), tol = 1e-12, maxit_em = 2000000L) {
  iv <- innermost(L, R); A <- membership(L, R, iv)
  m <- ncol(A); N <- sum(w)
  ll <- function(p) sum(w * log(drop(A %*% p)))
  grad <- function(p) drop(crossprod(A, w / drop(A %*% p)))
  ## --- plain EM from the uniform start, stop when max |p_new - p_old| < tol
  p <- rep(1 / m, m); it <- 0L; chg <- Inf
  while (it < maxit_em) {
    it <- it + 1L
    pn <- p * grad(p) / N
    chg <- max(abs(pn - p)); p <- pn
    if (chg < tol) break
  }
  em <- list(p = p, iterations = it, last_change = chg, converged = chg < tol, tol = tol)
  ## --- active-set Newton on the support (constraint sum p = 1), KKT-driven
  S <- which(p > 1e-10)
  p[-S] <- 0; p <- p / sum(p)
  newton_it <- 0L; added <- 0L; dropped <- 0L
  for (outer_it in 1:200) {
    for (k in 1:200) {
      newton_it <- newton_it + 1L
      s <- length(S)
      Ap <- drop(A %*% p); g <- drop(crossprod(A, w / Ap))
      if (s == 1) break
      Z <- qr.Q(qr(matrix(1, s, 1)), complete = TRUE)[, -1, drop = FALSE]
      AS <- A[, S, drop = FALSE] * sqrt(w) / Ap
      Hn <- crossprod(AS %*% Z)                  # = Z' (-H) Z, psd
      gr <- drop(crossprod(Z, g[S]))
      if (max(abs(gr)) / N < 1e-15) break
      u <- tryCatch(solve(Hn, gr), error = function(e) qr.solve(Hn, gr, tol = 1e-12))
      d <- drop(Z %*% u)
      tmax <- 1; blk <- integer(0)
      if (any(d < 0)) {
        r <- -p[S][d < 0] / d[d < 0]
        if (min(r) < 1) { tmax <- min(r); blk <- S[d < 0][which.min(r)] }
      }
      t <- tmax; f0 <- ll(p)
      repeat {
        pn <- p; pn[S] <- p[S] + t * d; pn[pn < 0] <- 0
        if (length(blk) && t == tmax) pn[blk] <- 0
        if (ll(pn) >= f0 - 1e-13 * abs(f0) || t < 1e-12) break
        t <- t / 2
      }
      pn <- pn / sum(pn); p <- pn
      if (length(blk) && t == tmax) { S <- setdiff(S, blk); dropped <- dropped + 1L }
      if (max(abs(t * d)) < 1e-16) break
    }
    g <- grad(p); out <- setdiff(seq_len(m), S)
    if (!length(out) || max(g[out] / N - 1) <= 1e-11) break
    j <- out[which.max(g[out])]                   # KKT violated: add it back
    S <- sort(c(S, j)); p[j] <- 1e-8; p <- p / sum(p); added <- added + 1L
  }
  ## final diagnostics
  g <- grad(p); out <- setdiff(seq_len(m), S)
  em_step_change <- max(abs(p * g / N - p))
  p_em_after <- p * g / N
  kkt <- list(
    max_abs_grad_over_N_minus_1_on_support = max(abs(g[S] / N - 1)),
    max_grad_over_N_minus_1_off_support = if (length(out)) max(g[out] / N - 1) else NULL,
    em_step_change_at_solution = em_step_change)
  cum <- cumsum(p)
  list(iv = iv, A = A, p = p, S = S, loglik = ll(p), loglik_em = ll(em$p), em = em,
       newton_iterations = newton_it, kkt_additions = added, kkt_drops = dropped,
       kkt = kkt, masses_identifiable = qr(A[, S, drop = FALSE])$rank == length(S),
       surv_right = pmax(0, 1 - cum), surv_left = pmax(0, 1 - (cum - p)))
}
## NPMLE survival at arbitrary t lying outside innermost interiors: 1 - sum{p_k : hi_k <= t}
np_surv_at <- function(fit, t) sapply(t, function(tt) max(0, 1 - sum(fit$p[fit$iv$hi <= tt])))
sf_step <- function(time, surv, t, at0 = 1) { i <- findInterval(t, time); ifelse(i == 0, at0, surv[pmax(i, 1L)]) }

## split a survfit object into per-stratum lists
sf_split <- function(fit) {
  ns <- if (is.null(fit$strata)) c(all = length(fit$time)) else fit$strata
  ends <- cumsum(ns); starts <- ends - ns + 1
  out <- vector("list", length(ns)); names(out) <- names(ns)
  for (k in seq_along(ns)) {
    ii <- starts[k]:ends[k]
    out[[k]] <- list(strata_name = names(ns)[k], time = num(fit$time[ii]),
                     surv = num(fit$surv[ii]), std.err = num(fit$std.err[ii]),
                     n.risk = num(fit$n.risk[ii]), n.event = num(fit$n.event[ii]),
                     n.censor = num(fit$n.censor[ii]),
                     lower = num(fit$lower[ii]), upper = num(fit$upper[ii]))
  }
  out
}

## Re-create survfitTurnbull's final weighted Kaplan-Meier "pseudo data" from its
## output and recompute std.err with robust=TRUE (IJ, one cluster per pseudo row)
## and robust=FALSE (Greenwood) to document which one survfit reports.
se_check <- function(sfk, L, R) {
  Lx <- L; ex <- !is.na(R) & L == R
  rows_t <- c(); rows_s <- c(); rows_w <- c()
  for (i in seq_along(sfk$time)) {
    t <- sfk$time[i]
    ne_exact <- sum(ex & Lx == t)
    if (sfk$n.censor[i] > 0) { rows_t <- c(rows_t, rep(t, sfk$n.censor[i])); rows_s <- c(rows_s, rep(0, sfk$n.censor[i])); rows_w <- c(rows_w, rep(1, sfk$n.censor[i])) }
    if (ne_exact > 0) { rows_t <- c(rows_t, rep(t, ne_exact)); rows_s <- c(rows_s, rep(1, ne_exact)); rows_w <- c(rows_w, rep(1, ne_exact)) }
    pw <- sfk$n.event[i] - ne_exact
    if (pw > 0) { rows_t <- c(rows_t, t); rows_s <- c(rows_s, 1); rows_w <- c(rows_w, pw) }
  }
  pd <- data.frame(t = rows_t, s = rows_s, w = rows_w)
  f_ij <- survfit(Surv(t, s) ~ 1, data = pd, weights = w, robust = TRUE)
  f_gw <- survfit(Surv(t, s) ~ 1, data = pd, weights = w, robust = FALSE)
  ij <- sf_step(f_ij$time, f_ij$std.err, sfk$time, 0)
  gw <- sf_step(f_gw$time, f_gw$std.err, sfk$time, 0)
  ## log-CI implied by treating std.err as SE(S) (logse = FALSE)
  z <- qnorm(0.975)
  lo_S <- ifelse(sfk$surv > 0, sfk$surv * exp(-z * sfk$std.err / sfk$surv), NA)
  ok <- sfk$surv > 0 & !is.na(sfk$lower)
  list(
    max_abs_diff_std.err_vs_IJ_recomputed = max(abs(sfk$std.err - ij)),
    max_abs_diff_surv_vs_pseudo_KM = max(abs(sfk$surv - sf_step(f_ij$time, f_ij$surv, sfk$time))),
    max_abs_diff_std.err_vs_Greenwood_logscale = max(abs(sfk$std.err - gw)[is.finite(gw)]),
    max_abs_diff_std.err_vs_Greenwood_times_S = max(abs(sfk$std.err - gw * sfk$surv)[is.finite(gw)]),
    max_abs_diff_lower_vs_S_exp_minus_z_se_over_S = max(abs(sfk$lower[ok] - lo_S[ok])),
    greenwood_times_S_for_contrast = num(gw * sfk$surv))
}

## diagnostic copy of survival:::survfitTurnbull with the Aitken acceleration
## switched off (`if (TRUE)` -> `if (FALSE)`), same 5e-5 stopping rule
turnbull_src <- deparse(survival:::survfitTurnbull)
stopifnot(sum(grepl("if (TRUE) {", turnbull_src, fixed = TRUE)) == 1,
          sum(grepl("while (eps > 5e-05)", turnbull_src, fixed = TRUE)) == 1)
survfitTurnbull_noaitken <- eval(parse(text = sub("if (TRUE) {", "if (FALSE) {", turnbull_src, fixed = TRUE)))
environment(survfitTurnbull_noaitken) <- asNamespace("survival")

## log-likelihood implied by a right-continuous step function S (time, surv):
## interval (L,R] -> S(L)-S(R); right-censored -> S(L); exact t -> S(t-)-S(t)
implied_loglik <- function(time, surv, L, R) {
  S  <- function(t) sf_step(time, surv, t)
  Sm <- function(t) { i <- findInterval(t, time, left.open = TRUE); ifelse(i == 0, 1, surv[pmax(i, 1L)]) }
  ex <- !is.na(R) & L == R; rc <- is.na(R)
  P <- ifelse(rc, S(L), ifelse(ex, Sm(L) - S(L), S(L) - S(R)))
  sum(log(P))
}

curve_block <- function(d, sfk, label) {
  L <- d$left; R <- d$right
  fit <- npmle(L, R)
  iv <- fit$iv
  ## comparison points: finite right ends and finite left ends of non-point intervals
  pts <- sort(unique(c(iv$hi[is.finite(iv$hi)], iv$lo[!iv$point & is.finite(iv$lo)])))
  s_np <- np_surv_at(fit, pts)
  s_sf <- sf_step(sfk$time, sfk$surv, pts)
  fit_em <- fit; fit_em$p <- fit$em$p
  s_em <- np_surv_at(fit_em, pts)
  ## survfit's own times that are not inside an innermost interval's interior
  inside <- sapply(sfk$time, function(t) any(!iv$point & iv$lo < t & t < iv$hi))
  tt <- sfk$time[!inside]
  ## survfit recomputed with left = 0 recoded as NA (left-censored)
  d0 <- d; d0$left[d0$left == 0] <- NA
  sf0 <- survfit(Surv(left, right, type = "interval2") ~ 1, data = d0)
  s_sf0 <- sf_step(sf0$time, sf0$surv, pts)
  ## survfitTurnbull without Aitken acceleration
  fna <- survfitTurnbull_noaitken(factor(rep(1, nrow(d))), aeqSurv(Surv(L, R, type = "interval2")),
                                  rep(1, nrow(d)))
  s_na <- sf_step(fna$time, fna$surv, pts)
  fin_hi <- is.finite(iv$hi)
  ll_np_check <- implied_loglik(iv$hi[fin_hi], fit$surv_right[fin_hi], L, R)
  stopifnot(abs(ll_np_check - fit$loglik) < 1e-9)
  cat(sprintf("%-38s m=%3d supp=%3d EMit=%6d max|sf-NPMLE|=%.3e noAitken=%.3e ll: np=%.6f sf=%.6f |EM-final|=%.1e KKT=%.1e\n",
              label, nrow(iv), length(fit$S), fit$em$iterations, max(abs(s_sf - s_np)), max(abs(s_na - s_np)),
              fit$loglik, implied_loglik(sfk$time, sfk$surv, L, R),
              max(abs(s_em - s_np)), fit$kkt$max_abs_grad_over_N_minus_1_on_support))
  ## classify survfit's reported times
  exact_t <- unique(L[!is.na(R) & L == R]); cens_t <- unique(L[is.na(R)])
  mids <- ((iv$lo + iv$hi) / 2)[!iv$point & is.finite(iv$lo) & is.finite(iv$hi)]
  ## survfit also pairs an exact time with the next right endpoint ("[" then "]")
  ends <- sort(unique(R[!is.na(R) & !(L == R)]))
  spur <- vapply(exact_t, function(t0) { nx <- ends[ends > t0]; if (length(nx)) (t0 + min(nx)) / 2 else NA_real_ }, numeric(1))
  time_kind <- sapply(sfk$time, function(t) {
    k <- c(if (any(abs(t - mids) < 1e-9)) "innermost_midpoint",
           if (t %in% exact_t) "exact",
           if (any(abs(t - spur) < 1e-9, na.rm = TRUE)) "exact_to_next_right_midpoint",
           if (t %in% cens_t) "right_censoring_left")
    if (is.null(k)) "other" else paste(k, collapse = "+")
  })
  sfk$time_kind <- unname(time_kind)
  hi_json <- ifelse(is.finite(iv$hi), iv$hi, NA)
  list(
    n = nrow(d),
    survfit = c(sfk, list(conf.type = "log", conf.int = 0.95,
                          std.err_scale = "standard error of S(t) itself (IJ, logse = FALSE); see README"),
                se_check(sfk, L, R)),
    npmle = list(
      left = num(iv$lo), right = num(hi_json), point = iv$point,
      mass = num(fit$p), surv_left = num(fit$surv_left), surv = num(fit$surv_right),
      support = as.integer(fit$S), n_intervals = nrow(iv), n_support = length(fit$S),
      masses_identifiable = fit$masses_identifiable,
      loglik = fit$loglik,
      em = list(tol = fit$em$tol, iterations = fit$em$iterations,
                last_change = fit$em$last_change, converged = fit$em$converged,
                loglik = fit$loglik_em, mass = num(fit$em$p)),
      newton_iterations = fit$newton_iterations, kkt_additions = fit$kkt_additions,
      kkt_drops = fit$kkt_drops, kkt = fit$kkt),
    compare = list(
      points = num(pts), npmle_surv = num(s_np), survfit_surv = num(s_sf),
      em_only_surv = num(s_em),
      max_abs_diff_survfit_vs_npmle = max(abs(s_sf - s_np)),
      max_abs_diff_em_only_vs_npmle = max(abs(s_em - s_np)),
      max_abs_diff_survfit_vs_npmle_at_survfit_times_outside_innermost = max(abs(sf_step(sfk$time, sfk$surv, tt) - np_surv_at(fit, tt))),
      max_abs_diff_survfit_left0_as_NA_vs_npmle = max(abs(s_sf0 - s_np)),
      max_abs_diff_survfit_left0_vs_left0_as_NA = max(abs(s_sf0 - s_sf)),
      max_abs_diff_survfit_no_aitken_vs_npmle = max(abs(s_na - s_np)),
      loglik_npmle = fit$loglik,
      loglik_survfit_implied = implied_loglik(sfk$time, sfk$surv, L, R),
      loglik_survfit_no_aitken_implied = implied_loglik(fna$time, fna$surv, L, R))
  )
}

cat("== Turnbull / NPMLE ==\n")
npmle_out <- list()
## bcdeter
sf_bc1 <- sf_split(survfit(Surv(left, right, type = "interval2") ~ 1, data = bc))
sf_bct <- sf_split(survfit(Surv(left, right, type = "interval2") ~ treat, data = bc))
npmle_out$bcdeter <- list("~1" = list(all = curve_block(bc, sf_bc1[[1]], "bcdeter ~1")),
                          "~treat" = list())
for (lv in treat_levels) {
  nm <- paste0("treat=", lv)
  npmle_out$bcdeter[["~treat"]][[lv]] <- curve_block(bc[bc$treat == lv, ], sf_bct[[nm]], paste("bcdeter", nm))
}
## sim
sf_s1 <- sf_split(survfit(Surv(left, right, type = "interval2") ~ 1, data = sim))
sf_sx <- sf_split(survfit(Surv(left, right, type = "interval2") ~ x, data = sim))
npmle_out$ic_sim <- list("~1" = list(all = curve_block(sim, sf_s1[[1]], "ic_sim ~1")),
                         "~x" = list())
for (lv in c("0", "1")) {
  nm <- paste0("x=", lv)
  npmle_out$ic_sim[["~x"]][[lv]] <- curve_block(sim[sim$x == as.integer(lv), ], sf_sx[[nm]], paste("ic_sim", nm))
}
## summary(survfit) quirk: logse missing -> summary multiplies std.err by surv
q_fit <- survfit(Surv(left, right, type = "interval2") ~ 1, data = bc)
q_sum <- summary(q_fit, times = q_fit$time)
summary_quirk <- list(
  survfit_object_has_logse = !is.null(q_fit$logse),
  max_abs_diff_summary_std.err_vs_std.err_times_surv = max(abs(q_sum$std.err - q_fit$std.err * q_fit$surv)))

## ------------------------------------------------------------------------
## 3. PARAMETRIC (survreg)
## ------------------------------------------------------------------------
dists <- c("weibull", "lognormal", "loglogistic")
tight <- survreg.control(rel.tolerance = 1e-13, maxiter = 200)
## survreg with interval2 and left = 0 fails ("Invalid survival times for this
## distribution": log(0) = -Inf).  Record the error, then recode left = 0 -> NA
## (left-censored, contribution F(right) - F(0) = F(right): identical likelihood).
left0_error <- tryCatch({
  survreg(Surv(left, right, type = "interval2") ~ treat, data = bc, dist = "weibull"); "no error"
}, error = function(e) conditionMessage(e))
bc_sr <- bc;  bc_sr$left[bc_sr$left == 0] <- NA
sim_sr <- sim; sim_sr$left[sim_sr$left == 0] <- NA

## independent log-likelihood on the time scale: interval -> log(F(R)-F(L)),
## right-censored -> log S(L), left-censored -> log F(R), exact -> log f_T(t)
manual_loglik <- function(fit, L, R, dist, X) {
  mu <- drop(X %*% coef(fit)); s <- fit$scale
  cdf <- switch(dist, weibull = function(w) -expm1(-exp(w)), lognormal = pnorm, loglogistic = plogis)
  sf  <- switch(dist, weibull = function(w) exp(-exp(w)), lognormal = function(w) pnorm(-w), loglogistic = function(w) plogis(-w))
  pdf <- switch(dist, weibull = function(w) exp(w - exp(w)), lognormal = dnorm, loglogistic = dlogis)
  wl <- (log(L) - mu) / s; wr <- (log(R) - mu) / s
  ex <- !is.na(L) & !is.na(R) & L == R
  rc <- is.na(R); lc <- is.na(L); ic <- !ex & !rc & !lc
  sum(log(pdf(wl[ex]) / (s * L[ex]))) + sum(log(sf(wl[rc]))) + sum(log(cdf(wr[lc]))) +
    sum(log(cdf(wr[ic]) - cdf(wl[ic])))
}

sr_block <- function(formula, data, dist, L = NULL, R = NULL) {
  f  <- survreg(formula, data = data, dist = dist)
  ft <- survreg(formula, data = data, dist = dist, control = tight)
  V <- vcov(f)
  out <- list(
    formula = paste(deparse(formula), collapse = ""), dist = dist, n = nrow(data),
    coef_names = names(coef(f)), coefficients = nlist(coef(f)),
    scale = unname(f$scale), log_scale = log(unname(f$scale)),
    vcov = list(names = rownames(V), matrix = unname(V)),
    se = nlist(sqrt(diag(V))),
    loglik = f$loglik[2], loglik_null = f$loglik[1], iter = f$iter,
    tight_fit = list(rel.tolerance = 1e-13, iter = ft$iter,
                     max_abs_diff_coef = max(abs(coef(ft) - coef(f))),
                     abs_diff_scale = abs(ft$scale - f$scale),
                     abs_diff_loglik = abs(ft$loglik[2] - f$loglik[2])))
  if (!is.null(L)) {
    X <- model.matrix(delete.response(terms(f)), data = data)
    out$loglik_manual_time_scale <- manual_loglik(f, L, R, dist, X)
  }
  if (dist == "weibull") {
    ## PH form: h(t|x) = lambda * k * t^(k-1) * exp(x'beta_PH)
    ##   k = 1/scale, beta_PH = -beta/scale, log(lambda) = -intercept/scale
    b <- coef(f); s <- f$scale; p <- length(b)
    est <- c(-b / s, log(1 / s))
    J <- matrix(0, p + 1, p + 1)
    J[cbind(1:p, 1:p)] <- -1 / s
    J[1:p, p + 1] <- b / s                           # d(-b/exp(ls))/d ls
    J[p + 1, p + 1] <- -1                            # d(-ls)/d ls
    VP <- J %*% V %*% t(J)
    nm <- c(ifelse(names(b) == "(Intercept)", "log_lambda", names(b)), "log_shape")
    cov_idx <- which(names(b) != "(Intercept)")
    out$weibull_ph <- list(
      shape = 1 / s, shape_se = sqrt(V[p + 1, p + 1]) / s,
      log_shape = -log(s), log_shape_se = sqrt(V[p + 1, p + 1]),
      log_lambda = unname(-b[1] / s), log_lambda_se = sqrt(VP[1, 1]),
      log_hr = as.list(setNames(num(est[cov_idx]), names(b)[cov_idx])),
      log_hr_se = as.list(setNames(sqrt(diag(VP))[cov_idx], names(b)[cov_idx])),
      hr = as.list(setNames(exp(num(est[cov_idx])), names(b)[cov_idx])),
      vcov = list(names = nm, matrix = unname(VP)),
      note = "log_hr = -coef/scale; delta method with full vcov incl. Log(scale)")
  }
  out
}

cat("== survreg ==\n")
sr_out <- list(bcdeter = list("~1" = list(), "~treat" = list()),
               ic_sim = list("~x+z" = list()), lung = list("~age+sex" = list()))
for (d in dists) {
  sr_out$bcdeter[["~1"]][[d]] <- sr_block(Surv(left, right, type = "interval2") ~ 1, bc_sr, d, bc_sr$left, bc_sr$right)
  sr_out$bcdeter[["~treat"]][[d]] <- sr_block(Surv(left, right, type = "interval2") ~ treat, bc_sr, d, bc_sr$left, bc_sr$right)
  sr_out$ic_sim[["~x+z"]][[d]] <- sr_block(Surv(left, right, type = "interval2") ~ x + z, sim_sr, d, sim_sr$left, sim_sr$right)
  lng_L <- lng$time; lng_R <- ifelse(lng$status == 1, lng$time, NA)
  sr_out$lung[["~age+sex"]][[d]] <- sr_block(Surv(time, status) ~ age + sex, lng, d, lng_L, lng_R)
}
for (ds in names(sr_out)) for (md in names(sr_out[[ds]])) for (d in dists) {
  b <- sr_out[[ds]][[md]][[d]]
  cat(sprintf("%-8s %-9s %-12s loglik=%.8f manual=%.8f iter=%d\n", ds, md, d, b$loglik,
              b$loglik_manual_time_scale, b$iter))
}

## imputation fits on the sim (right-censored survreg, weibull)
fin <- !is.na(sim$right)
imp_mid <- data.frame(time = ifelse(fin, (sim$left + sim$right) / 2, sim$left),
                      status = as.integer(fin), x = sim$x, z = sim$z)
imp_rgt <- data.frame(time = ifelse(fin, sim$right, sim$left),
                      status = as.integer(fin), x = sim$x, z = sim$z)
imp_tru <- data.frame(time = sim$true_time, status = 1L, x = sim$x, z = sim$z)
imp_block <- function(dd, how) {
  b <- sr_block(Surv(time, status) ~ x + z, dd, "weibull")
  b$imputation <- how
  b
}
imputation_out <- list(
  description = list(
    midpoint = "finite intervals: time=(left+right)/2 (exact rows: t; left=0: right/2), event; right=NA: right-censored at left",
    right_endpoint = "finite intervals: time=right, event; right=NA: right-censored at left",
    true_time = "Surv(true_time, 1): the simulated event times, all observed",
    interval = "reference: survreg(Surv(left,right,type='interval2') ~ x + z, dist='weibull') with left=0 -> NA"),
  true_parameters = list(coefficients = as.list(true_beta), scale = true_sigma, shape = 1 / true_sigma),
  midpoint = imp_block(imp_mid, "midpoint"),
  right_endpoint = imp_block(imp_rgt, "right_endpoint"),
  true_time = imp_block(imp_tru, "true_time"),
  interval = list(coefficients = sr_out$ic_sim[["~x+z"]]$weibull$coefficients,
                  scale = sr_out$ic_sim[["~x+z"]]$weibull$scale))
for (h in c("midpoint", "right_endpoint", "true_time"))
  cat(sprintf("imputation %-15s coef = %s scale=%.4f\n", h,
              paste(sprintf("%.4f", unlist(imputation_out[[h]]$coefficients)), collapse = " "),
              imputation_out[[h]]$scale))
cat(sprintf("imputation %-15s coef = %s scale=%.4f\n", "interval",
            paste(sprintf("%.4f", unlist(imputation_out$interval$coefficients)), collapse = " "),
            imputation_out$interval$scale))

## ------------------------------------------------------------------------
## 4. JSON
## ------------------------------------------------------------------------
res <- list(
  meta = list(
    R_version = R.version.string, survival_version = as.character(packageVersion("survival")),
    KMsurv_version = as.character(packageVersion("KMsurv")),
    jsonlite_version = as.character(packageVersion("jsonlite")),
    rng = RNGkind(), seed = seed,
    survreg_control_default = survreg.control(),
    json_conventions = "null in npmle.right = +Inf; null elsewhere = NA",
    interval_convention = "(left, right]; left==right exact; right NA/empty = +Inf (right-censored); left 0 = (0, right]"),
  data = list(
    bcdeter = c(list(file = "bcdeter.csv", units = "months", treat_levels = treat_levels,
                     note = "KMsurv bcdeter; 95 rows (help page says 92); treat 1=radiotherapy only (46), 2=radiotherapy+chemotherapy (49)"),
                data_summary(bc)),
    ic_sim = c(list(file = "ic_sim.csv", units = "years", seed = seed,
                    true_parameters = list(coefficients = as.list(true_beta), scale = true_sigma, shape = 1 / true_sigma),
                    design = "log T = 1 + 0.4 x - 0.3 z + (1/1.5) W, W std smallest extreme value; x~Bern(0.5), z~N(0,1) rounded 4dp; T rounded 6dp; visits: gaps = g*U(0.8,1.2), g=0.5 (x=0) or 1.0 (x=1), cumulated and rounded to 2dp, kept while <= U(3,7) end of follow-up; 10 exact events recorded at round(T,2)"),
               data_summary(sim), list(n_x1 = sum(sim$x == 1))),
    lung = list(file = "lung.csv", n = nrow(lng), n_events = sum(lng$status),
                note = "survival::lung; status recoded 0=censored, 1=dead; sex 1=male 2=female (numeric)")),
  npmle = npmle_out,
  survfit_summary_quirk = summary_quirk,
  survreg = sr_out,
  survreg_left0 = list(error_message_with_left0 = left0_error,
                       handling = "left==0 recoded to NA (left-censored) before survreg; likelihood F(R)-F(0)=F(R) identical"),
  sim_imputation = imputation_out
)
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, na = "null", pretty = FALSE), "interval.json")
cat("wrote interval.json\n")
