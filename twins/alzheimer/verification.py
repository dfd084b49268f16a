"""Verification cases of the Alzheimer twin, run by `meditwin verify` on an installation:
the model's equations, agreement with the individual parameters Leaspy publishes for its
example patients, recovery of simulated patients, the therapy's analytic delay and its
first-order slowing. The demo patient's known truth is checked in tests/test_demo_recovery.py
(it needs the platform's demo). The tests beside the twin run
coarse versions; each `compute` runs the twin's own code.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from meditwin_desktop.core.twin import VerificationCase

from . import leaspy_checks
from .leaspy_model import demo_model_path, load_model
from .treatment import disease_clock

LEASPY_DATA = ("Leaspy 2.1.0 example model and its 200 synthetic patients with their published "
               "individual parameters (datasets/individual_parameters/"
               "alzheimer-individual_parameters.csv)")  # fmt: skip
EQUATIONS = "Leaspy 2.1.0 models/logistic.py; Schiratti et al. JMLR 2017;18:1-33, eq. 2"
# a patient of the demo model (tau, xi, sources) for the therapy checks
PATIENT = (0.25, 76.0, np.array([0.3, -0.5]))


def delay_error() -> float:
    """Max |treated(t) - untreated(t - r (t - s))| in model space, for t after the start s:
    the treated course is the untreated one delayed by r (t - s) (analytic; 27 % from s = 77)."""
    model = load_model(demo_model_path())
    xi, tau, sources = PATIENT
    start, effect = 77.0, 0.27
    ages = np.linspace(start, start + 10.0, 101)
    treated = model.values_at_rt(disease_clock(ages, xi, tau, start, effect), sources)
    delayed = model.values(ages - effect * (ages - start), xi, tau, sources)
    return float(np.abs(treated - delayed).max())


def mmse_slowing_pct(months: float = 18.0) -> float:
    """The slowing (%) of the MMSE decline over `months` from the start, treated (27 %)
    against untreated, for the demo model's patient: the trial's relative slowing read on a
    score, which the clock model reproduces to first order."""
    model = load_model(demo_model_path())
    k = model.feature_index("MMSE")
    xi, tau, sources = PATIENT
    start = 77.0
    ages = np.array([start, start + months / 12.0])
    untreated = model.values(ages, xi, tau, sources)[:, k]
    treated = model.values_at_rt(disease_clock(ages, xi, tau, start, 0.27), sources)[:, k]
    return float(100.0 * (1.0 - np.diff(treated)[0] / np.diff(untreated)[0]))


VERIFICATION = (
    VerificationCase(
        "Model values = the logistic equations", "max |difference|", "", 0.0, 1e-9,
        EQUATIONS, partial(leaspy_checks.equations_max_error, 50),
    ),
    VerificationCase(
        "Agreement with Leaspy: tau (median over 200 patients)", "median |dtau|", "years",
        0.0, 0.01, LEASPY_DATA, partial(leaspy_checks.leaspy_agreement, "tau", "median"),
    ),
    VerificationCase(
        "Agreement with Leaspy: xi (median over 200 patients)", "median |dxi|", "", 0.0, 0.001,
        LEASPY_DATA, partial(leaspy_checks.leaspy_agreement, "xi", "median"),
    ),
    VerificationCase(
        "Recovery of simulated patients: tau", "median |dtau|, 5 visits", "years", 0.0, 0.5,
        "patients drawn from the example model's priors and noise (analytic truth)",
        partial(leaspy_checks.recovery_error, "tau"),
    ),
    VerificationCase(
        "Uncertainty shrinks with visits", "SD(tau) 6 visits / 1 visit", "", 0.0, 0.6,
        "Laplace SD of tau, median over simulated patients (must fall as visits are added)",
        partial(leaspy_checks.tau_sd_ratio, 6, 1),
    ),
    VerificationCase(
        "Therapy = the untreated course delayed by r (t - s)", "max |difference|", "", 0.0,
        1e-9, "analytic (treatment.py)", delay_error,
    ),
    VerificationCase(
        "Therapy of 27 %: slowing of the MMSE decline at 18 months", "slowing", "%", 27.0,
        3.0, "internal consistency of the clock model (27 % in, first order on a score); not "
        "a comparison with the trial's data", mmse_slowing_pct,
    ),
)  # fmt: skip
