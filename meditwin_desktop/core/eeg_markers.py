"""EEG spectral markers of a resting recording (as Neurometers reports them): peak alpha
frequency over the occipital channels, relative delta/theta/alpha/beta power, theta/alpha ratio.

    signal = signals.read_recording("S001R02.edf")
    markers = compute_markers(signal)                  # InputError when it cannot be done
    case.measurements += markers_as_measurements(markers, "2009-08-12", "EEG S001R02.edf")

Pipeline (each step reuses `core.signals`):
1. EEG channels only: voltage channels whose label is not an EOG/ECG/EMG/trigger/status...;
   a channel flat over the whole recording (standard deviation < `FLAT_UV`) is left out.
2. High-pass 0.5 Hz (4th-order Butterworth, zero phase) so that slow drift does not count as
   artefact, and a notch at the mains frequency `line_freq`; then the average reference
   (from 8 channels; fewer keep the recording's own reference).
3. Epochs of `epoch_s` (4 s) every `epoch_s / 2`. An epoch is rejected when, in any channel,
   its peak-to-peak amplitude exceeds the larger of `reject_uv` (150 µV) and twice that
   channel's median epoch peak-to-peak, or falls below `FLAT_UV` (a channel that went flat).
   150 µV is the EEG threshold of MNE-Python's introductory tutorial ("Overview of MEG/EEG
   analysis with MNE-Python": reject_criteria eeg=150e-6), which itself says it suits that
   data set and may need adapting: a convention, not a clinically validated cut-off. Alone
   it rejects every epoch of a large, healthy eyes-closed alpha (PhysioNet eegmmidb S001R02:
   300-490 µV peak-to-peak at O1/O2 in every epoch), hence the channel-relative term. The
   factor 2 is our choice, not a published value: on S001R02 it rejects 0 of 29 epochs, on
   the eyes-open S001R01 8 of 29, all for blinks at Fp1/Fpz/Fp2/AF4/AF8.
4. Per epoch a Hann-windowed periodogram over the whole epoch (resolution 1 / `epoch_s`:
   0.25 Hz for 4 s), averaged over the kept epochs. With nothing rejected this is exactly
   Welch's method with 4 s Hann segments and 50 % overlap, i.e. `scipy.signal.welch` and
   `mne.time_frequency.psd_array_welch(n_fft=n_per_seg=4 s, n_overlap=2 s, window="hann")`
   (tests/unit/test_eeg_markers.py checks both to 1e-10).
5. Peak alpha frequency: the maximum of the 7-13 Hz PSD averaged over O1, O2, Oz (else the
   nearest parieto-occipital channels, named in `peak_channels`); also the alpha centre of
   gravity sum(f P(f)) / sum(P(f)) over 7-13 Hz (Klimesch 1999). Relative powers: power in
   delta [1, 4), theta [4, 8), alpha [8, 13), beta [13, 30) Hz over the power in [1, 30) Hz
   per channel, averaged over channels ("global"); theta/alpha ratio = global relative theta
   / global relative alpha.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date as _date

import numpy as np

from meditwin_desktop.core import signals
from meditwin_desktop.core.case import Measurement
from meditwin_desktop.core.errors import Cancelled, InputError
from meditwin_desktop.core.i18n import N_, decimal_separator, number, tr, tr_n


def _g(value: float) -> str:
    """`value` as `:g` writes it, with the decimal separator of the language."""
    return f"{value:g}".replace(".", decimal_separator())

# -- measurement names (core/case.py `Measurement.name`; see the issue 20 data contract) -----
# (stored as they are; shown translated: tr(name))
PEAK_ALPHA = N_("Peak alpha frequency")
RELATIVE_DELTA = N_("Relative delta power")
RELATIVE_THETA = N_("Relative theta power")
RELATIVE_ALPHA = N_("Relative alpha power")
RELATIVE_BETA = N_("Relative beta power")
THETA_ALPHA = N_("Theta/alpha ratio")
OCCIPITAL, GLOBAL = N_("occipital"), N_("global")  # Measurement.target

BANDS: dict[str, tuple[float, float]] = {
    "delta": (1.0, 4.0),
    "theta": (4.0, 8.0),
    "alpha": (8.0, 13.0),
    "beta": (13.0, 30.0),
}  # half-open [low, high) Hz, so that the four relative powers add up to 1
TOTAL_BAND = (1.0, 30.0)
PEAK_BAND = (7.0, 13.0)  # where the peak alpha frequency is searched
RELATIVE_NAMES = {
    "delta": RELATIVE_DELTA,
    "theta": RELATIVE_THETA,
    "alpha": RELATIVE_ALPHA,
    "beta": RELATIVE_BETA,
}

REJECT_UV = 150.0  # peak-to-peak per epoch and channel (MNE tutorial's eeg=150e-6)
RELATIVE_LIMIT = 2.0  # x the channel's median epoch peak-to-peak (our choice: see above)
FLAT_UV = 0.5  # below this (std over the recording, or peak-to-peak in an epoch): flat
MIN_AVERAGE_REFERENCE = 8  # channels; fewer share too much signal (a 2-channel O1/O2 montage
# loses most of its common alpha to the average)
HIGH_PASS_HZ = 0.5
OCCIPITAL_CHANNELS = ("O1", "O2", "Oz")
NEAREST_OCCIPITAL = (  # tried in this order when no O1/O2/Oz was recorded
    ("POz", "PO7", "PO8", "PO3", "PO4", "PO9", "PO10", "Iz", "O9", "O10"),
    ("P7", "P8", "T5", "T6"),  # T5/T6: the 10-20 names of P7/P8
)
_NOT_EEG = re.compile(
    r"EOG|ECG|EKG|EMG|RESP|STATUS|TRIG|STI\b|STIM|PHOTIC|SPO2|PULSE|PLETH|ERGO|EVENT|MARK",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class EegMarkers:
    """The spectral markers of one recording, with what was used to compute them."""

    peak_alpha_hz: float  # frequency of the 7-13 Hz maximum of the occipital PSD
    alpha_cog_hz: float  # 7-13 Hz centre of gravity of the occipital PSD
    peak_channels: tuple[str, ...]  # the channels averaged for the peak (as labelled)
    relative_power: dict[str, float]  # band -> global mean relative power (fraction)
    theta_alpha_ratio: float
    n_epochs: int
    n_rejected: int
    freqs: np.ndarray  # Hz
    occipital_psd: np.ndarray  # V²/Hz, mean over `peak_channels`
    global_psd: np.ndarray  # V²/Hz, mean over every channel used
    channels: tuple[str, ...]  # EEG channels used (as labelled)
    duration_used_s: float  # seconds of recording covered by the kept epochs
    duration_s: float  # the whole recording
    epoch_s: float
    reject_uv: float
    warnings: tuple[str, ...] = field(default=())

    @property
    def resolution_hz(self) -> float:
        """Width of one frequency bin."""
        return float(self.freqs[1] - self.freqs[0])


def eeg_channels(signal: signals.Signal) -> list[str]:
    """The channels that carry EEG: in volts, and not named as EOG, ECG, EMG, trigger..."""
    units = signal.units or ("V",) * len(signal.channels)
    return [
        name
        for name, unit in zip(signal.channels, units, strict=True)
        if unit == "V" and not _NOT_EEG.search(name)
    ]


def occipital_channels(channels: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """O1, O2, Oz as labelled in the recording; else the nearest recorded group (see
    NEAREST_OCCIPITAL); InputError when none of them was recorded."""
    by_name = {signals.standard_name(c): c for c in channels}
    for group in (OCCIPITAL_CHANNELS, *NEAREST_OCCIPITAL):
        found = tuple(by_name[n] for n in group if n in by_name)
        if found:
            return found
    found = ", ".join(channels[:12]) + ("…" if len(channels) > 12 else "")
    raise InputError(
        tr(
            "No occipital channel (O1, O2, Oz) in this recording: peak alpha frequency needs "
            "an occipital (or parieto-occipital: POz, PO7, PO8, P7, P8) electrode of the 10-20 "
            "system. Channels found: {channels}"
        ).format(channels=found)
    )


def epoch_starts(n_samples: int, size: int) -> np.ndarray:
    """First sample of each epoch of `size` samples, every `size // 2` (as Welch's segments)."""
    step = size - size // 2
    if n_samples < size:
        return np.zeros(0, dtype=int)
    return np.arange(0, n_samples - size + 1, step)


def epoch_psd(
    data: np.ndarray, sfreq: float, epoch_s: float = 4.0
) -> tuple[np.ndarray, np.ndarray]:
    """Hann periodogram of each epoch (`epoch_s` long, 50 % overlap) of (n_channels,
    n_samples) data: frequencies and PSD (n_epochs, n_channels, n_freqs) in unit²/Hz.
    Its mean over epochs is Welch's PSD with `epoch_s` segments."""
    size = round(epoch_s * sfreq)
    starts = epoch_starts(data.shape[-1], size)
    if size < 2 or starts.size == 0:
        raise InputError(
            tr(
                "The recording ({duration} s) is shorter than one epoch of {epoch} s: it is "
                "too short for a spectrum."
            ).format(duration=_g(data.shape[-1] / sfreq), epoch=_g(epoch_s))
        )
    epochs = np.stack([data[:, s : s + size] for s in starts])
    return signals.welch(epochs, sfreq, window_s=epoch_s, overlap=0.0)


def rejection_limits(ptp: np.ndarray, reject_uv: float = REJECT_UV) -> np.ndarray:
    """Per channel, the peak-to-peak (V) above which an epoch is an artefact, from the
    epochs' peak-to-peak (n_epochs, n_channels): the larger of `reject_uv` and RELATIVE_LIMIT
    times the channel's median epoch. The second term keeps a large but steady rhythm (an
    eyes-closed alpha of 100 µV) while an epoch standing out from its channel is rejected."""
    return np.maximum(reject_uv * 1e-6, RELATIVE_LIMIT * np.median(ptp, axis=0))


def _relative(freqs: np.ndarray, psd: np.ndarray) -> dict[str, np.ndarray]:
    """Per-channel relative power of each band over TOTAL_BAND (half-open bands)."""
    half = 0.5 * float(freqs[1] - freqs[0])  # band_power includes both ends: drop the top bin

    def power(low: float, high: float) -> np.ndarray:
        return signals.band_power(freqs, psd, low, high - half)

    total = power(*TOTAL_BAND)
    total = np.where(total > 0, total, np.nan)
    return {band: power(low, high) / total for band, (low, high) in BANDS.items()}


def compute_markers(
    signal: signals.Signal,
    *,
    epoch_s: float = 4.0,
    reject_uv: float = REJECT_UV,
    line_freq: float | None = 50.0,
    progress: Callable[[float, str], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> EegMarkers:
    """The spectral markers of a resting EEG (see the module's docstring for each step)."""

    def step(fraction: float, message: str) -> None:
        if cancelled is not None and cancelled():
            raise Cancelled()
        if progress is not None:
            progress(fraction, message)

    if epoch_s <= 0 or reject_uv <= 0:
        raise InputError(tr("The epoch length and the rejection threshold must be positive."))
    if signal.sfreq < 2 * TOTAL_BAND[1] + 1:
        raise InputError(
            tr(
                "Sampling at {rate} Hz is too slow for EEG markers up to {top} Hz (needs more "
                "than {needed} Hz)."
            ).format(rate=_g(signal.sfreq), top=_g(TOTAL_BAND[1]), needed=_g(2 * TOTAL_BAND[1]))
        )
    step(0.0, tr("Choosing the EEG channels"))
    names = eeg_channels(signal)
    if not names:
        raise InputError(tr("This recording has no EEG channel (no channel in volts)."))
    picked = signal.pick(names)
    spread = picked.data.std(axis=1)
    flat = [n for n, s in zip(names, spread, strict=True) if s < FLAT_UV * 1e-6]
    warnings = []
    if flat:
        warnings.append(
            tr_n(
                "Flat channel(s) left out: {channels}.",
                "Flat channel(s) left out: {channels}.",
                len(flat),
            ).format(channels=", ".join(flat))
        )
        names = [n for n in names if n not in flat]
        if not names:
            raise InputError(
                tr("Every EEG channel of this recording is flat: nothing to measure.")
            )
        picked = picked.pick(names)
    peak_channels = occipital_channels(names)  # before the work: a clear error at once
    if signals.standard_name(peak_channels[0]) not in OCCIPITAL_CHANNELS:
        warnings.append(
            tr(
                "No O1, O2 or Oz: the peak alpha frequency is measured on {channels} instead."
            ).format(channels=", ".join(signals.standard_name(c) for c in peak_channels))
        )
    step(0.1, tr("Filtering"))
    data = signals.bandpass(picked.data, picked.sfreq, HIGH_PASS_HZ, None)
    if line_freq and line_freq < picked.sfreq / 2:
        data = signals.notch(data, picked.sfreq, line_freq)
    if len(names) >= MIN_AVERAGE_REFERENCE:
        step(0.4, tr("Re-referencing"))
        data = signals.average_reference(
            signals.Signal(data, picked.sfreq, picked.channels, units=("V",) * len(names))
        ).data
    else:  # a few channels' average holds their own rhythm: subtracting it distorts powers
        warnings.append(
            tr_n(
                "Only {n} EEG channel(s): kept on the recording's own reference (an average "
                "reference needs at least {minimum} channels spread over the head).",
                "Only {n} EEG channel(s): kept on the recording's own reference (an average "
                "reference needs at least {minimum} channels spread over the head).",
                len(names),
            ).format(n=len(names), minimum=MIN_AVERAGE_REFERENCE)
        )
    step(0.5, tr("Rejecting artefacts"))
    size = round(epoch_s * signal.sfreq)
    starts = epoch_starts(data.shape[1], size)
    if starts.size == 0:
        raise InputError(
            tr(
                "The recording ({duration} s) is shorter than one epoch of {epoch} s: it is "
                "too short for EEG markers."
            ).format(duration=_g(signal.duration_s), epoch=_g(epoch_s))
        )
    ptp = np.stack([np.ptp(data[:, s : s + size], axis=1) for s in starts])  # (epochs, ch)
    limit = rejection_limits(ptp, reject_uv)
    bad = (ptp > limit).any(axis=1) | (ptp < FLAT_UV * 1e-6).any(axis=1)
    if bad.all():
        raise InputError(
            tr(
                "All {n} epochs of {epoch} s exceed {limit} µV peak-to-peak (or hold a flat "
                "channel): the recording is too noisy for spectral markers. Check the "
                "electrodes, or choose a cleaner recording."
            ).format(n=len(starts), epoch=_g(epoch_s), limit=_g(reject_uv))
        )
    step(0.6, tr("Computing the spectra"))
    freqs, psd = epoch_psd(data, signal.sfreq, epoch_s)
    mean_psd = psd[~bad].mean(axis=0)  # (channels, freqs)
    step(0.9, tr("Measuring the markers"))
    rows = [names.index(c) for c in peak_channels]
    occipital = mean_psd[rows].mean(axis=0)
    peak = float(signals.peak_frequency(freqs, occipital, *PEAK_BAND))
    band = (freqs >= PEAK_BAND[0]) & (freqs <= PEAK_BAND[1])
    cog = float((freqs[band] * occipital[band]).sum() / occipital[band].sum())
    if peak in (freqs[band][0], freqs[band][-1]):
        warnings.append(
            tr(
                "No alpha peak: the {low}-{high} Hz maximum lies at the edge of the band "
                "({peak} Hz); the peak alpha frequency is not meaningful."
            ).format(low=_g(PEAK_BAND[0]), high=_g(PEAK_BAND[1]), peak=_g(peak))
        )
    relative = {band: float(np.nanmean(v)) for band, v in _relative(freqs, mean_psd).items()}
    ratio = relative["theta"] / relative["alpha"] if relative["alpha"] > 0 else float("nan")
    n_rejected = int(bad.sum())
    if n_rejected:
        warnings.append(
            tr(
                "{percent} % of epochs rejected ({rejected} of {total}: over {limit} µV and "
                "twice the channel's usual peak-to-peak, or a flat channel)."
            ).format(
                percent=number(100 * n_rejected / len(starts)),
                rejected=n_rejected,
                total=len(starts),
                limit=_g(reject_uv),
            )
        )
    covered = np.zeros(data.shape[1], dtype=bool)
    for s in starts[~bad]:
        covered[s : s + size] = True
    step(1.0, tr("EEG markers ready"))
    return EegMarkers(
        peak_alpha_hz=peak,
        alpha_cog_hz=cog,
        peak_channels=peak_channels,
        relative_power=relative,
        theta_alpha_ratio=float(ratio),
        n_epochs=len(starts),
        n_rejected=n_rejected,
        freqs=freqs,
        occipital_psd=occipital,
        global_psd=mean_psd.mean(axis=0),
        channels=tuple(names),
        duration_used_s=float(covered.sum() / signal.sfreq),
        duration_s=signal.duration_s,
        epoch_s=epoch_s,
        reject_uv=reject_uv,
        warnings=tuple(warnings),
    )


def marker_values(markers: EegMarkers) -> list[tuple[str, float, str, str]]:
    """(measurement name, value, unit, target) of each marker, in the contract's names."""
    values = [(PEAK_ALPHA, markers.peak_alpha_hz, "Hz", OCCIPITAL)]
    values += [
        (RELATIVE_NAMES[band], markers.relative_power[band], "fraction", GLOBAL) for band in BANDS
    ]
    values.append((THETA_ALPHA, markers.theta_alpha_ratio, "ratio", GLOBAL))
    return values


def markers_as_measurements(markers: EegMarkers, date: str, source: str) -> list[Measurement]:
    """The markers as measurements of the visit on `date` (ISO 'YYYY-MM-DD')."""
    try:
        day = _date.fromisoformat(str(date)[:10]).isoformat()
    except ValueError:
        raise InputError(
            tr(
                "The EEG's date {date} is not a date (YYYY-MM-DD): give the day it was recorded."
            ).format(date=repr(date))
        ) from None
    return [
        Measurement(name, float(value), unit, day, target, source)
        for name, value, unit, target in marker_values(markers)
        if np.isfinite(value)
    ]


# -- published values ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Reference:
    """Published values of one marker: healthy older adults, Alzheimer's disease, the source
    (journal, year, doi) and a note on what was read there and how it compares."""

    healthy: str
    alzheimer: str
    source: str = ""
    note: str = ""


# the texts of the references are shown translated: tr(reference.healthy), tr(reference.note)
NOT_AVAILABLE = N_("reference not available")
_SDAT_1985 = (
    "Electroencephalogr Clin Neurophysiol 1985;61(2):101-12, doi:10.1016/0013-4694(85)91048-x"
)
_SDAT_NOTE = N_(
    "No group value read (abstract only). Direction, % power at occipital-vertex "
    "derivations: in mild AD theta higher and beta lower than in controls; alpha differs "
    "from the moderate stage; delta changes last. 'A longitudinal EEG study of mild senile "
    "dementia of Alzheimer type: changes at 1 year and at 2.5 years'."
)
# Only values read in the source itself (its abstract) are given; where no group value could
# be read, the marker says NOT_AVAILABLE and the note gives the published direction. Published
# values depend on montage, bands and state (rest, eyes closed): compare with care.
REFERENCES: dict[str, Reference] = {
    PEAK_ALPHA: Reference(
        healthy=N_("9.48 ± 0.57 Hz (n = 50)"),
        alzheimer=N_("8.24 ± 1.04 Hz (n = 41, early stage)"),
        source=(
            "Electroencephalogr Clin Neurophysiol 1989;73(5):427-32, "
            "doi:10.1016/0013-4694(89)90092-8"
        ),
        note=N_(
            "'Dominant occipital (alpha) rhythm frequency in early stage Alzheimer's disease "
            "and depression' (abstract): mean ± SD of the dominant occipital frequency, "
            "assessed blindly from 10 or more samples of relaxed wakefulness in an all-night "
            "polysomnogram, in age-, sex- and health-matched controls and early-stage AD; not "
            "a Welch peak, so compare approximately."
        ),
    ),
    RELATIVE_DELTA: Reference(
        NOT_AVAILABLE, N_("higher, in later stages (direction only)"), _SDAT_1985, _SDAT_NOTE
    ),
    RELATIVE_THETA: Reference(
        NOT_AVAILABLE,
        N_("higher (direction only, no value)"),
        "J Alzheimers Dis 2018, doi:10.3233/JAD-180300",
        N_("No group value read (abstract only). Direction: relative theta power higher "
        "globally in AD (n = 117) than in healthy older adults (n = 138), eyes closed; "
        "'EEG theta power is an early marker of cognitive decline in dementia due to "
        "Alzheimer's disease' (Musaeus et al.)."),
    ),
    RELATIVE_ALPHA: Reference(
        NOT_AVAILABLE,
        N_("lower, from the moderate stage (direction only)"),
        _SDAT_1985,
        _SDAT_NOTE,
    ),
    RELATIVE_BETA: Reference(
        NOT_AVAILABLE, N_("lower (direction only, no value)"), _SDAT_1985, _SDAT_NOTE
    ),
    THETA_ALPHA: Reference(
        NOT_AVAILABLE,
        N_("higher (direction only, no value)"),
        "Acta Med Iran 2017;55(8):502-506",
        N_("No group value read (abstract only). Direction: theta/alpha ratio significantly "
        "higher in AD (n = 50) than in matched healthy individuals (n = 50); 'Index of "
        "theta/alpha ratio of the quantitative electroencephalogram in Alzheimer's disease: "
        "a case-control study' (Fahimi et al.)."),
    ),
}


def reference(name: str) -> Reference:
    """The published values for a marker's measurement name (NOT_AVAILABLE when none)."""
    return REFERENCES.get(name, Reference(NOT_AVAILABLE, NOT_AVAILABLE))


__all__ = [
    "BANDS",
    "FLAT_UV",
    "GLOBAL",
    "NOT_AVAILABLE",
    "OCCIPITAL",
    "PEAK_ALPHA",
    "REFERENCES",
    "REJECT_UV",
    "RELATIVE_ALPHA",
    "RELATIVE_BETA",
    "RELATIVE_DELTA",
    "RELATIVE_THETA",
    "THETA_ALPHA",
    "EegMarkers",
    "Reference",
    "compute_markers",
    "eeg_channels",
    "epoch_psd",
    "marker_values",
    "markers_as_measurements",
    "occipital_channels",
    "reference",
    "rejection_limits",
]
