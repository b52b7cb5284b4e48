"""Hyper-parameter search for LEAPS configs (``tools/tune.py``): search
spaces over config keys, trials run by ``tools/invert.py``, an Optuna study,
MLflow records and a best config that inherits the original."""
from .best_config import best_config_text, write_best_config
from .search import Search, SearchError, SearchSettings
from .space import Param, Space, SpaceError, load_space, parse_space
from .trial import TrialScore, objective, score_jobs

__all__ = ['Param', 'Search', 'SearchError', 'SearchSettings', 'Space',
           'SpaceError', 'TrialScore', 'best_config_text', 'load_space',
           'objective', 'parse_space', 'score_jobs', 'write_best_config']
