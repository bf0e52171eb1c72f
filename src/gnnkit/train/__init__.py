"""Training: the one loop (``fit``), optimizer groups,
early stopping, checkpoints, seeds."""
from gnnkit.train.checkpoint import CheckpointError, load_checkpoint, save_checkpoint, write_json, write_jsonl
from gnnkit.metrics import METRICS, accuracy, micro_f1
from gnnkit.train.optim import l2_penalty, make_optimizer, param_groups
from gnnkit.train.seed import seed_everything
from gnnkit.train.stopping import GATStopping, GCNStopping, NoStopping, make_stopping

from gnnkit.train.trainer import FitResult, TrainConfig, TrainingInterrupted, fit

__all__ = [
    "CheckpointError", "TrainingInterrupted", "load_checkpoint", "save_checkpoint", "write_json", "write_jsonl", "METRICS", "accuracy", "micro_f1",
    "l2_penalty", "make_optimizer", "param_groups", "seed_everything", "GATStopping", "GCNStopping", "NoStopping",
    "make_stopping", "FitResult", "TrainConfig", "fit",
]
