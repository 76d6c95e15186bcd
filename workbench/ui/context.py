"""What a panel knows about the run it shows (GUI thread; built once per run)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..config import RunConfig
from ..core import Network
from ..data import Dataset

# Colours that carry meaning everywhere (UI.md): classes orange/blue, severities, layers.
CLASS_COLORS = ("#f59322", "#0877bd")          # class 0 orange, class 1 blue (Playground)
MULTI_COLORS = ("#f59322", "#0877bd", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")
SEVERITY_COLORS = {"info": "#6c8ebf", "warning": "#e0a100", "error": "#d62728"}
LAYER_COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b",
                "#e377c2", "#17becf")


def layer_color(l: int) -> str:
    return LAYER_COLORS[l % len(LAYER_COLORS)]


@dataclass
class RunContext:
    """The structure of the run a panel shows; panels rebuild their items on a new one.

    ``network`` is a private copy (never the training thread's object): a panel may set
    its ``theta`` from a snapshot and call ``predict``/``forward`` on the GUI thread for
    cheap things. ``replay`` is True when the snapshots come from a session file.
    """
    config: RunConfig
    dataset: Dataset
    network: Network
    replay: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def task(self) -> str:
        return self.dataset.task

    @property
    def n_layers(self) -> int:
        return self.network.n_layers

    @property
    def layer_names(self) -> list[str]:
        names = [f"hidden {i + 1} ({a})" for i, (_, a) in enumerate(self.network.hidden)]
        return names + [f"output ({self.network.output})"]

    @property
    def input_plane(self) -> bool:
        """True when the raw inputs are 2-D (a decision map over the plane makes sense)."""
        return self.dataset.raw_dim == 2

    def theta_view(self, theta: np.ndarray) -> Network:
        """The private network with ``theta`` loaded (for cheap GUI-side computations)."""
        self.network.theta[:] = theta
        return self.network
