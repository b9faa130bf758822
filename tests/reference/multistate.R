## multistate.R -- reference values for multi-state survival (Aalen-Johansen,
## multi-state Cox) computed with R's survival package.
##
## Run from tests/reference:   Rscript multistate.R
## Writes: multistate_data/{mgus2_ms,myeloid_ms,illness_death_sim}.csv, multistate.json
## (conventions found in the survival source: multistate_README.md)
##
## Built and checked with R 4.2.2, survival 3.5-3, jsonlite 1.8.4, expm 0.999-7.
## Everything is deterministic (the simulated data use a fixed seed).

suppressPackageStartupMessages({
    library(survival)
    library(jsonlite)
})
options(stringsAsFactors = FALSE, warn = 1)

if (as.character(packageVersion("survival")) != "3.5.3")
    warning("these references were generated with survival 3.5-3; found ",
            packageVersion("survival"))

has_expm <- requireNamespace("expm", quietly = TRUE)  # only for a cross-check

## ---------------------------------------------------------------------------
## small helpers
## ---------------------------------------------------------------------------
sc <- function(x) jsonlite::unbox(x)            # scalar in the JSON
mat <- function(x) { x <- as.matrix(x); dimnames(x) <- NULL; x }
maxdiff <- function(a, b) {
    a <- as.numeric(a); b <- as.numeric(b)
    ok <- !(is.na(a) & is.na(b))
    if (any(is.na(a[ok]) | is.na(b[ok]))) return(Inf)
    if (!any(ok)) return(0)
    max(abs(a[ok] - b[ok]))
}
tab_out <- function(tb) {
    list(from = rownames(tb), to = colnames(tb),
         counts = matrix(as.numeric(tb), nrow(tb)))
}
named_mat <- function(m) {
    list(rownames = if (is.null(rownames(m))) NULL else rownames(m),
         colnames = if (is.null(colnames(m))) NULL else colnames(m),
         matrix = mat(m))
}

## Collapse counting-process rows (e.g. tmerge output) into one row per
## sojourn.  `event` holds the name of the state entered at `stop`, or
## "censored".  The state occupied during a row is obtained by chaining:
## the first row of a subject is in `initial`, later rows are in the state
## entered at the end of the previous row (a censored row does not change it).
to_sojourn <- function(id, start, stop, event, initial) {
    o <- order(id, start)
    id <- id[o]; start <- start[o]; stop <- stop[o]; event <- event[o]
    n <- length(id)
    first <- !duplicated(id)
    from <- character(n)
    for (i in seq_len(n)) {
        if (first[i]) from[i] <- initial
        else {
            if (start[i] != stop[i - 1]) stop("gap in the data for id ", id[i])
            from[i] <- if (event[i - 1] == "censored") from[i - 1] else event[i - 1]
        }
    }
    ## a new sojourn starts at the first row of an id, or after a transition
    newsoj <- first | c(TRUE, event[-n] != "censored")
    soj <- cumsum(newsoj)
    last_in_soj <- !duplicated(soj, fromLast = TRUE)
    data.frame(patient_id = id[newsoj],
               from_state = from[newsoj],
               to_state   = event[last_in_soj],
               start      = start[newsoj],
               stop       = stop[last_in_soj])
}

## ---------------------------------------------------------------------------
## (a) mgus2: illness-death, states mgus -> pcm -> death, mgus -> death
## ---------------------------------------------------------------------------
build_mgus2 <- function() {
    m <- survival::mgus2
    ## survival "compete" vignette, chunk mgus4: progression and death in the
    ## same month -> progression is pushed back by 0.1 month
    ptemp <- with(m, ifelse(ptime == futime & pstat == 1, ptime - .1, ptime))
    data3 <- tmerge(m, m, id = id, death = event(futime, death),
                    pcm = event(ptemp, pstat))
    ev <- with(data3, ifelse(death == 1, "death",
                       ifelse(pcm == 1, "pcm", "censored")))
    soj <- to_sojourn(data3$id, data3$tstart, data3$tstop, ev, "mgus")
    cov <- m[match(soj$patient_id, m$id), c("age", "sex", "mspike")]
    cov$sex <- as.character(cov$sex)
    out <- cbind(soj, cov)
    out$patient_id <- as.integer(out$patient_id)
    rownames(out) <- NULL
    list(data = out, vignette_data = data3,
         n_tied = sum(with(m, ptime == futime & pstat == 1)),
         n_tied_death = sum(with(m, ptime == futime & pstat == 1 & death == 1)))
}

## ---------------------------------------------------------------------------
## (b) myeloid: entry, CR, SCT, relapse, death (survival.Rnw vignette, the
##     "Myeloid data" section; chunks sfit0a, sfit0b, sfit4)
## ---------------------------------------------------------------------------
build_myeloid <- function() {
    tdata <- survival::myeloid
    tied <- with(tdata, (!is.na(crtime) & !is.na(txtime) & crtime == txtime))
    tdata$crtime[tied] <- tdata$crtime[tied] - 1
    mdata <- tmerge(tdata[, 1:2], tdata, id = id, death = event(futime, death),
                    sct = event(txtime), cr = event(crtime),
                    relapse = event(rltime),
                    priorcr = tdc(crtime), priortx = tdc(txtime))
    temp <- with(mdata, cr + 2 * sct + 4 * relapse + 8 * death)
    if (!all(temp %in% c(0, 1, 2, 4, 8))) stop("myeloid: simultaneous events left")
    mdata$event <- factor(temp, c(0, 1, 2, 4, 8),
                          c("none", "CR", "SCT", "relapse", "death"))
    ev <- ifelse(mdata$event == "none", "censored", as.character(mdata$event))
    soj <- to_sojourn(mdata$id, mdata$tstart, mdata$tstop, ev, "entry")
    ## NB: survival 3.5-3's myeloid has no flt3 column (it was added in
    ## survival 3.5-8), so the covariates are trt and sex only
    cov <- tdata[match(soj$patient_id, tdata$id), c("trt", "sex")]
    cov$sex <- as.character(cov$sex)
    out <- cbind(soj, cov)
    out$patient_id <- as.integer(out$patient_id)
    rownames(out) <- NULL
    list(data = out, vignette_data = mdata, n_tied = sum(tied))
}

## ---------------------------------------------------------------------------
## (c) simulated illness-death data
## ---------------------------------------------------------------------------
build_sim <- function(n = 400, seed = 20240611) {
    set.seed(seed)
    x <- rbinom(n, 1, 0.5)
    z <- round(rnorm(n), 2)
    start_ill <- runif(n) < 0.15
    ## censoring in tenths of a time unit: uniform on (2, 12), administrative
    ## cut-off at 8.0
    cens_k <- pmin(round(runif(n, 2, 12) * 10), 80L)
    lam12 <- 0.15 * exp(0.6 * x + 0.3 * z)   # healthy -> ill
    lam13 <- 0.05 * exp(0.4 * x + 0.2 * z)   # healthy -> dead
    lam23 <- 0.25 * exp(0.5 * x - 0.2 * z)   # ill -> dead
    t12 <- rexp(n, lam12); t13 <- rexp(n, lam13); t23 <- rexp(n, lam23)
    up <- function(t) pmax(ceiling(t * 10), 1L)   # time in tenths, >= 0.1
    rows <- vector("list", n)
    for (i in seq_len(n)) {
        ck <- cens_k[i]
        if (start_ill[i]) {
            g <- up(t23[i])
            rows[[i]] <- if (g <= ck) c("ill", "dead", 0, g) else c("ill", "censored", 0, ck)
        } else if (t13[i] < t12[i]) {
            g <- up(t13[i])
            rows[[i]] <- if (g <= ck) c("healthy", "dead", 0, g) else c("healthy", "censored", 0, ck)
        } else {
            g1 <- up(t12[i])
            if (g1 < ck) {   # illness strictly before censoring
                g2 <- max(up(t12[i] + t23[i]), g1 + 1L)
                r2 <- if (g2 <= ck) c("ill", "dead", g1, g2) else c("ill", "censored", g1, ck)
                rows[[i]] <- rbind(c("healthy", "ill", 0, g1), r2)
            } else rows[[i]] <- c("healthy", "censored", 0, ck)
        }
    }
    nr <- sapply(rows, function(r) if (is.matrix(r)) nrow(r) else 1L)
    m <- do.call(rbind, lapply(rows, function(r) if (is.matrix(r)) r else matrix(r, 1)))
    out <- data.frame(patient_id = rep(seq_len(n), nr),
                      from_state = m[, 1], to_state = m[, 2],
                      start = as.numeric(m[, 3]) / 10,
                      stop  = as.numeric(m[, 4]) / 10,
                      x = rep(x, nr), z = rep(z, nr))
    out
}

## ---------------------------------------------------------------------------
## build, write and read back the CSV files (fits use the read-back data, so
## the references correspond exactly to the CSV contents)
## ---------------------------------------------------------------------------
mg <- build_mgus2()
my <- build_myeloid()
sim <- build_sim()

write_ms <- function(d, file) {
    write.csv(d, file, row.names = FALSE, quote = FALSE, na = "NA")
    read.csv(file, stringsAsFactors = FALSE, na.strings = "NA")
}
mgus2_ms   <- write_ms(mg$data,  file.path("multistate_data", "mgus2_ms.csv"))
myeloid_ms <- write_ms(my$data,  file.path("multistate_data", "myeloid_ms.csv"))
sim_ms     <- write_ms(sim,      file.path("multistate_data", "illness_death_sim.csv"))

## ---------------------------------------------------------------------------
## output extractors
## ---------------------------------------------------------------------------
strata_index <- function(fit) {
    if (is.null(fit$strata)) return(list(all = seq_along(fit$time)))
    g <- rep(seq_along(fit$strata), fit$strata)
    idx <- split(seq_along(fit$time), factor(g, levels = seq_along(fit$strata)))
    names(idx) <- names(fit$strata)
    idx
}
rowpick <- function(x, s) if (is.matrix(x)) x[s, ] else x

aj_out <- function(fit) {
    idx <- strata_index(fit)
    st <- lapply(seq_along(idx), function(s) {
        i <- idx[[s]]
        r <- list(name = sc(names(idx)[s]), n = sc(fit$n[s]),
                  time = fit$time[i],
                  n.risk = mat(fit$n.risk[i, , drop = FALSE]),
                  n.event = mat(fit$n.event[i, , drop = FALSE]),
                  n.censor = fit$n.censor[i],
                  pstate = mat(fit$pstate[i, , drop = FALSE]),
                  std.err = mat(fit$std.err[i, , drop = FALSE]),
                  lower = mat(fit$lower[i, , drop = FALSE]),
                  upper = mat(fit$upper[i, , drop = FALSE]),
                  cumhaz = mat(fit$cumhaz[i, , drop = FALSE]),
                  p0 = unname(rowpick(fit$p0, s)),
                  sp0 = unname(rowpick(fit$sp0, s)))
        r
    })
    list(states = fit$states,
         transitions = tab_out(fit$transitions),
         cumhaz.colnames = colnames(fit$cumhaz),
         conf.type = sc(fit$conf.type), conf.int = sc(fit$conf.int),
         strata = st)
}
## only the pieces that change with influence=TRUE / p0=
se_out <- function(fit) {
    idx <- strata_index(fit)
    lapply(seq_along(idx), function(s) {
        i <- idx[[s]]
        list(name = sc(names(idx)[s]),
             std.err = mat(fit$std.err[i, , drop = FALSE]),
             lower = mat(fit$lower[i, , drop = FALSE]),
             upper = mat(fit$upper[i, , drop = FALSE]),
             p0 = unname(rowpick(fit$p0, s)),
             sp0 = unname(rowpick(fit$sp0, s)))
    })
}

## restricted mean time in state, recomputed by hand from pstate and the
## influence array (documents how summary.survfitms/survmean2 do it)
rmean_manual <- function(fit, tau, stratum = 1) {
    idx <- strata_index(fit)[[stratum]]
    tt <- fit$time[idx]
    P <- fit$pstate[idx, , drop = FALSE]
    p0 <- rowpick(fit$p0, stratum)
    if (tt[1] != 0) { tt <- c(0, tt); P <- rbind(p0, P) }   # survfit0
    delta <- diff(c(tt[tt < tau], tau))
    delta <- c(delta, rep(0, nrow(P) - length(delta)))[seq_len(nrow(P))]
    rm <- colSums(delta * P)
    se <- NULL
    if (!is.null(fit$influence.pstate)) {
        infl <- if (is.list(fit$influence.pstate)) fit$influence.pstate[[stratum]]
                else fit$influence.pstate
        ## infl: subjects x (1 + ntime) x states; slice 1 = influence on p0
        se <- sqrt(colSums(apply(infl, c(1, 3), function(v) sum(v * delta))^2))
    }
    list(rmean = rm, se = se)
}
rmean_out <- function(fit_default, fit_infl, tau) {
    t1 <- summary(fit_default, rmean = tau)$table
    t2 <- summary(fit_infl, rmean = tau)$table
    ns <- length(strata_index(fit_infl))
    chk <- lapply(seq_len(ns), function(s) rmean_manual(fit_infl, tau, s))
    ## rows of the table are (stratum, state) with stratum varying fastest
    man_rm <- c(do.call(rbind, lapply(chk, `[[`, "rmean")))
    man_se <- c(do.call(rbind, lapply(chk, `[[`, "se")))
    list(tau = sc(tau),
         rownames = rownames(t2),
         colnames_default = colnames(t1), table_default = mat(t1),
         colnames_influence = colnames(t2), table_influence = mat(t2),
         check_manual_rmean_maxdiff = sc(maxdiff(man_rm, t2[, "rmean"])),
         check_manual_se_maxdiff = sc(maxdiff(man_se, t2[, "se(rmean)"])))
}

## ---------------------------------------------------------------------------
## an independent Aalen-Johansen in plain R, used to verify what R's std.err
## contains (numerical derivative of p(t) w.r.t. each subject's case weight)
## ---------------------------------------------------------------------------
aj_plain <- function(d, states, w_id, p0 = NULL, times = NULL) {
    w <- w_id[as.character(d$patient_id)]
    fi <- match(d$from_state, states)
    ti <- match(d$to_state, states, nomatch = 0)
    if (is.null(times)) times <- sort(unique(d$stop))
    t0 <- min(d$stop[ti > 0])
    if (is.null(p0)) {
        at0 <- d$start < t0 & d$stop >= t0
        p0 <- tapply(w[at0], factor(fi[at0], seq_along(states)), sum) / sum(w[at0])
        p0[is.na(p0)] <- 0
    }
    ns <- length(states); p <- as.numeric(p0)
    P <- matrix(0, length(times), ns)
    for (k in seq_along(times)) {
        t <- times[k]
        ar <- d$start < t & d$stop >= t
        ev <- ar & d$stop == t & ti > 0 & ti != fi
        if (any(ev)) {
            ws <- tapply(w[ar], factor(fi[ar], seq_len(ns)), sum); ws[is.na(ws)] <- 0
            H <- diag(ns)
            for (r in which(ev)) H[fi[r], ti[r]] <- H[fi[r], ti[r]] + w[r] / ws[fi[r]]
            for (j in seq_len(ns)) if (ws[j] > 0) H[j, j] <- 1 - (sum(H[j, ]) - H[j, j]) 
            p <- as.numeric(p %*% H)
        }
        P[k, ] <- p
    }
    P
}
ij_numeric <- function(d, states, p0_fixed = NULL, eps = 1e-6) {
    ids <- sort(unique(d$patient_id))
    w1 <- setNames(rep(1, length(ids)), ids)
    acc <- 0
    for (i in seq_along(ids)) {
        wp <- w1; wm <- w1
        wp[i] <- 1 + eps; wm[i] <- 1 - eps
        D <- (aj_plain(d, states, wp, p0_fixed) - aj_plain(d, states, wm, p0_fixed)) / (2 * eps)
        acc <- acc + D^2
    }
    sqrt(acc)
}

## n.risk / n.event / n.censor / cumhaz recomputed from the stated rules
count_check <- function(d, states, fit) {
    tm <- fit$time
    nr <- t(sapply(tm, function(t) table(factor(d$from_state[d$start < t & d$stop >= t], states))))
    ne <- t(sapply(tm, function(t) table(factor(d$to_state[d$stop == t & d$to_state != "censored"], states))))
    nc <- sapply(tm, function(t) sum(d$stop == t & d$to_state == "censored"))
    ch <- sapply(colnames(fit$cumhaz), function(ab) {
        k <- as.integer(strsplit(ab, ".", fixed = TRUE)[[1]])
        inst <- d$from_state == states[k[1]]
        cumsum(sapply(tm, function(t) {
            ev <- sum(inst & d$to_state == states[k[2]] & d$stop == t)
            if (ev == 0) 0 else ev / sum(inst & d$start < t & d$stop >= t)
        }))
    })
    list(rule = sc(paste("n.risk[t, s] = #rows with from_state s and start < t <= stop;",
                         "n.event[t, s] = #rows with stop == t entering s;",
                         "n.censor[t] = #rows censored at t;",
                         "cumhaz[t, 'a.b'] = sum_{u <= t} #(a->b at u) / n.risk[u, a]")),
         maxdiff_n.risk = sc(maxdiff(nr, fit$n.risk)),
         maxdiff_n.event = sc(maxdiff(ne, fit$n.event)),
         maxdiff_n.censor = sc(maxdiff(nc, fit$n.censor)),
         maxdiff_cumhaz = sc(maxdiff(ch, fit$cumhaz)))
}

## ---------------------------------------------------------------------------
## Aalen-Johansen block for one data set
## ---------------------------------------------------------------------------
aj_block <- function(d, states, group, taus, do_numeric_ij = FALSE) {
    d$ev <- factor(d$to_state, levels = c("censored", states))
    d$ist <- factor(d$from_state, levels = states)
    f_def <- survfit(Surv(start, stop, ev) ~ 1, data = d, id = patient_id, istate = ist)
    f_inf <- survfit(Surv(start, stop, ev) ~ 1, data = d, id = patient_id, istate = ist,
                     influence = TRUE)
    f_p0  <- survfit(Surv(start, stop, ev) ~ 1, data = d, id = patient_id, istate = ist,
                     p0 = f_def$p0)
    fml <- as.formula(paste("Surv(start, stop, ev) ~", group))
    g_def <- survfit(fml, data = d, id = patient_id, istate = ist)
    g_inf <- survfit(fml, data = d, id = patient_id, istate = ist, influence = TRUE)

    overall <- aj_out(f_def)
    overall$call <- sc("survfit(Surv(start, stop, factor(to_state, levels=c('censored', states))) ~ 1, data, id=patient_id, istate=from_state)")
    overall$influence_true <- list(
        strata = se_out(f_inf),
        maxdiff_pstate_vs_default = sc(maxdiff(f_inf$pstate, f_def$pstate)),
        maxdiff_std.err_vs_default = sc(maxdiff(f_inf$std.err, f_def$std.err)))
    overall$p0_explicit <- list(
        p0 = unname(f_def$p0),
        strata = se_out(f_p0),
        maxdiff_pstate_vs_default = sc(maxdiff(f_p0$pstate, f_def$pstate)),
        maxdiff_std.err_vs_default = sc(maxdiff(f_p0$std.err, f_def$std.err)),
        maxdiff_std.err_vs_influence_true = sc(maxdiff(f_p0$std.err, f_inf$std.err)))
    overall$rmean <- lapply(taus, function(tau) rmean_out(f_def, f_inf, tau))
    overall$count_check <- count_check(d, states, f_def)

    if (do_numeric_ij) {
        w1 <- setNames(rep(1, length(unique(d$patient_id))), sort(unique(d$patient_id)))
        P <- aj_plain(d, states, w1)
        se_with_p0 <- ij_numeric(d, states)
        se_fixed_p0 <- ij_numeric(d, states, p0_fixed = f_def$p0)
        overall$numeric_ij_check <- list(
            description = sc(paste("Independent plain-R Aalen-Johansen (product of I + dA);",
                "std.err recomputed as sqrt(sum_i (dp(t)/dw_i)^2) by central differences",
                "of the case weight of each patient (eps=1e-6).  'p0 re-estimated' lets",
                "the weights move the estimated starting distribution; 'p0 fixed' holds it",
                "at the estimate.")),
            maxdiff_pstate_plainR_vs_survfit = sc(maxdiff(P, f_def$pstate)),
            maxdiff_se_p0_reestimated_vs_influenceTRUE = sc(maxdiff(se_with_p0, f_inf$std.err)),
            maxdiff_se_p0_reestimated_vs_default = sc(maxdiff(se_with_p0, f_def$std.err)),
            maxdiff_se_p0_fixed_vs_default = sc(maxdiff(se_fixed_p0, f_def$std.err)),
            maxdiff_se_p0_fixed_vs_influenceTRUE = sc(maxdiff(se_fixed_p0, f_inf$std.err)))
    }

    by_group <- aj_out(g_def)
    by_group$group <- sc(group)
    by_group$call <- sc(paste0("survfit(Surv(start, stop, factor(to_state, levels=c('censored', states))) ~ ",
                               group, ", data, id=patient_id, istate=from_state)"))
    by_group$influence_true <- list(
        strata = se_out(g_inf),
        maxdiff_std.err_vs_default = sc(maxdiff(g_inf$std.err, g_def$std.err)))
    by_group$rmean <- lapply(taus, function(tau) rmean_out(g_def, g_inf, tau))
    list(overall = overall, by_group = by_group, fits = list(f_def = f_def, f_inf = f_inf))
}

## ---------------------------------------------------------------------------
## multi-state Cox block
## ---------------------------------------------------------------------------
cox_out <- function(fit, call_txt) {
    cm <- coef(fit, matrix = TRUE)
    list(call = sc(call_txt),
         method = sc(fit$method),
         states = fit$states,
         coef.names = names(coef(fit)),
         coef = unname(coef(fit)),
         se.robust = unname(sqrt(diag(fit$var))),
         se.naive = unname(sqrt(diag(fit$naive.var))),
         var = mat(fit$var), naive.var = mat(fit$naive.var),
         loglik = fit$loglik,
         n = fit$n, nevent = sc(fit$nevent),
         cmap = named_mat(fit$cmap),
         smap = named_mat(fit$smap),
         coef.matrix = named_mat(cm),
         transitions = tab_out(fit$transitions))
}

## per-transition fits with cluster = patient_id (Efron, as the ms default)
per_transition <- function(d, states, fit, rhs, ties = "efron") {
    trans <- colnames(fit$cmap)
    res <- lapply(trans, function(tr) {
        ab <- as.integer(strsplit(tr, ":")[[1]])
        from <- states[ab[1]]; to <- states[ab[2]]
        sub <- d[d$from_state == from, ]
        sub$status <- as.integer(sub$to_state == to)
        f <- coxph(as.formula(paste("Surv(start, stop, status) ~", rhs)), data = sub,
                   cluster = patient_id, ties = ties)
        ## matching coefficients of the multi-state fit
        k <- fit$cmap[, tr]
        ms_coef <- coef(fit)[k[k > 0]]
        ms_se <- sqrt(diag(fit$var))[k[k > 0]]
        ms_nse <- sqrt(diag(fit$naive.var))[k[k > 0]]
        list(transition = sc(tr), from = sc(from), to = sc(to),
             call = sc(sprintf("coxph(Surv(start, stop, to_state=='%s') ~ %s, data=subset(d, from_state=='%s'), cluster=patient_id, ties='%s')",
                               to, rhs, from, ties)),
             coef.names = names(coef(f)), coef = unname(coef(f)),
             se.robust = unname(sqrt(diag(f$var))),
             se.naive = unname(sqrt(diag(f$naive.var))),
             loglik = f$loglik, n = sc(f$n), nevent = sc(f$nevent),
             maxdiff_coef_vs_ms = sc(maxdiff(coef(f), ms_coef)),
             maxdiff_se.robust_vs_ms = sc(maxdiff(sqrt(diag(f$var)), ms_se)),
             maxdiff_se.naive_vs_ms = sc(maxdiff(sqrt(diag(f$naive.var)), ms_nse)))
    })
    ll <- colSums(do.call(rbind, lapply(res, function(r) r$loglik)))
    list(fits = res, sum_loglik = ll, maxdiff_sum_loglik_vs_ms = sc(maxdiff(ll, fit$loglik)))
}

pred_out <- function(sf, cfit, call_txt) {
    ps <- sf$pstate
    ps <- if (length(dim(ps)) == 3) ps[, 1, ] else ps
    ch <- sf$cumhaz
    ch <- if (length(dim(ch)) == 3) ch[, 1, ] else ch
    list(call = sc(call_txt),
         states = sf$states,
         time = sf$time,
         pstate = mat(ps),
         cumhaz = mat(ch),
         cumhaz.colnames = colnames(cfit$smap),
         p0 = unname(sf$p0),
         n.risk = mat(sf$n.risk), n.event = mat(sf$n.event),
         std.err = if (is.null(sf$std.err)) NULL else mat(sf$std.err),
         std.err.note = sc(if (is.null(sf$std.err))
             "NULL: survfit.coxphms in survival 3.5-3 sets se.fit <- FALSE unconditionally (no variance for multi-state Cox curves)"
             else "present"))
}

## hand-made prediction, to identify the increments R uses
pred_manual <- function(d, states, cfit, x2, times, p0,
                        hazard = c("breslow", "efron_R", "efron_classic"),
                        stype = 2) {
    hazard <- match.arg(hazard)
    cm <- coef(cfit, matrix = TRUE)
    covn <- rownames(cm)
    X <- as.matrix(d[, covn, drop = FALSE])
    ns <- length(states)
    trans <- colnames(cfit$cmap)
    dA <- matrix(0, length(times), length(trans))
    for (j in seq_along(trans)) {
        ab <- as.integer(strsplit(trans[j], ":")[[1]])
        beta <- ifelse(is.na(cm[, j]), 0, cm[, j])
        inst <- d$from_state == states[ab[1]]
        r <- exp(c(X %*% beta))
        for (k in seq_along(times)) {
            t <- times[k]
            ar <- inst & d$start < t & d$stop >= t
            ev <- ar & d$stop == t & d$to_state == states[ab[2]]
            nd <- sum(ev)
            if (nd == 0) next
            S <- sum(r[ar]); D <- sum(r[ev])
            kk <- 0:(nd - 1)
            dA[k, j] <- switch(hazard,
                breslow = nd / S,
                efron_R = nd / mean(S - kk * D / nd^2),
                efron_classic = sum(1 / (S - kk * D / nd)))
        }
        dA[, j] <- dA[, j] * exp(sum(x2[covn] * beta))
    }
    P <- matrix(0, length(times), ns); p <- p0
    for (k in seq_along(times)) {
        if (any(dA[k, ] > 0)) {
            Q <- matrix(0, ns, ns)
            for (j in seq_along(trans)) {
                ab <- as.integer(strsplit(trans[j], ":")[[1]])
                Q[ab[1], ab[2]] <- dA[k, j]
            }
            if (stype == 2) {
                diag(Q) <- -rowSums(Q)
                E <- if (has_expm) expm::expm(Q) else survival:::survexpm(Q)
                p <- c(p %*% E)
            } else {
                diag(Q) <- pmax(0, 1 - rowSums(Q))
                p <- c(p %*% Q)
            }
        }
        P[k, ] <- p
    }
    P
}

cox_block <- function(d, states, rhs, shared_list, single_list, profile,
                      manual_check = FALSE) {
    d$ev <- factor(d$to_state, levels = c("censored", states))
    d$ist <- factor(d$from_state, levels = states)
    fml <- as.formula(paste("Surv(start, stop, ev) ~", rhs))
    ## default ties (missing 'ties' argument) -> method "efron" in survival 3.5-3
    c_def <- coxph(fml, data = d, id = patient_id, istate = ist)
    ## NB: in 3.5-3 *any* explicit ties= argument is turned into "breslow" for
    ## multi-state models (typo `if (!missing.ties)` in coxph, fixed in 3.7-1)
    c_bre <- coxph(fml, data = d, id = patient_id, istate = ist, ties = "breslow")
    c_efr_explicit <- coxph(fml, data = d, id = patient_id, istate = ist, ties = "efron")
    ## formulas built at top level: point them at this frame (survfit.coxphms
    ## re-evaluates the model frame in the formula's environment)
    env <- environment()
    setenv <- function(fl) lapply(fl, function(f) { environment(f) <- env; f })
    sh_f <- setenv(shared_list$formula)
    si_f <- setenv(single_list$formula)
    c_sh <- coxph(sh_f, data = d, id = patient_id, istate = ist)
    c_si <- coxph(si_f, data = d, id = patient_id, istate = ist)

    basecall <- sprintf("coxph(Surv(start, stop, factor(to_state, levels=c('censored', states))) ~ %s, data, id=patient_id, istate=from_state)", rhs)
    out <- list(
        unshared = cox_out(c_def, basecall),
        unshared_breslow = cox_out(c_bre, sub("istate=from_state)", "istate=from_state, ties='breslow')", basecall)),
        explicit_ties_efron_gotcha = list(
            call = sc(sub("istate=from_state)", "istate=from_state, ties='efron')", basecall)),
            method_reported = sc(c_efr_explicit$method),
            maxdiff_coef_vs_breslow_fit = sc(maxdiff(coef(c_efr_explicit), coef(c_bre))),
            maxdiff_coef_vs_default_fit = sc(maxdiff(coef(c_efr_explicit), coef(c_def)))),
        shared_common = cox_out(c_sh, shared_list$text),
        single_transition_covariate = cox_out(c_si, single_list$text),
        per_transition_cluster_efron = per_transition(d, states, c_def, rhs, "efron"),
        per_transition_cluster_breslow = per_transition(d, states, c_bre, rhs, "breslow"))

    ## predictions for one covariate profile
    nd <- profile
    s_def <- survfit(c_def, newdata = nd)
    s_def1 <- survfit(c_def, newdata = nd, stype = 1)
    s_defc1 <- survfit(c_def, newdata = nd, ctype = 1)
    s_bre <- survfit(c_bre, newdata = nd)
    s_sh <- survfit(c_sh, newdata = nd)
    prof_txt <- paste(names(nd), sapply(nd, function(v) as.character(v)), sep = "=", collapse = ", ")
    out$predict <- list(
        profile = lapply(nd, function(v) sc(v)),
        unshared = pred_out(s_def, c_def, sprintf("survfit(coxfit_unshared, newdata=data.frame(%s))  # stype=2 (default), ctype=2 (from ties='efron')", prof_txt)),
        unshared_stype1 = pred_out(s_def1, c_def, sprintf("survfit(coxfit_unshared, newdata=data.frame(%s), stype=1)", prof_txt)),
        unshared_ctype1 = pred_out(s_defc1, c_def, sprintf("survfit(coxfit_unshared, newdata=data.frame(%s), ctype=1)", prof_txt)),
        unshared_breslow_fit = pred_out(s_bre, c_bre, sprintf("survfit(coxfit_unshared_breslow, newdata=data.frame(%s))  # ctype=1 follows ties='breslow'", prof_txt)),
        shared_common = pred_out(s_sh, c_sh, sprintf("survfit(coxfit_shared_common, newdata=data.frame(%s))", prof_txt)))

    if (manual_check) {
        x2 <- unlist(nd)
        tm <- s_def$time
        p0 <- s_def$p0
        P <- function(...) pred_manual(d, states, c_def, x2, tm, p0, ...)
        ps <- s_def$pstate[, 1, ]
        out$predict$manual_check <- list(
            description = sc(paste("pstate of survfit(coxfit_unshared, newdata) recomputed in plain R",
                "with three choices of the tied-event hazard increment and with",
                "exp(Q) (stype=2) or I+Q (stype=1). efron_R: dA = d / mean_k(S - k*D/d^2);",
                "efron_classic: dA = sum_k 1/(S - k*D/d); breslow: dA = d/S;",
                "S = sum of exp(x*beta) over the at-risk rows of the from-state, D = same over the d",
                "rows with that transition at t; k = 0..d-1; each dA then times exp(x_new*beta).")),
            maxdiff_default_vs_efron_R_expm = sc(maxdiff(ps, P(hazard = "efron_R"))),
            maxdiff_default_vs_efron_classic_expm = sc(maxdiff(ps, P(hazard = "efron_classic"))),
            maxdiff_default_vs_breslow_expm = sc(maxdiff(ps, P(hazard = "breslow"))),
            maxdiff_stype1_vs_efron_R_IplusdA = sc(maxdiff(s_def1$pstate[, 1, ], P(hazard = "efron_R", stype = 1))),
            maxdiff_ctype1_vs_breslow_expm = sc(maxdiff(s_defc1$pstate[, 1, ], P(hazard = "breslow"))),
            maxdiff_ctype1_vs_breslow_IplusdA = sc(maxdiff(s_defc1$pstate[, 1, ], P(hazard = "breslow", stype = 1))),
            maxdiff_breslowfit_vs_breslow_expm = sc(maxdiff(s_bre$pstate[, 1, ],
                pred_manual(d, states, c_bre, x2, tm, p0, hazard = "breslow"))),
            expm_used = sc(if (has_expm) "expm::expm" else "survival:::survexpm"))
    }
    out
}

## ---------------------------------------------------------------------------
## run everything
## ---------------------------------------------------------------------------
res <- list()

## (a) mgus2 ---------------------------------------------------------------
st_mg <- c("mgus", "pcm", "death")
mg_cc <- mgus2_ms[!is.na(mgus2_ms$mspike), ]
aj_mg <- aj_block(mg_cc, st_mg, "sex", taus = c(120, 240))

## cross-check against the vignette's own data3 (same complete cases)
v3 <- mg$vignette_data
v3 <- v3[!is.na(v3$mspike), ]
v3$event <- factor(with(v3, ifelse(death == 1, 2, pcm)), 0:2, c("censor", "pcm", "death"))
mfit3 <- survfit(Surv(tstart, tstop, event) ~ 1, data = v3, id = id)
cx_mg <- cox_block(mg_cc, st_mg, "age + sex + mspike",
    shared_list = list(
        formula = list(Surv(start, stop, ev) ~ age + sex + mspike, 1:3 + 2:3 ~ age / common),
        text = "coxph(list(Surv(start, stop, ev) ~ age + sex + mspike, 1:3 + 2:3 ~ age / common), data, id=patient_id, istate=from_state)  # age shared by mgus->death and pcm->death"),
    single_list = list(
        formula = list(Surv(start, stop, ev) ~ age + sex, 1:2 ~ mspike),
        text = "coxph(list(Surv(start, stop, ev) ~ age + sex, 1:2 ~ mspike), data, id=patient_id, istate=from_state)  # mspike only on mgus->pcm"),
    profile = data.frame(age = 70, sex = "M", mspike = 1.2))

res$mgus2 <- list(
    data = list(
        file = sc("mgus2_ms.csv"),
        source = sc("survival::mgus2"),
        time_unit = sc("months"),
        states = st_mg, initial_state = sc("mgus"),
        covariates = c("age", "sex", "mspike"),
        n_rows = sc(nrow(mgus2_ms)), n_patients = sc(length(unique(mgus2_ms$patient_id))),
        n_rows_fit = sc(nrow(mg_cc)), n_patients_fit = sc(length(unique(mg_cc$patient_id))),
        fit_subset = sc("complete cases: patients with non-missing mspike (all fits, including survfit)"),
        n_pcm_death_same_month = sc(mg$n_tied_death),
        n_pcm_at_last_followup = sc(mg$n_tied),
        tie_rule = sc("ptime == futime & pstat == 1 -> progression moved to ptime - 0.1 (compete vignette, chunk mgus4)"),
        check_vs_vignette_data3_maxdiff_pstate = sc(maxdiff(mfit3$pstate, aj_mg$fits$f_def$pstate)),
        check_vs_vignette_data3_maxdiff_std.err = sc(maxdiff(mfit3$std.err, aj_mg$fits$f_def$std.err))),
    survfit = aj_mg[c("overall", "by_group")],
    coxph = cx_mg[setdiff(names(cx_mg), "predict")],
    predict = cx_mg$predict)

## (b) myeloid -------------------------------------------------------------
st_my <- c("entry", "CR", "SCT", "relapse", "death")
aj_my <- aj_block(myeloid_ms, st_my, "trt", taus = c(730, 1461))
vd <- my$vignette_data
sfit4 <- survfit(Surv(tstart, tstop, event) ~ 1, data = vd, id = id)
cx_my <- cox_block(myeloid_ms, st_my, "trt + sex",
    shared_list = list(
        formula = list(Surv(start, stop, ev) ~ trt + sex, 1:5 + 2:5 + 3:5 + 4:5 ~ trt / common),
        text = "coxph(list(Surv(start, stop, ev) ~ trt + sex, 1:5 + 2:5 + 3:5 + 4:5 ~ trt / common), data, id=patient_id, istate=from_state)  # trt shared by all transitions into death"),
    single_list = list(
        formula = list(Surv(start, stop, ev) ~ trt, 1:2 ~ sex),
        text = "coxph(list(Surv(start, stop, ev) ~ trt, 1:2 ~ sex), data, id=patient_id, istate=from_state)  # sex only on entry->CR"),
    profile = data.frame(trt = "B", sex = "f"))

res$myeloid <- list(
    data = list(
        file = sc("myeloid_ms.csv"),
        source = sc("survival::myeloid"),
        time_unit = sc("days"),
        states = st_my, initial_state = sc("entry"),
        covariates = c("trt", "sex"),
        note_flt3 = sc("flt3 is not part of survival 3.5-3's myeloid data (added in survival 3.5-8); not included"),
        n_rows = sc(nrow(myeloid_ms)), n_patients = sc(length(unique(myeloid_ms$patient_id))),
        fit_subset = sc("all rows (no missing covariates)"),
        n_cr_sct_same_day = sc(my$n_tied),
        tie_rule = sc("crtime == txtime -> crtime - 1 day (CR first), survival.Rnw chunk sfit0b"),
        check_vs_vignette_sfit4_maxdiff_pstate = sc(maxdiff(sfit4$pstate, aj_my$fits$f_def$pstate)),
        check_vs_vignette_sfit4_maxdiff_std.err = sc(maxdiff(sfit4$std.err, aj_my$fits$f_def$std.err))),
    survfit = aj_my[c("overall", "by_group")],
    coxph = cx_my[setdiff(names(cx_my), "predict")],
    predict = cx_my$predict)

## (c) simulated -----------------------------------------------------------
st_sim <- c("healthy", "ill", "dead")
aj_sim <- aj_block(sim_ms, st_sim, "x", taus = c(2, 5), do_numeric_ij = TRUE)
cx_sim <- cox_block(sim_ms, st_sim, "x + z",
    shared_list = list(
        formula = list(Surv(start, stop, ev) ~ x + z, 1:3 + 2:3 ~ x / common),
        text = "coxph(list(Surv(start, stop, ev) ~ x + z, 1:3 + 2:3 ~ x / common), data, id=patient_id, istate=from_state)  # x shared by healthy->dead and ill->dead"),
    single_list = list(
        formula = list(Surv(start, stop, ev) ~ x, 1:2 ~ z),
        text = "coxph(list(Surv(start, stop, ev) ~ x, 1:2 ~ z), data, id=patient_id, istate=from_state)  # z only on healthy->ill"),
    profile = data.frame(x = 1, z = 0.5),
    manual_check = TRUE)

## tie diagnostics for the simulated data
ev_rows <- sim_ms[sim_ms$to_state != "censored", ]
tt <- table(ev_rows$stop)
tie_times <- as.numeric(names(tt)[tt > 1])
cens_rows <- sim_ms[sim_ms$to_state == "censored", ]
cens_eq_ev <- sum(cens_rows$stop %in% ev_rows$stop)
mixed_ties <- sum(sapply(tie_times, function(t) length(unique(paste(ev_rows$from_state, ev_rows$to_state)[ev_rows$stop == t])) > 1))
same_type_ties <- sum(sapply(tie_times, function(t) any(duplicated(paste(ev_rows$from_state, ev_rows$to_state)[ev_rows$stop == t]))))
stopifnot(cens_eq_ev >= 3, length(tie_times) > 10)

## case weights (optional item) on the simulated data, overall curve
sw <- sim_ms
sw$ev <- factor(sw$to_state, levels = c("censored", st_sim))
sw$ist <- factor(sw$from_state, levels = st_sim)
sw$w_int <- 1 + (sw$patient_id %% 3)
sw$w_frac <- 0.5 + (sw$patient_id %% 7) / 4
fw_int <- survfit(Surv(start, stop, ev) ~ 1, data = sw, id = patient_id, istate = ist, weights = w_int)
fw_frac <- survfit(Surv(start, stop, ev) ~ 1, data = sw, id = patient_id, istate = ist, weights = w_frac)
fw_int_inf <- survfit(Surv(start, stop, ev) ~ 1, data = sw, id = patient_id, istate = ist, weights = w_int, influence = TRUE)
## replicate each patient w_int times (new ids) -> same pstate, different std.err
rep_idx <- rep(seq_len(nrow(sw)), sw$w_int)
sr <- sw[rep_idx, ]
sr$copy <- ave(seq_len(nrow(sr)), sr$patient_id, sr$start, FUN = seq_along)
sr$rid <- sr$patient_id * 10 + sr$copy
fw_rep <- survfit(Surv(start, stop, ev) ~ 1, data = sr, id = rid, istate = ist)

res$illness_death_sim <- list(
    data = list(
        file = sc("illness_death_sim.csv"),
        source = sc("simulated in multistate.R, build_sim(n = 400, seed = 20240611)"),
        time_unit = sc("arbitrary; all times on a 0.1 grid"),
        states = st_sim, initial_states = c("healthy", "ill"),
        covariates = c("x", "z"),
        n_rows = sc(nrow(sim_ms)), n_patients = sc(length(unique(sim_ms$patient_id))),
        n_start_ill = sc(sum(sim_ms$from_state == "ill" & sim_ms$start == 0)),
        fit_subset = sc("all rows"),
        n_event_times_with_ties = sc(length(tie_times)),
        n_tied_times_mixing_transition_types = sc(mixed_ties),
        n_tied_times_with_same_transition_twice = sc(same_type_ties),
        n_censored_rows_at_an_event_time = sc(cens_eq_ev),
        n_censored_at_admin_8 = sc(sum(cens_rows$stop == 8)),
        generation = sc(paste("x ~ Bernoulli(0.5); z = round(N(0,1), 2); start in 'ill' w.p. 0.15;",
            "hazards healthy->ill 0.15*exp(0.6x+0.3z), healthy->dead 0.05*exp(0.4x+0.2z),",
            "ill->dead 0.25*exp(0.5x-0.2z) (clock-forward, exponential);",
            "event times rounded UP to the 0.1 grid (min 0.1); censoring round(U(2,12),1) capped at 8.0;",
            "death observed if time <= censoring, illness only if time < censoring;",
            "a death after illness is forced to be >= illness time + 0.1"))),
    survfit = aj_sim[c("overall", "by_group")],
    weights = list(
        rule = sc("w_int = 1 + (patient_id %% 3); w_frac = 0.5 + (patient_id %% 7) / 4 (constant within patient)"),
        integer = c(aj_out(fw_int), list(call = sc("survfit(Surv(start, stop, ev) ~ 1, data, id=patient_id, istate=from_state, weights=w_int)"))),
        integer_influence_true = list(strata = se_out(fw_int_inf)),
        fractional = c(aj_out(fw_frac), list(call = sc("survfit(Surv(start, stop, ev) ~ 1, data, id=patient_id, istate=from_state, weights=w_frac)"))),
        integer_rmean_tau5 = local({
            tb <- summary(fw_int_inf, rmean = 5)$table
            rm <- rmean_manual(fw_int_inf, 5)
            infl <- fw_int_inf$influence.pstate
            wid <- 1 + (as.numeric(dimnames(infl)[[1]]) %% 3)
            tt <- c(0, fw_int_inf$time); delta <- diff(c(tt[tt < 5], 5))
            delta <- c(delta, rep(0, length(tt) - length(delta)))
            se_w <- sqrt(colSums((wid * apply(infl, c(1, 3), function(v) sum(v * delta)))^2))
            list(note = sc(paste("summary(fit, rmean=5)$table for the w_int fit with influence=TRUE.",
                     "influence.pstate holds dp/dw_i (NOT multiplied by w_i) while std.err = sqrt(sum_i (w_i dp/dw_i)^2);",
                     "survmean2 uses sqrt(sum_i (sum_k delta_k dp(t_k)/dw_i)^2), i.e. ignores the case weights.",
                     "se_rmean_weighted_IJ gives the weight-consistent value sqrt(sum_i (w_i sum_k delta_k dp/dw_i)^2).")),
                 rownames = rownames(tb), colnames = colnames(tb), table = mat(tb),
                 se_rmean_weighted_IJ = unname(se_w),
                 check_manual_se_maxdiff = sc(maxdiff(rm$se, tb[, "se(rmean)"])))
        }),
        replicated_check = list(
            description = sc("data with each patient copied w_int times under new ids, unweighted fit"),
            maxdiff_pstate_vs_integer_weights = sc(maxdiff(fw_rep$pstate, fw_int$pstate)),
            maxdiff_std.err_vs_integer_weights = sc(maxdiff(fw_rep$std.err, fw_int$std.err)))),
    coxph = cx_sim[setdiff(names(cx_sim), "predict")],
    predict = cx_sim$predict)

res$meta <- list(
    R.version = sc(R.version.string),
    survival.version = sc(as.character(packageVersion("survival"))),
    jsonlite.version = sc(as.character(packageVersion("jsonlite"))),
    json_number_format = sc("toJSON(digits = NA): jsonlite 1.8.4 writes 15 significant digits"),
    matrix_layout = sc("row-major: matrix[i][j] = time i (or row i), column j; columns of pstate/std.err/lower/upper/n.risk/n.event follow 'states', columns of cumhaz follow 'cumhaz.colnames'"),
    missing_values = sc("NA/NaN written as null (e.g. lower/upper when pstate == 0)"),
    readme = sc("README.md"))

res <- res[c("meta", "mgus2", "myeloid", "illness_death_sim")]
writeLines(toJSON(res, digits = NA, na = "null", null = "null", auto_unbox = FALSE),
           "multistate.json")
cat("wrote multistate.json\n")
