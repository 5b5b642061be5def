"""Dask clusters: a client of a running scheduler, or a quiet local cluster of this
machine's cores. The search's restarts and the sweep's jobs run on them."""
from __future__ import annotations

import logging
import os
from contextlib import contextmanager
from typing import Iterator

from .errors import BespokeError, one_line


def _ignore_ctrl_c(dask_worker=None) -> None:
    """Ctrl-C reaches the local workers too (one process group) and would print a
    traceback in each; the sweep closes them itself.  A Python handler, not SIG_IGN,
    so the tools a job runs still stop on Ctrl-C."""
    import signal

    try:
        signal.signal(signal.SIGINT, lambda signum, frame: None)
    except ValueError:  # not the worker's main thread: leave it
        pass


@contextmanager
def local_cluster(workers: int | None = None, *, threads_per_worker: int = 1):
    """A ``LocalCluster`` of ``workers`` processes (default: one per core) on the loopback
    address, quiet, where a lost worker fails its job at once (the sweep retries it), and
    always closed."""
    import dask
    from distributed import LocalCluster

    workers = workers or os.cpu_count() or 1
    with dask.config.set({"distributed.scheduler.allowed-failures": 0,
                          "distributed.scheduler.worker-saturation": 1.0,
                          "distributed.worker.daemon": True}):
        cluster = LocalCluster(n_workers=workers, threads_per_worker=threads_per_worker,
                               processes=True, host="127.0.0.1", dashboard_address=None,
                               silence_logs=logging.CRITICAL)
        try:
            from distributed import Client

            from distributed.diagnostics.plugin import WorkerPlugin

            class CtrlCToTheSweep(WorkerPlugin):
                def setup(self, worker) -> None:
                    _ignore_ctrl_c()

            with Client(cluster) as client:  # kept by the scheduler for restarted workers too
                client.register_plugin(CtrlCToTheSweep(), name="bespoke-ctrl-c")
            yield cluster
        finally:
            cluster.close()


@contextmanager
def quiet_dask(level: int = logging.CRITICAL) -> Iterator[None]:
    """Dask's own log lines (workers starting, a worker lost, ...) hidden in this
    process: the sweep logs what matters, per job."""
    import distributed  # noqa: F401 - sets its loggers' levels on import: before ours

    loggers = [logging.getLogger(name) for name in ("distributed", "tornado", "bokeh")]
    saved = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(level)
    try:
        yield
    finally:
        for logger, old in zip(loggers, saved):
            logger.setLevel(old)


def connect(scheduler: str):
    """A Dask client of the scheduler at ``scheduler`` (``tcp://HOST:PORT``); a one-line
    error when Dask is missing or the scheduler does not answer in 20 s."""
    try:
        from distributed import Client
    except ImportError:
        raise BespokeError("a Dask scheduler needs Dask: pip install 'dask[distributed]'") \
            from None
    try:
        return Client(scheduler, timeout="20s")
    except OSError as exc:
        raise BespokeError(f"cannot reach the Dask scheduler at {scheduler}: {one_line(exc)}") \
            from None
