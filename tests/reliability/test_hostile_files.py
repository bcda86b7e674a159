"""Files from strangers: a checkpoint that would run code when unpickled and a YAML config with a Python tag
are refused with errors naming the file, and the code in them never runs; importing the package, building
the models and running them opens no network connection."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from paperlib.engine.config import ConfigError, load_config
from paperlib.models import CheckpointError, create, from_checkpoint, load_checkpoint


class _RunsCode:
    """Unpickling this calls os.system: what a hostile checkpoint would contain."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.system, (f"touch {self.marker}",)


def test_a_checkpoint_that_would_run_code_is_refused(tmp_path):
    marker, path = tmp_path / "ran", tmp_path / "evil.pth"
    torch.save({"state_dict": create("tsn_r18", 2, 4, width=8).state_dict(), "payload": _RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match=f"refusing to load {path}"):
        load_checkpoint(create("tsn_r18", 2, 4, width=8), path)
    with pytest.raises(CheckpointError, match="refusing to load"):
        from_checkpoint(path)
    assert not marker.exists(), "the pickle's code ran"


def test_a_yaml_config_with_a_python_tag_is_refused(tmp_path):
    marker, path = tmp_path / "ran", tmp_path / "evil.yaml"
    path.write_text(f"name: !!python/object/apply:os.system ['touch {marker}']\n")
    with pytest.raises(ConfigError, match=str(path)):
        load_config(path)
    with pytest.raises(ConfigError, match="override 'name'"):
        load_config(None, [f"name=!!python/object/apply:os.system ['touch {marker}']"])
    assert not marker.exists(), "the YAML's code ran"


def test_the_package_opens_no_network_connection(tmp_path):
    """Import everything, build and run the models, generate a small embedded dataset: with every socket
    call made to fail, nothing may notice."""
    script = textwrap.dedent(f"""
        import socket
        def refuse(*args, **kwargs):
            raise RuntimeError("network access attempted")
        socket.socket.connect = socket.socket.connect_ex = refuse
        socket.create_connection = socket.getaddrinfo = refuse
        import torch
        import paperlib, paperlib.data, paperlib.engine, paperlib.experiments, paperlib.viz, paperlib.bench
        from paperlib.models import available, create
        from paperlib.data.synthetic import make_something
        for name in ("tsn_r50", "tsm_r50", "tin_r50", "slowfast_r50", "r2plus1d_18"):
            frames = 32 if name.startswith("slowfast") else 8
            create(name, 5, frames, width=16, depths=[1, 1, 1, 1]).eval()(torch.randn(1, 3, frames, 32, 32))
        make_something({str(tmp_path)!r}, "smoke")
        print("ok", len(available()))
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("ok")
