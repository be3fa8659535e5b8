"""Softmax regression by SGD, learning from mistakes, and their combination.

Softmax regression (one layer, logits ``z = x·W``)::

    p = softmax(z),   L = −log p_y,   ΔW_SGD = −η · xᵀ (p − onehot(y)) / B

Learning from mistakes (LFM; after Bak & Chialvo, Phys. Rev. E 63:031912, 2001, and Nikiruy et
al., Sci. Rep. 14:7802, 2024; docs/references.rst, ref-learning-from-mistakes) is driven only by
misclassified samples: with the active inputs ``A = {i : x_i > active_threshold}`` (binary row
signal ``s_i = 1[i∈A]``) and the wrong winner ``k* = argmax z``. Two variants:

``variant="published"`` (the cited rule: pruning without positive reinforcement, with selective
punishment)::

    ΔW_LFM[i, k*] = −η_LFM · s_i · (1 − (1 − f)·T[i, k*]) / B        only on samples with k* ≠ y

where ``T[i, k] = 1`` once input ``i`` was active in a correct answer of class ``k`` ("synapses
that once led to success are punished much less", punishment factor ``f = selective_factor``).
It only ever depresses: no synapse of the true class (or of any class) is potentiated. The
*blooming* half of the rule (start from a surplus of strong connections) is the initial state of
the weights and so belongs to whoever builds the layer (``validation/seeds/study2.py`` fabricates
every G⁺ in the LRS).

``variant="reinforcing"`` (xbar's earlier rule, kept under this name)::

    ΔW_LFM = η_LFM · sᵀ (strengthen·onehot(y) − onehot(k*)) / B      only on samples with k* ≠ y

which also reinforces the true class on the active inputs (``strengthen=True``).
``SoftmaxSGD(lfm_rate=...)`` applies the SGD and LFM terms in the same step (as two updates).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._validation import check_scalar
from ..exceptions import ConfigError
from ._common import log_softmax, one_hot, softmax
from .rules import Rule, StepResult

LFM_VARIANTS = ("reinforcing", "published")


def lfm_update(
    x: np.ndarray,
    y: np.ndarray,
    logits: np.ndarray,
    rate: float,
    active_threshold: float,
    strengthen: bool,
):
    """Row signal and column signal of the reinforcing learning-from-mistakes update.

    Parameters
    ----------
    x : ndarray, shape (B, n_in)
        Inputs (input units).
    y : ndarray of int, shape (B,)
        True classes.
    logits : ndarray, shape (B, K)
        The layer's outputs for ``x`` (the prediction is their argmax).
    rate : float
        η_LFM (dimensionless).
    active_threshold : float
        An input is active above this value (input units).
    strengthen : bool
        Also reinforce the true class (``variant="reinforcing"``).

    Returns
    -------
    s : ndarray, shape (b, n_in)
        Binary active inputs of the ``b`` misclassified samples.
    delta : ndarray, shape (b, K)
        Their column signals (per sample, not yet divided by the batch size).
    """
    pred = np.argmax(logits, axis=1)
    wrong = pred != y
    s = (x[wrong] > active_threshold).astype(np.float64)
    K = logits.shape[1]
    delta = rate * (float(strengthen) * one_hot(y[wrong], K) - one_hot(pred[wrong], K))
    return s, delta


def lfm_published_update(
    x: np.ndarray,
    y: np.ndarray,
    logits: np.ndarray,
    rate: float,
    active_threshold: float,
    tags: np.ndarray | None = None,
    selective_factor: float = 1.0,
):
    """Row and column signals of learning from mistakes as published (pruning only).

    Parameters
    ----------
    x, y, logits, rate, active_threshold
        As in ``lfm_update``.
    tags : ndarray of bool, shape (n_in, K), optional
        ``tags[i, k]``: input ``i`` was once active in a correct answer of class ``k``. Tagged
        synapses of the wrong winner are punished by ``selective_factor`` × the rate.
        None: no selective punishment.
    selective_factor : float, default 1.0
        Punishment factor of tagged synapses, in [0, 1] (1 = no selectivity).

    Returns
    -------
    s : ndarray, shape (b, n_in)
        Row signals of the ``b`` misclassified samples: ``1[x_i active]``, scaled by
        ``selective_factor`` where the synapse to the wrong winner is tagged (>= 0).
    delta : ndarray, shape (b, K)
        ``−rate`` on the wrong winner's column, 0 elsewhere (<= 0: depression only).
    """
    pred = np.argmax(logits, axis=1)
    wrong = pred != y
    s = (x[wrong] > active_threshold).astype(np.float64)
    K = logits.shape[1]
    if tags is not None and len(s):
        tagged = tags[:, pred[wrong]].T  # (b, n_in): synapse (i, k*_b) tagged
        s = s * np.where(tagged, selective_factor, 1.0)
    delta = -rate * one_hot(pred[wrong], K)
    return s, delta


def _check_single_layer(net, name):
    if len(net.layers) != 1:
        raise ConfigError(
            f"{name} trains a single-layer network (softmax regression), "
            f"got {len(net.layers)} layers"
        )


@dataclass
class SoftmaxSGD(Rule):
    """Stochastic gradient descent on softmax regression, optionally with learning from mistakes.

    Parameters
    ----------
    lr : float, default 0.1
        SGD learning rate η (dimensionless; the step is −η/B times the summed gradient, the
        reported loss the mean cross-entropy). Plain steps, batch 100, MNIST: 90.5 / 91.0 / 91.6 %
        validation accuracy after epochs 1-3 (50k training digits; momentum 0.9 with η = 0.01
        gives the same), 91.8 % test after 5 epochs on 60k (``examples/train/sgd_mnist.toml``).
    lfm_rate : float, default 0.0
        η_LFM of the learning-from-mistakes term (0 = SGD alone). On MNIST (η = 0.1, batch 100,
        3 epochs, reinforcing variant) 0.05 / 0.01 / 0.002 gave 91.7 / 91.6 / 91.6 % validation
        accuracy (SGD alone 91.6 %).
    active_threshold : float, default 0.5
        An input is "active" when above this value (input units; MNIST/digits scaled to [0, 1]).
    strengthen : bool or None, default None
        The LFM term also reinforces the true class on the active inputs. None: True for
        ``variant="reinforcing"``, False for ``"published"`` (which does not allow True).
    variant : {"reinforcing", "published"}, default "reinforcing"
        Which LFM rule (module docstring): xbar's earlier rule, or the published pruning-only
        rule with selective punishment.
    selective_factor : float, default 0.1
        ``"published"`` only: punishment factor in [0, 1] of synapses that once led to a correct
        answer (1 = no selective punishment).
    """

    lr: float = 0.1
    lfm_rate: float = 0.0
    active_threshold: float = 0.5
    strengthen: bool | None = None
    variant: str = "reinforcing"
    selective_factor: float = 0.1
    _tags: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)

    name = "sgd"

    def __post_init__(self):
        check_scalar(self.lr, "lr", low=0.0)
        check_scalar(self.lfm_rate, "lfm_rate", low=0.0)
        check_scalar(self.active_threshold, "active_threshold")
        check_scalar(self.selective_factor, "selective_factor", low=0.0, high=1.0)
        if self.variant not in LFM_VARIANTS:
            raise ConfigError(f"variant must be one of {LFM_VARIANTS}, got {self.variant!r}")
        if self.variant == "published" and self.strengthen:
            raise ConfigError(
                "variant='published' does no positive reinforcement: strengthen "
                "must be False or None, got True"
            )
        if self.strengthen is None:
            self.strengthen = self.variant == "reinforcing"
        if self.lr == 0 and self.lfm_rate == 0:
            raise ConfigError("lr and lfm_rate must not both be 0")
        if self.lfm_rate > 0:
            self.name = "sgd+lfm"

    def layer_sizes(self, n_features, n_classes, hidden):
        if hidden:
            raise ConfigError(f"hidden must be empty for softmax regression, got {hidden}")
        return [n_features, n_classes]

    def scores(self, net, x):
        _check_single_layer(net, type(self).__name__)
        return net.layers[0].forward(x)

    @property
    def tags(self) -> np.ndarray | None:
        """Selective-punishment tags ``(n_in, K)`` of the published variant (None before the
        first step): input ``i`` was active in a correct answer of class ``k``."""
        return self._tags

    def reset_tags(self) -> None:
        """Forget the selective-punishment tags (a new network)."""
        self._tags = None

    def lfm_signals(self, x: np.ndarray, y: np.ndarray, z: np.ndarray):
        """Row and column signals ``(s, delta)`` of this rule's LFM term for a batch.

        Parameters
        ----------
        x : ndarray, shape (B, n_in)
            Inputs (input units).
        y : ndarray of int, shape (B,)
            True classes.
        z : ndarray, shape (B, K)
            Logits of ``x`` (read before the step's updates).

        Returns
        -------
        s, delta : ndarray
            As ``lfm_update`` / ``lfm_published_update`` (per sample); the published
            variant also updates :attr:`tags` from the correct samples of the batch.
        """
        if self.variant == "reinforcing":
            return lfm_update(x, y, z, self.lfm_rate, self.active_threshold, bool(self.strengthen))
        if self._tags is None or self._tags.shape != (x.shape[1], z.shape[1]):
            self._tags = np.zeros((x.shape[1], z.shape[1]), dtype=bool)
        s, delta = lfm_published_update(
            x, y, z, self.lfm_rate, self.active_threshold, self._tags, self.selective_factor
        )
        right = np.argmax(z, axis=1) == y
        if right.any():
            act = x[right] > self.active_threshold  # (r, n_in)
            hit = act.T.astype(np.int64) @ one_hot(y[right], z.shape[1]).astype(np.int64)
            self._tags |= hit > 0
        return s, delta

    def step(self, net, x, y, random_state):
        _check_single_layer(net, type(self).__name__)
        B, K = x.shape[0], net.n_classes
        z = net.layers[0].forward(x)
        loss = float(np.mean(-log_softmax(z)[np.arange(B), y]))
        updates = []
        if self.lr > 0:
            updates.append((0, x, -(self.lr / B) * (softmax(z) - one_hot(y, K))))
        if self.lfm_rate > 0:
            s, delta = self.lfm_signals(x, y, z)
            if len(s):
                updates.append((0, s, delta / B))
        n_correct = int(np.sum(np.argmax(z, axis=1) == y))
        return StepResult(loss=loss, n_correct=n_correct, updates=updates)


@dataclass
class LearningFromMistakes(SoftmaxSGD):
    """Learning from mistakes alone (no gradient term): ``SoftmaxSGD(lr=0, lfm_rate=rate)``.

    Parameters
    ----------
    lr : float, default 0.0
        Learning rate of the gradient term (dimensionless): 0, the update is the LFM term alone.
    lfm_rate : float, default 0.01
        η_LFM (dimensionless).
    variant : {"reinforcing", "published"}, default "reinforcing"
        See :class:`SoftmaxSGD`.
    active_threshold, strengthen, selective_factor
        As for :class:`SoftmaxSGD`.
    """

    lr: float = 0.0
    lfm_rate: float = 0.01

    name = "lfm"

    def __post_init__(self):
        super().__post_init__()
        self.name = "lfm"
