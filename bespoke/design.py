"""The public API: :func:`compile` a fitted MLP into a :class:`Design`."""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .version import __version__
from .model.data import align_labels
from .ir.emulate import predict_codes
from .approx.estimate import AreaModel
from .errors import BespokeError
from .model.ingest import FloatMLP, from_estimator, load_input_scaler, load_model
from .ir.interface import SENSOR_BITS, Interface
from .ir.network import Network
from .rtl.lower import to_verilog
from .model.quantize import InputQuantizer, QuantizeOptions, quantize
from .approx import SearchOptions, SearchResult
from .approx.search import search
from .model.spec import load_integer_spec
from .rtl.verify import DEFAULT_SIMULATOR, VerificationResult, verification_vectors, verify

DESIGN_FORMAT = "bespoke-design/1"


@dataclass
class Design:
    """A compiled bespoke classifier: integer network, input scaling and class labels."""

    network: Network
    quantizer: InputQuantizer
    classes: np.ndarray
    feature_names: tuple[str, ...]
    float_model: FloatMLP | None = field(default=None, repr=False)
    options: QuantizeOptions = field(default_factory=QuantizeOptions)
    #: how :meth:`approximate` found this design (None for an exact one)
    search: SearchResult | None = field(default=None, repr=False)
    #: how :meth:`approximate` chose the ADCs' references (None without ADCs)
    interface_search: Any = field(default=None, repr=False)
    #: the design's name in the integer specification it came from, if any
    spec_name: str | None = None
    _verilog: str | None = field(default=None, init=False, repr=False)

    # --- inference -------------------------------------------------------------------
    def codes(self, X: np.ndarray) -> np.ndarray:
        """Quantize raw feature values into the core's input codes (through the ADCs'
        kept references when the design has an interface)."""
        if self.network.interface is not None:
            return self.network.interface.codes(self.sensor(X))
        return self.quantizer.codes(X)

    def sensor(self, X: np.ndarray) -> np.ndarray:
        """Raw feature values as the ADCs see them (``interface.sensor_bits`` fixed-point
        values over each input's full scale; :meth:`InputQuantizer.sensor_values`)."""
        interface = self.network.interface
        bits = interface.sensor_bits if interface is not None else SENSOR_BITS
        return self.quantizer.sensor_values(X, bits)

    def vectors(self, X: np.ndarray) -> np.ndarray:
        """The circuit's input vectors for raw feature values: the codes, or with an
        interface each ADC's level (the thermometer bits ``top`` reads)."""
        if self.network.interface is not None:
            return self.network.interface.level_indices(self.sensor(X))
        return self.quantizer.codes(X)

    def with_interface(self, interface: Interface | None) -> "Design":
        """This design with ``interface`` (ADCs) in front of its inputs."""
        return replace(self, network=replace(self.network, interface=interface))

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Class labels of raw feature rows, by the bit-exact integer emulator."""
        return self.classes[predict_codes(self.network, self.codes(X))]

    def score(self, X: np.ndarray, y: np.ndarray) -> float:
        return float(np.mean(self.predict(X) == np.asarray(y)))

    # --- approximation ---------------------------------------------------------------
    def approximate(self, X_train: np.ndarray, y_train: np.ndarray, X_val: np.ndarray,
                    y_val: np.ndarray, *, max_accuracy_loss: float = 0.01,
                    time_budget_s: float = 60.0, seed: int = 0, restarts: int = 4,
                    retrain: bool = True, adc: bool = True,
                    adc_model: str | Path | None = None, adc_off_grid: bool = True,
                    progress: Callable[[str], None] | None = None) -> "Design":
        """The smallest approximate design (by estimated area) whose accuracy stays within
        ``max_accuracy_loss`` (a fraction) of this one's, on the validation data and on
        the training data (loss plus two standard errors; see :mod:`bespoke.approx.search`).
        With ``retrain`` (the default, as ``bespoke compile``), a search that is stuck
        retrains its best moves beyond the budget on ``X_train`` (:mod:`bespoke.retrain`),
        and the exact design is also trained in the float domain with the circuit in the loop
        (:mod:`bespoke.approx.qat`), its networks within the budget polished like NSGA-II's.

        The model should not have been fitted on ``X_val``.  The result's ``search``
        holds the Pareto front and the moves; it verifies and compiles like any design.

        With ``adc`` (the default, as ``bespoke compile``), the result also has its ADCs: the
        references each input keeps are searched after the core, under the same budget and
        rule, relative to this design (``adc_model``: a JSON file, default the bundled
        EGFET model; ``time_budget_s`` more, half of it with references on the grid, half
        placed anywhere; ``adc_off_grid=False`` keeps every reference on the uniform grid of
        a conventional flash).  Its ``interface_search`` holds the steps.  The search's
        finalists close to its choice in estimated area each get their ADCs, the time
        shared, and the system of least estimated area is kept (how far the ADCs fold a core
        depends on the core; ``search.chosen`` is then the finalist it started from)."""
        if not 0 <= max_accuracy_loss <= 1:
            raise BespokeError(f"max_accuracy_loss {max_accuracy_loss:g} must be a fraction in [0, 1]")
        train_index = align_labels(np.asarray(y_train), self.classes)
        val_index = align_labels(np.asarray(y_val), self.classes)
        result = search(self.network, self.codes(np.asarray(X_train, float)),
                        self.codes(np.asarray(X_val, float)), val_index, AreaModel.bundled(),
                        SearchOptions(max_accuracy_loss, time_budget_s, restarts=restarts,
                                      retrain=retrain),
                        seed=seed,
                        train_labels=train_index, progress=progress)
        chosen = replace(self, network=result.chosen.network, search=result)
        if not adc:
            return chosen
        from .approx.interface import fit_finalists
        from .hw.adc import load_adc_model

        core, found, result = fit_finalists(
            self.network, result, self.sensor(np.asarray(X_train, float)), train_index,
            self.sensor(np.asarray(X_val, float)), val_index, load_adc_model(adc_model),
            max_accuracy_loss=max_accuracy_loss, time_budget_s=max(time_budget_s, 1.0),
            progress=progress, off_grid=adc_off_grid)
        return replace(chosen, network=replace(core, interface=found.interface),
                       search=result, interface_search=found)

    # --- hardware --------------------------------------------------------------------
    def verilog(self) -> str:
        """The Verilog of module ``top``: byte-identical for an identical design."""
        if self._verilog is None:
            names = ', '.join(f'x{i} = {n}' for i, n in enumerate(self.feature_names))
            if self.network.interface is None:
                inputs = f"inputs: {names} ({self.network.input_bits}-bit unsigned codes, see design.json)"
            else:
                inputs = (f"inputs: {names}: the thermometer bits of each input's ADC (bit j = "
                          "the j-th kept reference's comparator; inputs without an ADC have no "
                          "port; see design.json and system.v)")
            header = (f"bespoke {__version__}: bespoke combinational MLP classifier\n{inputs}\n"
                      f"output: y = class index into {[str(c) for c in self.classes]}")
            self._verilog = to_verilog(self.network, header)
        return self._verilog

    def system_verilog(self) -> str:
        """The Verilog of module ``system``: behavioral comparator banks (the ADCs) in
        front of module ``top`` (needs an interface)."""
        from .rtl.system import system_verilog

        if self.network.interface is None:
            raise BespokeError("this design has no ADC interface: compile it with ADCs")
        return system_verilog(self.network)

    def verify(self, X: np.ndarray | None = None, *, n_random: int = 1000, seed: int = 0,
               workdir: str | Path | None = None,
               simulator: str = DEFAULT_SIMULATOR) -> VerificationResult:
        """Simulate the Verilog on the codes of ``X`` (if given), the corner vectors and
        ``n_random`` random vectors, and compare every output with the emulator's;
        ``simulator`` is "icarus" (through cocotb, the reference) or "verilator"."""
        codes = verification_vectors(self.network, None if X is None else self.vectors(X),
                                     n_random, seed)
        if workdir is None:
            with tempfile.TemporaryDirectory(prefix="bespoke-verify-") as tmp:
                return self._verify_in(Path(tmp), codes, simulator)
        return self._verify_in(Path(workdir), codes, simulator)

    def _verify_in(self, workdir: Path, codes: np.ndarray, simulator: str) -> VerificationResult:
        workdir.mkdir(parents=True, exist_ok=True)
        verilog_path = workdir / "top.v"
        verilog_path.write_text(self.verilog())
        return verify(verilog_path, self.network, codes, workdir / "sim", simulator=simulator)

    # --- persistence -----------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "format": DESIGN_FORMAT,
            "bespoke_version": __version__,
            "classes": [c.item() if hasattr(c, "item") else c for c in self.classes],
            "features": list(self.feature_names),
            "input_quantization": self.quantizer.to_dict(),
            "options": {"input_bits": self.options.input_bits,
                        "weight_bits": self.options.weight_bits,
                        "activation_bits": self.options.activation_bits},
            "network": self.network.to_dict(),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=1, sort_keys=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict) -> "Design":
        if data.get("format") != DESIGN_FORMAT:
            raise BespokeError(f"not a bespoke design file (format {data.get('format')!r}, "
                               f"expected {DESIGN_FORMAT!r})")
        options = QuantizeOptions(**data["options"])
        return cls(Network.from_dict(data["network"]), InputQuantizer.from_dict(
            data["input_quantization"]), np.asarray(data["classes"]), tuple(data["features"]),
            None, options)

    @classmethod
    def load(cls, path: str | Path) -> "Design":
        return cls.from_dict(json.loads(Path(path).read_text()))

    @classmethod
    def from_integer_spec(cls, path: str | Path, name: str | None = None) -> "Design":
        """A design whose integer weights and biases come from a JSON specification (see
        :mod:`bespoke.spec`); its inputs are the circuit's codes themselves and its
        classes the output indices."""
        label, network = load_integer_spec(path, name)
        n = network.n_inputs
        quantizer = InputQuantizer((0.0,) * n, (1.0,) * n, network.input_bits)  # x is the code
        largest = max(abs(w) for layer in network.layers for neuron in layer.neurons
                      for w in neuron.weights)
        options = QuantizeOptions(network.input_bits, min(16, max(2, largest.bit_length() + 1)))
        return cls(network, quantizer, np.arange(network.n_classes),
                   tuple(f"x{i}" for i in range(n)), None, options, spec_name=label)


def compile(model: Any, X_train: np.ndarray, y_train: np.ndarray, *, input_bits: int = 4,
            weight_bits: int = 8, activation_bits: int | None = None,
            feature_names: tuple[str, ...] | None = None,
            input_scaler: Any = None) -> Design:
    """Compile a fitted ``MLPClassifier`` (or ``Pipeline(scaler, MLPClassifier)``, or the
    path of one saved with pickle/joblib) into an exact bespoke design.

    ``X_train``/``y_train`` are the training features and labels: they calibrate the
    input quantization and the hidden activation ranges.  ``input_scaler``: the fitted
    ``MinMaxScaler``/``StandardScaler`` (or the path of one) the model's data went through
    outside it; it is folded in front as a Pipeline's would be, and ``X_train`` (and every
    input of the design) is then in the features' own units.
    """
    mlp = model if isinstance(model, FloatMLP) else (
        load_model(model) if isinstance(model, (str, Path)) else from_estimator(model))
    if input_scaler is not None:
        mlp = mlp.with_input_scaler(load_input_scaler(input_scaler)
                                    if isinstance(input_scaler, (str, Path)) else input_scaler)
    X_train = np.asarray(X_train, dtype=float)
    if X_train.ndim != 2 or X_train.shape[1] != mlp.n_features:
        raise BespokeError(f"the data has shape {X_train.shape} but the model expects "
                           f"{mlp.n_features} features: pass the data the model was trained on")
    if not np.all(np.isfinite(X_train)):
        raise BespokeError("the training data contains NaN or infinite values: remove or impute them")
    options = QuantizeOptions(input_bits, weight_bits, activation_bits)
    y_index = align_labels(np.asarray(y_train), mlp.classes)
    network, quantizer = quantize(mlp, X_train, y_index, options)
    names = tuple(feature_names) if feature_names is not None else tuple(
        f"feature{i}" for i in range(mlp.n_features))
    if len(names) != mlp.n_features:
        raise BespokeError(f"{len(names)} feature names for {mlp.n_features} features")
    return Design(network, quantizer, mlp.classes, names, mlp, options)
