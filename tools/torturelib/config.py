"""The configurations a torture run cycles through: both orderings, epoch
and iteration hooks, background saves on and off, one and three ranks."""
import itertools
import json
import re
from dataclasses import dataclass

MAX_KEEP = 2
ITERS_PER_EPOCH = 16  # train-demo's default data: 1024 samples in batches of 64


@dataclass(frozen=True)
class Config:
    ordering: str     # "safe" or "reference"
    mode: str         # "epoch" or "iter"
    async_save: bool
    ranks: int
    preempt: bool = False  # the ckpt profile, stopped by SIGTERM (X5) instead of SIGKILL

    @property
    def name(self):
        return (f"{self.ordering}/{self.mode}/{'async' if self.async_save else 'sync'}/ranks={self.ranks}"
                + ("/preempt" if self.preempt else ""))

    @property
    def epochs(self):
        return 4 if self.mode == "epoch" else 3

    @property
    def max_iters(self):
        return self.epochs * ITERS_PER_EPOCH

    @property
    def hook(self):
        kwargs = {"interval": 1 if self.mode == "epoch" else 5, "max_keep_ckpts": MAX_KEEP, "save_best": "acc",
                  "published_keys": ["meta", "state_dict"]}
        if self.mode == "iter":
            kwargs["by_epoch"] = False
        return json.dumps(kwargs)

    def is_periodic(self, name):
        return re.fullmatch(r"epoch_\d+\.pth" if self.mode == "epoch" else r"iter_\d+\.pth", name) is not None

    def trainer_args(self, work_dir):
        args = ["--work-dir", work_dir, "--epochs", str(self.epochs), "--hook", self.hook,
                "--ordering", self.ordering, "--resume", "auto", "--seed", "3"]
        return args + ([] if self.async_save else ["--sync"]) + (["--profile", "ckpt"] if self.preempt else [])


def all_configs(ranks=(1, 3), preempt=False):
    return [Config(o, m, a, r, preempt) for o, m, a, r in
            itertools.product(("safe", "reference"), ("epoch", "iter"), (True, False), ranks)]


def select(configs, spec):
    """Keeps the configs whose name contains every comma-separated part of `spec`."""
    if not spec:
        return configs
    parts = [p.strip() for p in spec.split(",") if p.strip()]
    return [c for c in configs if all(p in c.name for p in parts)]
