"""The interlace shift as a custom operator inside torch.compile and torch.export: a small TIN compiles with
no graph break (fullgraph), gives eager's outputs and gradients, and exports with the op in its graph."""

import pytest
import torch

from paperlib.models import create


def _small_tin():
    torch.manual_seed(0)
    return create("tin_r50", 10, 4, width=16, depths=(1, 1, 1, 1), dropout=0.0)


@pytest.mark.slow
def test_compiled_tin_matches_eager_with_no_graph_break():
    model = _small_tin().eval()
    x = torch.randn(2, 3, 4, 32, 32)
    explained = torch._dynamo.explain(model)(x)
    assert explained.graph_break_count == 0, explained.break_reasons
    compiled = torch.compile(model, fullgraph=True)  # inductor, C++ codegen on CPU
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-4, atol=1e-5)


@pytest.mark.slow
def test_compiled_training_step_gives_eager_gradients():
    eager, compiled_model = _small_tin().train(), _small_tin().train()
    compiled = torch.compile(compiled_model, backend="aot_eager", fullgraph=True)  # autograd through the op
    x = torch.randn(2, 3, 4, 32, 32)
    eager(x).square().sum().backward()
    compiled(x).square().sum().backward()
    for (name, a), b in zip(eager.named_parameters(), compiled_model.parameters()):
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-4, atol=1e-5, msg=lambda m, name=name: f"{name}: {m}")
    offset_grads = [p.grad for n, p in eager.named_parameters() if "offset_net" in n]
    assert offset_grads and any(g.abs().sum() > 0 for g in offset_grads)  # the offsets do learn


def test_export_keeps_the_op_in_the_graph():
    model = _small_tin().eval()
    x = torch.randn(2, 3, 4, 32, 32)
    exported = torch.export.export(model, (x,))
    targets = {str(node.target) for node in exported.graph.nodes if node.op == "call_function"}
    assert any("paperlib.interlace_shift" in t for t in targets), sorted(targets)[:20]
    with torch.no_grad():
        torch.testing.assert_close(exported.module()(x), model(x), rtol=1e-5, atol=1e-6)


def test_building_and_counting_a_tin_loads_no_kernel(monkeypatch):
    """Kernels load on first use, not at construction: building a full TIN and counting its FLOPs on the meta
    device compiles nothing."""
    from paperlib.models import complexity
    from paperlib.ops import _extension

    def fail(*args, **kwargs):
        raise AssertionError("a kernel was loaded while building or counting the model")

    monkeypatch.setattr(_extension, "_load", fail)
    model = create("tin_r50", 174, 8)
    assert complexity(model, (1, 3, 8, 224, 224))["params"] == 23_895_566
