"""Training: the fit loop, its events and controls, evaluation metrics and run history. No Qt."""

from mnist_studio.training.config import TrainConfig
from mnist_studio.training.control import TrainingControl
from mnist_studio.training.events import BatchEnd, Callback, EpochEnd, FitBegin, FitEnd
from mnist_studio.training.history import RunHistory
from mnist_studio.training.metrics import Evaluation, evaluate
from mnist_studio.training.trainer import Trainer

__all__ = ["BatchEnd", "Callback", "EpochEnd", "Evaluation", "FitBegin", "FitEnd", "RunHistory", "TrainConfig",
           "Trainer", "TrainingControl", "evaluate"]
