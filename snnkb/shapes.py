"""Record what a paper's block takes and returns, from its notebook's own first call (for the block gallery).

The warm runner wraps the catalog entry's ``impl`` (a function, or an nn.Module's ``forward``) before the notebook
runs; the first call's arguments and result are described (tensor shape and dtype, or the number passed) and saved
with the verification record, so the site can show a shape table without importing torch itself.
"""

from __future__ import annotations

import functools
import importlib
import inspect
from typing import Any


def describe(value: Any) -> str:
    """'[4, 2, 8] float64' for a tensor, the number for a number, shapes for a tuple of tensors, else the type."""
    import torch

    if isinstance(value, torch.Tensor):
        return f"{list(value.shape)} {str(value.dtype).removeprefix('torch.')}"
    if value is None or isinstance(value, (bool, int, float, str)):
        return repr(value)[:40]
    if isinstance(value, (tuple, list)) and value and all(isinstance(v, torch.Tensor) for v in value):
        return "(" + ", ".join(describe(v) for v in value) + ")"
    return type(value).__name__


def record_io(impl: str, sink: dict[str, Any]) -> None:
    """Wrap ``module:name`` so that its first call fills ``sink`` with {"inputs": [[name, text]], "output": text}."""
    module_name, _, name = impl.partition(":")
    if not name:
        return
    try:
        module = importlib.import_module(module_name)
    except Exception:  # noqa: BLE001 - the notebook reports a broken import itself
        return
    obj = getattr(module, name, None)
    import torch

    if inspect.isclass(obj) and issubclass(obj, torch.nn.Module):
        owner, attr, skip_self = obj, "forward", True
    elif inspect.isfunction(obj):
        owner, attr, skip_self = module, name, False
    else:
        return
    original = getattr(owner, attr)
    signature = inspect.signature(original)

    @functools.wraps(original)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        result = original(*args, **kwargs)
        if not sink:
            try:
                bound = signature.bind(*args, **kwargs)
                items = list(bound.arguments.items())[1 if skip_self else 0:]
                sink["inputs"] = [[k, describe(v)] for k, v in items]
                sink["output"] = describe(result)
            except Exception:  # noqa: BLE001 - a description must never fail the notebook
                sink.clear()
        return result

    setattr(owner, attr, wrapper)
