# Counting-process intervals from survival::tmerge, to check
# calcstats.cohort counting_process_table (tests/cohort/test_analysis.py).
# Follow-up in days from index; status 0 censored, 1 cirrhosis, 2 liver_transplant, 3 death
# (first event, same-day ties already resolved); calc = day calcification first seen
# (NA: never). Patients are the hand-built cases of the test.
# Run: Rscript tests/reference/counting_process.R > tests/reference/counting_process.json
suppressMessages({library(survival); library(jsonlite)})
base <- data.frame(
  id     = c("a", "b", "c", "d", "e", "f", "g", "h"),
  futime = c(700, 500, 300, 800, 1200, 600, 100, 260),
  status = c(1, 3, 1, 0, 0, 0, 0, 2),
  calc   = c(400, 0, 300, 900, NA, -30, 100, 250)
)
td <- tmerge(base[, c("id", "futime")], base, id = id, ev = event(futime, status))
expo <- base[!is.na(base$calc), c("id", "calc")]
# an exposure on or before index (calc <= 0) applies from time 0
expo$calc <- pmax(expo$calc, 0)
td <- tmerge(td, expo, id = id, calcification = tdc(calc, rep(1, nrow(expo))),
             options = list(tdcstart = 0))
td <- td[order(td$id, td$tstart), ]
out <- list(
  r_version = R.version.string,
  survival_version = as.character(packageVersion("survival")),
  id = td$id, tstart = td$tstart, tstop = td$tstop, status = td$ev,
  calcification = td$calcification
)
cat(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE))
