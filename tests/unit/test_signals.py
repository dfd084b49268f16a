"""EDF/BDF reading, filters, montages and spectra (`core.signals`), on real recordings.

The alpha figures come from ../shared/data/eeg/physionet_eegmmidb/README.md (Welch, 4 s Hann
windows, 50 % overlap, O1/Oz/O2): eyes closed peaks at 10.00 Hz; the closed/open ratio of
8-12 Hz power is 17.6 (O1), 15.3 (Oz), 17.2 (O2). `core.signals.welch` uses the same method
on the same samples, so the ratios must agree to the README's rounding (0.05, i.e. < 0.5 %);
we allow 3 % so that a change of scipy's Welch internals (detrend, padding) does not fail
the test while any real error (a wrong scale, channel, window or band: tens of percent) does.
The peak must fall in the 10.00 Hz bin, give or take one 0.25 Hz bin.
"""

from pathlib import Path

import numpy as np
import pytest

from meditwin_desktop.core import signals
from meditwin_desktop.core.errors import InputError

README_RATIO = {"O1": 17.6, "Oz": 15.3, "O2": 17.2}


@pytest.fixture(scope="module")
def eeg(shared_data) -> Path:
    folder = shared_data / "eeg"
    if not (folder / "physionet_eegmmidb" / "S001R02.edf").is_file():
        pytest.skip(f"EEG test data not found in {folder}")
    return folder


def _occipital(path: Path) -> signals.Signal:
    return signals.read_recording(path).pick(list(README_RATIO))


def test_physionet_header_channels_rate_and_annotation(eeg):
    signal = signals.read_recording(eeg / "physionet_eegmmidb" / "S001R01.edf")
    assert signal.data.shape == (64, 9760) and signal.data.dtype == np.float64
    assert signal.sfreq == 160.0 and signal.duration_s == pytest.approx(61.0)
    assert signal.channels[:3] == ("Fc5.", "Fc3.", "Fc1.")
    assert signal.start.isoformat() == "2009-08-12T16:15:00"
    assert signal.annotations == (signals.Annotation(0.0, 60.2, "T0"),)
    assert set(signal.units) == {"V"}
    peak = np.abs(signal.data).max()
    assert 1e-5 < peak < 1e-2  # volts: scalp EEG is tens to hundreds of µV, never volts


def test_eyes_closed_alpha_peaks_at_10_hz_with_readme_ratio(eeg):
    folder = eeg / "physionet_eegmmidb"
    closed, opened = _occipital(folder / "S001R02.edf"), _occipital(folder / "S001R01.edf")
    f, psd_closed = signals.welch(closed.data, closed.sfreq, window_s=4.0, overlap=0.5)
    _, psd_open = signals.welch(opened.data, opened.sfreq, window_s=4.0, overlap=0.5)
    assert f[1] - f[0] == pytest.approx(0.25)
    peaks = signals.peak_frequency(f, psd_closed, 7, 13)
    assert np.all(np.abs(peaks - 10.0) <= 0.25), peaks
    ratio = signals.band_power(f, psd_closed, 8, 12) / signals.band_power(f, psd_open, 8, 12)
    for name, value in zip(README_RATIO, ratio, strict=True):
        assert value == pytest.approx(README_RATIO[name], rel=0.03), name
    relative = signals.band_power(f, psd_closed, 8, 12) / signals.band_power(f, psd_closed, 1, 40)
    assert relative == pytest.approx([0.66, 0.63, 0.62], abs=0.01)  # README, eyes closed


def test_channels_at_different_rates_are_resampled_to_the_top_rate(eeg):
    path = eeg / "test_uneven_samp.edf"
    whole = signals.read_recording(path)
    assert whole.rates == (100.0, 12.8) and whole.sfreq == 100.0
    assert whole.data.shape == (2, 11000)
    assert whole.units == ("V", "V")  # 'V' and 'uV' in the file, both volts here
    assert np.abs(whole.data[1]).max() == pytest.approx(1e-6, rel=0.2)  # a 1 µV block
    with signals.open_recording(path) as edf:  # a page equals the same span of the whole
        for start in (0.0, 3.33, 55.55):
            page = edf.read(start, 10.0)
            first = round(start * 100)
            np.testing.assert_allclose(page.data, whole.data[:, first : first + 1000])
            assert page.offset_s == pytest.approx(first / 100)


def test_pages_past_the_end_read_as_zeros_and_two_readers_share_a_file(eeg):
    path = eeg / "test.edf"
    with signals.open_recording(path) as a, signals.open_recording(path) as b:
        assert a.format == "EDF+C" and len(a.channels) == 139 and a.sfreq == 512.0
        assert [x.text for x in a.annotations][:3] == ["start", "type A", "type A"]
        tail = b.read(5.0, 2.0, ["A1"])
        assert tail.data.shape == (1, 1024) and not tail.data[0, 512:].any()
    with signals.open_recording(path) as again:  # released and opened anew
        assert again.read(0, 1, ["A1"]).data.shape == (1, 512)


def test_montages_on_ten_ten_names(eeg):
    signal = signals.read_recording(eeg / "physionet_eegmmidb" / "S001R02.edf")
    assert signals.standard_name("Fcz.") == "FCz" and signals.standard_name("EEG FP1-REF") == "Fp1"
    pairs = signals.double_banana(signal.channels)
    assert len(pairs) == 18 and pairs[1] == ("F7..", "T7..")  # T3 is T7 in 10-10 names
    banana = signals.bipolar(signal, pairs)
    assert banana.channels[0] == "Fp1-F7" and banana.data.shape == (18, signal.n_samples)
    np.testing.assert_allclose(
        banana.data[0], signal.data[signal.index("Fp1")] - signal.data[signal.index("F7")]
    )
    average = signals.average_reference(signal)
    assert np.abs(average.data.mean(axis=0)).max() < 1e-12
    assert signals.guess_kind(signal.channels) == "EEG"


def test_filters_keep_the_band_and_remove_the_rest():
    sfreq = 250.0
    t = np.arange(0, 20, 1 / sfreq)
    alpha, mains, drift = np.sin(2 * np.pi * 10 * t), np.sin(2 * np.pi * 50 * t), 5 * t / 20
    filtered = signals.bandpass(alpha + drift + mains, sfreq, 1.0, 30.0)
    notched = signals.notch(alpha + mains, sfreq, 50.0)
    middle = slice(int(2 * sfreq), int(18 * sfreq))  # away from the edges
    assert np.abs(filtered[middle] - alpha[middle]).max() < 0.05
    assert np.abs(notched[middle] - alpha[middle]).max() < 0.05
    with pytest.raises(InputError, match="sampling rate above 100 Hz"):
        signals.notch(alpha, 100.0, 50.0)
    with pytest.raises(InputError, match="empty"):
        signals.bandpass(alpha, sfreq, 30.0, 10.0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"hello", "not an EDF or BDF file"),
        (b"PK\x03\x04" + b"\0" * 400, "does not start as one"),
        (b"0       " + b" " * 176 + b"xx      " + b" " * 72, "damaged"),
    ],
)
def test_unreadable_files_say_why(tmp_path, content, message):
    path = tmp_path / "bad.edf"
    path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        signals.read_recording(path)


def test_missing_and_truncated_files(tmp_path, eeg):
    with pytest.raises(InputError, match="not found"):
        signals.read_recording(tmp_path / "absent.edf")
    cut = tmp_path / "cut.edf"
    cut.write_bytes((eeg / "physionet_eegmmidb" / "S001R01.edf").read_bytes()[:600_000])
    with pytest.raises(InputError, match=r"truncated.*61 data records"):
        signals.read_recording(cut)
