"""The bit-exact integer emulator: *the* reference the RTL must equal.

A vectorized numpy interpreter of :class:`bespoke.ir.Network`.  Integer only
(int64, which the IR guarantees is wide enough); ``>>`` floors exactly as the
hardware's arithmetic shift does.
"""
from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from .network import ClampActivation, Layer, Network, Neuron, ThresholdActivation


@dataclass(frozen=True)
class Trace:
    """Every intermediate integer of a batch: per layer, accumulators and output codes."""

    accumulators: tuple[np.ndarray, ...]
    codes: tuple[np.ndarray, ...]
    prediction: np.ndarray  # class index per row

    def read_only(self) -> "Trace":
        """This trace with its arrays made read-only (its own: :func:`trace` made them), so
        that the emulator may keep what it derives from them (a search's base trace)."""
        for array in (*self.accumulators, *self.codes, self.prediction):
            array.flags.writeable = False
        return self


#: Integers below this magnitude are exact in a float64 (53-bit significand).
FLOAT_EXACT = 1 << 52


class _DerivedFromArrays:
    """What a search derives again and again from the same few arrays (a split's codes, its
    base trace's logits), kept for the most recently used of them: at most ``size``
    entries holding at most ``max_bytes`` (the arrays and what was derived from them).

    Only arrays that can never change are kept: read-only, and every array whose memory
    they view read-only too (a scorer makes its splits and traces so).  An entry is keyed
    by the array's identity and a key, and holds the array itself, so that an id is never
    reused while its entry lives.  Anything else is computed afresh each time.  Safe to
    share between threads (a sweep's jobs may run as threads of one process)."""

    def __init__(self, size: int = 32, max_bytes: int = 32 << 20):
        self.size, self.max_bytes = size, max_bytes
        self.entries: OrderedDict = OrderedDict()  # (id, key): (array, value, bytes)
        self.bytes = 0
        self.lock = threading.Lock()

    @staticmethod
    def unchanging(array: np.ndarray) -> bool:
        while isinstance(array, np.ndarray):
            if array.flags.writeable:
                return False
            array = array.base
        return array is None  # memory not owned by an array (a buffer): not known

    def get(self, array: np.ndarray, key, compute):
        if not self.unchanging(array):
            return compute()
        index = (id(array), key)
        with self.lock:
            hit = self.entries.get(index)
            if hit is not None:  # the entry holds its array: the id is still that array's
                self.entries.move_to_end(index)
                return hit[1]
        value = compute()
        size = array.nbytes + sum(
            v.nbytes for v in (value if isinstance(value, tuple) else (value,))
            if isinstance(v, np.ndarray))
        with self.lock:
            if index not in self.entries:  # another thread may have kept it meanwhile
                self.entries[index] = (array, value, size)
                self.bytes += size
            while self.entries and (len(self.entries) > self.size
                                    or self.bytes > self.max_bytes):
                self.bytes -= self.entries.popitem(last=False)[1][2]
        return value


_derived = _DerivedFromArrays()


def accumulate(layer: Layer, x: np.ndarray) -> np.ndarray:
    """``acc = bias + sum_m ((x >> m) << m) @ W_m``: one matrix product per input mask
    (a single one for exact neurons)."""
    biases, per_mask, _ = _layer_matrices(layer)
    acc = np.broadcast_to(biases, (x.shape[0], len(biases))).copy()
    for mask, matrix in per_mask:
        acc += _exact_product(((x >> mask) << mask) if mask else x, matrix)
    return acc


@functools.lru_cache(maxsize=4096)
def _layer_matrices(layer: Layer) -> tuple[np.ndarray, tuple[tuple[int, np.ndarray], ...], int]:
    """Biases, ``(mask, W_m^T)`` and the largest sum of absolute weights of a neuron
    (cached: a search rebuilds networks that share most of their layers)."""
    biases = np.array([n.bias for n in layer.neurons], dtype=np.int64)
    n_in = layer.n_inputs
    biases.flags.writeable = False  # cached and shared: never written
    weight_sum = max(sum(abs(w) for w in n.weights) for n in layer.neurons)
    if all(n.exact for n in layer.neurons):
        weights = np.array([n.weights for n in layer.neurons], dtype=np.int64).reshape(-1, n_in)
        return biases, ((0, _read_only(np.ascontiguousarray(weights.T))),), weight_sum
    per_mask: dict[int, np.ndarray] = {}
    for j, neuron in enumerate(layer.neurons):
        for mask, row in neuron.masked_weights().items():
            matrix = per_mask.setdefault(mask, np.zeros((n_in, len(layer.neurons)), np.int64))
            for k, w in row.items():
                matrix[k, j] += w
    weight_sum = int(sum((np.abs(m) for m in per_mask.values()),
                         np.zeros((n_in, len(layer.neurons)), np.int64)).sum(axis=0).max(initial=0))
    return (biases, tuple((mask, _read_only(matrix)) for mask, matrix
                          in sorted(per_mask.items(), key=lambda item: item[0])), weight_sum)


def _read_only(array: np.ndarray) -> np.ndarray:
    array.flags.writeable = False
    return array


def activate(layer: Layer, acc: np.ndarray) -> np.ndarray:
    """Output codes of one hidden layer, given its accumulators (rows = samples)."""
    out = np.empty_like(acc)
    for j, neuron in enumerate(layer.neurons):
        act = neuron.activation
        if isinstance(act, ClampActivation):
            out[:, j] = np.clip(acc[:, j] >> act.shift, 0, act.max_code)
        elif isinstance(act, ThresholdActivation):
            thresholds = np.asarray(act.thresholds, dtype=np.int64)
            out[:, j] = (acc[:, j, None] >= thresholds[None, :]).sum(axis=1)
        else:  # pragma: no cover - the IR forbids it
            raise TypeError(f"unknown activation {act!r}")
    return out


def trace(network: Network, codes: np.ndarray) -> Trace:
    """Run a batch of input codes (rows of unsigned ints) through the network."""
    x = np.asarray(codes)
    if x.ndim != 2 or x.shape[1] != network.n_inputs:
        raise ValueError(f"expected codes of shape (n, {network.n_inputs}), got {x.shape}")
    if not np.issubdtype(x.dtype, np.integer):
        raise TypeError("input codes must be integers")
    if x.size and (x.min() < 0 or x.max() >= (1 << network.input_bits)):
        raise ValueError(f"input codes must lie in [0, {(1 << network.input_bits) - 1}]")
    x = x.astype(np.int64)
    accs, outs = [], []
    for index, layer in enumerate(network.layers):
        acc = accumulate(layer, x)
        accs.append(acc)
        if index < len(network.layers) - 1:
            x = activate(layer, acc)
            outs.append(x)
    return Trace(tuple(accs), tuple(outs), decide(network, accs[-1]))


def decide(network: Network, logits: np.ndarray) -> np.ndarray:
    """The class index from the output layer's accumulators."""
    return _classes(logits, network.output, network.decision_shift, network.output_relu)


def _classes(logits: np.ndarray, output: str, shift: int, relu: bool) -> np.ndarray:
    logits = _compared(logits, shift, relu)
    if output == "sign":
        return (logits[:, 0] > 0).astype(np.int64)
    return np.argmax(logits, axis=1).astype(np.int64)  # first index wins ties


def decision_table(network: Network) -> np.ndarray:
    """The class index for every value of the output layer's table inputs
    (``network.table_inputs``, which must not be None): entry ``sum(code_k << offset_k)``,
    the first table input in the lowest bits, every raw value of each input's width
    (values outside its interval give what the adders and comparators would)."""
    used = network.table_inputs
    if used is None:
        raise ValueError("this network's output layer is not built as a table")
    return _decision_table(network.layers[-1], network.analysis[-1].inputs, used,
                           network.table_widths, network.output, network.decision_shift,
                           network.output_relu)


@functools.lru_cache(maxsize=1 << 12)
def _decision_table(layer: Layer, inputs: tuple, used: tuple[int, ...], widths: tuple[int, ...],
                    output: str, shift: int, relu: bool) -> np.ndarray:
    # a search changes the first layers far more often than the tail: most calls hit
    index = np.arange(1 << sum(widths), dtype=np.int64)
    x = np.array([[x.lo for x in inputs]], np.int64).repeat(len(index), axis=0)
    offset = 0
    for k, width in zip(used, widths):
        x[:, k] = (index >> offset) & ((1 << width) - 1)
        offset += width
    table = _classes(accumulate(layer, x), output, shift, relu)
    table.flags.writeable = False
    return table


def predict_codes(network: Network, codes: np.ndarray) -> np.ndarray:
    """Class index per row of input codes."""
    return trace(network, codes).prediction


def predict_vectors(network: Network, vectors: np.ndarray) -> np.ndarray:
    """Class index per row of the circuit's input vectors: codes, or ADC levels when the
    network has an interface (:meth:`~bespoke.ir.network.Network.core_codes`)."""
    return predict_codes(network, network.core_codes(vectors))


def predict_sensor(network: Network, sensor: np.ndarray) -> np.ndarray:
    """Class index per row of sensor values, through the network's interface."""
    if network.interface is None:
        raise ValueError("sensor values need an interface")
    return predict_codes(network, network.interface.codes(sensor))


# --- many networks at once -----------------------------------------------------------------
# A search scores populations of networks that share a shape: one (batched) matrix product
# per layer and input mask serves all of them.  Same arithmetic as above, so the results
# are equal (a test checks it against ``predict_codes``).


#: Integers below this magnitude are exact in a float32 (24-bit significand).
FLOAT32_EXACT = 1 << 23


def _exact_kind(bound: int):
    """The narrowest of float32, float64 (BLAS) and int64 that holds every integer of
    magnitude below ``bound`` exactly."""
    return np.float32 if bound < FLOAT32_EXACT else np.float64 if bound < FLOAT_EXACT else np.int64


def _accumulate_many(layers: Sequence[Layer], x: np.ndarray) -> np.ndarray:
    """Accumulators ``(networks, samples, neurons)`` of same-shaped ``layers``, from input
    codes shared by all (``(samples, inputs)``) or one set per layer (``(networks, ...)``).

    Computed in the narrowest of float32, float64 (BLAS) and int64 in which every
    integer involved is exact; masks that drop every bit of ``x`` are skipped."""
    tables = [_layer_matrices(layer) for layer in layers]
    n_nets, n_in, n_out = len(layers), layers[0].n_inputs, len(layers[0].neurons)
    largest = (_derived.get(x, "largest", lambda: int(x.max(initial=0))) if x.ndim == 2
               else int(x.max(initial=0)))
    masks = sorted({mask for _, per_mask, _ in tables for mask, _ in per_mask
                    if mask < largest.bit_length()})
    biases = np.stack([biases for biases, _, _ in tables])[:, None, :]
    bound = (largest * max(weight_sum for _, _, weight_sum in tables)
             + int(np.abs(biases).max(initial=0)))
    kind = _exact_kind(bound)
    # stacked[m, c] = network c's weights on inputs with their m-th mask applied
    stacked = np.zeros((len(masks), n_nets, n_in, n_out), kind)
    index = {mask: i for i, mask in enumerate(masks)}
    for c, (_, per_mask, _) in enumerate(tables):
        for mask, matrix in per_mask:
            if mask in index:
                stacked[index[mask], c] = matrix
    if x.ndim == 2:  # shared inputs: one product of every masked copy with every network
        # (the copies of a split's codes are made once: a search scores it again and again)
        copies = _derived.get(x, ("masked", kind, tuple(masks)),
                              lambda: _masked_copies(x, masks, kind))
        columns = stacked.transpose(0, 2, 1, 3).reshape(len(masks) * n_in, n_nets * n_out)
        product = copies.reshape(x.shape[0], -1) @ columns
        acc = product.reshape(x.shape[0], n_nets, n_out).transpose(1, 0, 2)
        return acc + biases.astype(kind)  # a (networks, samples, neurons) copy
    x = x.astype(kind, copy=False)
    acc = np.zeros((n_nets, x.shape[1], n_out), kind)
    masked, product = np.empty_like(x), np.empty_like(acc)
    for i, mask in enumerate(masks):
        np.matmul(_apply_mask(x, mask, masked) if mask else x, stacked[i], out=product)
        acc += product
    acc += biases.astype(kind)
    return acc


def _apply_mask(x: np.ndarray, mask: int, out: np.ndarray) -> np.ndarray:
    """``(x >> mask) << mask`` into ``out``, in ``x``'s own type (a float holding an
    integer: ``floor(x / 2**m) * 2**m``, exact)."""
    if x.dtype == np.int64:
        np.right_shift(x, mask, out=out)
        return np.left_shift(out, mask, out=out)
    np.multiply(x, x.dtype.type(2.0 ** -mask), out=out)
    np.floor(out, out=out)
    return np.multiply(out, x.dtype.type(2.0 ** mask), out=out)


def _masked_copies(x: np.ndarray, masks: list[int], kind) -> np.ndarray:
    """``(samples, masks, inputs)``: every masked copy of shared inputs ``x``, as ``kind``
    (read-only: it is shared)."""
    x = x.astype(kind, copy=False)
    copies = np.empty((x.shape[0], len(masks), x.shape[1]), kind)
    for i, mask in enumerate(masks):
        if mask:
            _apply_mask(x, mask, copies[:, i, :])
        else:
            copies[:, i, :] = x
    copies.flags.writeable = False
    return copies


def _activate_many(layers: Sequence[Layer], acc: np.ndarray) -> np.ndarray:
    """Output codes of same-shaped hidden ``layers`` from ``(networks, samples, neurons)``
    accumulators (float64 holding exact integers, or int64)."""
    activations = [n.activation for layer in layers for n in layer.neurons]
    if all(isinstance(a, ClampActivation) for a in activations):
        shape = (len(layers), 1, len(layers[0].neurons))
        shifts = np.array([a.shift for a in activations], np.int64).reshape(shape)
        top = np.array([a.max_code for a in activations], np.int64).reshape(shape)
        if acc.dtype != np.int64:  # division by a power of two is exact
            acc *= np.exp2(-shifts).astype(acc.dtype)
            np.floor(acc, out=acc)
        else:
            acc = acc >> shifts
        # clamp in place (np.clip with array bounds is several times slower)
        np.maximum(acc, 0, out=acc)
        return np.minimum(acc, top.astype(acc.dtype), out=acc)
    acc = acc.astype(np.int64)
    return np.stack([activate(layer, a) for layer, a in zip(layers, acc)])


#: Layers sharing an input get their own product from this many on (fewer go in the batch).
SHARED_INPUT_MIN = 4


def _accumulate_groups(layers: Sequence[Layer], sources: Sequence[int],
                       inputs: Sequence[np.ndarray]) -> np.ndarray:
    """Accumulators ``(len(layers), samples, neurons)``, layer ``i`` fed by
    ``inputs[sources[i]]``: layers that share an input share one product, the rest go
    through one batched product."""
    consumers: dict[int, list[int]] = {}
    for i, source in enumerate(sources):
        consumers.setdefault(source, []).append(i)
    parts: list[tuple[list[int], np.ndarray]] = []
    alone = sorted(i for users in consumers.values() if len(users) < SHARED_INPUT_MIN
                   for i in users)
    for source, users in consumers.items():
        if len(users) >= SHARED_INPUT_MIN:
            parts.append((users, _accumulate_many([layers[i] for i in users], inputs[source])))
    if alone:
        x = np.stack([inputs[sources[i]] for i in alone])
        parts.append((alone, _accumulate_many([layers[i] for i in alone], x)))
    if len(parts) == 1 and parts[0][0] == list(range(len(layers))):
        return parts[0][1]
    acc = np.empty((len(layers),) + parts[0][1].shape[1:], np.result_type(*(a for _, a in parts)))
    for users, part in parts:
        acc[users] = part
    return acc


def predict_many(networks: Sequence[Network], codes: np.ndarray) -> np.ndarray:
    """Class index per network and row of input codes, ``(networks, samples)``, for
    networks of one shape (the same inputs, layer sizes and output).

    Networks that share their first layers (the same layer objects, as a search's
    neighbours do) share the emulation of those layers."""
    first = networks[0]
    shape = [len(layer.neurons) for layer in first.layers]
    for network in networks:
        if ([len(layer.neurons) for layer in network.layers] != shape
                or network.n_inputs != first.n_inputs or network.output != first.output
                or network.output_relu != first.output_relu):
            raise ValueError("predict_many needs networks of one shape")
    # group[c]: which of the distinct layer prefixes so far network c runs
    inputs, group = [np.asarray(codes, np.int64)], [0] * len(networks)
    for index in range(len(shape)):
        prefixes: dict[tuple[int, int], int] = {}
        for c, network in enumerate(networks):
            group[c] = prefixes.setdefault((group[c], id(network.layers[index])), len(prefixes))
        heads = {g: c for c, g in reversed(list(enumerate(group)))}  # a network per prefix
        layers = [networks[heads[g]].layers[index] for g in range(len(prefixes))]
        acc = _accumulate_groups(layers, [source for source, _ in prefixes], inputs)
        if index < len(shape) - 1:
            inputs = list(_activate_many(layers, acc))
    decisions: dict[tuple[int, int], np.ndarray] = {}  # per distinct (logits, shift)
    result = np.empty((len(networks), acc.shape[1]), np.int64)
    for c, network in enumerate(networks):
        key = (group[c], network.decision_shift)
        if key not in decisions:
            logits = np.maximum(acc[key[0]], 0) if first.output_relu else acc[key[0]]
            if key[1]:  # floor(logits / 2**shift): exact in a float holding an integer
                logits = (logits >> key[1] if logits.dtype == np.int64
                          else np.floor(logits * logits.dtype.type(2.0 ** -key[1])))
            decisions[key] = (logits[:, 0] > 0 if first.output == "sign"
                              else np.argmax(logits, axis=1))
        result[c] = decisions[key]
    return result


def predict_variants(network: Network, base: Trace, codes: np.ndarray, layer: int,
                     changes: Sequence[tuple[int, Neuron]]) -> np.ndarray:
    """Class indices ``(changes, samples)`` of ``network`` with, for each ``(index,
    neuron)`` of ``changes``, neuron ``index`` of ``layer`` replaced by ``neuron``;
    ``base`` is the trace of ``network`` on ``codes``.  Only what the one neuron changes
    is recomputed: its own sum and, through its output code, the next layer's sums (the
    single-neuron moves of a search)."""
    last = len(network.layers) - 1
    x = np.asarray(codes, np.int64) if layer == 0 else base.codes[layer - 1]
    indices = np.array([index for index, _ in changes])
    if layer == last:
        acc = _neuron_sums([neuron for _, neuron in changes], x)
        return _decide_one_changed(network, base.accumulators[-1], indices,
                                   acc[:, :, 0].astype(np.int64))
    # the changes in order of the neuron they replace, so that each neuron's are contiguous
    order = np.argsort(indices, kind="stable")
    replaced = indices[order]
    neurons = [changes[i][1] for i in order]
    new = _activate_many([Layer((neuron,)) for neuron in neurons],
                         _neuron_sums(neurons, x))[:, :, 0].astype(np.int64)
    old = base.codes[layer].T[replaced]  # (changes, samples)
    # only the samples whose code the change moves can change class: the following sums of
    # just those (change, sample) pairs are the base's plus the moved code's part of them
    result = np.repeat(base.prediction[None], len(changes), axis=0)
    moved, samples = np.nonzero(new != old)
    _, per_mask, _ = _layer_matrices(network.layers[layer + 1])
    if not len(moved) or not per_mask:  # nothing moved, or the next layer reads no code
        return result
    before, after = old[moved, samples], new[moved, samples]
    # per mask, the change of the masked code: (moved pairs, masks)
    deltas = np.stack([((after >> mask) << mask) - ((before >> mask) << mask)
                       for mask, _ in per_mask], axis=1)
    changed = replaced[moved]  # sorted
    if layer + 1 == last and network.output == "argmax":
        # most moved codes change the logits too little to overturn the decision: those
        # pairs keep the base's class, and only the others are summed and decided
        undecided = ~_decision_holds(network, base.accumulators[-1], per_mask, changed,
                                     samples, deltas)
        moved, samples = moved[undecided], samples[undecided]
        deltas, changed = deltas[undecided], changed[undecided]
    logits = base.accumulators[layer + 1][samples]  # a copy: (moved pairs, neurons)
    for index in np.unique(changed):
        lo, hi = np.searchsorted(changed, index), np.searchsorted(changed, index, "right")
        weights = np.stack([matrix[index] for _, matrix in per_mask])  # (masks, neurons)
        logits[lo:hi] += _exact_product(deltas[lo:hi], weights)
    for later in range(layer + 2, last + 1):
        logits = accumulate(network.layers[later], activate(network.layers[later - 1], logits))
    result[order[moved], samples] = decide(network, logits)
    return result


def _neuron_sums(neurons: Sequence[Neuron], x: np.ndarray) -> np.ndarray:
    """Accumulators ``(neurons, samples, 1)`` of each neuron alone on the shared inputs
    ``x`` (read-only, as a scorer's are), as :func:`_accumulate_many` gives them for one
    single-neuron layer each: one product of the neurons' weights on every masked copy of
    ``x``, without building each one's layer."""
    largest = _derived.get(x, "largest", lambda: int(x.max(initial=0)))
    rows = [_neuron_rows(neuron) for neuron in neurons]
    masks = sorted({mask for row_masks, _, _ in rows for mask in row_masks
                    if mask < largest.bit_length()})
    biases = np.array([neuron.bias for neuron in neurons], np.int64)
    bound = largest * max(weight_sum for _, _, weight_sum in rows) + int(np.abs(biases).max())
    kind = _exact_kind(bound)
    n_in = x.shape[1]
    index = {mask: i for i, mask in enumerate(masks)}
    weights = np.zeros((len(neurons), len(masks), n_in), kind)
    for j, (row_masks, matrix, _) in enumerate(rows):
        for mask, row in zip(row_masks, matrix):
            if mask in index:
                weights[j, index[mask]] = row
    copies = _derived.get(x, ("masked", kind, tuple(masks)),
                          lambda: _masked_copies(x, masks, kind))
    acc = weights.reshape(len(neurons), -1) @ copies.reshape(len(x), -1).T
    acc += biases.astype(kind)[:, None]
    return acc[:, :, None]


@functools.lru_cache(maxsize=1 << 12)
def _neuron_rows(neuron: Neuron) -> tuple[tuple[int, ...], np.ndarray, int]:
    """One neuron's masks, its weights on the inputs at each mask ``(masks, inputs)``
    (``acc = bias + sum_m W[m] . ((x >> m) << m)``), and the sum of their magnitudes: its
    single-neuron layer's :func:`_layer_matrices`, built without filling that cache
    (cached here: a search scores the same moves step after step)."""
    _, per_mask, weight_sum = _layer_matrices.__wrapped__(Layer((neuron,)))
    matrix = np.zeros((len(per_mask), len(neuron.weights)), np.int64)
    for i, (_, column) in enumerate(per_mask):
        matrix[i] = column[:, 0]
    return tuple(mask for mask, _ in per_mask), _read_only(matrix), weight_sum


def _decision_holds(network: Network, base_logits: np.ndarray, per_mask, changed: np.ndarray,
                    samples: np.ndarray, deltas: np.ndarray) -> np.ndarray:
    """Per (changed input, sample) pair, True where the argmax provably keeps its winner
    when input ``changed`` of the output layer moves by ``deltas`` (one per mask of
    ``per_mask``, the layer's ``(mask, W_m^T)``) on sample ``samples`` of ``base_logits``
    (the base's output sums of every sample).

    Each logit moves by ``sum_m delta_m * W_m[input, class]`` (a class whose neuron has no
    term at mask ``m`` has a zero there, which the spreads and reaches below include).
    Raw logits: the gap between the winner and any other class moves by at most
    ``sum_m |delta_m| * spread_m[input]`` (the spread of the input's weights over the
    classes), so a winner ahead by more keeps winning.  Through a ReLU (which never widens
    a difference) or a shift, the compared values ``max(l, 0) >> s`` each move by at most
    ``ceil(reach / 2**s)`` for a logit move of at most ``reach``, so a lead of more than
    twice that holds.  Ties go to the first index; a strict lead is never a tie."""
    spread, largest, reach_sum = _derived.get(per_mask[0][1], "spreads",
                                              lambda: _weight_spreads(per_mask))
    size = np.abs(deltas)  # (pairs, masks)
    # the bounds below are int64: where one could wrap, prove nothing (Python ints here)
    if int(size.max(initial=0)) * 2 * reach_sum >= 1 << 60:
        return np.zeros(len(samples), bool)
    shift, relu = network.decision_shift, network.output_relu
    lead = _derived.get(base_logits, ("lead", shift, relu),
                        lambda: _leads(base_logits, shift, relu))[samples]
    if not shift and not relu:
        return (size * spread[changed]).sum(axis=1) < lead
    reach = (size * largest[changed]).sum(axis=1)
    return 2 * ((reach + (1 << shift) - 1) >> shift) < lead


def _weight_spreads(per_mask: tuple[tuple[int, np.ndarray], ...],
                    ) -> tuple[np.ndarray, np.ndarray, int]:
    """Of an output layer's ``(mask, W_m^T)`` (:func:`_layer_matrices`): per input and
    mask, the spread of its weights over the classes and their largest magnitude
    ``(inputs, masks)``, and the largest sum over masks of those magnitudes."""
    weights = np.stack([matrix for _, matrix in per_mask])  # (masks, inputs, classes)
    largest = np.abs(weights).max(axis=2)
    return ((weights.max(axis=2) - weights.min(axis=2)).T, largest.T,
            int(largest.sum(axis=0).max()))


def _leads(logits: np.ndarray, shift: int, relu: bool) -> np.ndarray:
    """Per sample, how far the argmax's winner is ahead of the runner-up."""
    compared = _compared(logits, shift, relu) if shift or relu else logits
    top = np.partition(compared, -2, axis=1)
    return top[:, -1] - top[:, -2]


def _exact_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The integer matrix product ``a @ b``, through BLAS when a double holds it exactly."""
    if int(np.abs(a).max(initial=0)) * int(np.abs(b).sum(axis=0).max(initial=0)) < FLOAT_EXACT:
        return (a.astype(np.float64) @ b.astype(np.float64)).astype(np.int64)
    return a @ b


def predict_rebiased(network: Network, base: Trace, layer: int,
                     variants: Sequence[Network]) -> np.ndarray:
    """Class indices ``(variants, samples)`` of networks that equal ``network`` before
    hidden ``layer`` and differ from it in that layer only in biases and activations (the
    layers after it may differ in anything); ``base`` is the trace of ``network``.  The
    layer's sums are the base's plus the change of bias: no product over its inputs."""
    last = len(network.layers) - 1
    before = np.array([n.bias for n in network.layers[layer].neurons], np.int64)
    shifts = np.array([[n.bias for n in v.layers[layer].neurons] for v in variants],
                      np.int64) - before
    acc = base.accumulators[layer][None] + shifts[:, None, :]
    result = np.empty((len(variants), acc.shape[1]), np.int64)
    rows = np.arange(len(variants))
    for later in range(layer, last):
        codes = _activate_many([variants[i].layers[later] for i in rows], acc)
        if later == last - 1:
            # decision tables (the search's estimator has built them already): a lookup
            tabulated = np.array([variants[i].table_inputs is not None for i in rows], bool)
            for i, c in zip(rows[tabulated], codes[tabulated]):
                result[i] = looked_up(variants[i], c)
            rows, codes = rows[~tabulated], codes[~tabulated]
            if not len(rows):
                return result
        acc = _accumulate_many([variants[i].layers[later + 1] for i in rows], codes).astype(np.int64)
    for i, logits in zip(rows, acc):
        result[i] = decide(variants[i], logits)
    return result


def looked_up(network: Network, codes: np.ndarray) -> np.ndarray:
    """The classes :func:`decision_table` gives for the output layer's input ``codes``
    (``(samples, inputs)``: the last hidden layer's codes)."""
    index = np.zeros(len(codes), np.int64)
    offset = 0
    for k, width in zip(network.table_inputs, network.table_widths):
        index |= codes[:, k].astype(np.int64) << offset
        offset += width
    return decision_table(network)[index]


def _decided(network: Network, logits: np.ndarray) -> np.ndarray:
    """The values the decision compares: ReLU'd if the network says so, shifted."""
    return _compared(logits, network.decision_shift, network.output_relu)


def _compared(logits: np.ndarray, shift: int, relu: bool) -> np.ndarray:
    if relu:
        logits = np.maximum(logits, 0)
    return logits >> shift


def _winners(compared: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per sample, the argmax's winner and runner-up (first index on ties) and their values."""
    rows = np.arange(len(compared))
    first = np.argmax(compared, axis=1)
    without_first = compared.copy()
    without_first[rows, first] = np.iinfo(np.int64).min
    second = np.argmax(without_first, axis=1)
    return first, second, compared[rows, first], without_first[rows, second]


def _decide_one_changed(network: Network, logits: np.ndarray, columns: np.ndarray,
                        values: np.ndarray) -> np.ndarray:
    """Class indices ``(changes, samples)`` when change ``c`` replaces logit ``columns[c]``
    by ``values[c]``: against the best of the other logits, without building every
    changed logit matrix."""
    if network.output == "sign":
        return (_decided(network, values) > 0).astype(np.int64)
    first, second, first_value, second_value = _derived.get(
        logits, ("winners", network.decision_shift, network.output_relu),
        lambda: _winners(_decided(network, logits)))
    is_first = columns[:, None] == first[None, :]
    best_index = np.where(is_first, second[None, :], first[None, :])
    best_other = np.where(is_first, second_value[None, :], first_value[None, :])
    value = _decided(network, values)
    wins = (value > best_other) | ((value == best_other) & (columns[:, None] < best_index))
    return np.where(wins, columns[:, None], best_index).astype(np.int64)
