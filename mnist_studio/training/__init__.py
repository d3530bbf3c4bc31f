"""Training: the fit loop, its events, stop token and live commands, evaluation metrics and run history. No Qt."""

from mnist_studio.training.commands import Command, SetLearningRate
from mnist_studio.training.config import TrainConfig
from mnist_studio.training.events import (BatchEnd, Callback, EpochEnd, FitBegin, FitEnd, ScheduleRestart,
                                          SettingChanged)
from mnist_studio.training.history import RunHistory
from mnist_studio.training.metrics import Evaluation, evaluate
from mnist_studio.training.stop import Stopped, StopToken
from mnist_studio.training.trainer import Trainer

__all__ = ["BatchEnd", "Callback", "Command", "EpochEnd", "Evaluation", "FitBegin", "FitEnd", "RunHistory",
           "ScheduleRestart", "SetLearningRate", "SettingChanged", "StopToken", "Stopped", "TrainConfig", "Trainer", "evaluate"]
