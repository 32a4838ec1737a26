"""A fast, gradient-checked ReLU/softmax neural-network classifier for scikit-learn."""

from ._classifier import SoftmaxNetClassifier, TrainingDivergedError
from ._gradcheck import GradientCheck, check_gradients, numerical_gradients

__all__ = [
    "SoftmaxNetClassifier",
    "TrainingDivergedError",
    "GradientCheck",
    "check_gradients",
    "numerical_gradients",
]
__version__ = "0.1.0"
