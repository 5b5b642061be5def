"""Lower: the integer IR to an Amaranth component, and that to Verilog.

The top module ``top`` instantiates one submodule per neuron and one for the output
decision; synthesis keeps that hierarchy to report area per neuron.

Every multiplication by a hardwired weight becomes shifted copies of the input, one
per canonical signed digit (the IR's terms, with any approximation's dropped bits
already removed).  A neuron sums them, and its bias, as one bit heap: a carry-save tree
of full adders and one final adder (measured against adder trees with a subtraction in
``benchmarks/results/synthesis_quality.md``).  Every named signal takes its shape from
the IR's intervals (:mod:`bespoke.ir`), so the generator never decides a width on its own.
"""
from __future__ import annotations

import os

from amaranth.hdl import Cat, Const, Module, Mux, Signal, Value, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from ..ir.interface import Channel
from ..ir.network import (ClampActivation, Interval, Network, Neuron, ThresholdActivation,
                          input_port)

#: the name of input ``index``'s port (the IR's rule)
input_name = input_port


OUTPUT_NAME = "y"


def _shape(interval: Interval):
    return signed(interval.width) if interval.signed else unsigned(interval.width)


def _compressor_sum(m: Module, rows: list[tuple[Value, int, bool]], constant: int,
                    width: int) -> Value:
    """``constant + sum(+-(value << shift))`` modulo ``2**width``, as one bit heap reduced
    by full adders (a Wallace tree) and one final carry-propagate adder.

    A negative row enters as its inverted bits: ``-v*2**s = ~v*2**s + 2**s - 2**(w+s)``
    for a ``w``-bit ``v``; the constants join ``constant``, whose one bits join the heap.
    The true sum fits ``width`` bits (the IR's interval), so dropping the carries out of
    the top column is exact."""
    columns: list[list[Value]] = [[] for _ in range(width)]
    for value, shift, negative in rows:
        for i in range(len(value)):
            if shift + i < width:
                columns[shift + i].append(~value[i] if negative else value[i])
        if negative:
            constant += (1 << shift) - (1 << (len(value) + shift))
    constant %= 1 << width
    for column in range(width):
        if constant >> column & 1:
            columns[column].append(Const(1, 1))
    while any(len(bits) > 2 for bits in columns):
        reduced: list[list[Value]] = [[] for _ in range(width)]
        for column, bits in enumerate(columns):
            used = 0
            while len(bits) - used >= 3:
                a, b, c = bits[used:used + 3]
                used += 3
                total, carry = Signal(name="fa_s"), Signal(name="fa_c")
                m.d.comb += [total.eq(a ^ b ^ c), carry.eq((a & b) | (a & c) | (b & c))]
                reduced[column].append(total)
                if column + 1 < width:
                    reduced[column + 1].append(carry)
            reduced[column] += bits[used:]
        columns = reduced
    first = Cat(*(bits[0] if bits else Const(0, 1) for bits in columns))
    second = Cat(*(bits[1] if len(bits) > 1 else Const(0, 1) for bits in columns))
    return (first + second)[:width]


def neuron_name(layer: int, neuron: int) -> str:
    """Instance (and Verilog submodule) name of one neuron."""
    return f"l{layer}_n{neuron}"


DECISION_NAME = "decide"


class NeuronCircuit(wiring.Component):
    """One neuron: ``i<k>`` in for every input with a non-zero weight that is not a
    constant, ``out`` the activation code (hidden layers) or the accumulator (output)."""

    def __init__(self, neuron: Neuron, inputs: tuple[Interval, ...], acc: Interval,
                 out: Interval, thermometer: dict[int, Channel] | None = None):
        self.neuron, self.acc_interval = neuron, acc
        # inputs read as an ADC's thermometer bits: each step adds its constant (see
        # _thermometer_rows); an ADC without comparators is a constant input
        self.thermometer = {k: c for k, c in (thermometer or {}).items() if neuron.weights[k]}
        constant_inputs = {k for k, c in self.thermometer.items() if not c.comparators}
        # inputs whose interval is one value are constants: their product joins the bias
        self.used = tuple(k for k, w in enumerate(neuron.weights)
                          if w and inputs[k].lo != inputs[k].hi and k not in constant_inputs)
        self.constant = neuron.bias + sum(neuron.connection_interval(k, inputs[k]).lo
                                          for k, w in enumerate(neuron.weights)
                                          if w and inputs[k].lo == inputs[k].hi)
        self.constant += sum(neuron.level_steps(k, c.levels)[0]
                             for k, c in self.thermometer.items() if inputs[k].lo != inputs[k].hi)
        ports = {f"i{k}": In(self.thermometer[k].comparators if k in self.thermometer
                             else _shape(inputs[k])) for k in self.used}
        ports["out"] = Out(_shape(out))
        super().__init__(ports)

    def elaborate(self, platform) -> Module:
        m = Module()
        rows = []
        for k in self.used:
            value = getattr(self, f"i{k}").as_unsigned()
            if k in self.thermometer:
                rows += _thermometer_rows(self.neuron, k, self.thermometer[k], value)
                continue
            for term in self.neuron.terms(k):
                if term.mask >= len(value):
                    continue  # every bit of this partial product is dropped
                rows.append((value[term.mask:], term.mask + term.shift, term.sign < 0))
        acc = Signal(_shape(self.acc_interval), name="acc")
        m.d.comb += acc.eq(_compressor_sum(m, rows, self.constant, self.acc_interval.width))
        act = self.neuron.activation
        if act is None:
            m.d.comb += self.out.eq(acc)
        elif isinstance(act, ClampActivation):
            m.d.comb += self.out.eq(_clamp(act, acc, self.acc_interval))
        else:
            m.d.comb += self.out.eq(_thermometer_count(act, acc, m))
        return m


def _thermometer_rows(neuron: Neuron, k: int, channel: Channel,
                      bits: Value) -> list[tuple[Value, int, bool]]:
    """Connection ``k`` from thermometer bits: bit ``j`` adds the step between levels
    ``j`` and ``j + 1`` (its canonical signed digits, each a shifted copy of the bit); the
    value at level 0 is in the neuron's constant."""
    _, steps = neuron.level_steps(k, channel.levels)
    return [(bits[j], shift, sign < 0) for j, shift, sign in steps]


def _encoded(channel: Channel, bits: Value, width: int) -> Value:
    """An ADC's encoder: the code ``levels[level]`` from its thermometer bits (a priority
    chain: the highest comparator that answers 1 sets the code)."""
    value: Value = Const(channel.levels[0], width)
    for j in range(channel.comparators):
        value = Mux(bits[j], channel.levels[j + 1], value)
    return value


def _clamp(act: ClampActivation, acc: Signal, acc_iv: Interval) -> Value:
    """``clamp(acc >> shift, 0, max)``, with only the checks the interval can reach."""
    shifted_iv = acc_iv.shift_right(act.shift)
    shifted = acc >> act.shift  # arithmetic: floors like the emulator
    result: Value = shifted
    if shifted_iv.hi > act.max_code:
        result = Mux(shifted > act.max_code, act.max_code, result)
    if shifted_iv.lo < 0:
        result = Mux(shifted < 0, 0, result)
    return result


def _thermometer_count(act: ThresholdActivation, acc: Signal, m: Module) -> Value:
    """``sum_j [acc >= T_j]`` of a comparator bank.

    The comparator outputs form a thermometer code ``t_1 >= t_2 >= ...`` (the
    thresholds are sorted), so bit ``b`` of the count is the XOR of the ``t_j`` whose
    index ``j`` is a multiple of ``2**b``: no adder needed.
    """
    count = len(act.thresholds)
    therm = Signal(count, name="therm")
    m.d.comb += [therm[j].eq(acc >= t) for j, t in enumerate(act.thresholds)]
    bits = []
    for b in range(count.bit_length()):
        taps = [therm[j - 1] for j in range(1 << b, count + 1, 1 << b)]
        bit = taps[0]
        for tap in taps[1:]:
            bit = bit ^ tap
        bits.append(bit)
    return Cat(*bits)


class DecisionCircuit(wiring.Component):
    """The class index from the logits ``z<i>``: argmax (first index wins ties) or ``z0 > 0``."""

    def __init__(self, network: Network):
        self.network = network
        logits = network.analysis[-1].accumulators
        ports = {f"z{i}": In(_shape(iv)) for i, iv in enumerate(logits)}
        ports["y"] = Out(network.output_width)
        super().__init__(ports)

    def elaborate(self, platform) -> Module:
        m = Module()
        shift = self.network.decision_shift  # compare only an MSB slice of the logits
        logits = [getattr(self, f"z{i}") for i in range(len(self.network.layers[-1].neurons))]
        if self.network.output_relu:  # max(z, 0): zero when the sign bit is set
            logits = [Mux(z[-1], 0, z) if z.shape().signed else z for z in logits]
        logits = [z >> shift for z in logits]
        if self.network.output == "sign":
            m.d.comb += self.y.eq(logits[0] > 0)
            return m
        width = self.network.output_width
        # comparator tree; the left operand always holds lower indices, so the right
        # one wins only when strictly greater: the first index wins ties
        entries = [(Const(i, width), v) for i, v in enumerate(logits)]
        while len(entries) > 1:
            merged = []
            for i in range(0, len(entries) - 1, 2):
                (ia, va), (ib, vb) = entries[i], entries[i + 1]
                take_b = vb > va
                merged.append((Mux(take_b, ib, ia), Mux(take_b, vb, va)))
            if len(entries) % 2:
                merged.append(entries[-1])
            entries = merged
        m.d.comb += self.y.eq(entries[0][0])
        return m


class TableCircuit(wiring.Component):
    """The output layer and the decision as one lookup table (``network.table_inputs``):
    ``i<k>`` in for every input the table reads, ``y`` the class index.  The table is one
    constant whose entries the inputs select; synthesis minimizes that as logic."""

    def __init__(self, network: Network):
        from ..ir.emulate import decision_table

        self.network, self.table = network, decision_table(network)
        inputs = network.analysis[-1].inputs
        ports = {f"i{k}": In(_shape(inputs[k])) for k in network.table_inputs}
        ports["y"] = Out(network.output_width)
        super().__init__(ports)

    def elaborate(self, platform) -> Module:
        m = Module()
        width = self.network.output_width
        rom = sum(int(c) << (width * i) for i, c in enumerate(self.table))
        index = Cat(*(getattr(self, f"i{k}") for k in self.network.table_inputs))
        if len(self.table) == 1 or not any(self.table != self.table[0]):  # a constant decision
            m.d.comb += self.y.eq(int(self.table[0]))
        else:  # the table as one constant, its entries selected by the index
            m.d.comb += self.y.eq(Const(rom, width * len(self.table)).word_select(index, width))
        return m


class MLPCircuit(wiring.Component):
    """A fully parallel, combinational bespoke classifier: ``x0..xN-1`` in, ``y`` out.

    One submodule per neuron (``l<layer>_n<index>``) and one for the decision
    (``decide``), so synthesis can report area per neuron.
    """

    def __init__(self, network: Network):
        self.network = network
        ports = {name: In(width) for name, width in network.ports()}
        ports[OUTPUT_NAME] = Out(network.output_width)
        super().__init__(ports)

    def _inputs(self, m: Module) -> tuple[list[Value], dict[int, Channel]]:
        """The first layer's inputs: the codes (encoded from an ADC's thermometer bits when
        there is an interface), and the channels the neurons read as thermometer bits."""
        net = self.network
        if net.interface is None:
            return [getattr(self, input_name(i)) for i in range(net.n_inputs)], {}
        values: list[Value] = []
        thermometer = {}
        # a table straight over the inputs (no hidden layer) indexes codes, not bits
        bits_readable = not (net.table_inputs is not None and len(net.layers) == 1)
        for i, channel in enumerate(net.interface.channels):
            if not channel.comparators:
                values.append(Const(channel.levels[0], net.input_bits))
            elif channel.encoding == "thermometer" and bits_readable:
                values.append(getattr(self, input_name(i)))
                thermometer[i] = channel
            else:
                code = Signal(net.input_bits, name=f"code{i}")
                m.d.comb += code.eq(_encoded(channel, getattr(self, input_name(i)),
                                             net.input_bits))
                values.append(code)
        # an ADC without comparators feeds a constant: the neurons fold it like one
        if bits_readable:
            thermometer.update({i: c for i, c in enumerate(net.interface.channels)
                                if not c.comparators})
        return values, thermometer

    def elaborate(self, platform) -> Module:
        m = Module()
        net = self.network
        values, thermometer = self._inputs(m)
        tabulated = net.table_inputs is not None  # the output layer is inside the table
        for li, (layer, info) in enumerate(zip(net.layers[:-1] if tabulated else net.layers,
                                               net.analysis)):
            outputs = []
            for ni, neuron in enumerate(layer.neurons):
                circuit = NeuronCircuit(neuron, info.inputs, info.accumulators[ni],
                                        info.outputs[ni], thermometer if li == 0 else None)
                m.submodules[neuron_name(li, ni)] = circuit
                m.d.comb += [getattr(circuit, f"i{k}").eq(values[k]) for k in circuit.used]
                outputs.append(circuit.out)
            values = outputs
        if tabulated:
            decision = TableCircuit(net)
            m.submodules[DECISION_NAME] = decision
            m.d.comb += [getattr(decision, f"i{k}").eq(values[k]) for k in net.table_inputs]
        else:
            decision = DecisionCircuit(net)
            m.submodules[DECISION_NAME] = decision
            m.d.comb += [getattr(decision, f"z{i}").eq(v) for i, v in enumerate(values)]
        m.d.comb += getattr(self, OUTPUT_NAME).eq(decision.y)
        return m


def to_verilog(network: Network, header: str = "") -> str:
    """Deterministic Verilog of module ``top`` (no source attributes, no vendor cells)."""
    from amaranth.back import verilog

    # Amaranth 0.5 needs Yosys >= 0.40 and skips older system installs silently:
    # use the Yosys it ships as a Python package unless the user chose another.
    os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
    text = verilog.convert(MLPCircuit(network), name="top", emit_src=False)
    comment = "".join(f"// {line}\n" for line in header.splitlines())
    return comment + text
