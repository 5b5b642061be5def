import pytest
from sklearn.model_selection import train_test_split

import bespoke
from bespoke.approx.estimate import AreaModel

from .conftest import trained


@pytest.mark.long_running(seconds=13)
def test_approximate_gives_a_smaller_design_within_budget_that_verifies(tmp_path):
    model, X_train, X_test, y_train, y_test = trained("cancer", "relu", (3,))
    X_fit, X_val, y_fit, y_val = train_test_split(X_train, y_train, test_size=0.25,
                                                  random_state=0, stratify=y_train)
    exact = bespoke.compile(model, X_fit, y_fit)
    small = exact.approximate(X_fit, y_fit, X_val, y_val, max_accuracy_loss=0.02,
                              time_budget_s=4)
    estimate = AreaModel.bundled().area_um2
    assert estimate(small.network) < estimate(exact.network)
    assert small.search.chosen.loss_bound <= 0.02 + 1e-12
    assert small.score(X_val, y_val) >= exact.score(X_val, y_val) - 0.02
    assert small.verilog() != exact.verilog()
    result = small.verify(X_test, n_random=200, workdir=tmp_path)
    assert result.passed and result.mismatches == 0
    # with ADCs (the default): fewer references than conventional flashes, within the budget
    interface = small.network.interface
    assert interface is not None and small.interface_search.loss_bound <= 0.02 + 1e-12
    assert interface.comparators < 15 * small.network.n_inputs
    assert (small.codes(X_test) == interface.codes(small.sensor(X_test))).all()
    core = exact.approximate(X_fit, y_fit, X_val, y_val, max_accuracy_loss=0.02,
                             time_budget_s=0.5, restarts=1, adc=False)  # checked: no ADCs
    assert core.network.interface is None and core.interface_search is None


def test_approximate_refuses_a_budget_that_is_not_a_fraction():
    model, X_train, _, y_train, _ = trained("iris", "relu")
    design = bespoke.compile(model, X_train, y_train)
    with pytest.raises(bespoke.BespokeError, match="fraction"):
        design.approximate(X_train, y_train, X_train, y_train, max_accuracy_loss=5)
    assert design.search is None  # an exact design has no search behind it


def test_snapped_comparator_thresholds_verify_in_icarus(tmp_path):
    """The threshold-snapping knob builds what the emulator runs: Icarus agrees."""
    from dataclasses import replace

    from bespoke.approx import knobs as ax

    model, X_train, X_test, y_train, _ = trained("iris", "logistic")
    exact = bespoke.compile(model, X_train, y_train)
    network = exact.network
    for up in (False, True, False):
        for index in range(len(network.layers[0].neurons)):
            network = ax.snap_thresholds(network, 0, index, up) or network
    assert network.layers[0] != exact.network.layers[0]
    snapped = replace(exact, network=network)
    assert snapped.verilog() != exact.verilog()
    result = snapped.verify(X_test, n_random=200, workdir=tmp_path)
    assert result.passed and result.mismatches == 0
