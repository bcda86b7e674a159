"""Multi-node training as torchrun does it, on one machine: two "nodes" are two ``torchrun`` processes on
127.0.0.1 that meet at a c10d rendezvous, one gloo worker each. They train and evaluate like one run; a worker
SIGKILLed mid-epoch is restarted by torchrun (``--max-restarts``) and the group resumes from the last mid-epoch
checkpoint by itself, to the same result as an uninterrupted run; a rendezvous that never completes fails
with a one-line error."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from paperlib.models.checkpoint import read_checkpoint

ROOT = Path(__file__).resolve().parents[1]
SMOKE = ROOT / "paperlib" / "configs" / "smoke.yaml"
# 2 ranks x batch 2: 7 steps per epoch (30 training videos); a checkpoint every 3 steps and at each epoch's end
SMALL = ["optim.batch_size=2", "optim.epochs=2", "checkpoint_every=3", "eval.batch_size=3"]
STEPS_PER_EPOCH = 7


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env() -> dict:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}


def torchrun_nodes(program: list[str], logs: Path, started: int = 2, max_restarts: int = 0, **options) -> list:
    """``started`` of 2 torchrun agents, one worker each, meeting at a fresh loopback rendezvous; node ``i``'s
    output goes to ``logs/node{i}.out`` and ``.err`` (files, not pipes: a full pipe would stall a node)."""
    port = free_port()
    command = [
        sys.executable,
        "-m",
        options.get("launcher", "torch.distributed.run"),
        "--nnodes=2",
        "--nproc-per-node=1",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint=127.0.0.1:{port}",
        f"--rdzv-id=test{port}",
        "--local-addr=127.0.0.1",
        f"--max-restarts={max_restarts}",
        "--monitor-interval=0.5",
        *([f"--rdzv-conf=join_timeout={options['join_timeout']}"] if "join_timeout" in options else []),
        *program,
    ]
    logs.mkdir(parents=True, exist_ok=True)
    nodes = []
    for i in range(started):
        with open(logs / f"node{i}.out", "w") as out, open(logs / f"node{i}.err", "w") as err:
            nodes.append((subprocess.Popen(command, cwd=ROOT, env=env(), stdout=out, stderr=err), logs / f"node{i}"))
    return nodes


def finish(nodes: list, timeout: float = 240) -> list[tuple[int, str, str]]:
    """Every node's ``(exit status, stdout, stderr)``; kills them all if they outlast ``timeout``."""
    deadline = time.monotonic() + timeout
    try:
        for node, _ in nodes:
            node.wait(timeout=max(1.0, deadline - time.monotonic()))
    finally:
        for node, _ in nodes:
            if node.poll() is None:
                node.kill()
                node.wait()
    return [(node.returncode, Path(f"{log}.out").read_text(), Path(f"{log}.err").read_text()) for node, log in nodes]


def train_program(out: Path, cache: Path) -> list[str]:
    return ["-m", "paperlib.train", "--config", str(SMOKE), f"output_dir={out}", f"data.cache_dir={cache}", *SMALL]


@pytest.fixture(scope="module")
def cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("datasets")


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory, cache) -> tuple[Path, list]:
    """One uninterrupted two-node run, shared by the tests that compare against it."""
    out = tmp_path_factory.mktemp("two_nodes")
    return out, finish(torchrun_nodes(train_program(out, cache), out / "logs"))


def json_lines(text: str) -> list[dict]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


@pytest.mark.slow
def test_two_nodes_train_and_evaluate_like_one_run(two_nodes, tmp_path):
    out, nodes = two_nodes
    assert all(rc == 0 for rc, _, _ in nodes), [err[-3000:] for _, _, err in nodes]
    stdout = "".join(o for _, o, _ in nodes)
    # the global batch and the learning rate come from the world size (2 nodes x 1), not the local one
    assert "2 process(es); global batch 4 -> lr 0.005 " in stdout
    printed = json_lines(stdout)  # rank 0 alone prints the final metrics, once
    assert len(printed) == 1 and printed[0] == json.loads((out / "metrics.json").read_text())["metrics"]
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]  # written by rank 0 alone
    assert [r["world_size"] for r in log if r["event"] == "start"] == [2]
    assert len([r for r in log if r["event"] == "step"]) == 2 * STEPS_PER_EPOCH
    epoch_loss = [r["loss"] for r in log if r["event"] == "epoch"][-1]
    assert printed[0]["train_loss"] == epoch_loss  # averaged over the ranks
    # evaluation scored every video once over both nodes: a single process scoring the checkpoint agrees
    single = subprocess.run(
        [sys.executable, "-m", "paperlib.evaluate", "--checkpoint", str(out / "last.pth"), "--output", str(tmp_path)],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert single.returncode == 0, single.stderr[-3000:]
    alone = json.loads((tmp_path / "metrics.json").read_text())["metrics"]
    assert alone["videos"] == 10 and {k: printed[0][k] for k in alone} == alone
    np.testing.assert_allclose(
        np.load(out / "scores.npz")["scores"], np.load(tmp_path / "scores.npz")["scores"], rtol=1e-5, atol=1e-6
    )


KILLER = """
import os, signal, sys
import paperlib.engine.trainer as trainer
from paperlib.models import create

def killed_create(*args, **kwargs):  # rank 1, first attempt only: SIGKILL itself in its {at}th training step
    model = create(*args, **kwargs)
    if os.environ["RANK"] == "1" and os.environ["TORCHELASTIC_RESTART_COUNT"] == "0":
        calls, forward = [0], model.forward
        def forward_then_die(x):
            calls[0] += model.training
            if calls[0] == {at}:
                os.kill(os.getpid(), signal.SIGKILL)
            return forward(x)
        model.forward = forward_then_die
    return model

trainer.create = killed_create
from paperlib.train import main
sys.exit(main({argv!r}))
"""


@pytest.mark.slow
def test_a_killed_worker_is_restarted_and_resumes_to_the_same_result(two_nodes, cache, tmp_path):
    reference, _ = two_nodes
    out = tmp_path / "run"
    script = tmp_path / "killed_worker.py"
    at = STEPS_PER_EPOCH + 5  # epoch 1, step 5 (0-based 4): after the checkpoint at iteration 3 of that epoch
    script.write_text(textwrap.dedent(KILLER).format(at=at, argv=train_program(out, cache)[2:]))
    # paperlib.launch: torchrun with TORCH_DISABLE_SHARE_RDZV_TCP_STORE=1 (a fresh store for each restarted group)
    nodes = finish(torchrun_nodes([str(script)], tmp_path / "logs", max_restarts=1, launcher="paperlib.launch"))
    assert all(rc == 0 for rc, _, _ in nodes), [err[-3000:] for _, _, err in nodes]
    stdout = "".join(o for _, o, _ in nodes)
    assert "resuming at epoch 1, iteration 3" in stdout  # by itself: no --resume
    log = [json.loads(line) for line in (out / "log.jsonl").read_text().splitlines()]
    assert [(r["start_epoch"], r["start_iteration"]) for r in log if r["event"] == "start"] == [(0, 0), (1, 3)]
    assert len(json_lines(stdout)) == 1
    a, b = (json.loads((d / "metrics.json").read_text())["metrics"] for d in (reference, out))
    assert a == b
    assert np.array_equal(np.load(reference / "scores.npz")["scores"], np.load(out / "scores.npz")["scores"])
    x, y = read_checkpoint(reference / "last.pth"), read_checkpoint(out / "last.pth")
    assert x["state_dict"].keys() == y["state_dict"].keys()
    assert all(torch.equal(x["state_dict"][k], y["state_dict"][k]) for k in x["state_dict"])
    momenta = [
        (s["momentum_buffer"], y["optimizer"]["state"][k]["momentum_buffer"])
        for k, s in x["optimizer"]["state"].items()
    ]
    assert momenta and all(torch.equal(p, q) for p, q in momenta)


@pytest.mark.slow
def test_a_rendezvous_that_never_completes_times_out_with_a_clear_message(tmp_path, cache):
    started = time.monotonic()
    ((rc, _, err),) = finish(
        torchrun_nodes(
            train_program(tmp_path, cache), tmp_path / "logs", started=1, launcher="paperlib.launch", join_timeout=3
        ),
        timeout=120,
    )
    assert rc == 3, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: rendezvous timed out: 2 node(s) expected at 127.0.0.1:"), last
    assert "join_timeout=3 s" in last and time.monotonic() - started < 60
    assert not (tmp_path / "last.pth").exists()
