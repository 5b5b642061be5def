"""Scoring candidates: accuracy by the bit-exact emulator, paired against the exact design on
the validation and training splits and their neighbourhoods, and the budget rule
(:func:`loss_bound`)."""
from __future__ import annotations

import logging
from dataclasses import replace

import numpy as np

from ..ir.emulate import predict_codes, predict_many, predict_rebiased, predict_variants, trace
from ..ir.interface import SENSOR_BITS, Interface
from ..ir.network import Network, Neuron
from .candidates import Candidate, batches
from .estimate import AreaModel
from .neighbourhood import level_neighbourhood, reach_neighbourhood

log = logging.getLogger(__name__)


def loss_bound(lost: np.ndarray, won: np.ndarray, copies: int = 1,
               at_least_changes: float | None = None) -> np.ndarray:
    """Per network, the accuracy lost against the exact design plus two standard errors of
    that loss, from ``(networks, samples)`` masks of the samples each one lost (the exact
    design was right, it is wrong) and won (the other way round).

    Two standard errors: a search compares thousands of candidates on the same samples,
    and on small splits one error bar still let their noise through to the test split.
    With ``copies`` consecutive copies of every sample (the neighbourhood), the copies of
    one sample are not independent (they lie around the same point, on the same side of
    the same boundaries): the standard error counts each sample once, with the fraction
    of its copies whose answer changed.  ``at_least_changes``: the bound is at least that
    many standard errors, so that samples won offset samples lost, but a design that
    changes many answers is out however they fall (over the suite's datasets and seeds
    1-3, choosing among the same candidates, designs that won the neighbourhood by changing
    many answers lost unseen samples)."""
    samples = lost.shape[1] // copies
    loss = (np.count_nonzero(lost, axis=1) - np.count_nonzero(won, axis=1)) / lost.shape[1]
    changed = (lost | won).reshape(len(lost), samples, copies).mean(axis=2)
    error = np.sqrt(np.square(changed).sum(axis=1)) / samples
    if at_least_changes is None:
        return loss + 2 * error
    return np.maximum(loss + 2 * error, at_least_changes * error)


def changed_neurons(network: Network, base: Network) -> dict[tuple[int, int], Neuron] | None:
    """``{(layer, index): neuron}`` of every neuron of ``network`` that is not ``base``'s
    own (a search's moves share the neurons they leave alone), or None when the two differ
    in their decision or their number of layers."""
    if network.decision_shift != base.decision_shift or len(network.layers) != len(base.layers):
        return None
    return {(li, ni): m for li, (a, b) in enumerate(zip(network.layers, base.layers)) if a is not b
            for ni, (m, n) in enumerate(zip(a.neurons, b.neurons)) if m is not n}


def _read_only_copy(codes: np.ndarray) -> np.ndarray:
    """A read-only copy of ``codes`` (the emulator keeps what it derives from such arrays)."""
    codes = np.array(codes, np.int64)
    codes.flags.writeable = False
    return codes


class Scorer:
    """Scores candidates in batches: accuracy on the validation split and, for those that
    stay within ``budget`` there, on the training split and then on the two neighbourhoods
    of both (:func:`level_neighbourhood`, :func:`reach_neighbourhood`), each paired against
    the exact design (which samples each one gets right)."""

    #: networks x samples emulated in one batch (bounds the memory of a batch)
    BATCH_SAMPLES = 1 << 19
    #: the index of the first neighbourhood in ``splits`` (after validation and training)
    NEIGHBOURHOOD = 2

    def __init__(self, exact: Network, train_codes, train_labels, val_codes, val_labels,
                 model: AreaModel, budget: float, neighbourhood_samples: int = 0,
                 interface: Interface | None = None,
                 sensor: tuple[np.ndarray, np.ndarray] | None = None):
        """``sensor``: the training and validation samples' sensor values (whose top
        ``input_bits`` bits are the codes; default: each code's lowest sensor value), kept
        per split in :attr:`sensor` (the neighbourhoods' copies moved by the same code
        steps).  ``interface``: the candidates read their codes through these ADCs from
        the sensor values; the exact design is still scored on the codes themselves, so the
        budget stays relative to it."""
        self.splits = ((np.asarray(val_codes, np.int64), np.asarray(val_labels)),
                       (np.asarray(train_codes, np.int64), np.asarray(train_labels)))
        sensor_bits = interface.sensor_bits if interface is not None else SENSOR_BITS
        shift = sensor_bits - exact.input_bits
        if sensor is None:
            sensor = (self.splits[1][0] << shift, self.splits[0][0] << shift)
        self.sensor = [np.asarray(sensor[1], np.int64), np.asarray(sensor[0], np.int64)]
        for values, (codes, _) in zip(self.sensor, self.splits):
            if values.shape != codes.shape or np.any(values >> shift != codes):
                raise ValueError("the sensor values' top bits must be the codes")
        self.copies = 1  # of every sample in each neighbourhood
        if neighbourhood_samples:
            codes = np.concatenate([split[0] for split in self.splits])
            labels = np.concatenate([split[1] for split in self.splits])
            values = np.concatenate(self.sensor)
            self.copies = max(1, neighbourhood_samples // (2 * max(len(codes), 1)))
            self.splits += (level_neighbourhood(codes, labels, self.copies),
                            reach_neighbourhood(codes, labels, self.copies))
            origin = np.repeat(codes, self.copies, axis=0)
            self.sensor += [np.repeat(values, self.copies, axis=0) + ((moved - origin) << shift)
                            for moved, _ in self.splits[self.NEIGHBOURHOOD:]]
        self.model, self.budget, self.exact = model, budget, exact
        self.exact_right = [predict_codes(exact, codes) == labels for codes, labels in self.splits]
        if interface is not None:
            self.splits = tuple((interface.codes(values), labels)
                                for values, (_, labels) in zip(self.sensor, self.splits))
        self.splits = tuple((_read_only_copy(codes), labels) for codes, labels in self.splits)
        self.rebase(exact)

    def rebase(self, network: Network) -> None:
        """Neighbours of ``network`` that differ from it in one neuron are scored by
        recomputing only what that neuron changes."""
        self.base = network
        self.traces = [trace(network, codes).read_only() for codes, _ in self.splits]

    def _one_neuron_changed(self, network: Network) -> tuple[int, int] | None:
        """(layer, index) of the only neuron in which ``network`` differs from the base."""
        changes = changed_neurons(network, self.base)
        return next(iter(changes)) if changes is not None and len(changes) == 1 else None

    def _rebiased_layer(self, network: Network) -> int | None:
        """The hidden layer in which ``network`` first differs from the base, if it differs
        there only in biases and activations (as codes narrowed for a decision table)."""
        base = self.base
        if len(network.layers) != len(base.layers):
            return None
        li = next((i for i, (a, b) in enumerate(zip(network.layers, base.layers)) if a is not b),
                  len(base.layers))
        if li >= len(base.layers) - 1:
            return None
        same = all(a is b or (a.weights == b.weights and a.input_masks == b.input_masks
                              and a.truncation == b.truncation)
                   for a, b in zip(network.layers[li].neurons, base.layers[li].neurons))
        return li if same else None

    def _predict(self, split: int, networks: list[Network]) -> np.ndarray:
        """Class indices ``(networks, samples)`` on one split."""
        codes, labels = self.splits[split]
        batch = max(1, self.BATCH_SAMPLES // max(len(labels), 1))
        result = np.empty((len(networks), len(labels)), np.int64)
        variants: dict[int, list[tuple[int, int]]] = {}  # layer: (network, neuron index)
        rebiased: dict[int, list[int]] = {}  # layer: networks
        others = []
        for i, network in enumerate(networks):
            where = self._one_neuron_changed(network)
            if where:
                variants.setdefault(where[0], []).append((i, where[1]))
            elif (layer := self._rebiased_layer(network)) is not None:
                rebiased.setdefault(layer, []).append(i)
            else:
                others.append(i)
        for layer, members in rebiased.items():
            for chunk in batches(members, batch):
                result[chunk] = predict_rebiased(self.base, self.traces[split], layer,
                                                 [networks[i] for i in chunk])
        for layer, members in variants.items():
            for chunk in batches(members, batch):
                result[[i for i, _ in chunk]] = predict_variants(
                    self.base, self.traces[split], codes, layer,
                    [(index, networks[i].layers[layer].neurons[index]) for i, index in chunk])
        for chunk in batches(others, batch):
            result[chunk] = predict_many([networks[i] for i in chunk], codes)
        return result

    def _paired(self, split: int, networks: list[Network]) -> tuple[np.ndarray, np.ndarray]:
        """Accuracy, and the loss plus two standard errors of it (:func:`loss_bound`), of
        each network."""
        _, labels = self.splits[split]
        exact_right = self.exact_right[split]
        right = self._predict(split, networks) == labels[None, :]
        if split >= self.NEIGHBOURHOOD:
            return right.mean(axis=1), loss_bound(exact_right & ~right, ~exact_right & right,
                                                  self.copies, at_least_changes=1.5)
        return right.mean(axis=1), loss_bound(exact_right & ~right, ~exact_right & right)

    def __call__(self, networks: list[Network], moves: list[str]) -> list[Candidate]:
        """Candidates scored on the validation split (see :meth:`confirm` for the other)."""
        if not networks:
            return []
        accuracy, bound = self._paired(0, networks)
        return [Candidate(network, float(accuracy[i]), self.model.area_um2(network), move,
                          loss_bound=float(bound[i]))
                for i, (network, move) in enumerate(zip(networks, moves))]

    def confirm(self, candidates: list[Candidate]) -> list[Candidate]:
        """The same candidates with the training split's check added to their bound, then
        for those still within the budget each neighbourhood's (each check costs more than
        the one before, so it runs only where it can matter)."""
        return self._on_neighbourhoods(self._on_training(candidates))

    def first_within(self, candidates: list[Candidate], chunk: int = 8) -> Candidate | None:
        """The first of ``candidates`` (in their order) that stays within the budget on
        every split, confirmed as :meth:`confirm` would (None if none does).  Checks the
        training split a ``chunk`` at a time, and the neighbourhoods (the costliest, 16 384
        samples) only for the candidates that passed it, in order, until one passes: those
        after the first that does are never needed."""
        for part in batches([c for c in candidates if self.within(c)], chunk):
            passing = [c for c in self._on_training(part) if self.within(c)]
            size = 1
            while passing:  # one, then two, four, ...: most often the first one passes
                head, passing = passing[:size], passing[size:]
                head = [c for c in self._on_neighbourhoods(head) if self.within(c)]
                if head:
                    return head[0]
                size *= 2
        return None

    def _on_training(self, candidates: list[Candidate]) -> list[Candidate]:
        """``candidates`` with their training accuracy and the training split's bound."""
        if not candidates:
            return []
        accuracy, bound = self._paired(1, [c.network for c in candidates])
        return [replace(c, train_accuracy=float(a), loss_bound=max(c.loss_bound, float(b)))
                for c, a, b in zip(candidates, accuracy, bound)]

    def _on_neighbourhoods(self, candidates: list[Candidate]) -> list[Candidate]:
        """``candidates`` with each neighbourhood's bound added, for those still within the
        budget after the splits before it."""
        confirmed = list(candidates)
        passing = [i for i, c in enumerate(confirmed) if self.within(c)]
        for split in range(self.NEIGHBOURHOOD, len(self.splits)):
            if not passing:
                break
            _, bound = self._paired(split, [confirmed[i].network for i in passing])
            for i, b in zip(passing, bound):
                confirmed[i] = replace(confirmed[i],
                                       loss_bound=max(confirmed[i].loss_bound, float(b)))
            passing = [i for i in passing if self.within(confirmed[i])]
        return confirmed

    def within(self, candidate: Candidate) -> bool:
        return candidate.loss_bound <= self.budget + 1e-12
