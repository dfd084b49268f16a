"""Signal recordings (EEG...) in EDF, EDF+ and BDF files: reading, filters, montages, spectra.

    signal = read_recording("S001R02.edf")          # the whole file, volts
    with open_recording("night.edf") as edf:          # or a page at a time
        page = edf.read(start_s=600, duration_s=10)
    freqs, psd = welch(signal.pick(["O1.."]).data, signal.sfreq)

Files are read with pyEDFlib (a small C reader: one 2.9 MB wheel, numpy only) rather than
MNE-Python (7.7 MB wheel, 28 MB installed plus pooch, tqdm, jinja2...): the app ships
offline, and what MNE would add here (filters, montages, Welch) is a few lines of
scipy.signal, already in the stack.

Channels recorded at different rates are resampled to the highest rate of the file
(`scipy.signal.resample_poly`, a polyphase anti-imaging filter), so a `Signal` is one
(n_channels, n_samples) array with one rate, as MNE does; each channel's own rate stays
in `Signal.rates`. Voltage channels are in volts; other channels (a trigger, a
temperature) keep their physical unit, named in `Signal.units`.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, replace
from datetime import datetime
from fractions import Fraction
from pathlib import Path

import numpy as np

from meditwin_desktop.core.errors import InputError
from meditwin_desktop.core.i18n import decimal_separator, language, tr


def _g(value: float) -> str:
    """`value` as `:g` writes it, with the decimal separator of the language."""
    return f"{value:g}".replace(".", decimal_separator())


def _grouped(value: int) -> str:
    """`value` with thousands grouped: 12,345 in English, 12 345 in French."""
    return f"{value:,}".replace(",", "\u00a0") if language() == "fr" else f"{value:,}"

_VOLTS = {"v": 1.0, "mv": 1e-3, "uv": 1e-6, "µv": 1e-6, "μv": 1e-6, "nv": 1e-9}
_PAD_LOW_RATE = 32  # samples read around a page of a slower channel before resampling


@dataclass(frozen=True)
class Annotation:
    """A marked interval of a recording: onset and duration in s from its start."""

    onset: float
    duration: float
    text: str


@dataclass(frozen=True)
class Signal:
    """Samples of a recording (or of a page of it), one rate for all channels."""

    data: np.ndarray  # (n_channels, n_samples) float64; volts for voltage channels
    sfreq: float  # samples per second
    channels: tuple[str, ...]
    start: datetime | None = None  # date-time of the recording's first sample
    annotations: tuple[Annotation, ...] = ()
    units: tuple[str, ...] = ()  # "V" for voltage channels, the file's unit otherwise
    rates: tuple[float, ...] = ()  # each channel's rate in the file
    offset_s: float = 0.0  # time of data[:, 0] from the start of the recording

    @property
    def n_samples(self) -> int:
        """Samples per channel."""
        return int(self.data.shape[1])

    @property
    def duration_s(self) -> float:
        """Length in seconds."""
        return self.n_samples / self.sfreq

    @property
    def times(self) -> np.ndarray:
        """Time of each sample in s from the start of the recording."""
        return self.offset_s + np.arange(self.n_samples) / self.sfreq

    def index(self, name: str) -> int:
        """Position of a channel, by its label or its standard 10-20 name ('O1')."""
        if name in self.channels:
            return self.channels.index(name)
        wanted = standard_name(name)
        for i, channel in enumerate(self.channels):
            if standard_name(channel) == wanted:
                return i
        raise KeyError(f"no channel {name!r} (channels: {', '.join(self.channels)})")

    def pick(self, names: list[str] | tuple[str, ...]) -> Signal:
        """The same recording with only these channels, in this order."""
        rows = [self.index(n) for n in names]

        def take(values: tuple) -> tuple:
            return tuple(values[i] for i in rows) if values else ()

        return replace(
            self,
            data=self.data[rows],
            channels=take(self.channels),
            units=take(self.units),
            rates=take(self.rates),
        )


# -- reading ----------------------------------------------------------------------------------
def _header_problem(path: Path) -> str | None:
    """Why the file is not a readable EDF/BDF, from its fixed header; None if it looks sound."""
    size = path.stat().st_size
    if size < 256:
        return tr("{name} is not an EDF or BDF file (only {size} bytes).").format(
            name=path.name, size=size
        )
    with path.open("rb") as handle:
        head = handle.read(256)
        version = head[:8]
        if version not in (b"0       ", b"\xffBIOSEMI"):
            return tr(
                "{name} is not an EDF or BDF file (its header does not start as one)."
            ).format(name=path.name)
        try:
            header_bytes = int(head[184:192])
            records = int(head[236:244])
            n_signals = int(head[252:256])
        except ValueError:
            return tr("The header of {name} is damaged (its sizes are not numbers).").format(
                name=path.name
            )
        if n_signals < 1 or header_bytes != 256 * (n_signals + 1):
            return tr("The header of {name} is damaged (it declares {n} signals).").format(
                name=path.name, n=n_signals
            )
        if size < header_bytes:
            return tr(
                "{name} is truncated: its header alone should have {expected} bytes but the "
                "file has {size}."
            ).format(name=path.name, expected=_grouped(header_bytes), size=_grouped(size))
        handle.seek(256 + 216 * n_signals)
        try:
            per_record = sum(int(handle.read(8)) for _ in range(n_signals))
        except ValueError:
            return tr(
                "The header of {name} is damaged (samples per record are not numbers)."
            ).format(name=path.name)
    width = 3 if version.startswith(b"\xff") else 2
    expected = header_bytes + records * per_record * width
    if records > 0 and size < expected:
        return tr(
            "{name} is truncated: its header announces {records} data records ({expected} "
            "bytes) but the file has {size} bytes. It may still be copying, or be damaged."
        ).format(
            name=path.name, records=records, expected=_grouped(expected), size=_grouped(size)
        )
    return None


_READERS: dict[str, list] = {}  # resolved path -> [pyedflib reader, lock, users]
_READERS_LOCK = threading.Lock()


def _acquire(key: str) -> tuple[object, threading.Lock]:
    """The process's reader of a file: EDFlib refuses to open a file twice in one process."""
    import pyedflib  # a C extension: loaded when a recording is first opened

    with _READERS_LOCK:
        entry = _READERS.get(key)
        if entry is None:
            try:
                reader = pyedflib.EdfReader(key)
            except OSError as error:
                reason = str(error).split(": ", 1)[-1]
                name = Path(key).name
                raise InputError(
                    tr("{name} cannot be read as EDF/BDF: {reason}.").format(
                        name=name, reason=reason
                    )
                ) from error
            entry = _READERS[key] = [reader, threading.Lock(), 0]
        entry[2] += 1
        return entry[0], entry[1]


def _release(key: str) -> None:
    with _READERS_LOCK:
        entry = _READERS.get(key)
        if entry is None:
            return
        entry[2] -= 1
        if entry[2] <= 0:
            del _READERS[key]
            with entry[1]:
                entry[0].close()


class EdfFile:
    """An open EDF/EDF+/BDF file: its header and annotations at once, samples on demand.

    Reading is thread-safe (one lock per file): a viewer reads pages in the background.
    """

    def __init__(self, path: str | Path) -> None:
        self._reader = None
        self.path = Path(path)
        if not self.path.is_file():
            text = (
                tr("The recording {path} is a folder.")
                if self.path.is_dir()
                else tr("The recording {path} was not found.")
            )
            raise InputError(text.format(path=self.path))
        problem = _header_problem(self.path)
        if problem:
            raise InputError(problem)
        self._key = str(self.path.resolve())
        self._reader, self._lock = _acquire(self._key)
        try:
            with self._lock:
                self._read_header(self._reader)
        except Exception:
            self.close()
            raise
        with self.path.open("rb") as handle:
            head = handle.read(236)
        plus = head[192:197].decode("ascii", "replace")
        base = "BDF" if head[:1] == b"\xff" else "EDF"
        self.format = plus if plus in ("EDF+C", "EDF+D", "BDF+C", "BDF+D") else base
        self.discontinuous = self.format.endswith("+D")  # gaps are not shown as gaps

    def _read_header(self, reader) -> None:
        count = reader.signals_in_file
        if count < 1:
            raise InputError(
                tr("{name} holds no signal (only annotations).").format(name=self.path.name)
            )
        self.channels = _unique_names([label.strip() for label in reader.getSignalLabels()])
        self.rates = tuple(float(reader.getSampleFrequency(i)) for i in range(count))
        if min(self.rates) <= 0 or not all(np.isfinite(self.rates)):
            raise InputError(
                tr(
                    "{name}: a channel has no valid sampling rate ({rate} Hz): the header is "
                    "damaged."
                ).format(name=self.path.name, rate=_g(min(self.rates)))
            )
        self.sfreq = max(self.rates)
        self._lengths = np.asarray(reader.getNSamples()[:count], dtype=np.int64)
        self.n_samples = int(
            max(n for n, r in zip(self._lengths, self.rates, strict=True) if r == self.sfreq)
        )
        dimensions = [reader.getPhysicalDimension(i).strip() for i in range(count)]
        self._scales = [_VOLTS.get(d.lower(), 1.0) for d in dimensions]
        self.units = tuple("V" if d.lower() in _VOLTS else d for d in dimensions)
        self.duration_s = self.n_samples / self.sfreq
        self.start = reader.getStartdatetime()
        onsets, durations, texts = reader.readAnnotations()
        self.annotations = tuple(
            Annotation(float(o), max(float(d), 0.0), str(t))
            for o, d, t in zip(onsets, durations, texts, strict=True)
        )

    def __enter__(self) -> EdfFile:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the file (closed once nobody else in this process reads it)."""
        lock = getattr(self, "_lock", None)
        if lock is None:
            return
        with lock:
            reader, self._reader = self._reader, None
        if reader is not None:
            _release(self._key)

    def _channel(self, i: int, first: int, count: int) -> np.ndarray:
        """`count` samples of channel i at the file's top rate from sample `first` (scaled)."""
        rate, length = self.rates[i], int(self._lengths[i])
        if rate == self.sfreq:
            lo, hi = max(first, 0), min(first + count, length)
            out = np.zeros(count)
            if hi > lo:
                out[lo - first : hi - first] = self._reader.readSignal(i, lo, hi - lo)
            return out * self._scales[i]
        ratio = Fraction(self.sfreq / rate).limit_denominator(1000)
        lo = max(int(np.floor(first * rate / self.sfreq)) - _PAD_LOW_RATE, 0)
        lo -= lo % ratio.denominator  # so that slow sample `lo` falls on a fast sample
        hi = min(int(np.ceil((first + count) * rate / self.sfreq)) + _PAD_LOW_RATE, length)
        out = np.zeros(count)
        if hi <= lo:
            return out
        slow = self._reader.readSignal(i, lo, hi - lo)
        if abs(float(ratio) - self.sfreq / rate) < 1e-9:
            from scipy.signal import resample_poly  # scipy.signal: ~0.7 s, imported on use

            fast = resample_poly(slow, ratio.numerator, ratio.denominator)
        else:  # no small rational ratio: linear interpolation
            fast = np.interp(
                np.arange(len(slow) * self.sfreq / rate) * rate / self.sfreq,
                np.arange(len(slow)),
                slow,
            )
        begin = round(lo * self.sfreq / rate)  # top-rate index of fast[0]
        a, b = max(first, begin), min(first + count, begin + len(fast), self.n_samples)
        if b > a:
            out[a - first : b - first] = fast[a - begin : b - begin]
        return out * self._scales[i]

    def read(
        self,
        start_s: float = 0.0,
        duration_s: float | None = None,
        channels: list[str] | tuple[str, ...] | None = None,
    ) -> Signal:
        """Samples from `start_s` for `duration_s` (None: to the end) of these channels (None:
        all); the part outside the recording reads as zeros."""
        first = round(start_s * self.sfreq)
        end = self.n_samples if duration_s is None else first + round(duration_s * self.sfreq)
        end = max(end, first)
        names = list(self.channels if channels is None else channels)
        missing = [n for n in names if n not in self.channels]
        if missing:
            raise InputError(
                tr("{name} has no channel {channels}.").format(
                    name=self.path.name, channels=", ".join(missing)
                )
            )
        rows = [self.channels.index(n) for n in names]
        with self._lock:
            if self._reader is None:
                raise InputError(tr("{name} was closed.").format(name=self.path.name))
            data = (
                np.stack([self._channel(i, first, end - first) for i in rows])
                if rows
                else (np.zeros((0, max(end - first, 0))))
            )
        return Signal(
            data=data,
            sfreq=self.sfreq,
            channels=tuple(names),
            start=self.start,
            annotations=self.annotations,
            units=tuple(self.units[i] for i in rows),
            rates=tuple(self.rates[i] for i in rows),
            offset_s=first / self.sfreq,
        )


def open_recording(path: str | Path) -> EdfFile:
    """Open an EDF/EDF+/BDF file (header and annotations read; InputError if unreadable)."""
    return EdfFile(path)


def read_recording(path: str | Path) -> Signal:
    """The whole recording: every channel, at the file's highest rate, voltages in volts."""
    with EdfFile(path) as edf:
        return edf.read()


# -- channel names and montages ---------------------------------------------------------------
def standard_name(label: str) -> str:
    """A channel label as a 10-20/10-10 name: 'Fcz.' -> 'FCz', 'EEG FP1-REF' -> 'Fp1'."""
    text = re.sub(r"^(EEG|EKG|ECG|EMG|EOG)[\s_:]+", "", label.strip(), flags=re.IGNORECASE)
    text = re.sub(r"[-_ ](REF|LE|AR|AVG|A1A2|M1M2)$", "", text, flags=re.IGNORECASE)
    text = text.strip(". ").replace(".", "")
    match = re.fullmatch(r"([A-Za-z]+?)(z|Z|\d+)", text)
    if not match:
        return text
    letters, suffix = match.groups()
    letters = letters.upper().replace("FP", "Fp")
    return letters + ("z" if suffix in "zZ" else suffix)


_ALIASES = {"T3": "T7", "T4": "T8", "T5": "P7", "T6": "P8"}  # 10-20 names -> 10-10 names
DOUBLE_BANANA = (  # longitudinal bipolar montage (ACNS), left then right, temporal then para
    ("Fp1", "F7"), ("F7", "T3"), ("T3", "T5"), ("T5", "O1"),
    ("Fp2", "F8"), ("F8", "T4"), ("T4", "T6"), ("T6", "O2"),
    ("Fp1", "F3"), ("F3", "C3"), ("C3", "P3"), ("P3", "O1"),
    ("Fp2", "F4"), ("F4", "C4"), ("C4", "P4"), ("P4", "O2"),
    ("Fz", "Cz"), ("Cz", "Pz"),
)  # fmt: skip


def double_banana(channels: list[str] | tuple[str, ...]) -> list[tuple[str, str]]:
    """The double-banana pairs (as labelled in the file) whose two electrodes are recorded."""
    found: dict[str, str] = {}
    for label in channels:
        name = standard_name(label)
        found.setdefault(_ALIASES.get(name, name), label)
    pairs = []
    for a, b in DOUBLE_BANANA:
        a, b = _ALIASES.get(a, a), _ALIASES.get(b, b)
        if a in found and b in found:
            pairs.append((found[a], found[b]))
    return pairs


def bipolar(signal: Signal, pairs: list[tuple[str, str]]) -> Signal:
    """One derivation per pair: first electrode minus second, named 'Fp1-F7'."""
    rows = [(signal.index(a), signal.index(b)) for a, b in pairs]
    data = (
        np.stack([signal.data[i] - signal.data[j] for i, j in rows])
        if rows
        else (np.zeros((0, signal.n_samples)))
    )
    names = tuple(f"{standard_name(a)}-{standard_name(b)}" for a, b in pairs)
    rates = tuple(signal.rates[i] for i, _ in rows) if signal.rates else ()
    return replace(signal, data=data, channels=names, units=("V",) * len(rows), rates=rates)


def average_reference(signal: Signal) -> Signal:
    """Each voltage channel minus the mean of all voltage channels (others unchanged)."""
    volts = [i for i, u in enumerate(signal.units or ("V",) * len(signal.channels)) if u == "V"]
    data = signal.data.copy()
    if volts:
        data[volts] -= data[volts].mean(axis=0, keepdims=True)
    return replace(signal, data=data)


# -- filters ----------------------------------------------------------------------------------
def bandpass(
    data: np.ndarray, sfreq: float, low: float | None, high: float | None, order: int = 4
) -> np.ndarray:
    """Zero-phase Butterworth band-pass along the last axis (low or high None: one edge)."""
    nyquist = sfreq / 2.0
    if low is not None and not 0 < low < nyquist:
        raise InputError(
            tr("A low cut-off of {low} Hz is impossible at {rate} Hz sampling.").format(
                low=_g(low), rate=_g(sfreq)
            )
        )
    if high is not None and not 0 < high < nyquist:
        raise InputError(
            tr(
                "A high cut-off of {high} Hz needs a sampling rate above {needed} Hz (this "
                "one: {rate} Hz)."
            ).format(high=_g(high), needed=_g(2 * high), rate=_g(sfreq))
        )
    if low is not None and high is not None and low >= high:
        raise InputError(
            tr("The band {low}-{high} Hz is empty.").format(low=_g(low), high=_g(high))
        )
    if low is None and high is None:
        return np.asarray(data, float)
    from scipy import signal as sp  # ~0.7 s to import: on first use, not at start-up

    if low is None:
        sos = sp.butter(order, high, "lowpass", fs=sfreq, output="sos")
    elif high is None:
        sos = sp.butter(order, low, "highpass", fs=sfreq, output="sos")
    else:
        sos = sp.butter(order, (low, high), "bandpass", fs=sfreq, output="sos")
    return sp.sosfiltfilt(sos, data, axis=-1)


def notch(data: np.ndarray, sfreq: float, freq: float = 50.0, quality: float = 30.0) -> np.ndarray:
    """Zero-phase notch at `freq` (mains: 50 Hz in Europe, 60 Hz in America)."""
    if not 0 < freq < sfreq / 2.0:
        raise InputError(
            tr(
                "A {freq} Hz notch needs a sampling rate above {needed} Hz (this one: {rate} Hz)."
            ).format(freq=_g(freq), needed=_g(2 * freq), rate=_g(sfreq))
        )
    from scipy import signal as sp  # on first use

    b, a = sp.iirnotch(freq, quality, fs=sfreq)
    return sp.filtfilt(b, a, data, axis=-1)


# -- spectra ----------------------------------------------------------------------------------
def welch(
    data: np.ndarray, sfreq: float, window_s: float = 4.0, overlap: float = 0.5
) -> tuple[np.ndarray, np.ndarray]:
    """Welch PSD along the last axis (Hann windows of `window_s`, `overlap` fraction):
    frequencies in Hz and density in unit²/Hz (V²/Hz for volts)."""
    data = np.asarray(data, float)
    nperseg = min(round(window_s * sfreq), data.shape[-1])
    if nperseg < 2:
        raise InputError(tr("The signal is too short for a spectrum."))
    from scipy import signal as sp  # on first use

    return sp.welch(
        data, fs=sfreq, window="hann", nperseg=nperseg, noverlap=int(nperseg * overlap), axis=-1
    )


def band_power(freqs: np.ndarray, psd: np.ndarray, low: float, high: float) -> np.ndarray:
    """Power in [low, high] Hz (bins included at both ends), integrated along the last axis."""
    band = (freqs >= low) & (freqs <= high)
    if not band.any():
        raise InputError(
            tr("No frequency bin lies in {low}-{high} Hz.").format(low=_g(low), high=_g(high))
        )
    return psd[..., band].sum(axis=-1) * float(freqs[1] - freqs[0])


def peak_frequency(freqs: np.ndarray, psd: np.ndarray, low: float, high: float) -> np.ndarray:
    """Frequency of the PSD maximum within [low, high] Hz (per channel)."""
    band = np.flatnonzero((freqs >= low) & (freqs <= high))
    if band.size == 0:
        raise InputError(
            tr("No frequency bin lies in {low}-{high} Hz.").format(low=_g(low), high=_g(high))
        )
    return freqs[band[np.argmax(psd[..., band], axis=-1)]]


def guess_kind(channels: list[str] | tuple[str, ...]) -> str:
    """'EEG' when most channels carry 10-20/10-10 names (or say EEG), else 'ECG' or 'signals'."""
    names = [standard_name(c) for c in channels]
    pattern = r"(Fp|AF|F|FC|FT|C|T|TP|CP|P|PO|O|I|A|M)(z|\d+)"
    scalp = sum(
        bool(re.fullmatch(pattern, n)) or c.upper().startswith("EEG")
        for n, c in zip(names, channels, strict=True)
    )
    if channels and scalp >= len(channels) / 2:
        return "EEG"
    if channels and all(re.search("ECG|EKG", c, re.IGNORECASE) for c in channels):
        return "ECG"
    return "signals"


__all__ = [
    "DOUBLE_BANANA",
    "Annotation",
    "EdfFile",
    "Signal",
    "average_reference",
    "band_power",
    "bandpass",
    "bipolar",
    "double_banana",
    "guess_kind",
    "notch",
    "open_recording",
    "peak_frequency",
    "read_recording",
    "standard_name",
    "welch",
]


def _unique_names(labels: list[str]) -> tuple[str, ...]:
    """Channel labels made unique ("EEG", "EEG #2"): a repeated label must not make every
    copy read the first channel."""
    seen: dict[str, int] = {}
    names = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        names.append(label if seen[label] == 1 else f"{label} #{seen[label]}")
    return tuple(names)
