"""Property-based tests: whatever bytes arrive, the readers answer with data or with a
BespokeError (one line), never with another exception."""
from hypothesis import HealthCheck, given, settings, strategies as st

from bespoke.model.data import read_csv
from bespoke.errors import BespokeError
from bespoke.model.ingest import load_model

FUZZ = settings(max_examples=150, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])

csv_text = st.lists(
    st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True).map(repr),
                       st.text(alphabet="abc;,\t\"' 0123456789.-eE", max_size=6)),
             min_size=0, max_size=5),
    min_size=0, max_size=6,
).map(lambda rows: "\n".join(";".join(r) for r in rows))


@FUZZ
@given(header=st.lists(st.sampled_from(["a", "b", "Y", "c d", ""]), min_size=0, max_size=4),
       body=csv_text)
def test_csv_reader_never_fails_unexpectedly(tmp_path, header, body):
    path = tmp_path / "data.csv"
    path.write_text(";".join(header) + "\n" + body)
    try:
        data = read_csv(path, "Y")
    except BespokeError as exc:
        assert "\n" not in str(exc)
        return
    assert data.X.shape[0] == len(data.y) and data.X.shape[1] == len(data.feature_names)


@FUZZ
@given(st.one_of(st.binary(max_size=400), st.binary(max_size=400).map(lambda b: b"\x80\x04" + b)))
def test_model_loader_never_fails_unexpectedly(tmp_path, blob):
    path = tmp_path / "model.pkl"
    path.write_bytes(blob)
    try:
        load_model(path)
    except BespokeError as exc:
        assert "\n" not in str(exc)
