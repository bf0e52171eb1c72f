"""The papers' protocols as data (``EXPERIMENTS``) and the code that runs them."""
from gnnkit.experiments.data import DataAbsent, load_data, load_task, make_task
from gnnkit.experiments.registry import EXPERIMENTS, get
from gnnkit.experiments.run import format_table, reproduce, run
from gnnkit.experiments.spec import Experiment

__all__ = ["DataAbsent", "load_data", "load_task", "make_task", "EXPERIMENTS", "get", "format_table", "reproduce",
           "run", "Experiment"]
