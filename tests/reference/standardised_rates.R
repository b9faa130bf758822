# Reference values for directly standardised incidence rates (calcstats.incidence_rate with
# standardize=): epitools::ageadjust.direct (Fay & Feuer 1997 gamma interval) applied to the
# events and person-time of each (group, stratum). Run from the repo root:
#   Rscript tests/reference/standardised_rates.R
# -> tests/reference/standardised_rates.json and the two data sets it used in
#    tests/reference/standardised_rates_data/ (simulated.csv, lung.csv).
# Rates here are per 1 unit of person-time (ageadjust.direct's scale).
suppressPackageStartupMessages({library(jsonlite); library(epitools); library(survival)})
dir <- "tests/reference/standardised_rates_data"
out <- list()

adjust <- function(d, strata, stdpop, level = 0.95) {
  f <- factor(d$stratum, levels = strata)
  count <- tapply(d$event, f, sum)
  pop <- tapply(d$time, f, sum)
  r <- ageadjust.direct(count = count, pop = pop, stdpop = stdpop, conf.level = level)
  list(events = sum(d$event), person_time = sum(d$time), crude = unname(r["crude.rate"]),
       rate = unname(r["adj.rate"]), lower = unname(r["lci"]), upper = unname(r["uci"]))
}
by_group <- function(d, group, strata, stdpop, level = 0.95) {
  lapply(split(d, d[[group]]), adjust, strata = strata, stdpop = stdpop, level = level)
}

## ---- 1. simulated cohort: three arms, four age groups, rates rising with age --------------
set.seed(20240611)
strata <- c("18-39", "40-59", "60-74", "75+")
n <- 1500
sim <- data.frame(
  arm = sample(c("A", "B", "C"), n, replace = TRUE, prob = c(0.5, 0.3, 0.2)),
  age_group = sample(strata, n, replace = TRUE, prob = c(0.3, 0.35, 0.25, 0.1))
)
hazard <- c("18-39" = 0.01, "40-59" = 0.03, "60-74" = 0.07, "75+" = 0.15)[sim$age_group] *
  c(A = 1, B = 1.4, C = 0.8)[sim$arm]
t_event <- rexp(n, hazard)
t_cens <- runif(n, 0.5, 12)
sim$time <- round(pmin(t_event, t_cens), 4)
sim$status <- as.integer(t_event <= t_cens)
write.csv(sim, file.path(dir, "simulated.csv"), row.names = FALSE)
# standard population sizes (not shares: ageadjust.direct normalises them)
std_sim <- c("18-39" = 38000, "40-59" = 33000, "60-74" = 20000, "75+" = 9000)
d <- transform(sim, stratum = age_group, event = status)
out$sim_weights <- as.list(std_sim)
out$sim_overall <- adjust(d, strata, std_sim)
out$sim_by_arm <- by_group(d, "arm", strata, std_sim)
out$sim_by_arm_90 <- by_group(d, "arm", strata, std_sim, level = 0.90)
# follow-up bands (0, 2], (2, 5], (5, Inf) as Stata stsplit (survival::survSplit)
sp <- survSplit(Surv(time, status) ~ ., data = sim, cut = c(2, 5), episode = "band",
                start = "tstart", end = "tstop")
sp$time <- sp$tstop - sp$tstart
bands <- split(transform(sp, stratum = age_group, event = status), sp$band)
out$sim_bands <- lapply(bands, by_group, group = "arm", strata = strata, stdpop = std_sim)
names(out$sim_bands) <- c("0–2", "2–5", "≥5")

## ---- 2. survival::lung: deaths per person-year by sex, standardised by age group ----------
lung <- survival::lung
lung$years <- lung$time / 365.25
lung$death <- as.integer(lung$status == 2)
lung$sex <- ifelse(lung$sex == 1, "male", "female")
lung$age_group <- as.character(cut(lung$age, c(0, 60, 70, Inf), right = FALSE,
                                   labels = c("<60", "60-69", "70+")))
write.csv(lung[, c("years", "death", "sex", "age_group")], file.path(dir, "lung.csv"),
          row.names = FALSE)
std_lung <- c("<60" = 0.45, "60-69" = 0.35, "70+" = 0.20)
d <- transform(lung, stratum = age_group, event = death, time = years)
out$lung_weights <- as.list(std_lung)
out$lung_by_sex <- by_group(d, "sex", names(std_lung), std_lung)

write_json(out, "tests/reference/standardised_rates.json", digits = NA, auto_unbox = TRUE,
           pretty = TRUE)
