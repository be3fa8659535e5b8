"""On-chip training: update rules, their mapping to programming pulses, and the training loop.

Rules (each a layer-local signal turned into ``ΔW = xᵀ·δ`` requests):
:class:`ForwardForward` (two-pass supervised), :class:`Competitive` (single-pass class-group
goodness), :class:`SoftmaxSGD` (optionally with learning from mistakes),
:class:`LearningFromMistakes`, and :class:`Backprop` (the floating-point reference).
"""

from .analog import CircuitReader
from .backprop import Backprop
from .competitive import Competitive, competitive_layer_loss, group_goodness
from .forward_forward import ForwardForward, embed_labels, ff_layer_loss, goodness
from .checkpoint import load_checkpoint, save_checkpoint
from .loop import FitResult, evaluate, fit, write_metrics, write_results
from .layers import FloatLayer, Layer, WeightAccessors, augment, init_weights, stacked_weights
from .network import Network, build_network
from .rules import Rule, StepResult
from .pulse_mapping import PulseMapping
from .pulsed import (
    PairArray,
    ProgramVerifyWriter,
    PulsedLayer,
    ResetOnlyWriter,
    WriteCircuit,
    pulsed_layer_factory,
)
from .softmax import (
    LFM_VARIANTS,
    LearningFromMistakes,
    SoftmaxSGD,
    lfm_published_update,
    lfm_update,
)
from .optim import SGD, LRSchedule

__all__ = [
    "CircuitReader",
    "WriteCircuit",
    "Backprop",
    "Competitive",
    "FitResult",
    "FloatLayer",
    "PairArray",
    "ProgramVerifyWriter",
    "PulseMapping",
    "PulsedLayer",
    "ResetOnlyWriter",
    "evaluate",
    "fit",
    "load_checkpoint",
    "pulsed_layer_factory",
    "save_checkpoint",
    "write_metrics",
    "write_results",
    "ForwardForward",
    "Layer",
    "LearningFromMistakes",
    "Network",
    "Rule",
    "SGD",
    "LRSchedule",
    "SoftmaxSGD",
    "StepResult",
    "augment",
    "build_network",
    "competitive_layer_loss",
    "embed_labels",
    "ff_layer_loss",
    "goodness",
    "group_goodness",
    "init_weights",
    "lfm_update",
    "lfm_published_update",
    "LFM_VARIANTS",
    "stacked_weights",
    "WeightAccessors",
]
