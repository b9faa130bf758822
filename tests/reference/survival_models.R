# Reference values for calcstats.survival: cox (coxph), check_ph (cox.zph), fine_gray (crr).
# Run from the repository root:  Rscript tests/reference/survival_models.R
# Writes tests/reference/survival_models.json and the made data sets it used to
# tests/reference/survival_models_data/*.csv (tests read both; they never run R).
suppressPackageStartupMessages({library(survival); library(cmprsk); library(jsonlite); library(splines)})
out <- list(r = R.version.string, survival = as.character(packageVersion("survival")),
            cmprsk = as.character(packageVersion("cmprsk")))
dd <- "tests/reference/survival_models_data"
pbc0 <- read.csv("data/pbc.csv")
pbc <- pbc0[!is.na(pbc0$trt), ]                       # 312 trial patients
pbc$death <- as.integer(pbc$status == 2)
pbc$clus <- pbc$id %% 40                              # made clusters
pbc$w <- 1 + (pbc$id %% 3) / 2                        # made case weights

cx <- function(fit, extra = list()) {
  s <- summary(fit)
  r <- list(term = names(coef(fit)), coef = unname(coef(fit)),
            se = unname(sqrt(diag(fit$var))), loglik = fit$loglik,
            concordance = unname(fit$concordance["concordance"]),
            lr = unname(s$logtest[1]), wald = unname(fit$wald.test), score = unname(fit$score),
            n = fit$n, nevent = fit$nevent)
  if (!is.null(fit$naive.var)) r$naive_se <- unname(sqrt(diag(fit$naive.var)))
  c(r, extra)
}
mayo <- Surv(time, death) ~ age + edema + log(bili) + log(albumin) + log(protime)
out$mayo_efron <- cx(coxph(mayo, data = pbc, ties = "efron"))
out$mayo_breslow <- cx(coxph(mayo, data = pbc, ties = "breslow"))
out$mayo_strata <- cx(coxph(Surv(time, death) ~ age + log(bili) + log(albumin) + log(protime) +
                            strata(edema), data = pbc))
out$mayo_cluster <- cx(coxph(mayo, data = pbc, cluster = clus))
out$mayo_weights <- cx(coxph(mayo, data = pbc, weights = w))
out$stage_factor <- cx(coxph(Surv(time, status == 2) ~ factor(stage) + age + log(bili), data = pbc0))
out$transplant_cause <- cx(coxph(Surv(time, status == 1) ~ age + log(bili), data = pbc0))

# counting-process data: split at 1000, 2000, 3000 days, with a time-varying covariate
sp <- survSplit(Surv(time, death) ~ ., data = pbc, cut = c(1000, 2000, 3000), episode = "ep")
sp$late_bili <- log(sp$bili) * (sp$tstart >= 1000)
write.csv(sp[, c("id", "tstart", "time", "death", "age", "edema", "bili", "albumin", "protime",
                 "late_bili", "w")], file.path(dd, "pbc_split.csv"), row.names = FALSE)
out$split_same <- cx(coxph(Surv(tstart, time, death) ~ age + edema + log(bili) + log(albumin) +
                           log(protime), data = sp))
out$split_tv <- cx(coxph(Surv(tstart, time, death) ~ age + edema + log(bili) + late_bili,
                         data = sp, cluster = id))
out$split_tv_breslow_strata <- cx(coxph(Surv(tstart, time, death) ~ age + log(bili) + late_bili +
                                  strata(edema), data = sp, ties = "breslow", weights = w))

# heavy ties: integer times 1..8
set.seed(20261125)
n <- 400
ht <- data.frame(x = rnorm(n), b = rbinom(n, 1, 0.4), g = sample(c("a", "b", "c"), n, TRUE),
                 s = sample(1:2, n, TRUE), w = runif(n, 0.5, 2), cl = sample(1:60, n, TRUE))
lin <- 0.5 * ht$x - 0.7 * ht$b + ifelse(ht$g == "b", 0.4, ifelse(ht$g == "c", -0.3, 0))
ht$time <- pmin(ceiling(rexp(n, 0.15 * exp(lin))), 8)
ht$status <- as.integer(ht$time < 8 | runif(n) < 0.3)
ht$cens_early <- rbinom(n, 1, 0.2); ht$status[ht$cens_early == 1] <- 0
write.csv(ht, file.path(dd, "heavy_ties.csv"), row.names = FALSE)
out$ties_efron <- cx(coxph(Surv(time, status) ~ x + b + g, data = ht))
out$ties_breslow <- cx(coxph(Surv(time, status) ~ x + b + g, data = ht, ties = "breslow"))
out$ties_all <- cx(coxph(Surv(time, status) ~ x + b + g + strata(s), data = ht, weights = w,
                         cluster = cl))

# cox.zph (transform = "km"), plus plot.cox.zph's natural-spline smooth for one term
zp <- function(fit, term, df = 4) {
  z <- cox.zph(fit, transform = "km")
  xx <- z$x; yy <- z$y[, term]; nsmo <- 40
  pred.x <- seq(from = min(xx), to = max(xx), length = nsmo)
  lmat <- ns(c(pred.x, xx), df = df, intercept = TRUE)
  pmat <- lmat[1:nsmo, ]; xmat <- lmat[-(1:nsmo), ]
  qmat <- qr(xmat)
  bk <- backsolve(qmat$qr[1:df, 1:df], diag(df)); xtx <- bk %*% t(bk)
  seval <- ((pmat %*% xtx) * pmat) %*% rep(1, df)
  yhat <- pmat %*% qr.coef(qmat, yy)
  k <- match(term, colnames(z$y)); tmp <- 2 * sqrt(z$var[k, k] * seval)
  list(term = rownames(z$table), chisq = unname(z$table[, "chisq"]),
       df = unname(z$table[, "df"]), p = unname(z$table[, "p"]),
       x = unname(z$x), time = unname(z$time), y = unname(as.data.frame(z$y)),
       smooth_term = term, smooth_x = pred.x, smooth_fit = c(yhat),
       smooth_low = c(yhat - tmp), smooth_high = c(yhat + tmp))
}
out$zph_mayo <- zp(coxph(mayo, data = pbc), "log(bili)")
out$zph_stage <- zp(coxph(Surv(time, status == 2) ~ factor(stage) + age + log(bili), data = pbc0),
                    "age")
out$zph_ties_strata <- zp(coxph(Surv(time, status) ~ x + b + g + strata(s), data = ht), "x")

# Fine-Gray: cmprsk::crr on PBC (death, transplant competing) and on made data with ties
cc <- pbc0[complete.cases(pbc0[, c("age", "bili", "albumin", "protime", "edema")]), ]
cov1 <- cbind(age = cc$age, log_bili = log(cc$bili), log_albumin = log(cc$albumin),
              log_protime = log(cc$protime), edema = cc$edema)
fg <- crr(cc$time, cc$status, cov1, failcode = 2, cencode = 0)
newcov <- rbind(c(50, 0, 1.2, 2.3, 0), c(60, 1, 1.1, 2.4, 0.5), c(45, 2, 1.3, 2.35, 1))
pr <- predict(fg, newcov)
ptimes <- c(1000, 2000, 3000)
prat <- sapply(1:3, function(j) sapply(ptimes, function(t) {
  k <- max(which(pr[, 1] <= t)); pr[k, j + 1] }))
out$fg_pbc_death <- list(term = colnames(cov1), coef = unname(fg$coef),
                         se = unname(sqrt(diag(fg$var))), loglik = fg$loglik,
                         newcov = newcov, times = ptimes, cif = prat,
                         jump_times = unname(pr[, 1]), cif_row1 = unname(pr[, 2]))
fg1 <- crr(cc$time, cc$status, cov1[, c("age", "log_bili")], failcode = 1, cencode = 0)
out$fg_pbc_transplant <- list(term = c("age", "log_bili"), coef = unname(fg1$coef),
                              se = unname(sqrt(diag(fg1$var))))
set.seed(7)
m <- 500
cr <- data.frame(x = rnorm(m), b = rbinom(m, 1, 0.5))
t1 <- ceiling(rexp(m, 0.08 * exp(0.6 * cr$x - 0.4 * cr$b)) * 2) / 2
t2 <- ceiling(rexp(m, 0.05 * exp(-0.3 * cr$x)) * 2) / 2
tc <- ceiling(runif(m, 2, 20) * 2) / 2
cr$time <- pmin(t1, t2, tc)
cr$status <- ifelse(t1 == cr$time & t1 <= tc, 1L, ifelse(t2 == cr$time & t2 <= tc, 2L, 0L))
write.csv(cr, file.path(dd, "competing_ties.csv"), row.names = FALSE)
fgm <- crr(cr$time, cr$status, cbind(x = cr$x, b = cr$b), failcode = 1)
prm <- predict(fgm, rbind(c(0, 0), c(1, 1)))
out$fg_ties <- list(term = c("x", "b"), coef = unname(fgm$coef), se = unname(sqrt(diag(fgm$var))),
                    jump_times = unname(prm[, 1]), cif = unname(prm[, -1]))
fgm2 <- crr(cr$time, cr$status, cbind(x = cr$x, b = cr$b), failcode = 2)
out$fg_ties_cause2 <- list(term = c("x", "b"), coef = unname(fgm2$coef),
                           se = unname(sqrt(diag(fgm2$var))))
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/survival_models.json")
cat("wrote tests/reference/survival_models.json\n")

# survfit.coxph curves for adjusted_curves: individual curves (with SE) and their mean
sc <- function(fit, nd, times) {
  sf <- survfit(fit, newdata = nd)
  s <- summary(sf, times = times)
  list(times = times, surv = unname(as.matrix(s$surv)), std_err = unname(as.matrix(s$std.err)))
}
adj <- list()
fit_m <- coxph(mayo, data = pbc)
adj$mayo_one <- sc(fit_m, pbc[5, ], c(500, 1000, 2000, 3000, 4000))
adj$mayo_three <- sc(fit_m, pbc[c(1, 10, 100), ], c(500, 1000, 2000, 3000, 4000))
fit_sb <- coxph(Surv(time, death) ~ age + log(bili) + strata(edema), data = pbc, ties = "breslow")
adj$strata_one <- sc(fit_sb, pbc[pbc$edema == 0.5, ][2, ], c(500, 1000, 2000, 3000))
out2 <- jsonlite::fromJSON("tests/reference/survival_models.json", simplifyVector = FALSE)
out2$adjusted <- adj
writeLines(toJSON(out2, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "tests/reference/survival_models.json")
cat("added adjusted-curve references\n")
