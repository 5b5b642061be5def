"""Integer specifications: exact bespoke MLPs given as integer weights and biases.

For weights that come from elsewhere (a quantization-aware training framework, a paper's
reference design), a JSON file describes the integer network directly::

    {
      "name": "cardio",                        (optional)
      "input_bits": 4,                         unsigned input codes, 1..16 bits
      "layers": [
        {"weights": [[w, ...], ...],           one row per neuron, one entry per input
         "biases": [b, ...],                   one per neuron
         "activation": "relu",                 hidden layers: relu
         "output_bits": 13},                   optional: bits of the ReLU code (must hold it)
        {"weights": ..., "biases": ...,
         "activation": "identity"}             last layer: identity (argmax over the sums)
      ]                                        or relu (argmax over max(sum, 0))
    }

The inputs' ADCs may be given too (``bespoke compile`` otherwise puts a conventional
``input_bits`` flash ADC on every input the network reads; ``--no-adc`` compiles the core
alone)::

      "interface": {"sensor_bits": 10,         optional, 10 by default
        "inputs": [{"thresholds": [t, ...],    sensor values s >= t, strictly increasing
                    "levels": [c, ...],        the code read below, between, above them
                    "encoding": "binary"},     or "thermometer"; optional
                   ...]}                       one per input (no thresholds: a constant)

A file may also hold ``{"designs": [spec, ...]}``; one is then chosen by name.  Every
neuron computes ``sum(w * x) + b`` exactly; ties of the argmax go to the lowest index,
and a one-neuron output layer predicts class 1 when its sum is positive.
"""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import BespokeError
from ..ir.interface import SENSOR_BITS, Channel, Interface
from ..ir.network import ClampActivation, Interval, Layer, Network, Neuron

ACTIVATIONS = ("relu", "identity")


def _integers(values, what: str) -> tuple[int, ...]:
    if not isinstance(values, list) or not all(isinstance(v, int) and not isinstance(v, bool)
                                               for v in values):
        raise BespokeError(f"{what} must be a list of integers")
    return tuple(values)


def network_from_spec(spec: dict, origin: str = "the integer specification") -> Network:
    """The :class:`~bespoke.ir.Network` a specification describes (see the module doc)."""
    if spec.get("input_signed", False):
        raise BespokeError(f"{origin}: signed inputs are not supported: offset them to unsigned codes")
    bits = spec.get("input_bits")
    if not isinstance(bits, int) or not 1 <= bits <= 16:
        raise BespokeError(f"{origin}: input_bits must be an integer from 1 to 16, got {bits!r}")
    layers_spec = spec.get("layers")
    if not isinstance(layers_spec, list) or not layers_spec:
        raise BespokeError(f"{origin}: 'layers' must be a non-empty list")
    layers, n_inputs = [], None
    inputs: tuple[Interval, ...] | None = None
    for index, entry in enumerate(layers_spec):
        where = f"{origin}: layer {index}"
        last = index == len(layers_spec) - 1
        rows = entry.get("weights")
        if not isinstance(rows, list) or not rows:
            raise BespokeError(f"{where}: 'weights' must be a non-empty list of rows")
        weights = [_integers(row, f"{where} weights") for row in rows]
        biases = _integers(entry.get("biases"), f"{where} biases")
        if len(biases) != len(weights):
            raise BespokeError(f"{where}: {len(weights)} weight rows but {len(biases)} biases")
        width = len(weights[0])
        if any(len(row) != width for row in weights) or (n_inputs is not None and width != n_inputs):
            raise BespokeError(f"{where}: every weight row needs {n_inputs or width} entries")
        activation = entry.get("activation", "identity" if last else "relu")
        if activation not in ACTIVATIONS or (not last and activation != "relu"):
            raise BespokeError(f"{where}: activation {activation!r} is not supported: hidden layers "
                               "are relu, the last layer relu or identity")
        if inputs is None:
            inputs = (Interval.of_unsigned_bits(bits),) * width
        neurons = []
        for row, bias in zip(weights, biases):
            if last:
                neurons.append(Neuron(row, bias, None))
                continue
            acc = Neuron(row, bias, None).accumulator_interval(inputs)
            needed = max(1, acc.hi.bit_length())
            code_bits = entry.get("output_bits", needed)
            if not isinstance(code_bits, int) or code_bits < needed:
                raise BespokeError(f"{where}: output_bits {code_bits!r} cannot hold the ReLU "
                                   f"output (up to {acc.hi}, {needed} bits)")
            neurons.append(Neuron(row, bias, ClampActivation(0, code_bits)))
        layer = Layer(tuple(neurons))
        layers.append(layer)
        n_inputs = len(neurons)
        if not last:
            inputs = tuple(n.activation.output_interval(n.accumulator_interval(inputs))
                           for n in neurons)
    n_out = len(layers[-1].neurons)
    relu_out = layers_spec[-1].get("activation", "identity") == "relu"
    interface = _interface(spec["interface"], bits, len(layers_spec[0]["weights"][0]), origin) \
        if spec.get("interface") is not None else None
    try:
        if n_out == 1:
            return Network(bits, tuple(layers), "sign", 2, interface=interface)
        return Network(bits, tuple(layers), "argmax", n_out, output_relu=relu_out,
                       interface=interface)
    except ValueError as error:
        raise BespokeError(f"{origin}: {error}") from None


def _interface(spec, input_bits: int, n_inputs: int, origin: str) -> Interface:
    """The ADCs a specification's ``interface`` describes (see the module doc)."""
    where = f"{origin}: interface"
    if not isinstance(spec, dict) or not isinstance(spec.get("inputs"), list):
        raise BespokeError(f"{where} must be an object with a list 'inputs'")
    sensor_bits = spec.get("sensor_bits", SENSOR_BITS)
    if not isinstance(sensor_bits, int) or not input_bits <= sensor_bits <= 24:
        raise BespokeError(f"{where}: sensor_bits must be an integer from {input_bits} (the "
                           f"input codes' bits) to 24, got {sensor_bits!r}")
    if len(spec["inputs"]) != n_inputs:
        raise BespokeError(f"{where}: {len(spec['inputs'])} ADCs given, the network has "
                           f"{n_inputs} inputs: give one entry per input")
    channels = []
    for i, entry in enumerate(spec["inputs"]):
        if not isinstance(entry, dict):
            raise BespokeError(f"{where}: input {i} must be an object with thresholds and levels")
        try:
            channels.append(Channel(_integers(entry.get("thresholds", []), f"{where} input {i} thresholds"),
                                    _integers(entry.get("levels"), f"{where} input {i} levels"),
                                    entry.get("encoding", "binary")))
        except ValueError as error:
            raise BespokeError(f"{where}: input {i}: {error}") from None
    try:
        return Interface(sensor_bits, input_bits, tuple(channels))
    except ValueError as error:
        raise BespokeError(f"{where}: {error}") from None


def load_integer_spec(path: str | Path, name: str | None = None) -> tuple[str, Network]:
    """``(name, network)`` of the specification in a JSON file (``name`` picks one of
    the file's ``designs``)."""
    path = Path(path)
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise BespokeError(f"cannot read the integer specification {path}: {error}") from None
    if not isinstance(data, dict):
        raise BespokeError(f"{path} is not an integer specification (a JSON object)")
    if "designs" in data:
        designs = {d.get("name"): d for d in data["designs"] if isinstance(d, dict)}
        if name is None and len(designs) != 1:
            raise BespokeError(f"{path} holds several designs ({', '.join(map(str, designs))}): "
                               "choose one with --design NAME")
        chosen = designs.get(name) if name is not None else next(iter(designs.values()))
        if chosen is None:
            raise BespokeError(f"{path} has no design {name!r}: it has {', '.join(map(str, designs))}")
        data = chosen
    elif name is not None and data.get("name") != name:
        raise BespokeError(f"{path} holds design {data.get('name')!r}, not {name!r}")
    label = str(data.get("name") or path.stem)
    return label, network_from_spec(data, f"{path} ({label})")
