"""Lower: the integer IR to an Amaranth component, and that to Verilog.

Every multiplication by a hardwired weight becomes shifted copies of the input, one
per canonical signed digit, summed in a positive and a negative adder tree with one
subtraction.  Every named signal takes its shape from the IR's intervals
(:mod:`bespoke.ir`), so the generator never decides a width on its own.
"""
from __future__ import annotations

import os

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .ir import ClampActivation, Interval, Network, ThresholdActivation, csd_digits


def input_name(index: int) -> str:
    return f"x{index}"


OUTPUT_NAME = "y"


def _shape(interval: Interval):
    return signed(interval.width) if interval.signed else unsigned(interval.width)


def _tree_sum(values: list[Value]) -> Value:
    """Balanced adder tree (Amaranth widens every sum, so nothing overflows)."""
    if not values:
        return Const(0, 1)
    while len(values) > 1:
        values = [values[i] + values[i + 1] if i + 1 < len(values) else values[i]
                  for i in range(0, len(values), 2)]
    return values[0]


class MLPCircuit(wiring.Component):
    """A fully parallel, combinational bespoke classifier: ``x0..xN-1`` in, ``y`` out."""

    def __init__(self, network: Network):
        self.network = network
        ports = {input_name(i): In(network.input_bits) for i in range(network.n_inputs)}
        ports[OUTPUT_NAME] = Out(network.output_width)
        super().__init__(ports)

    def elaborate(self, platform) -> Module:
        m = Module()
        net = self.network
        values: list[Value] = [getattr(self, input_name(i)) for i in range(net.n_inputs)]
        for li, (layer, info) in enumerate(zip(net.layers, net.analysis)):
            outputs = []
            for ni, (neuron, acc_iv, out_iv) in enumerate(
                    zip(layer.neurons, info.accumulators, info.outputs)):
                prefix = f"l{li}_n{ni}"
                positive, negative = [], []
                for value, weight in zip(values, neuron.weights):
                    for shift, sign in csd_digits(weight):
                        (positive if sign > 0 else negative).append(value.as_unsigned() << shift)
                acc = Signal(_shape(acc_iv), name=f"{prefix}_acc")
                bias = Const(neuron.bias, _shape(Interval(neuron.bias, neuron.bias)))
                m.d.comb += acc.eq(_tree_sum(positive) - _tree_sum(negative) + bias)
                if neuron.activation is None:
                    outputs.append(acc)
                    continue
                code = Signal(_shape(out_iv), name=f"{prefix}_out")
                m.d.comb += code.eq(self._activation(neuron.activation, acc, acc_iv, prefix, m))
                outputs.append(code)
            values = outputs
        m.d.comb += getattr(self, OUTPUT_NAME).eq(self._decide(values))
        return m

    @staticmethod
    def _activation(act, acc: Signal, acc_iv: Interval, prefix: str, m: Module) -> Value:
        if isinstance(act, ClampActivation):
            shifted_iv = acc_iv.shift_right(act.shift)
            shifted = acc >> act.shift  # arithmetic: floors like the emulator
            result: Value = shifted
            if shifted_iv.hi > act.max_code:
                result = Mux(shifted > act.max_code, act.max_code, result)
            if shifted_iv.lo < 0:
                result = Mux(shifted < 0, 0, result)
            return result
        assert isinstance(act, ThresholdActivation)
        # thermometer t_j = [acc >= T_j] (monotone in j); bit b of the count
        # sum_j t_j is the XOR of t_j over the j that are multiples of 2**b
        therm = Signal(len(act.thresholds), name=f"{prefix}_therm")
        m.d.comb += [therm[j].eq(acc >= t) for j, t in enumerate(act.thresholds)]
        count = len(act.thresholds)
        bits = []
        for b in range(count.bit_length()):
            step = 1 << b
            taps = [therm[j - 1] for j in range(step, count + 1, step)]
            x = taps[0]
            for tap in taps[1:]:
                x = x ^ tap
            bits.append(x)
        return Cat(*bits)

    def _decide(self, logits: list[Value]) -> Value:
        net = self.network
        if net.output == "sign":
            return logits[0] > 0
        width = net.output_width
        # comparator tree; the left operand always holds lower indices, so the right
        # one wins only when strictly greater: the first index wins ties
        entries = [(Const(i, width), v) for i, v in enumerate(logits)]
        while len(entries) > 1:
            merged = []
            for i in range(0, len(entries), 2):
                if i + 1 == len(entries):
                    merged.append(entries[i])
                    continue
                (ia, va), (ib, vb) = entries[i], entries[i + 1]
                take_b = vb > va
                merged.append((Mux(take_b, ib, ia), Mux(take_b, vb, va)))
            entries = merged
        return entries[0][0]


def to_verilog(network: Network, header: str = "") -> str:
    """Deterministic Verilog of module ``top`` (no source attributes, no vendor cells)."""
    from amaranth.back import verilog

    # Amaranth 0.5 needs Yosys >= 0.40 and skips older system installs silently:
    # use the Yosys it ships as a Python package unless the user chose another.
    os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
    text = verilog.convert(MLPCircuit(network), name="top", emit_src=False)
    comment = "".join(f"// {line}\n" for line in header.splitlines())
    return comment + text
