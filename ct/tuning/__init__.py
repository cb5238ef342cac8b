"""Hyperparameter search over ct training with keras-tuner (``ct tune``).

- :mod:`ct.tuning.config`: the ``tune:`` section (tuner, trials, objective, search space);
- :mod:`ct.tuning.space`: search-space parsing and checks against the training config;
- :mod:`ct.tuning.objectives`: the figures a search can optimise;
- :mod:`ct.tuning.search`: :class:`HyperparameterSearch`, trials as ``ct train`` runs;
- :mod:`ct.tuning.report`: the trials table, ``best_config.yaml`` and ``search.png``.

Example:
    >>> from ct import HyperparameterSearch
    >>> result = HyperparameterSearch.from_file("configs/tune_ct.yaml", "runs/tune").run()
"""
