"""On-chip training on the scikit-learn digits: softmax SGD on reset-only HfOx pairs.

The 8 x 8 digits (1,797 images, 10 classes) are split 1,400 / 397.  The same rule is trained in
floating point and on device pairs updated by sub-1 V RESET pulses (sign-and-threshold mapping),
and the energy of every pulse is booked in the ledger.
"""

import numpy as np
from sklearn.datasets import load_digits

import xbar.train as T
from xbar.devices import HfOxReRAM
from xbar.pulses import EnergyLedger

X, y = load_digits(return_X_y=True)
X = X / 16.0  # features in [0, 1]
order = np.random.default_rng(0).permutation(len(X))
X, y = X[order], y[order]
train, test = (X[:1400], y[:1400]), (X[1400:], y[1400:])

for name in ("float", "reset-only pairs"):
    rule = T.SoftmaxSGD(lr=0.5)
    ledger = EnergyLedger()
    factory = None
    if name != "float":
        factory = T.pulsed_layer_factory(
            HfOxReRAM(), T.ResetOnlyWriter(), T.PulseMapping("stochastic"), ledger=ledger
        )
    net = T.build_network(rule, X.shape[1], 10, [], layer_factory=factory, random_state=0)
    res = T.fit(
        net,
        train,
        rule=rule,
        epochs=3,
        random_state=0,
        batch_size=20,
        test=test,
        ledger=ledger,
        progress=False,
    )
    acc = [f"{h['test_accuracy']:.3f}" for h in res.history]
    print(f"{name:>17}: test accuracy per epoch {acc}")
    if name != "float":
        print(ledger.summary())
