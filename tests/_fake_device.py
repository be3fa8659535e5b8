"""A small in-test pulse-response device (the protocol of ``xbar.train.pulsed``), independent of
``xbar.devices``: soft-bounded steps ``ΔG = ∓α(V, t)·(G − bound)`` with c2c noise."""

import numpy as np

from xbar._random import check_random_state


class FakeDevice:
    g_min = 1e-6  # S
    g_max = 100e-6  # S

    def __init__(self, noise=0.1):
        self.noise = noise

    def alpha(self, polarity, amplitude, width):
        v0 = 0.8 if polarity == "reset" else 1.0
        return min(0.05 * (amplitude / v0) ** 3 * (width / 100e-9), 0.9)

    def apply_pulse(self, G, polarity, amplitude, width, random_state=None):
        rng = check_random_state(random_state)
        a = self.alpha(polarity, amplitude, width) * (1 + self.noise * rng.standard_normal(G.shape))
        a = np.clip(a, 0.0, 1.0)
        if polarity == "reset":
            return G - a * (G - self.g_min)
        return G + a * (self.g_max - G)
