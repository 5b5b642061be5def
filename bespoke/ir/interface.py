"""The sensor interface: one flash ADC per input, in front of the core network.

Each input's ADC compares the sensor value (a ``sensor_bits`` fixed-point number standing
for the voltage, full scale = the input's quantization range) with the references it
keeps: comparator ``j`` answers ``s >= thresholds[j]``.  The number of comparators that
answer 1 is the input's *level*, and the core reads ``levels[level]`` as that input's code.

A conventional ``b``-bit flash keeps all ``2**b - 1`` uniform references
(``thresholds[j] = (j + 1) << (sensor_bits - b)``), and its level *is* the code.  A
bespoke ADC keeps only some of them, or references anywhere (a printed ladder is sized per
design); the levels then say which code the core sees between two references.

How the core receives the level is the input's ``encoding``:

- ``binary``: an encoder (logic, part of ``top.v``) turns the thermometer bits into the
  code ``levels[level]``, which the neurons multiply as usual;
- ``thermometer``: no encoder; each comparator output is a 1-bit input of the core, and
  each neuron adds the constant its weight makes of that step (``w * (levels[j + 1] -
  levels[j])``, masks and truncation included).

Both compute the same integers: the encoding changes the hardware, never the answers, so
the emulator needs only :meth:`Interface.codes`.  Everything that reads the interface
(emulator, generator, cost model, reports) reads it from here.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

import numpy as np

#: the sensor value's fixed-point width (the stand-in for the voltage in simulation)
SENSOR_BITS = 10
ENCODINGS = ("binary", "thermometer")


@dataclass(frozen=True)
class Channel:
    """One input's ADC: its kept references and the code the core sees at each level."""

    thresholds: tuple[int, ...]  # sensor units, strictly increasing, each >= 1
    levels: tuple[int, ...]  # len(thresholds) + 1 codes, non-decreasing
    encoding: Literal["binary", "thermometer"] = "binary"

    def __post_init__(self) -> None:
        if len(self.levels) != len(self.thresholds) + 1:
            raise ValueError("a channel needs one level more than it has thresholds")
        if any(a >= b for a, b in zip(self.thresholds, self.thresholds[1:])):
            raise ValueError("thresholds must be strictly increasing")
        if self.thresholds and self.thresholds[0] < 1:
            raise ValueError("a threshold below 1 is a constant comparator")
        if any(a > b for a, b in zip(self.levels, self.levels[1:])) or min(self.levels) < 0:
            raise ValueError("levels must be non-negative and non-decreasing")
        if self.encoding not in ENCODINGS:
            raise ValueError(f"encoding must be one of {ENCODINGS}")

    @property
    def comparators(self) -> int:
        return len(self.thresholds)

    def without_threshold(self, j: int, keep: Literal["lower", "upper"] = "lower") -> "Channel":
        """Comparator ``j`` removed: the two levels it separated merge into the ``lower``
        one's code (values at and above it read as below) or the ``upper`` one's."""
        levels = list(self.levels)
        del levels[j + 1 if keep == "lower" else j]
        thresholds = self.thresholds[:j] + self.thresholds[j + 1:]
        return replace(self, thresholds=thresholds, levels=tuple(levels))

    def to_dict(self) -> dict:
        return {"thresholds": list(self.thresholds), "levels": list(self.levels),
                "encoding": self.encoding}


@dataclass(frozen=True)
class Interface:
    """The ADCs of every input of a network, in input order."""

    sensor_bits: int
    input_bits: int  # of the core's codes
    channels: tuple[Channel, ...]

    def __post_init__(self) -> None:
        top = (1 << self.sensor_bits) - 1
        for i, channel in enumerate(self.channels):
            if channel.thresholds and channel.thresholds[-1] > top:
                raise ValueError(f"input {i}: a threshold above {top} is never reached")
            if channel.levels[-1] > (1 << self.input_bits) - 1:
                raise ValueError(f"input {i}: a level above the core's {self.input_bits}-bit codes")

    @classmethod
    def conventional(cls, n_inputs: int, input_bits: int,
                     sensor_bits: int = SENSOR_BITS) -> "Interface":
        """A conventional ``input_bits`` flash ADC on every input (level = code)."""
        step = 1 << (sensor_bits - input_bits)
        channel = Channel(tuple(j * step for j in range(1, 1 << input_bits)),
                          tuple(range(1 << input_bits)))
        return cls(sensor_bits, input_bits, (channel,) * n_inputs)

    @property
    def n_inputs(self) -> int:
        return len(self.channels)

    @property
    def comparators(self) -> int:
        return sum(c.comparators for c in self.channels)

    def port_widths(self) -> tuple[int, ...]:
        """Thermometer bits each input brings into ``top`` (0: no ADC, no port)."""
        return tuple(c.comparators for c in self.channels)

    def level_indices(self, sensor: np.ndarray) -> np.ndarray:
        """``(samples, inputs)`` levels (comparators that answer 1) of sensor values."""
        sensor = np.asarray(sensor, np.int64)
        return np.stack([np.searchsorted(np.asarray(c.thresholds, np.int64), sensor[:, i],
                                         side="right")
                         for i, c in enumerate(self.channels)], axis=1).astype(np.int64) \
            if len(sensor) else np.zeros((0, self.n_inputs), np.int64)

    def codes_of_levels(self, indices: np.ndarray) -> np.ndarray:
        """The core's input codes for ``(samples, inputs)`` levels."""
        indices = np.asarray(indices, np.int64)
        return np.stack([np.asarray(c.levels, np.int64)[indices[:, i]]
                         for i, c in enumerate(self.channels)], axis=1) \
            if len(indices) else np.zeros((0, self.n_inputs), np.int64)

    def codes(self, sensor: np.ndarray) -> np.ndarray:
        """The core's input codes for ``(samples, inputs)`` sensor values."""
        return self.codes_of_levels(self.level_indices(sensor))

    def with_channel(self, i: int, channel: Channel) -> "Interface":
        return replace(self, channels=self.channels[:i] + (channel,) + self.channels[i + 1:])

    def to_dict(self) -> dict:
        return {"sensor_bits": self.sensor_bits, "input_bits": self.input_bits,
                "channels": [c.to_dict() for c in self.channels]}

    @classmethod
    def from_dict(cls, data: dict) -> "Interface":
        return cls(int(data["sensor_bits"]), int(data["input_bits"]),
                   tuple(Channel(tuple(c["thresholds"]), tuple(c["levels"]),
                                 c.get("encoding", "binary")) for c in data["channels"]))


def thermometer_values(indices: np.ndarray) -> np.ndarray:
    """Each level as its thermometer bits (bit ``j`` = level > ``j``), an integer per input."""
    return (np.int64(1) << np.asarray(indices, np.int64)) - 1
