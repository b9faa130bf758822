# Reference values for calcstats.describe (prevalence, incidence, rate ratios,
# Mantel-Haenszel, table_one statistics). Run from the repo root:
#   Rscript tests/reference/describe.R   -> tests/reference/describe.json
suppressPackageStartupMessages({library(jsonlite); library(epitools)})
pbc <- read.csv("data/pbc.csv")
pbc$edema_any <- as.integer(pbc$edema > 0)
pbc$death <- as.integer(pbc$status == 2)
pbc$years <- pbc$time / 365.25
trial <- pbc[!is.na(pbc$trt), ]
out <- list()
ci <- function(x) as.numeric(x)

## ---- prevalence ------------------------------------------------------------
prev <- function(x, n, level = 0.95) {
  a <- 1 - level
  list(x = x, n = n,
       exact = ci(binom.test(x, n, conf.level = level)$conf.int),
       wilson = ci(prop.test(x, n, correct = FALSE, conf.level = level)$conf.int),
       # Jeffreys with the Brown, Cai & DasGupta (2001) boundary rule: 0 at x = 0, 1 at x = n
       jeffreys = c(if (x == 0) 0 else qbeta(a / 2, x + 0.5, n - x + 0.5),
                    if (x == n) 1 else qbeta(1 - a / 2, x + 0.5, n - x + 0.5)))
}
out$prev_overall <- prev(sum(pbc$edema_any), nrow(pbc))
out$prev_overall_90 <- prev(sum(pbc$edema_any), nrow(pbc), 0.90)
out$prev_by_sex <- lapply(split(pbc$edema_any, pbc$sex), function(v) prev(sum(v), length(v)))
out$prev_edge <- list(zero = prev(0, 20), all = prev(20, 20), small = prev(3, 7))

# direct standardisation of edema prevalence by treatment arm to a standard age structure
trial$agegrp <- as.character(cut(trial$age, c(0, 50, 60, Inf), right = FALSE,
                                 labels = c("<50", "50-59", "60+")))
std <- c("<50" = 0.5, "50-59" = 0.3, "60+" = 0.2)
out$prev_std <- lapply(split(trial, trial$trt), function(d) {
  cnt <- tapply(d$edema_any, factor(d$agegrp, levels = names(std)), sum)
  pop <- tapply(d$edema_any, factor(d$agegrp, levels = names(std)), length)
  r <- ageadjust.direct(count = cnt, pop = pop, stdpop = std)
  list(n = nrow(d), cases = sum(d$edema_any), estimate = unname(r["adj.rate"]),
       lower = unname(r["lci"]), upper = unname(r["uci"]))
})
out$prev_std_weights <- as.list(std)

## ---- incidence rates -------------------------------------------------------
rate <- function(x, T, per = 1000) {
  p <- poisson.test(x, T)
  list(events = x, person_time = T, rate = x / T * per, lower = p$conf.int[1] * per,
       upper = p$conf.int[2] * per)
}
out$ir_overall <- rate(sum(pbc$death), sum(pbc$years))
out$ir_by_trt <- lapply(split(trial, trial$trt), function(d) rate(sum(d$death), sum(d$years)))
out$ir_transplant <- rate(sum(pbc$status == 1), sum(pbc$years), per = 100)
# time bands as Stata stsplit: (lo, hi], open last band
cuts <- c(0, 1, 5, 10, Inf)
band <- function(d) {
  lapply(seq_len(length(cuts) - 1), function(j) {
    lo <- cuts[j]; hi <- cuts[j + 1]
    pt <- sum(pmax(0, pmin(d$years, hi) - lo))
    ev <- sum(d$death == 1 & d$years > lo & d$years <= hi)
    rate(ev, pt)
  })
}
out$ir_bands <- band(pbc)
out$ir_bands_female <- band(pbc[pbc$sex == "f", ])

## ---- rate ratios -----------------------------------------------------------
rr <- function(x1, T1, x0, T0, level = 0.95) {
  p <- poisson.test(c(x1, x0), c(T1, T0), conf.level = level)
  lrr <- log((x1 / T1) / (x0 / T0)); se <- sqrt(1 / x1 + 1 / x0); z <- qnorm(0.5 + level / 2)
  list(exact = list(estimate = unname(p$estimate), lower = p$conf.int[1],
                    upper = p$conf.int[2], p = p$p.value),
       wald = list(estimate = exp(lrr), lower = exp(lrr - z * se), upper = exp(lrr + z * se),
                   p = 2 * pnorm(-abs(lrr / se))))
}
g <- function(d) c(sum(d$death), sum(d$years))
t1 <- g(trial[trial$trt == 2, ]); t0 <- g(trial[trial$trt == 1, ])
out$rr_trt <- rr(t1[1], t1[2], t0[1], t0[2])
out$rr_trt_90 <- rr(t1[1], t1[2], t0[1], t0[2], 0.90)
e0 <- g(pbc[pbc$edema == 0, ])
out$rr_edema <- lapply(c("0.5", "1"), function(l) {
  e <- g(pbc[pbc$edema == as.numeric(l), ]); rr(e[1], e[2], e0[1], e0[2])
})
names(out$rr_edema) <- c("0.5", "1")
# epitools cross-check of the Wald interval (rateratio.wald uses the same SE)
ep <- rateratio(c(t0[1], t1[1], t0[2], t1[2]), method = "wald")
out$rr_trt_epitools_wald <- ci(ep$measure[2, ])

## ---- Mantel-Haenszel -------------------------------------------------------
bd_test <- function(x) {   # 2x2xK array, exposure rows (1 = exposed), outcome cols (1 = case)
  a <- x[1, 1, ]; b <- x[1, 2, ]; c <- x[2, 1, ]; d <- x[2, 2, ]
  N <- a + b + c + d; n1 <- a + b; m1 <- a + c
  psi <- sum(a * d / N) / sum(b * c / N)
  A <- sapply(seq_along(a), function(i) {
    f <- function(A) A * (N[i] - n1[i] - m1[i] + A) - psi * (n1[i] - A) * (m1[i] - A)
    lo <- max(0, n1[i] + m1[i] - N[i]); hi <- min(n1[i], m1[i])
    uniroot(f, c(lo, hi), tol = 1e-12)$root
  })
  V <- 1 / (1 / A + 1 / (n1 - A) + 1 / (m1 - A) + 1 / (N - n1 - m1 + A))
  bd <- sum((a - A)^2 / V)
  tar <- bd - sum(a - A)^2 / sum(V)
  list(bd = bd, tarone = tar, df = length(a) - 1, p = pchisq(tar, length(a) - 1, lower.tail = FALSE))
}
mh_or <- function(x) {
  m1 <- mantelhaen.test(x, correct = TRUE); m0 <- mantelhaen.test(x, correct = FALSE)
  list(estimate = unname(m1$estimate), lower = m1$conf.int[1], upper = m1$conf.int[2],
       stat_correct = unname(m1$statistic), p_correct = m1$p.value,
       stat_nocorrect = unname(m0$statistic), p_nocorrect = m0$p.value, breslow_day = bd_test(x))
}
mh_rr <- function(x) {
  a <- x[1, 1, ]; b <- x[1, 2, ]; c <- x[2, 1, ]; d <- x[2, 2, ]
  n1 <- a + b; n0 <- c + d; N <- n1 + n0; m1 <- a + c
  R <- sum(a * n0 / N); S <- sum(c * n1 / N); est <- R / S
  v <- sum((n1 * n0 * m1 - a * c * N) / N^2) / (R * S)
  # homogeneity over strata with cases in both exposure groups (others have no log RR)
  use <- a > 0 & c > 0
  vi <- 1 / a - 1 / n1 + 1 / c - 1 / n0; q <- sum(((log((a / n1) / (c / n0)) - log(est))^2 / vi)[use])
  list(estimate = est, lower = exp(log(est) - qnorm(0.975) * sqrt(v)),
       upper = exp(log(est) + qnorm(0.975) * sqrt(v)), homog = q, homog_df = sum(use) - 1,
       homog_p = pchisq(q, sum(use) - 1, lower.tail = FALSE))
}
ucb <- as.data.frame(UCBAdmissions)
out$ucb_data <- ucb
x <- aperm(UCBAdmissions, c(2, 1, 3))   # Gender x Admit x Dept, Male / Admitted first
out$ucb_or <- mh_or(x)
out$ucb_rr <- mh_rr(x)
trial$treated <- as.integer(trial$trt == 2)
x <- table(factor(trial$treated, c(1, 0)), factor(trial$death, c(1, 0)), trial$stage)
out$pbc_or <- mh_or(x)
out$pbc_rr <- mh_rr(x)
# IRR by hand (Greenland-Robins), death by treatment stratified by sex
irr <- function(d) {
  s <- split(d, d$sex)
  a <- sapply(s, function(z) sum(z$death[z$treated == 1])); b <- sapply(s, function(z) sum(z$death[z$treated == 0]))
  T1 <- sapply(s, function(z) sum(z$years[z$treated == 1])); T0 <- sapply(s, function(z) sum(z$years[z$treated == 0]))
  T <- T1 + T0; M1 <- a + b
  R <- sum(a * T0 / T); S <- sum(b * T1 / T); est <- R / S
  v <- sum(M1 * T1 * T0 / T^2) / (R * S)
  chi <- (sum(a) - sum(M1 * T1 / T))^2 / sum(M1 * T1 * T0 / T^2)
  p <- est * T1 / (est * T1 + T0); q <- sum((a - M1 * p)^2 / (M1 * p * (1 - p)))
  list(estimate = est, lower = exp(log(est) - qnorm(0.975) * sqrt(v)),
       upper = exp(log(est) + qnorm(0.975) * sqrt(v)), chisq = chi,
       p = pchisq(chi, 1, lower.tail = FALSE), homog = q,
       homog_p = pchisq(q, length(a) - 1, lower.tail = FALSE))
}
out$pbc_irr <- irr(trial)

## ---- table_one statistics on the PBC trial ----------------------------------
tr <- trial
tr$female <- as.integer(tr$sex == "f")
out$t1_counts <- as.list(table(tr$trt))
summ <- function(v) list(mean = mean(v, na.rm = TRUE), sd = sd(v, na.rm = TRUE),
                         median = median(v, na.rm = TRUE),
                         q1 = unname(quantile(v, 0.25, na.rm = TRUE)),
                         q3 = unname(quantile(v, 0.75, na.rm = TRUE)), missing = sum(is.na(v)))
out$t1_bili <- lapply(split(tr$bili, tr$trt), summ)
out$t1_chol <- lapply(split(tr$chol, tr$trt), summ)
out$t1_p_bili_t <- t.test(bili ~ trt, data = tr)$p.value                       # Welch
out$t1_p_bili_wilcox <- wilcox.test(bili ~ trt, data = tr, exact = FALSE, correct = TRUE)$p.value
out$t1_p_chol_t <- t.test(chol ~ trt, data = tr)$p.value
out$t1_p_age_anova <- oneway.test(age ~ stage, data = tr, var.equal = TRUE)$p.value
out$t1_p_bili_kruskal <- kruskal.test(bili ~ stage, data = tr)$p.value
out$t1_p_sex_chisq <- chisq.test(table(tr$trt, tr$sex), correct = FALSE)$p.value
out$t1_p_stage_chisq <- chisq.test(table(tr$trt, tr$stage), correct = FALSE)$p.value
out$t1_p_edema_chisq <- chisq.test(table(tr$trt, tr$edema), correct = FALSE)$p.value
small <- tr[1:40, ]
out$t1_small_p_sex_fisher <- fisher.test(table(small$trt, small$sex))$p.value
out$t1_small_p_stage_fisher <- fisher.test(table(small$trt, small$stage))$p.value
out$t1_stage_counts <- lapply(split(tr$stage, tr$trt), function(v) as.list(table(v)))

# SMD (Yang & Dalton 2012) by hand, as tableone
smd_cont <- function(x1, x2) abs(mean(x1, na.rm = TRUE) - mean(x2, na.rm = TRUE)) /
  sqrt((var(x1, na.rm = TRUE) + var(x2, na.rm = TRUE)) / 2)
smd_cat <- function(p1, p2) {   # p: level proportions (all levels); drop the first level
  k <- length(p1); if (k == 2) return(abs(p1[2] - p2[2]) / sqrt((p1[2] * (1 - p1[2]) + p2[2] * (1 - p2[2])) / 2))
  T <- p1[-1]; C <- p2[-1]
  S1 <- -outer(T, T); diag(S1) <- T * (1 - T)
  S2 <- -outer(C, C); diag(S2) <- C * (1 - C)
  S <- (S1 + S2) / 2
  sqrt(drop(t(T - C) %*% solve(S) %*% (T - C)))
}
props <- function(v, lev) { t <- table(factor(v, levels = lev)); as.numeric(t / sum(t)) }
g1 <- tr[tr$trt == 1, ]; g2 <- tr[tr$trt == 2, ]
out$smd_bili <- smd_cont(g1$bili, g2$bili)
out$smd_age <- smd_cont(g1$age, g2$age)
out$smd_sex <- smd_cat(props(g1$sex, c("m", "f")), props(g2$sex, c("m", "f")))
out$smd_stage <- smd_cat(props(g1$stage, 1:4), props(g2$stage, 1:4))
out$smd_edema <- smd_cat(props(g1$edema, c(0, 0.5, 1)), props(g2$edema, c(0, 0.5, 1)))
# > 2 groups (groups = stage): R tableone prints the mean of the pairwise SMDs
# (FormatLstSmds: cbind(average = rowMeans(matSmds), matSmds); print and ExtractSmd show
# "average"); calcstats smd = "max" gives the largest pairwise SMD (*_max)
pairs <- combn(1:4, 2)
pw_age <- apply(pairs, 2, function(p) smd_cont(tr$age[tr$stage == p[1]], tr$age[tr$stage == p[2]]))
pw_sex <- apply(pairs, 2, function(p) smd_cat(props(tr$sex[tr$stage == p[1]], c("m", "f")), props(tr$sex[tr$stage == p[2]], c("m", "f"))))
pw_edema <- apply(pairs, 2, function(p) smd_cat(props(tr$edema[tr$stage == p[1]], c(0, 0.5, 1)), props(tr$edema[tr$stage == p[2]], c(0, 0.5, 1))))
out$smd_age_by_stage <- mean(pw_age)
out$smd_sex_by_stage <- mean(pw_sex)
out$smd_edema_by_stage <- mean(pw_edema)
out$smd_age_by_stage_max <- max(pw_age)
out$smd_sex_by_stage_max <- max(pw_sex)
out$smd_edema_by_stage_max <- max(pw_edema)

# weighted (as tableone::svyCreateTableOne: svymean, svyvar = weighted var * n/(n-1))
tr$w <- 1 + (tr$age > 50) + 0.5 * tr$female
wmean <- function(x, w) { ok <- !is.na(x); sum(w[ok] * x[ok]) / sum(w[ok]) }
wvar <- function(x, w) { ok <- !is.na(x); x <- x[ok]; w <- w[ok]; m <- sum(w * x) / sum(w)
  sum(w * (x - m)^2) / sum(w) * length(x) / (length(x) - 1) }
wprops <- function(v, w, lev) { ok <- !is.na(v); s <- tapply(w[ok], factor(v[ok], levels = lev), sum); s[is.na(s)] <- 0; as.numeric(s / sum(s)) }
g1 <- tr[tr$trt == 1, ]; g2 <- tr[tr$trt == 2, ]
out$w_bili <- list(mean1 = wmean(g1$bili, g1$w), sd1 = sqrt(wvar(g1$bili, g1$w)),
                   mean2 = wmean(g2$bili, g2$w), sd2 = sqrt(wvar(g2$bili, g2$w)),
                   smd = abs(wmean(g1$bili, g1$w) - wmean(g2$bili, g2$w)) /
                     sqrt((wvar(g1$bili, g1$w) + wvar(g2$bili, g2$w)) / 2))
out$w_chol <- list(mean1 = wmean(g1$chol, g1$w), sd1 = sqrt(wvar(g1$chol, g1$w)),
                   smd = abs(wmean(g1$chol, g1$w) - wmean(g2$chol, g2$w)) /
                     sqrt((wvar(g1$chol, g1$w) + wvar(g2$chol, g2$w)) / 2))
out$w_stage <- list(p1 = wprops(g1$stage, g1$w, 1:4), p2 = wprops(g2$stage, g2$w, 1:4),
                    n1 = sum(g1$w), smd = smd_cat(wprops(g1$stage, g1$w, 1:4), wprops(g2$stage, g2$w, 1:4)))
out$w_sex <- list(p1 = wprops(g1$sex, g1$w, c("m", "f")), smd = smd_cat(wprops(g1$sex, g1$w, c("m", "f")), wprops(g2$sex, g2$w, c("m", "f"))))

writeLines(toJSON(list(generated_by = "tests/reference/describe.R", r_version = R.version.string,
                       values = out), auto_unbox = TRUE, digits = NA, pretty = TRUE),
           "tests/reference/describe.json")
