"""The embedded default job: a small MLP on scikit-learn's bundled breast-cancer data."""
from __future__ import annotations

import logging
from pathlib import Path

log = logging.getLogger(__name__)

DEMO_SEED = 0
DEMO_HIDDEN = (5,)


def prepare_demo(folder: Path) -> tuple[Path, Path, Path, str]:
    """Write the demo's data (CSV) and trained model (pickle) into ``folder/inputs``.

    Returns ``(model, data, outdir, label_column)`` for the compile flow: exactly what a
    user would pass to ``bespoke compile``.
    """
    import joblib
    import numpy as np
    from sklearn.datasets import load_breast_cancer
    from sklearn.model_selection import train_test_split
    from sklearn.neural_network import MLPClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import MinMaxScaler

    inputs = Path(folder) / "inputs"
    inputs.mkdir(parents=True, exist_ok=True)
    bunch = load_breast_cancer()
    names = [n.replace(" ", "_") for n in bunch.feature_names]
    csv = inputs / "breast_cancer.csv"
    rows = [";".join(names + ["Y"])]
    rows += [";".join([*(repr(float(v)) for v in x), str(int(t))])
             for x, t in zip(bunch.data, bunch.target)]
    csv.write_text("\n".join(rows) + "\n")
    # train on what the compile flow treats as training data: it holds out a test split
    # (0.2) and, for the approximation search, a validation split (0.25 of the rest) that
    # the model must not have seen, or the search cannot tell what generalizes
    X_train, _, y_train, _ = train_test_split(bunch.data, bunch.target, test_size=0.2,
                                              random_state=DEMO_SEED, stratify=bunch.target)
    X_train, _, y_train, _ = train_test_split(X_train, y_train, test_size=0.25,
                                              random_state=DEMO_SEED, stratify=y_train)
    model = make_pipeline(MinMaxScaler(), MLPClassifier(DEMO_HIDDEN, max_iter=2000,
                                                        random_state=DEMO_SEED))
    model.fit(X_train, y_train)
    path = inputs / "model.pkl"
    joblib.dump(model, path)
    log.info("demo: trained %s on %d samples (training accuracy %.4f); equivalent command:\n"
             "  bespoke compile %s --data %s --label-column Y -o %s", "MLPClassifier(5,)",
             len(X_train), float(np.mean(model.predict(X_train) == y_train)), path, csv,
             Path(folder) / "compiled")
    return path, csv, Path(folder) / "compiled", "Y"
