"""Forward-Forward, two-pass supervised (Hinton 2022, arXiv:2212.13345).

Per layer ℓ with input h (B, n_in) and pre-activation ``a = h·W``::

    y = ReLU(a),   G = sum_j y_j²  (or mean_j)            goodness
    L = softplus(θ − G⁺) + softplus(G⁻ − θ)               local logistic loss around θ
    ∂L/∂a_j = −σ(θ − G⁺)·(2/N)·y_j⁺   (positive pass)    N = n_out for mean goodness, 1 for sum
    ∂L/∂a_j = +σ(G⁻ − θ)·(2/N)·y_j⁻   (negative pass)
    ΔW = −η · hᵀ · ∂L/∂a / B                              rank-1 per sample: x ⊗ δ

Conventions (each is an option of :class:`ForwardForward`; docs/references.rst, ref-forward-forward):

* **Step scaling.** ``average="samples"`` (default) divides the summed positive and negative
  gradients by B, the number of samples; the public re-implementations average the loss over the
  2B passes (``average="passes"``), so at equal η xbar's default step is twice theirs, and the
  reported loss (``mean(L⁺ + L⁻)`` over B) is twice their BCE mean. loeweX's lr 1e-3 is
  ``lr=5e-4`` here with ``average="samples"`` or ``lr=1e-3`` with ``average="passes"``.
* **Length normalisation** between layers: ``norm="rms"`` (loeweX, ``y / sqrt(mean y²)``: rows
  of squared length n) or ``"l2"`` (mpezeshki, ``y / ‖y‖``: rows of length 1). At equal weights the
  next layer's goodness differs by the factor n (the length by sqrt(n)), so thresholds tuned with
  one convention do not carry over to the other.
* **Goodness and threshold.** ``goodness="sum"`` with ``threshold="width"`` (θ_ℓ = N_ℓ, loeweX)
  is the same operating point as ``goodness="mean"`` with θ = 1, but the logit ``G − θ`` is N times
  steeper. mpezeshki uses mean goodness with θ = 2.
* **Label.** ``label_mode="append"`` adds K label inputs (K extra word lines of the first
  array); ``"overwrite"`` writes the one-hot over the first K pixels (Hinton, loeweX; MNIST's first
  pixels are background, so the information is the same and the array keeps 784 inputs).
* **Prediction** ``score_layers``: the summed goodness of ``"all"`` layers (mpezeshki), all but the
  first (``"skip_first"``, loeweX and Hinton with several layers) or the ``"last"`` one only.
* **Peer normalisation** (loeweX, factor 0.03): a running mean ``m_j`` (momentum 0.9) of each
  unit's activity on positive samples, and the extra loss ``peer_norm · mean_j (m̄ − m_j)²`` that
  keeps units from dying or dominating; its gradient flows through the batch's share ``(1 − μ)``.

Optimiser (momentum, weight decay) and learning-rate schedule are :func:`~xbar.train.fit`'s
(:class:`~xbar.train.optim.SGD`), common to every rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_choice, check_scalar
from ..exceptions import ConfigError
from ._common import length_normalize, one_hot, sigmoid, softplus
from .network import relu
from .rules import Rule, StepResult


def goodness(y: np.ndarray, kind: str = "mean") -> np.ndarray:
    """Goodness of activities ``y`` (B, N): ``mean_j y_j²`` or ``sum_j y_j²`` -> (B,).

    Parameters
    ----------
    y : ndarray, shape (B, N)
        Activities (dimensionless).
    kind : {"mean", "sum"}, default "mean"
        Mean or sum of the squares over the units.
    """
    return np.mean(y * y, axis=1) if kind == "mean" else np.sum(y * y, axis=1)


def ff_layer_loss(a: np.ndarray, positive: bool, threshold: float, kind: str = "mean"):
    """Loss and its gradient with respect to the pre-activations of one layer.

    Parameters
    ----------
    a : array (B, N)
        Pre-activations.
    positive : bool
        True for the positive (true-label) pass.
    threshold : float
        θ of the logistic loss.
    kind : {"mean", "sum"}
        Goodness definition.

    Returns
    -------
    loss : array (B,)
        ``softplus(θ − G)`` (positive) or ``softplus(G − θ)`` (negative).
    dloss_da : array (B, N)
        ∂loss/∂a per sample.
    g : array (B,)
        Goodness.
    """
    y = relu(a)
    g = goodness(y, kind)
    n = a.shape[1] if kind == "mean" else 1
    if positive:
        loss = softplus(threshold - g)
        dl_dg = -sigmoid(threshold - g)
    else:
        loss = softplus(g - threshold)
        dl_dg = sigmoid(g - threshold)
    return loss, dl_dg[:, None] * (2.0 / n) * y, g


def embed_labels(
    x: np.ndarray, labels, n_classes: int, scale: float = 1.0, mode: str = "append"
) -> np.ndarray:
    """The label code in the first ``n_classes`` inputs: ``scale``·one-hot(label).

    ``mode="append"`` prepends the code (``n_classes`` extra inputs); ``"overwrite"`` writes it over
    the first ``n_classes`` features (same width). ``labels`` may be an int array (B,) or ``None``
    for the neutral code (``scale / n_classes`` on every label input).

    Parameters
    ----------
    x : ndarray, shape (B, d)
        Features (dimensionless).
    labels : ndarray of int, shape (B,), or None
        Labels to embed; None for the neutral code.
    n_classes : int
        Number of classes (width of the code).
    scale : float, default 1.0
        Value of the hot entry (dimensionless).
    mode : {"append", "overwrite"}, default "append"
        Prepend the code or write it over the first ``n_classes`` features.
    """
    if labels is None:
        code = np.full((x.shape[0], n_classes), scale / n_classes)
    else:
        code = scale * one_hot(np.asarray(labels), n_classes)
    if mode == "overwrite":
        out = np.array(x, dtype=np.float64, copy=True)
        out[:, :n_classes] = code
        return out
    return np.concatenate([code, x], axis=1)


@dataclass
class ForwardForward(Rule):
    """Two-pass supervised Forward-Forward (conventions: module docstring).

    Where the defaults come from: sum goodness, θ = layer width, RMS normalisation of every
    layer's input including the first, random wrong labels and peer normalisation 0.03 are
    loeweX's MNIST settings (docs/references.rst, ref-forward-forward); every layer scores the prediction (mpezeshki;
    on MNIST validation data 88.5 % against 87.3 % for loeweX's ``"skip_first"`` after 4 epochs of
    10k samples); η = 1e-3 was the best of 1e-3 / 2e-3 on that validation split (last 10k of the
    MNIST training set) for 784→500→500, batch 100, with :class:`~xbar.train.optim.SGD`
    momentum 0.9 (loeweX's optimiser; its lr 1e-3 in the 2B-average convention is 5e-4 here).

    Parameters
    ----------
    lr : float, default 0.001
        Learning rate η (dimensionless; the step is −η·gradient averaged per ``average``). Works
        with plain steps and with ``SGD(momentum=0.9)`` (the latter learns faster); 0.01 with
        plain steps diverges on MNIST (validation accuracy at chance).
    threshold : float or "width", default "width"
        θ in goodness units; "width" = the layer's number of units N_ℓ (for ``goodness="sum"``).
    goodness : {"sum", "mean"}, default "sum"
    label_scale : float, default 1.0
        Height of the one-hot label (input units).
    label_mode : {"append", "overwrite"}, default "append"
        Label as K extra inputs, or written over the first K features.
    negatives : {"random", "hard"}, default "random"
        Wrong label for the negative pass: uniform over wrong labels, or the wrong label the
        network currently rates highest (costs K extra passes per sample).
    normalize_input : bool, default True
        Also length-normalise the first layer's input (layers ≥ 2 always get normalised inputs).
    norm : {"rms", "l2"}, default "rms"
        Length normalisation (module docstring: a factor n in the next layer's goodness).
    score_layers : {"all", "skip_first", "last"}, default "all"
        Layers whose goodness is summed at inference ("skip_first" with one layer scores it).
    average : {"samples", "passes"}, default "samples"
        Divide the step (and the reported loss) by B samples or by the 2B passes.
    peer_norm : float, default 0.03
        Weight of the peer-normalisation loss (0 = off).
    peer_momentum : float, default 0.9
        Momentum μ of the running mean activity.
    """

    lr: float = 0.001
    threshold: float | str = "width"
    goodness: str = "sum"
    label_scale: float = 1.0
    label_mode: str = "append"
    negatives: str = "random"
    normalize_input: bool = True
    norm: str = "rms"
    score_layers: str = "all"
    average: str = "samples"
    peer_norm: float = 0.03
    peer_momentum: float = 0.9
    _running: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    name = "ff"

    def __post_init__(self):
        check_scalar(self.lr, "lr", low=0.0, low_open=True)
        if isinstance(self.threshold, str):
            check_choice(self.threshold, "threshold", {"width"})
        else:
            check_scalar(self.threshold, "threshold")
        check_choice(self.goodness, "goodness", {"mean", "sum"})
        check_scalar(self.label_scale, "label_scale", low=0.0, low_open=True)
        check_choice(self.label_mode, "label_mode", {"append", "overwrite"})
        check_choice(self.negatives, "negatives", {"random", "hard"})
        check_choice(self.norm, "norm", {"rms", "l2"})
        check_choice(self.score_layers, "score_layers", {"all", "skip_first", "last"})
        check_choice(self.average, "average", {"samples", "passes"})
        check_scalar(self.peer_norm, "peer_norm", low=0.0)
        check_scalar(self.peer_momentum, "peer_momentum", low=0.0, high=1.0, high_open=True)

    def layer_sizes(self, n_features, n_classes, hidden):
        if not hidden:
            raise ConfigError(
                "hidden must list at least one layer width for ForwardForward, got []"
            )
        return [self.n_inputs(n_features, n_classes), *hidden]

    def n_inputs(self, n_features, n_classes):
        if self.label_mode == "overwrite":
            if n_features <= n_classes:
                raise ConfigError(
                    f"label_mode='overwrite' needs more than n_classes={n_classes} "
                    f"features, got {n_features}"
                )
            return n_features
        return n_features + n_classes

    def theta(self, n_units: int) -> float:
        """θ of a layer of ``n_units`` units.

        Parameters
        ----------
        n_units : int
            Units of the layer.
        """
        return float(n_units) if self.threshold == "width" else float(self.threshold)

    def _embed(self, x, labels, K):
        return embed_labels(x, labels, K, self.label_scale, self.label_mode)

    def _layer_input(self, k: int, h: np.ndarray) -> np.ndarray:
        return length_normalize(h, kind=self.norm) if (k > 0 or self.normalize_input) else h

    def _passes(self, net, x0: np.ndarray):
        """Forward through all layers; yields (layer input, pre-activation) per layer."""
        h = x0
        out = []
        for k, layer in enumerate(net.layers):
            xin = self._layer_input(k, h)
            a = layer.forward(xin)
            out.append((xin, a))
            h = relu(a)
        return out

    def _scored(self, n_layers: int) -> range:
        if self.score_layers == "last":
            return range(n_layers - 1, n_layers)
        first = 1 if (self.score_layers == "skip_first" and n_layers > 1) else 0
        return range(first, n_layers)

    def scores(self, net, x):
        K = net.n_classes
        s = np.zeros((x.shape[0], K))
        use = self._scored(len(net.layers))
        for c in range(K):
            xe = self._embed(x, np.full(x.shape[0], c), K)
            for k, (_, a) in enumerate(self._passes(net, xe)):
                if k in use:
                    s[:, c] += goodness(relu(a), self.goodness)
        return s

    def passes_per_prediction(self, net):
        return net.n_classes

    def _wrong_labels(self, net, x, y, random_state):
        K = net.n_classes
        if self.negatives == "hard":
            s = self.scores(net, x)
            s[np.arange(len(y)), y] = -np.inf
            return np.argmax(s, axis=1)
        return (y + random_state.integers(1, K, size=len(y))) % K

    def _peer_grad(self, k: int, y_pos: np.ndarray) -> tuple[float, np.ndarray]:
        """Peer-normalisation loss and its gradient per positive sample w.r.t. ``a`` (B, N)."""
        mu = self.peer_momentum
        batch_mean = y_pos.mean(axis=0)
        prev = self._running.get(k)
        m = batch_mean if prev is None else mu * prev + (1.0 - mu) * batch_mean
        share = 1.0 if prev is None else (1.0 - mu)
        self._running[k] = m
        dev = m - m.mean()
        loss = self.peer_norm * float(np.mean(dev * dev))
        # ∂/∂m_j mean_i (m̄ − m_i)² = (2/N)(m_j − m̄); ∂m_j/∂y_bj = share / B (B applied by the step)
        g = self.peer_norm * (2.0 / len(m)) * share * dev
        return loss, g[None, :] * (y_pos > 0)

    def step(self, net, x, y, random_state):
        K, B = net.n_classes, x.shape[0]
        y_neg = self._wrong_labels(net, x, y, random_state)
        # positive and negative passes go through the arrays as one batch of 2B inputs
        both = self._passes(net, np.concatenate([self._embed(x, y, K), self._embed(x, y_neg, K)]))
        div = B if self.average == "samples" else 2 * B
        updates, loss = [], 0.0
        for k, (xin, a) in enumerate(both):
            theta = self.theta(a.shape[1])
            lp, dp, _ = ff_layer_loss(a[:B], True, theta, self.goodness)
            ln, dn, _ = ff_layer_loss(a[B:], False, theta, self.goodness)
            loss += float(np.sum(lp + ln)) / div
            if self.peer_norm > 0:
                lpeer, gpeer = self._peer_grad(k, relu(a[:B]))
                loss += lpeer
                # the peer term is a batch mean over the B positive samples in every convention
                dp = dp + gpeer * (div / B)
            delta = -(self.lr / div) * np.concatenate([dp, dn], axis=0)
            updates.append((k, xin, delta))
        return StepResult(
            loss=loss,
            n_correct=None,
            updates=updates,
            n_passes=2 + (K if self.negatives == "hard" else 0),
        )

    def prepare_input(self, x, net):
        return self._embed(x, None, net.n_classes)

    def state_dict(self) -> dict:
        return {f"running{k}": v.copy() for k, v in self._running.items()}

    def load_state_dict(self, state: dict) -> None:
        self._running = {
            int(k[len("running") :]): np.asarray(v, dtype=np.float64) for k, v in state.items()
        }

    def config(self) -> dict:
        d = super().config()
        d.pop("_running", None)
        return d
