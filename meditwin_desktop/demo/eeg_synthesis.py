"""The demo EEG recordings (the Alzheimer and Dravet demos): coloured Gaussian noise (a 1/f
background, rhythms as spectral peaks, each of unit variance) and the EDF+ file."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np


def coloured(rng: np.random.Generator, n: int, rate: float,
             shape: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:  # fmt: skip
    """Unit-variance Gaussian noise of `n` samples at `rate` Hz whose amplitude spectrum is
    `shape(f)` (f in Hz)."""
    spectrum = np.fft.rfft(rng.standard_normal(n)) * shape(np.fft.rfftfreq(n, 1.0 / rate))
    signal = np.fft.irfft(spectrum, n)
    return signal / signal.std()


def pink(f: np.ndarray) -> np.ndarray:
    """1/f power: flat under 0.5 Hz, nothing above 70 Hz."""
    return np.where(f < 70.0, 1.0 / np.sqrt(np.maximum(f, 0.5)), 0.0)


def peak(f0: float, width: float) -> Callable[[np.ndarray], np.ndarray]:
    """A rhythm: a Gaussian peak at `f0` Hz of standard deviation `width` Hz."""
    return lambda f: np.exp(-0.5 * ((f - f0) / width) ** 2)


def write_edf(path: Path, data: np.ndarray, channels: Sequence[str], rate: float,
              range_uv: float, start: datetime, patient: tuple[str, str, str],
              recording: str, annotations: list) -> Path:  # fmt: skip
    """Write `data` (channels x samples, uV) as an EDF+ file (16 bits, +-`range_uv`) at
    `path`; `patient` = (name, code, sex); `annotations` [(onset s, duration, text)]."""
    import pyedflib

    headers = pyedflib.highlevel.make_signal_headers(
        list(channels), dimension="uV", sample_frequency=rate, physical_min=-range_uv,
        physical_max=range_uv, transducer="AgAgCl electrode", prefiler="HP:0.5Hz LP:70Hz",
    )  # fmt: skip
    name, code, sex = patient
    header = pyedflib.highlevel.make_header(
        technician="", recording_additional=recording, patientname=name, patientcode=code,
        equipment="MEDITWIN synthetic", startdate=start, sex=sex,
    )  # fmt: skip
    header["annotations"] = [list(a) for a in annotations]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    pyedflib.highlevel.write_edf(str(path), data, headers, header)
    return path
