"""Faults in the middle of work: a NaN loss stops training with the step and the batch's videos; a process
killed while writing a checkpoint leaves the previous checkpoint whole."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

import paperlib.engine.trainer as trainer
from paperlib.configs import recipe_path
from paperlib.engine.config import load_config
from paperlib.models import create
from paperlib.models.checkpoint import read_checkpoint

SMOKE = recipe_path("smoke")


class _GoesNaN(torch.nn.Module):
    """Wraps a model; from the third call on, its logits are NaN (what a diverging run produces)."""

    def __init__(self, model: torch.nn.Module) -> None:
        super().__init__()
        self.model, self.calls = model, 0

    def forward(self, x):
        self.calls += 1
        logits = self.model(x)
        return logits * float("nan") if self.calls >= 3 else logits


@pytest.mark.slow
def test_a_nan_loss_stops_training_naming_the_step_and_the_videos(tmp_path, monkeypatch):
    monkeypatch.setattr(trainer, "create", lambda *args, **kwargs: _GoesNaN(create(*args, **kwargs)))
    config = load_config(
        SMOKE, [f"output_dir={tmp_path / 'run'}", f"data.cache_dir={tmp_path / 'data'}", "model.name=tsn_r50"]
    )
    with pytest.raises(FloatingPointError, match=r"loss is nan at epoch 0, step 2 .*videos in the batch: \[.+\]"):
        trainer.train(config)


@pytest.mark.slow
def test_killed_while_saving_a_checkpoint_leaves_the_previous_one_whole(tmp_path):
    path = tmp_path / "last.pth"
    script = textwrap.dedent(f"""
        import sys, torch
        from paperlib.models import create, save_checkpoint
        model = create("tsn_r50", 10, 8)  # ~100 MB checkpoint: each save takes a while
        for k in range(10**6):
            with torch.no_grad():
                for p in model.parameters():
                    p.fill_(k)
            save_checkpoint(model, {str(path)!r}, step=k)
            print(k, flush=True)
    """)
    child = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "0"  # the first checkpoint is complete
        time.sleep(0.7)  # then kill it, most likely in the middle of a later save
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        child.kill()
    saved = read_checkpoint(path)  # loads: never half-written
    step = saved["step"]
    assert all(
        (v == step).all()
        for k, v in saved["state_dict"].items()
        if v.is_floating_point() and "running" not in k and "num_batches" not in k
    )


@pytest.mark.slow
def test_a_ddp_worker_that_dies_makes_torchrun_fail_fast(tmp_path):
    """Rank 1 exits abruptly at its third training step; rank 0 is left waiting in a collective. torchrun
    must notice, stop the survivor and exit non-zero within seconds, not hang."""
    script = tmp_path / "dying_worker.py"
    script.write_text(
        textwrap.dedent(f"""
        import os, sys
        import paperlib.engine.trainer as trainer
        from paperlib.models import create

        def dying_create(*args, **kwargs):
            model = create(*args, **kwargs)
            if os.environ.get("RANK") == "1":
                calls = [0]
                forward = model.forward
                def forward_then_die(x):
                    calls[0] += 1
                    if calls[0] == 3:
                        os._exit(7)
                    return forward(x)
                model.forward = forward_then_die
            return model

        trainer.create = dying_create
        from paperlib.train import main
        sys.exit(main(["--config", {str(SMOKE)!r}, "output_dir={tmp_path / "run"}",
                       "data.cache_dir={tmp_path / "data"}", "optim.batch_size=2", "optim.epochs=3"]))
    """)
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node=2", "--master_port=29533", str(script)],
        capture_output=True,
        text=True,
        timeout=240,
    )
    elapsed = time.perf_counter() - started
    assert done.returncode != 0
    assert re.search(r"exitcode\s*:\s*7\b", done.stderr), done.stderr[-2000:]  # the dying rank, reported
    assert elapsed < 180, f"torchrun took {elapsed:.0f} s to give up"
