"""EEG spectral markers (core/eeg_markers.py): a synthetic EEG whose peak and band powers are
known exactly, an artefact burst, the real PhysioNet eegmmidb resting runs, a recording with
no occipital channel, and MNE-Python as the reference for the PSD and for reading EDF."""

from __future__ import annotations

import numpy as np
import pytest

from meditwin_desktop.core import eeg_markers as em
from meditwin_desktop.core import signals
from meditwin_desktop.core.errors import Cancelled, InputError

SFREQ = 250.0
CHANNELS = ("Fp1", "Fz", "C3", "Cz", "C4", "Pz", "O1", "O2")
# one sinusoid per band, at a bin centre of the 0.25 Hz grid and 1 Hz from any band edge, so
# that a Hann window leaks it only into its two neighbouring bins, all inside its band
TONES = {"delta": (2.5, 12e-6), "theta": (6.0, 10e-6), "alpha": (9.5, 20e-6), "beta": (20.0, 8e-6)}
NOISE = 1e-6  # white noise, V rms per channel


def synthetic(duration_s: float = 60.0, seed: int = 0) -> signals.Signal:
    """Eight channels: the four tones with phases evenly spread over the channels (their
    mean over channels is zero, so the average reference leaves them as they are) plus
    independent white noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(duration_s * SFREQ)) / SFREQ
    n = len(CHANNELS)
    data = np.zeros((n, t.size))
    for i in range(n):
        for freq, amplitude in TONES.values():
            data[i] += amplitude * np.sin(2 * np.pi * freq * t + 2 * np.pi * i / n)
    data += rng.normal(0.0, NOISE, data.shape)
    return signals.Signal(data, SFREQ, CHANNELS, units=("V",) * n)


def expected_relative() -> dict[str, float]:
    """Band power of each tone (A²/2) plus the white noise in the band, whose one-sided density
    is σ²(1 - 1/n)/(fs/2) after the average reference, over the same in 1-30 Hz."""
    density = NOISE**2 * (1 - 1 / len(CHANNELS)) / (SFREQ / 2)
    power = {
        b: a**2 / 2 + density * (em.BANDS[b][1] - em.BANDS[b][0]) for b, (_, a) in TONES.items()
    }
    total = sum(power.values())
    return {b: p / total for b, p in power.items()}


def test_a_known_alpha_peak_and_known_band_powers_are_recovered():
    markers = em.compute_markers(synthetic(), line_freq=50.0)
    assert markers.resolution_hz == 0.25
    assert abs(markers.peak_alpha_hz - 9.5) <= markers.resolution_hz  # within one bin
    assert abs(markers.alpha_cog_hz - 9.5) < 0.15  # the tone dominates 7-13 Hz
    assert markers.peak_channels == ("O1", "O2")
    assert markers.n_rejected == 0 and markers.n_epochs == 29 and not markers.warnings
    expected = expected_relative()
    for band, value in markers.relative_power.items():
        # tolerance 0.002: the white noise's band power fluctuates by a few % of itself
        # (< 0.1 % of the total) and the 0.5 Hz high-pass takes < 0.1 % of the 2.5 Hz tone;
        # observed errors are < 3e-4
        assert value == pytest.approx(expected[band], abs=0.002), band
    assert sum(markers.relative_power.values()) == pytest.approx(1.0, abs=1e-9)
    assert markers.theta_alpha_ratio == pytest.approx(
        expected["theta"] / expected["alpha"], rel=0.01
    )


def test_an_artefact_burst_rejects_its_epochs_and_leaves_the_markers_unchanged():
    clean = synthetic()
    data = clean.data.copy()
    burst = slice(round(21 * SFREQ), round(22 * SFREQ))  # 1 s of 400 µV square wave on Cz
    data[3, burst] += 400e-6 * np.sign(np.sin(2 * np.pi * 3 * np.arange(250) / SFREQ))
    markers = em.compute_markers(signals.Signal(data, SFREQ, CHANNELS, units=clean.units))
    assert markers.n_rejected == 2  # the burst lies in the epochs starting at 18 s and 20 s
    assert markers.duration_used_s == pytest.approx(60.0 - 2.0)  # 20-22 s in no kept epoch
    assert any("rejected" in w for w in markers.warnings)
    reference = em.compute_markers(clean)
    assert markers.peak_alpha_hz == reference.peak_alpha_hz
    for band, value in markers.relative_power.items():
        assert value == pytest.approx(reference.relative_power[band], abs=0.002)
    kept = em.compute_markers(
        signals.Signal(data, SFREQ, CHANNELS, units=clean.units), reject_uv=1e6
    )
    assert kept.n_rejected == 0 and kept.relative_power["delta"] > reference.relative_power["delta"]


def test_a_flat_channel_is_left_out_and_a_trigger_is_not_eeg():
    base = synthetic(20.0)
    data = np.vstack([base.data, np.zeros((1, base.n_samples)), np.ones((1, base.n_samples))])
    signal = signals.Signal(data, SFREQ, (*CHANNELS, "T7", "Status"), units=("V",) * 10)
    markers = em.compute_markers(signal)
    assert "T7" not in markers.channels and "Status" not in markers.channels
    assert any("Flat channel(s) left out: T7" in w for w in markers.warnings)


def test_without_o1_o2_oz_the_nearest_parieto_occipital_channels_are_used():
    signal = synthetic(20.0)
    renamed = signals.Signal(signal.data, SFREQ, (*CHANNELS[:6], "PO7", "PO8"), units=signal.units)
    markers = em.compute_markers(renamed)
    assert markers.peak_channels == ("PO7", "PO8")
    assert any("PO7, PO8 instead" in w for w in markers.warnings)


def test_no_occipital_channel_is_a_clear_input_error():
    frontal = synthetic(20.0).pick(["Fp1", "Fz", "C3", "Cz", "C4"])
    with pytest.raises(InputError, match=r"No occipital channel \(O1, O2, Oz\).*peak alpha"):
        em.compute_markers(frontal)


def test_bad_inputs_are_refused_with_a_reason():
    short = synthetic(3.0)
    with pytest.raises(InputError, match="shorter than one epoch"):
        em.compute_markers(short)
    slow = signals.Signal(np.zeros((2, 500)), 50.0, ("O1", "O2"), units=("V", "V"))
    with pytest.raises(InputError, match="too slow"):
        em.compute_markers(slow)
    with pytest.raises(InputError, match="not a date"):
        em.markers_as_measurements(em.compute_markers(synthetic(20.0)), "", "EEG x.edf")


def test_cancelling_stops_the_work_and_progress_is_reported():
    seen = []
    em.compute_markers(synthetic(20.0), progress=lambda f, m: seen.append(f))
    assert seen[0] == 0.0 and seen[-1] == 1.0
    with pytest.raises(Cancelled):
        em.compute_markers(synthetic(20.0), cancelled=lambda: True)


def test_markers_become_measurements_with_the_contract_names_and_units():
    markers = em.compute_markers(synthetic(20.0))
    rows = em.markers_as_measurements(markers, "2024-03-12T10:00:00", "EEG visit.edf")
    got = {(m.name, m.unit, m.target) for m in rows}
    assert got == {
        ("Peak alpha frequency", "Hz", "occipital"),
        ("Relative delta power", "fraction", "global"),
        ("Relative theta power", "fraction", "global"),
        ("Relative alpha power", "fraction", "global"),
        ("Relative beta power", "fraction", "global"),
        ("Theta/alpha ratio", "ratio", "global"),
    }
    assert {m.date for m in rows} == {"2024-03-12"} and {m.source for m in rows} == {
        "EEG visit.edf"
    }
    from meditwin_desktop.core.units import dimension

    assert all(dimension(m.unit) for m in rows)  # every unit is one the platform knows


def test_every_marker_has_a_reference_entry_with_a_source_or_says_none():
    for name, *_ in em.marker_values(em.compute_markers(synthetic(20.0))):
        ref = em.reference(name)
        stated = {ref.healthy, ref.alzheimer} - {em.NOT_AVAILABLE}
        numbers = any(ch.isdigit() for text in stated for ch in text)
        assert not numbers or "doi:" in ref.source  # a number always comes with its source
        assert not stated or ref.source  # a direction too


# -- the real recordings (PhysioNet eegmmidb S001; README beside them) ---------------------------
def _physionet(shared_data, run: str):
    path = shared_data / "eeg" / "physionet_eegmmidb" / f"S001{run}.edf"
    if not path.is_file():
        pytest.skip(f"EEG test data not found: {path}")
    return path


@pytest.fixture(scope="module")
def resting(request):
    shared = request.getfixturevalue("shared_data")
    return {
        run: em.compute_markers(signals.read_recording(_physionet(shared, run)), line_freq=60.0)
        for run in ("R01", "R02")
    }


def test_eyes_closed_peak_alpha_is_10_hz_and_alpha_far_above_eyes_open(resting):
    closed, opened = resting["R02"], resting["R01"]
    # README of the data: the 7-13 Hz maximum at O1, Oz, O2 is 10.00 Hz with eyes closed
    assert abs(closed.peak_alpha_hz - 10.0) <= closed.resolution_hz
    assert closed.peak_channels == ("O1..", "O2..", "Oz..")
    assert closed.n_rejected == 0  # a large steady alpha is not an artefact

    def alpha(m: em.EegMarkers) -> float:
        return float(signals.band_power(m.freqs, m.occipital_psd, 8.0, 12.0))

    # README: mean 8-12 Hz PSD closed / open = 15-18x at O1, Oz, O2 ("several times")
    assert alpha(closed) / alpha(opened) > 5.0
    assert closed.relative_power["alpha"] > 2 * opened.relative_power["alpha"]


def test_an_edf_without_occipital_channels_is_refused(shared_data):
    path = shared_data / "eeg" / "test.edf"  # BioSemi-style labels A1..I8: no 10-20 name
    if not path.is_file():
        pytest.skip(f"EEG test data not found: {path}")
    with pytest.raises(InputError, match=r"No occipital channel \(O1, O2, Oz\)"):
        em.compute_markers(signals.read_recording(path))


# -- MNE-Python as the reference ----------------------------------------------------------------
def test_our_psd_equals_mne_welch_on_the_same_data():
    mne = pytest.importorskip("mne", reason="MNE-Python (the `test` extra) is not installed")
    data = synthetic(30.0).data
    freqs, psd = em.epoch_psd(data, SFREQ, 4.0)
    size = round(4.0 * SFREQ)
    reference, ref_freqs = mne.time_frequency.psd_array_welch(
        data, SFREQ, n_fft=size, n_per_seg=size, n_overlap=size // 2, window="hann", verbose=False
    )
    np.testing.assert_allclose(freqs, ref_freqs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(psd.mean(axis=0), reference, rtol=1e-10, atol=0)


def test_mne_reads_the_physionet_edf_as_we_do(shared_data):
    mne = pytest.importorskip("mne", reason="MNE-Python (the `test` extra) is not installed")
    path = _physionet(shared_data, "R02")
    raw = mne.io.read_raw_edf(path, preload=True, verbose=False)
    ours = signals.read_recording(path)
    assert [c.strip() for c in raw.ch_names] == [c.strip() for c in ours.channels]
    assert raw.info["sfreq"] == ours.sfreq
    np.testing.assert_allclose(ours.data, raw.get_data(), rtol=1e-9, atol=1e-12)  # volts


def test_few_channels_keep_their_own_reference():
    """Two occipital channels with the same alpha: an average reference would cancel it (the
    relative alpha fell from 0.90 to 0.26 in review); with fewer than 8 channels the recording's
    own reference is kept, and said."""
    sfreq, seconds = 250.0, 60
    t = np.arange(int(sfreq * seconds)) / sfreq
    rng = np.random.default_rng(0)
    alpha = 40e-6 * np.sin(2 * np.pi * 9.5 * t)
    data = np.stack([alpha + 2e-6 * rng.standard_normal(t.size) for _ in range(2)])
    signal = signals.Signal(data, sfreq, ("O1", "O2"), units=("V", "V"))
    markers = em.compute_markers(signal, line_freq=None)
    assert markers.relative_power["alpha"] > 0.8
    assert any("own reference" in w for w in markers.warnings)
