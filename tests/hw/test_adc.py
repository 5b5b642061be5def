"""The ADC cost model: derived from the published figures, loaded with one-line errors."""
import json

import pytest

from bespoke.errors import BespokeError
from bespoke.hw.adc import (PUBLISHED_LEVEL_POWER_UW, AdcModel, bundled_adc_model_path, egfet_model,
                            load_adc_model)


def test_a_conventional_4_bit_flash_costs_the_published_total():
    model = load_adc_model()
    area_um2, power_uw = model.conventional(4)
    assert area_um2 / 1e8 == pytest.approx(0.17, rel=1e-6)
    assert power_uw / 1000 == pytest.approx(1.3, rel=1e-5)


def test_the_bundled_file_is_what_the_code_derives():
    assert bundled_adc_model_path().read_text() == egfet_model().to_json()


def test_area_is_a_ladder_plus_one_cost_per_comparator_and_nothing_without_comparators():
    model = load_adc_model()
    assert model.area_um2(0) == 0.0
    one, two, fifteen = model.area_um2(1), model.area_um2(2), model.area_um2(15)
    assert two - one == pytest.approx(model.comparator_area_um2)
    # the published shape: 0.176 + 0.032 (N - 1)
    assert fifteen / one == pytest.approx((0.176 + 0.032 * 14) / 0.176, rel=1e-6)


def test_comparator_power_grows_with_its_reference_and_keeps_the_published_shape():
    model = load_adc_model()
    levels = [model.comparator_power_uw(j / 16) for j in range(1, 16)]
    assert levels == sorted(levels)
    ratio = PUBLISHED_LEVEL_POWER_UW[-1] / PUBLISHED_LEVEL_POWER_UW[0]
    assert levels[-1] / levels[0] == pytest.approx(ratio, rel=1e-3)
    # between two published levels: in between
    assert levels[6] < model.comparator_power_uw(7.5 / 16) < levels[7]
    assert model.power_uw([]) == 0.0


def test_another_technology_loads_from_its_own_file(tmp_path):
    data = json.loads(egfet_model().to_json())
    data["comparator_area_um2"] = 1.0
    path = tmp_path / "adc.json"
    path.write_text(json.dumps(data))
    assert load_adc_model(path).comparator_area_um2 == 1.0


@pytest.mark.parametrize("text, message", [
    ("{", "not readable JSON"),
    ('{"name": "x"}', "must hold exactly the fields"),
    (None, "does not exist"),
])
def test_a_bad_model_file_is_one_line(tmp_path, text, message):
    path = tmp_path / "adc.json"
    if text is not None:
        path.write_text(text)
    with pytest.raises(BespokeError, match=message) as info:
        load_adc_model(path)
    assert "\n" not in str(info.value)


def test_a_model_with_the_wrong_number_of_levels_is_refused(tmp_path):
    data = json.loads(egfet_model().to_json())
    data["level_power_uw"] = data["level_power_uw"][:3]
    path = tmp_path / "adc.json"
    path.write_text(json.dumps(data))
    with pytest.raises(BespokeError, match="invalid"):
        load_adc_model(path)
    with pytest.raises(ValueError):
        AdcModel("x", "y", 1.0, 1.0, 0.0, 2, (1.0, 2.0))
