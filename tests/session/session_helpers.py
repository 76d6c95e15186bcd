"""Configurations and helpers shared by the session tests."""
W1 = {"seed": 0, "data": {"name": "spiral", "n_samples": 1000},
      "model": {"hidden": [[8, "tanh"], [8, "tanh"]], "output": "sigmoid", "loss": "bce"},
      "optimizer": {"name": "sgd", "lr": 0.03, "momentum": 0.9},
      "training": {"batch_size": 10, "epochs": 50}}
TINY = {"seed": 3, "data": {"name": "xor", "n_samples": 200},
        "model": {"hidden": [[4, "tanh"]], "output": "sigmoid", "loss": "bce"},
        "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9},
        "training": {"batch_size": 8, "epochs": 20}}


def record_w1(path, changes=True):
    """A W1 run with a learning-rate change, a hand-set weight and a batch-size change."""
    from workbench.run import Run
    from workbench.session import recorder as R
    share, R.SNAPSHOT_COST_SHARE = R.SNAPSHOT_COST_SHARE, 0.0   # every 1000 steps
    try:
        run = Run(W1, session=path)
    finally:
        R.SNAPSHOT_COST_SHARE = share
    run.run_steps(2100)
    if changes:
        run.set_hyperparameters(lr=0.1)
        run.run_steps(1500)
        run.set_weight(1, 2, 3, 0.25)
        run.set_hyperparameters(momentum=0.5, batch_size=20)
        run.run_steps(1777)
    run.finish()
    return run
