"""A stack of layers plus the number of classes: what ``fit`` trains and a rule acts on."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .._random import spawn
from .._validation import check_scalar
from ..exceptions import ConfigError
from .layers import FloatLayer, Layer


class Network:
    """Layers applied in order; what happens between them (ReLU, normalisation) is the rule's.

    Parameters
    ----------
    layers : sequence of Layer
        ``layers[k].n_out`` must equal ``layers[k + 1].n_in``.
    n_classes : int
        Number of classes of the task.
    """

    def __init__(self, layers: Sequence[Layer], n_classes: int):
        layers = list(layers)
        if not layers:
            raise ConfigError("layers must hold at least one layer, got 0")
        for k in range(len(layers) - 1):
            if layers[k].n_out != layers[k + 1].n_in:
                raise ConfigError(
                    f"layers[{k}].n_out ({layers[k].n_out}) must equal "
                    f"layers[{k + 1}].n_in ({layers[k + 1].n_in})"
                )
        check_scalar(n_classes, "n_classes", low=2, integer=True)
        self.layers = layers
        self.n_classes = int(n_classes)

    @property
    def sizes(self) -> list[int]:
        """[n_in of layer 0, n_out of each layer]."""
        return [self.layers[0].n_in] + [layer.n_out for layer in self.layers]

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, k: int) -> Layer:
        return self.layers[k]

    def __iter__(self):
        return iter(self.layers)

    def state_dict(self) -> dict:
        """Per-layer state (each layer's own ``state_dict``) for checkpoints."""
        return {f"layer{k}": layer.state_dict() for k, layer in enumerate(self.layers)}

    def load_state_dict(self, state: dict) -> None:
        """Restore every layer from :meth:`state_dict` (for resuming from a checkpoint).

        Parameters
        ----------
        state : dict
            What :meth:`state_dict` returned.
        """
        for k, layer in enumerate(self.layers):
            layer.load_state_dict(state[f"layer{k}"])

    def __repr__(self) -> str:
        return f"Network(sizes={self.sizes}, n_classes={self.n_classes})"


LayerFactory = Callable[..., Layer]


def build_network(
    rule,
    n_features: int,
    n_classes: int,
    hidden: Sequence[int] = (),
    *,
    layer_factory: LayerFactory | None = None,
    bias: bool = True,
    random_state=None,
) -> Network:
    """Build the network a rule expects for ``n_features`` inputs and ``n_classes`` classes.

    Parameters
    ----------
    rule : Rule
        Decides the layer sizes (``rule.layer_sizes``), e.g. Forward-Forward adds ``n_classes``
        label inputs, softmax regression has no hidden layer.
    n_features : int
        Width of the features.
    n_classes : int
        Number of classes.
    hidden : sequence of int
        Hidden layer widths.
    bias : bool, default True
        Whether every layer has a bias row.
    layer_factory : callable, optional
        ``layer_factory(n_in, n_out, bias=..., random_state=..., index=k) -> Layer``; default builds
        float layers (:meth:`FloatLayer.init`).
    random_state : None | int | Generator
        Seeds the weight initialisation (one independent stream per layer).
    """
    sizes = rule.layer_sizes(int(n_features), int(n_classes), list(hidden))
    rngs = spawn(random_state, len(sizes) - 1)
    layers: list[Layer] = []
    for k in range(len(sizes) - 1):
        if layer_factory is None:
            layers.append(FloatLayer.init(sizes[k], sizes[k + 1], bias=bias, random_state=rngs[k]))
        else:
            layers.append(
                layer_factory(sizes[k], sizes[k + 1], bias=bias, random_state=rngs[k], index=k)
            )
    return Network(layers, n_classes)


def relu(a: np.ndarray) -> np.ndarray:
    """max(a, 0).

    Parameters
    ----------
    a : ndarray
        Pre-activations (dimensionless).
    """
    return np.maximum(a, 0.0)
