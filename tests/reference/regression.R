# Reference values for calcstats.regression (issue 5).
# Run from the repository root:  Rscript tests/reference/regression.R
# Writes tests/reference/regression.json. Tests read the json; they never run R.
suppressPackageStartupMessages({
  library(jsonlite); library(sandwich); library(MASS); library(mice); library(pROC)
})
pbc <- read.csv("data/pbc.csv")
pbc$sex <- factor(pbc$sex, levels = c("m", "f"))   # 'm' reference, as Treatment('m')
pbc$edema_f <- factor(pbc$edema)
pbc$years <- pbc$time / 365.25
pbc$dead <- as.integer(pbc$status == 2)
pbc$w <- 1 + (pbc$id %% 3)                          # deterministic prior weights
pbc$clust <- pbc$id %% 25                           # 25 artificial clusters
out <- list()
cf <- function(fit, V = vcov(fit)) {
  list(term = names(coef(fit)), coef = unname(coef(fit)), se = unname(sqrt(diag(V))))
}

# ---- logistic ------------------------------------------------------------------------
f1 <- glm(I(stage == 4) ~ age + sex + log(bili) + albumin, family = binomial, data = pbc)
out$logit <- c(cf(f1), list(loglik = as.numeric(logLik(f1)), aic = AIC(f1), n = nobs(f1),
  how = "glm(stage==4 ~ age + sex + log(bili) + albumin, binomial); sex ref 'm'"))
ci1 <- suppressMessages(confint(f1))
out$logit_profile <- list(term = rownames(ci1), lower = unname(ci1[, 1]), upper = unname(ci1[, 2]),
  how = "confint(glm logistic above): profile likelihood (MASS confint.glm, spline-interpolated)")
f1w <- glm(I(stage == 4) ~ age + sex + log(bili) + albumin, family = binomial, data = pbc,
           weights = w)
out$logit_weights <- c(cf(f1w), list(loglik = as.numeric(logLik(f1w)),
  how = "same, weights = 1 + id %% 3"))
out$logit_cluster <- c(cf(f1, vcovCL(f1, cluster = ~clust)),
  list(how = "same model, sandwich::vcovCL(fit, cluster = ~ id %% 25) defaults (HC1, cadjust)"))
f1e <- glm(I(stage == 4) ~ age + edema_f + log(bili), family = binomial, data = pbc)
d1 <- drop1(f1e, test = "LRT")
b <- coef(f1e)[c("edema_f0.5", "edema_f1")]
V <- vcov(f1e)[c("edema_f0.5", "edema_f1"), c("edema_f0.5", "edema_f1")]
out$logit_edema <- c(cf(f1e), list(
  drop1_term = rownames(d1)[-1], drop1_lrt = unname(d1$LRT[-1]),
  drop1_p = unname(d1[["Pr(>Chi)"]][-1]),
  wald_edema = as.numeric(t(b) %*% solve(V) %*% b),
  how = "glm(stage==4 ~ age + factor(edema) + log(bili)); drop1(test='LRT'); joint Wald by hand"))
# LR test between nested models
f1r <- glm(I(stage == 4) ~ age + log(bili), family = binomial,
           data = na.omit(pbc[, c("stage", "age", "edema_f", "bili")]))
out$lr_edema <- list(stat = 2 * (as.numeric(logLik(f1e)) - as.numeric(logLik(f1r))), df = 2,
                     how = "2*(logLik(full) - logLik(age + log(bili))) on the same rows")
# interaction: stratum-specific OR of log(bili) by sex
f1i <- glm(I(stage == 4) ~ log(bili) * sex + age, family = binomial, data = pbc)
Vi <- vcov(f1i)
L <- rbind(m = c(0, 1, 0, 0, 0), f = c(0, 1, 0, 0, 1))
colnames(L) <- names(coef(f1i))
est <- drop(L %*% coef(f1i)); se <- sqrt(diag(L %*% Vi %*% t(L)))
out$effect_by <- list(level = c("m", "f"), est = unname(est), se = unname(se),
  names = names(coef(f1i)),
  how = "glm(stage==4 ~ log(bili)*sex + age): log-OR of log(bili) within m and f (L b, L V L')")

# ---- Poisson, modified Poisson, log-binomial -------------------------------------------
f2 <- glm(dead ~ age + edema_f + offset(log(years)), family = poisson, data = pbc)
out$poisson_offset <- c(cf(f2), list(loglik = as.numeric(logLik(f2)),
  how = "glm(status==2 ~ age + factor(edema) + offset(log(time/365.25)), poisson)"))
ci2 <- suppressMessages(confint(f2))
out$poisson_profile <- list(term = rownames(ci2), lower = unname(ci2[, 1]),
  upper = unname(ci2[, 2]), how = "confint(Poisson offset model above): profile likelihood")
f2w <- glm(dead ~ age + edema_f + offset(log(years)), family = poisson, data = pbc, weights = w)
out$poisson_weights <- c(cf(f2w), list(loglik = as.numeric(logLik(f2w)),
  how = "same Poisson model with weights = 1 + id %% 3"))
f3 <- glm(dead ~ age + edema_f, family = poisson, data = pbc)
out$modified_poisson <- c(cf(f3, vcovHC(f3, type = "HC0")),
  list(how = "glm(status==2 ~ age + factor(edema), poisson); sandwich::vcovHC(type='HC0')"))
y <- pbc$dead
f4 <- glm(dead ~ sex + hepato, family = binomial(link = "log"), data = pbc,
          start = c(log(mean(y[!is.na(pbc$hepato)])), 0, 0),
          control = glm.control(epsilon = 1e-12, maxit = 100))  # default 1e-8 stops early
out$log_binomial <- c(cf(f4), list(loglik = as.numeric(logLik(f4)), converged = f4$converged,
  how = "glm(status==2 ~ sex + hepato, binomial(link='log'), start=c(log(mean(y)),0,0)) (y over the analysed rows)"))

# ---- negative binomial ------------------------------------------------------------------
pc <- pbc[!is.na(pbc$copper), ]
f5 <- glm.nb(copper ~ age + sex + log(bili), data = pc)
out$negbin <- c(cf(f5), list(theta = f5$theta, theta_se = f5$SE.theta,
  loglik = as.numeric(logLik(f5)), aic = AIC(f5),
  how = "MASS::glm.nb(copper ~ age + sex + log(bili)) on rows with copper"))
f5w <- glm.nb(copper ~ age + sex + log(bili), data = pc, weights = w)
out$negbin_weights <- c(cf(f5w), list(theta = f5w$theta, loglik = as.numeric(logLik(f5w)),
  how = "glm.nb above with weights = 1 + id %% 3"))
set.seed(20261125)
n <- 400
sim <- data.frame(x = rbinom(n, 1, 0.4), z = round(rnorm(n), 3),
                  t = round(runif(n, 0.5, 3), 3))
sim$y <- rnbinom(n, size = 1.5, mu = sim$t * exp(0.2 + 0.6 * sim$x - 0.3 * sim$z))
f5b <- glm.nb(y ~ x + z + offset(log(t)), data = sim)
out$negbin_sim <- c(cf(f5b), list(theta = f5b$theta, theta_se = f5b$SE.theta,
  loglik = as.numeric(logLik(f5b)), data = sim,
  how = "glm.nb(y ~ x + z + offset(log(t))) on simulated NB data (data included)"))

# ---- linear ----------------------------------------------------------------------------
f6 <- lm(log(bili) ~ age + sex + edema_f + albumin, data = pbc)
out$linear <- c(cf(f6), list(loglik = as.numeric(logLik(f6)), aic = AIC(f6),
  df_resid = f6$df.residual, sigma = summary(f6)$sigma, r2 = summary(f6)$r.squared,
  how = "lm(log(bili) ~ age + sex + factor(edema) + albumin)"))
f6w <- lm(log(bili) ~ age + sex + edema_f + albumin, data = pbc, weights = w)
out$linear_weights <- c(cf(f6w), list(loglik = as.numeric(logLik(f6w)), how = "same, weights=w"))
out$linear_cluster <- c(cf(f6, vcovCL(f6, cluster = ~clust)),
  list(how = "lm above, sandwich::vcovCL(cluster = ~ id %% 25) defaults"))
av <- anova(lm(log(bili) ~ age + sex + albumin, data = pbc), f6)
out$linear_edema_F <- list(F = av$F[2], p = av[["Pr(>F)"]][2],
  how = "anova(reduced without factor(edema), full): F test for the edema term")
X <- model.matrix(f6)[, -1]
out$vif <- list(term = colnames(X), vif = unname(sapply(seq_len(ncol(X)), function(j)
  1 / (1 - summary(lm(X[, j] ~ X[, -j]))$r.squared))),
  how = "1/(1-R^2) of each column of model.matrix(lm above) on the others (with intercept)")

# ---- diagnostics on the logistic model ---------------------------------------------------
p <- fitted(f1); yy <- f1$y
r <- roc(yy, p, quiet = TRUE, direction = "<")
ci <- ci.auc(r, method = "delong", conf.level = 0.95)
out$auc <- list(auc = as.numeric(auc(r)), lower = ci[1], upper = ci[3],
                var = var(r, method = "delong"),
                how = "pROC::roc(y, fitted(logit), direction='<'); ci.auc(method='delong')")
g <- 10
br <- quantile(p, probs = seq(0, 1, 1 / g))
cutp <- cut(p, breaks = br, include.lowest = TRUE)
obs <- tapply(yy, cutp, sum); expd <- tapply(p, cutp, sum); nn <- tapply(yy, cutp, length)
hl <- sum((obs - expd)^2 / expd + ((nn - obs) - (nn - expd))^2 / (nn - expd))
out$hosmer_lemeshow <- list(stat = hl, df = g - 2, p = pchisq(hl, g - 2, lower.tail = FALSE),
  observed = unname(obs), expected = unname(expd), n = unname(nn),
  how = "by hand as ResourceSelection::hoslem.test: cut(p, quantile(p, 0:10/10), include.lowest)")
# calibration: develop on the trial patients, validate on the others
dev <- pbc[!is.na(pbc$trt), ]; val <- pbc[is.na(pbc$trt) & !is.na(pbc$stage), ]
fd <- glm(I(stage == 4) ~ age + log(bili) + albumin, family = binomial, data = dev)
lp <- predict(fd, newdata = val)
yv <- as.integer(val$stage == 4)
ci_fit <- glm(yv ~ offset(lp), family = binomial)
sl_fit <- glm(yv ~ lp, family = binomial)
out$calibration <- list(intercept = unname(coef(ci_fit)[1]),
  intercept_se = unname(sqrt(vcov(ci_fit)[1, 1])), slope = unname(coef(sl_fit)[2]),
  slope_se = unname(sqrt(vcov(sl_fit)[2, 2])),
  how = "develop glm(stage==4 ~ age + log(bili) + albumin) on trt non-missing; validate on the rest: intercept glm(y ~ offset(lp)), slope glm(y ~ lp) (rms::val.prob convention)")

# ---- mice + pool -----------------------------------------------------------------------
md <- pbc[, c("age", "sex", "bili", "albumin", "chol", "copper", "trig", "platelet", "stage")]
md$stage4 <- as.integer(md$stage == 4); md$stage <- NULL
imp <- mice(md, m = 5, seed = 2026, printFlag = FALSE)
fits <- with(imp, glm(stage4 ~ age + sex + log(bili) + albumin + log(chol), family = binomial))
pl <- pool(fits)
ps <- pl$pooled
long <- complete(imp, "long")
out$mice_pool <- list(term = as.character(ps$term), estimate = ps$estimate, ubar = ps$ubar,
  b = ps$b, t = ps$t, dfcom = ps$dfcom, df = ps$df, riv = ps$riv, lambda = ps$lambda,
  fmi = ps$fmi, completed = long[, c(".imp", ".id", "age", "sex", "bili", "albumin", "chol",
  "stage4")],
  how = "mice(m=5, seed=2026) on PBC; pool(with(imp, glm(stage4 ~ age + sex + log(bili) + albumin + log(chol), binomial))); completed data exported so pooling arithmetic is compared on the SAME data; dfcom = n - p (mice default for glm)")

# ---- Firth by direct optimisation of the penalised likelihood --------------------------
set.seed(7)
nf <- 60
fd2 <- data.frame(x = rbinom(nf, 1, 0.3), z = round(rnorm(nf), 2))
fd2$y <- rbinom(nf, 1, plogis(-1 + 1.5 * fd2$x + 0.8 * fd2$z))
fd2$y[fd2$x == 1] <- 1                                    # separation on x
Xf <- model.matrix(~ x + z, fd2); yf <- fd2$y
pll <- function(b) {
  eta <- drop(Xf %*% b); pr <- plogis(eta); W <- pr * (1 - pr)
  sum(yf * eta - log1p(exp(eta))) + 0.5 * determinant(crossprod(Xf * sqrt(W)))$modulus
}
opt <- optim(c(0, 0, 0), function(b) -pll(b), method = "BFGS",
             control = list(reltol = 1e-14, maxit = 1000))
bh <- opt$par; lmax <- -opt$value
prof <- function(j, v) {
  o <- optim(bh[-j], function(bb) { b <- bh; b[j] <- v; b[-j] <- bb; -pll(b) },
             method = "BFGS", control = list(reltol = 1e-14, maxit = 1000))
  -o$value
}
q <- qchisq(0.95, 1)
lo <- hi <- pv <- numeric(3)
for (j in 1:3) {
  f <- function(v) 2 * (lmax - prof(j, v)) - q
  lo[j] <- uniroot(f, c(bh[j] - 20, bh[j]), tol = 1e-10)$root
  hi[j] <- uniroot(f, c(bh[j], bh[j] + 20), tol = 1e-10)$root
  pv[j] <- pchisq(2 * (lmax - prof(j, 0)), 1, lower.tail = FALSE)
}
out$firth <- list(term = colnames(Xf), coef = bh, lower = lo, upper = hi, p = pv,
  pen_loglik = lmax, data = fd2,
  how = "Firth logistic by direct optim() of l(b) + 0.5 log|X'WX| on simulated data with separation on x; profile penalised-likelihood 95% CI by uniroot; penalised LR p-value (b_j = 0, others re-maximised) as logistf")

writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = FALSE),
           "tests/reference/regression.json")
cat("wrote tests/reference/regression.json\n")
