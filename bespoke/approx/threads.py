"""One BLAS thread while a search runs.

A search scores thousands of candidates with small matrix products (a few thousand samples
by a few dozen inputs), each well under a millisecond on one core: OpenBLAS's second thread
only adds its hand-off to them, and when the other core is busy (another restart, another
program) the product waits until that thread is scheduled.  Measured on the 16-5-10
benchmark of benchmarks/search_throughput.py on 2 cores while another process kept one busy:
1 139-1 212 candidates/s with two BLAS threads, 2 482-2 577/s with one.  The searches use the
other cores for their restarts instead.

The limit is the process's (BLAS libraries have no per-thread setting) and covers the BLAS
libraries loaded by the time the search starts.  Searches run in their process's main
thread (the command line, joblib's and Dask's default workers); two searches at once in
threads of one process would share the setting, and OpenBLAS can ignore a limit set from
another thread than the one that set it last: such a search runs with the BLAS threads as
it finds them, only slower, never with other answers."""
from __future__ import annotations

import functools
from typing import Callable, TypeVar

from threadpoolctl import threadpool_limits

F = TypeVar("F", bound=Callable)


def one_blas_thread(function: F) -> F:
    """``function`` run with the BLAS libraries on one thread, and their setting restored
    when it returns or raises."""
    @functools.wraps(function)
    def limited(*args, **kwargs):
        # a quarter of a millisecond a call (it finds the libraries loaded by then)
        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args, **kwargs)
    return limited  # type: ignore[return-value]
