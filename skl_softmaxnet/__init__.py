"""A fast, gradient-checked ReLU/softmax neural-network classifier for scikit-learn."""

from ._classifier import SoftmaxNetClassifier, TrainingDivergedError
from ._gradcheck import GradientCheck, check_gradients, numerical_gradients
from ._plot import TrainingCurveDisplay

__all__ = [
    "SoftmaxNetClassifier",
    "TrainingDivergedError",
    "GradientCheck",
    "check_gradients",
    "numerical_gradients",
    "TrainingCurveDisplay",
]
__version__ = "0.1.0"
