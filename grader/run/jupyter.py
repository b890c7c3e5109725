"""The Jupyter client stack the kernel runner is built on (nbclient, jupyter_client, nbformat), in a
module of its own so that :mod:`grader.run.execute` imports it only when it first starts a kernel:
it is the largest part of the grader's import time, and a cached regrade, a report or an export
starts no kernel.
"""

from __future__ import annotations

import json
from typing import Any

import zmq.asyncio
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import AsyncKernelManager
from jupyter_core.utils import run_sync
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbformat.v4 import new_notebook
from zmq import ZMQError

__all__ = ["AsyncKernelManager", "CappedClient", "DeadKernelError", "KernelSpecManager", "SharedContextManager",
           "ZMQError", "new_context", "new_notebook", "shutdown_kernel", "start_kernel"]


class SharedContextManager(AsyncKernelManager):
    """A kernel manager whose clients share its zmq context (jupyter_client gives each client a
    context of its own), so that one owner can end them all: see :meth:`grader.run.execute.Launch.close`."""

    def client(self, **kwargs: Any) -> Any:
        return super().client(context=self.context, **kwargs)


def new_context() -> zmq.asyncio.Context:
    """A zmq context for one launch's managers and clients, owned (and destroyed) by the launch."""
    return zmq.asyncio.Context()


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
