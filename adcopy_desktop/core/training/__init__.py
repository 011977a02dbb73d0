"""Learning from accepted copy: data, the training child, the evaluation gate, automatic mode.

Nothing here imports torch; the training itself runs in ``trainer.py``'s child process.
"""

from adcopy_desktop.core.training.config import TrainingConfig, TrainingError
from adcopy_desktop.core.training.gate import GateDecision, decide
from adcopy_desktop.core.training.pipeline import TrainingOutcome, TrainingProgress, run_training

__all__ = ["GateDecision", "TrainingConfig", "TrainingError", "TrainingOutcome", "TrainingProgress", "decide",
           "run_training"]
