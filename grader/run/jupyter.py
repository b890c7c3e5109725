"""The Jupyter client stack the kernel runner is built on (nbclient, jupyter_client, nbformat), in a
module of its own so that :mod:`grader.run.execute` imports it only when it first starts a kernel:
it is the largest part of the grader's import time, and a cached regrade, a report or an export
starts no kernel.
"""

from __future__ import annotations

import json
from typing import Any

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_notebook

__all__ = ["AsyncKernelManager", "CappedClient", "DeadKernelError", "KernelSpecManager", "new_notebook",
           "shutdown_kernel", "start_kernel"]

start_kernel = run_sync(AsyncKernelManager.start_kernel)
shutdown_kernel = run_sync(AsyncKernelManager.shutdown_kernel)


class CappedClient(NotebookClient):
    """nbclient's client, keeping at most ``output_limit`` characters of a cell's outputs: a cell
    printing 100 MB must not hold 100 MB in the grader (and in every stored notebook)."""

    def __init__(self, *args: Any, output_limit: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.output_limit = output_limit
        self.kept = self.dropped = 0

    def output(self, outs: list[NotebookNode], msg: dict[str, Any], display_id: str | None,
               cell_index: int) -> NotebookNode | None:
        size = len(json.dumps(msg.get("content", {})))
        if self.kept + size > self.output_limit:
            self.dropped += size
            return None
        self.kept += size
        return super().output(outs, msg, display_id, cell_index)
