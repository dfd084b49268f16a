"""Verification cases of the tumour-response twin, run by `meditwin verify` on an
installation: the RECIST 1.1 rules the issue names, recovery of known Stein and Claret
parameters from noisy simulated series, the TGI closed form against an ODE solve, and a
virtual 5-FU trial against the published phase III time to progression. The tests beside
the twin (tests/) check the same and more; each `compute` runs the twin's own code.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from meditwin_desktop.core.twin import VerificationCase

RECIST = "Eisenhauer EA et al., Eur J Cancer 2009;45:228-247 (RECIST 1.1), section 4.3.1"
SCANS_Q8W = np.arange(6) * 56.0  # six CTs, every 8 weeks
SLD0_MM = 80.0
NOISE_MM = 2.5  # measurement SD (a few mm, as the issue asks)


def recist_category(values: tuple[float, ...], new_lesion: bool = False) -> str:
    """The RECIST category of the last of one liver lesion's diameters (mm), a scan every
    8 weeks from 2026-01-05."""
    from .recist import Lesion, assess

    dates = [f"2026-{1 + 2 * n:02d}-05" for n in range(len(values))]
    lesion = Lesion("liver: tumour 1", "liver", False, dict(zip(dates, values, strict=True)))
    new = (dates[-1],) if new_lesion else ()
    return assess([lesion], dates, new_lesion_dates=new).last.category


def is_category(values: tuple[float, ...], category: str, new_lesion: bool = False) -> float:
    """1.0 when the last scan's category is `category`, else 0.0."""
    return float(recist_category(values, new_lesion) == category)


def stein_recovery_error(parameter: str, seeds: int = 50) -> float:
    """Median relative error of the fitted `parameter` (g or d) over seeded series of the gd
    model (g 0.003, d 0.02 /day; 6 scans every 8 weeks; 2.5 mm noise on an 80 mm SLD)."""
    from .regression_growth import f_model, fit_growth

    truth = {"g": 0.003, "d": 0.02}
    errors = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        sld = f_model("gd", SCANS_Q8W, **truth) * SLD0_MM + rng.normal(0, NOISE_MM, 6)
        fit = fit_growth(SCANS_Q8W, sld / sld[0])
        value = getattr(fit, parameter)
        errors.append(abs(value / truth[parameter] - 1.0) if value else 1.0)
    return float(np.median(errors))


def tgi_ode_difference() -> float:
    """Largest relative difference between the TGI closed form and a stiff ODE solve over
    a course with a holiday and a switch."""
    from scipy.integrate import solve_ivp

    from .tgi import Period, sld_tgi

    periods = [Period(0.0, 84.0, "5-FU"), Period(126.0, 210.0, "5-FU"), Period(210.0, None, "b")]
    kd, lam, kl, y0 = {"5-fu": 0.012, "b": 0.02}, {"5-fu": 0.012, "b": 0.03}, 0.003, 80.0
    days = np.linspace(0.0, 336.0, 85)

    def rate(t: float, y: np.ndarray) -> np.ndarray:
        kill = 0.0
        for p, start in zip(periods, (0.0, 0.0, 210.0), strict=True):
            key = p.regimen.casefold()
            if p.start_day <= t < (p.stop_day if p.stop_day is not None else np.inf):
                kill += kd[key] * np.exp(-lam[key] * (t - start))
        return (kl - kill) * y

    ode = solve_ivp(rate, (0.0, 336.0), [y0], t_eval=days, rtol=1e-11, atol=1e-11,
                    max_step=1.0).y[0]  # fmt: skip
    closed = sld_tgi(days, y0, kl, kd, lam, periods)
    return float(np.max(np.abs(closed / ode - 1.0)))


def tgi_recovery_error(parameter: str, seeds: int = 40) -> float:
    """Median relative error of the fitted TGI `parameter` over seeded 7-scan series
    (KL 0.003, KD 0.012, lambda 0.012 /day; 80 mm; 2.5 mm noise; 36 weeks of 5-FU)."""
    import dataclasses

    from .tgi import CLARET_2009, Period, fit_tgi, sld_tgi

    truth = {"y0": 80.0, "kl": 0.003, "kd": 0.012, "lam": 0.012}
    course = [Period(0.0, 252.0, "5-FU")]
    scans = np.arange(0.0, 337.0, 56.0)
    prior = dataclasses.replace(CLARET_2009, sigma_add_mm=NOISE_MM)
    errors = []
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        sld = sld_tgi(scans, *truth.values(), course) + rng.normal(0.0, NOISE_MM, scans.size)
        fit = fit_tgi(scans, sld, course, prior=prior)
        errors.append(abs(getattr(fit, parameter) / truth[parameter] - 1.0))
    return float(np.median(errors))


def virtual_5fu_median_ttp_months(n: int = 4000, seed: int = 7) -> float:
    """Median time to RECIST PD (months) of a virtual 5-FU trial drawn from the TGI
    population model (baseline SLD 100 mm, scans every 6 weeks for 48 weeks)."""
    from .tgi import CLARET_2009, Period, sld_tgi

    c = CLARET_2009
    z = np.random.default_rng(seed).standard_normal((3, n, 1))
    kl = c.kl * np.exp(c.omega_kl * z[0])
    kd = c.kd * np.exp(c.omega_kd * z[1])
    lam = c.lam * np.exp(c.omega_lam * z[2])
    visits = np.arange(0.0, 48 * 7 + 1, 42.0)
    y = sld_tgi(visits, 100.0, kl, kd, lam, [Period(0.0, None, "5-FU")])
    nadir = np.minimum.accumulate(y, axis=1)[:, :-1]
    progressed = (y[:, 1:] >= 1.2 * nadir) & (y[:, 1:] - nadir >= 5.0)
    ttp = np.where(progressed.any(axis=1), visits[1:][progressed.argmax(axis=1)], np.inf)
    return float(np.median(ttp)) / 30.44


def _rule(name: str, quantity: str, values, category: str, new_lesion=False) -> VerificationCase:
    return VerificationCase(
        name=name, quantity=quantity, unit="1 = yes", reference=1.0, tolerance=0.0,
        source=RECIST, compute=partial(is_category, tuple(values), category, new_lesion),
    )  # fmt: skip


VERIFICATION: tuple[VerificationCase, ...] = (
    _rule("recist_100_to_70_is_pr", "100 -> 70 mm is PR", (100.0, 70.0), "PR"),
    _rule("recist_20pct_under_5mm_is_not_pd", "25 -> 20 -> 24 mm (+20 %, +4 mm) is SD",
          (25.0, 20.0, 24.0), "SD"),
    _rule("recist_new_lesion_is_pd", "a new lesion with shrinking targets is PD",
          (50.0, 30.0), "PD", True),
    VerificationCase(
        name="stein_gd_recovery_g", quantity="median relative error of g", unit="",
        reference=0.0, tolerance=0.20, compute=partial(stein_recovery_error, "g"),
        source="analytic: 50 seeded series of the gd model (Stein et al., Clin Cancer Res "
        "2008;14:3207) with 2.5 mm noise; tolerance 20 %",
    ),
    VerificationCase(
        name="stein_gd_recovery_d", quantity="median relative error of d", unit="",
        reference=0.0, tolerance=0.20, compute=partial(stein_recovery_error, "d"),
        source="analytic: as stein_gd_recovery_g; tolerance 20 %",
    ),
    VerificationCase(
        name="tgi_closed_form_vs_ode", quantity="largest relative difference", unit="",
        reference=0.0, tolerance=1e-6, compute=tgi_ode_difference,
        source="analytic: the Claret 2009 TGI equation solved by scipy solve_ivp (rtol "
        "1e-11) with a holiday and a switch",
    ),
    VerificationCase(
        name="tgi_recovery_kd", quantity="median relative error of KD", unit="",
        reference=0.0, tolerance=0.20, compute=partial(tgi_recovery_error, "kd"),
        source="analytic: 40 seeded 7-scan series of the Claret TGI model, 2.5 mm noise; "
        "tolerance 20 %",
    ),
    VerificationCase(
        name="tgi_virtual_5fu_median_ttp", quantity="median time to progression",
        unit="months", reference=4.7, tolerance=1.5,
        compute=virtual_5fu_median_ttp_months,
        source="Van Cutsem E et al., J Clin Oncol 2001;19:4097-4106 and Hoff PM et al., J Clin "
        "Oncol 2001;19:2282-2292 (5-FU/LV Mayo arm, 4.7 months); TGI population values from "
        "a secondary source (regimens.py); tolerance one 6-week assessment",
    ),
)  # fmt: skip


def demo_rate_error(parameter: str) -> float:
    """Relative error of the twin's g or d on the demo `crc-liver-followup` (its test module:
    the demo belongs to the platform, which the twin itself does not import)."""
    from .tests.demo_recovery import demo_rate_error as compute

    return compute(parameter)


VERIFICATION += tuple(
    VerificationCase(
        name=f"demo_{p}_from_labels", quantity=f"relative error of {p}", unit="",
        reference=0.0, tolerance=0.10, compute=partial(demo_rate_error, p),
        source="the demo crc-liver-followup: metastases drawn with known g, d "
        "(meditwin_desktop.demo.followup_anatomy.TRUTH), measured from their labels on four "
        "dated CT studies; tolerance 10 % (diameters within one voxel)",
    )
    for p in ("g", "d")
)  # fmt: skip
