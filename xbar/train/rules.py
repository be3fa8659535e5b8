"""The rule interface: a layer-local learning signal per layer, never a weight write.

Each rule's ``step`` runs forward passes through the network's layers (through the circuit when
they are analog) and returns, per layer, ``(x, delta)`` pairs whose outer products ``xᵀ·delta`` are
the weight changes it asks for (already multiplied by the learning rate and signed as a descent
step). ``fit`` hands them to the layers, which apply them as float additions or as pulses.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class StepResult:
    """What one training step produced.

    Parameters
    ----------
    loss : float
        Mean loss of the batch (summed over layers for layer-local rules), before the update.
    n_correct : int or None
        Correct predictions in the batch when the rule gets them for free (single-pass rules),
        else None.
    updates : list of (layer_index, x, delta)
        Requested changes ``ΔW_k = augment(x)ᵀ · delta``; x (B, n_in), delta (B, n_out).
    n_passes : int
        Forward passes per sample this step used (2 for two-pass Forward-Forward).
    """

    loss: float
    n_correct: int | None = None
    updates: list = field(default_factory=list)
    n_passes: int = 1


class Rule:
    """Base class: subclasses define ``layer_sizes``, ``step`` and ``scores``."""

    name = "rule"

    def layer_sizes(self, n_features: int, n_classes: int, hidden: list[int]) -> list[int]:
        """Widths [inputs, layer outputs...] of the network this rule trains.

        Parameters
        ----------
        n_features : int
            Width of the features.
        n_classes : int
            Number of classes.
        hidden : list of int
            Hidden layer widths.
        """
        raise NotImplementedError

    def n_inputs(self, n_features: int, n_classes: int) -> int:
        """Width of the first layer's input for ``n_features`` features.

        Parameters
        ----------
        n_features : int
            Width of the features.
        n_classes : int
            Number of classes.
        """
        return n_features

    def prepare_input(self, x: np.ndarray, net) -> np.ndarray:
        """Features -> first-layer input for plain (label-free) passes; identity by default.

        Parameters
        ----------
        x : ndarray, shape (B, n_features)
            A batch of features (dimensionless).
        net : Network
            The network the rule trains.
        """
        return x

    def step(
        self, net, x: np.ndarray, y: np.ndarray, random_state: np.random.Generator
    ) -> StepResult:
        """One training step on a batch ``x`` (B, n_features), labels ``y`` (B,).

        Parameters
        ----------
        net : Network
            The network the rule trains.
        x : ndarray, shape (B, n_features)
            A batch of features (dimensionless).
        y : ndarray of int, shape (B,)
            Labels.
        random_state : numpy.random.Generator
            The rule's draws (e.g. negative labels).
        """
        raise NotImplementedError

    def scores(self, net, x: np.ndarray) -> np.ndarray:
        """Class scores (B, n_classes) used for prediction (higher is more likely).

        Parameters
        ----------
        net : Network
            The network the rule trains.
        x : ndarray, shape (B, n_features)
            A batch of features (dimensionless).
        """
        raise NotImplementedError

    def predict(self, net, x: np.ndarray) -> np.ndarray:
        """Predicted labels (B,).

        Parameters
        ----------
        net : Network
            The network the rule trains.
        x : ndarray, shape (B, n_features)
            A batch of features (dimensionless).
        """
        return np.argmax(self.scores(net, x), axis=1)

    def passes_per_prediction(self, net) -> int:
        """Forward passes through the network needed to classify one sample.

        Parameters
        ----------
        net : Network
            The network the rule trains.
        """
        return 1

    def state_dict(self) -> dict:
        """State the rule carries between steps (arrays; e.g. running means), for checkpoints."""
        return {}

    def load_state_dict(self, state: dict) -> None:
        """Restore :meth:`state_dict`.

        Parameters
        ----------
        state : dict
            What ``state_dict`` returned.
        """

    def config(self) -> dict:
        """The rule's parameters (for results files and checkpoints)."""
        from dataclasses import asdict, is_dataclass

        d: dict = asdict(self) if is_dataclass(self) else {}
        return {"rule": self.name, **d}
