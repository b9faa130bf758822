# Writes patients.sas7bdat (the valid three-patient table of cohort_tables.py) for
# tests/cohort/test_read.py::test_sas7bdat_read. Run: Rscript make_sas_fixture.R
library(haven)
patients <- data.frame(
  patient_id = c("p1", "p2", "p3"),
  sex = c("F", "M", "F"),
  age_at_index = c(54, 61, 45),
  index_date = as.Date(c("2015-03-01", "2016-07-12", "2014-01-10")),
  etiology = c("pbc", "psc", "other"),
  cirrhosis_at_baseline = c(0, 1, 0),
  last_followup_date = as.Date(c("2020-01-01", "2021-05-30", "2019-12-31")),
  stringsAsFactors = FALSE
)
suppressWarnings(write_sas(patients, "patients.sas7bdat"))
