"""bespoke from Python: compile, predict with the bit-exact emulator, verify in Icarus."""
from sklearn.datasets import load_iris
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

import bespoke

X, y = load_iris(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
clf = MLPClassifier((4,), activation="logistic", max_iter=3000, random_state=0).fit(X_train, y_train)

design = bespoke.compile(clf, X_train, y_train, input_bits=4, weight_bits=8)
print(f"float accuracy     {clf.score(X_test, y_test):.3f}")
print(f"quantized accuracy {design.score(X_test, y_test):.3f}  (integer emulator)")
print(f"Verilog: {len(design.verilog().splitlines())} lines of module top")
result = design.verify(X_test, n_random=1000)
print(f"Icarus via cocotb: {result.vectors} vectors, {result.mismatches} mismatches")
