"""Stopping a sweep cleanly on Ctrl-C / SIGTERM, and resuming the batch.

:class:`StopSignals` turns SIGTERM and the first SIGINT into a request that
:class:`~leaps_mm.loops.InversionLoop` honours at the next step boundary: it
saves the running batch (:func:`save_partial`, one ``partial.pt`` per job
folder, written atomically) and raises :class:`SweepInterrupted`. A second
Ctrl-C interrupts at once (nothing is saved for the running batch).

A job's ``partial.pt`` holds its own slice of everything with the batch's
job axis first (x*'s latents and buffers, the optimiser's moments), its
random generator's state and loss history, and the state the batch shares
(optimiser settings, scheduler, step). :func:`load_partial` puts a batch
back together when every job of it has a ``partial.pt`` from the same batch
(same jobs, same order, same step and iterations: the same job list and
``--batch-size``); otherwise the batch starts over.
"""
import logging
import os
import os.path as osp
import signal
import threading
from typing import Any, Dict, Optional, Sequence

import torch
from mmengine.logging import print_log

from leaps_mm.fileio.atomic import write_torch

PARTIAL_FILE = 'partial.pt'


class SweepInterrupted(KeyboardInterrupt):
    """The sweep stopped on a signal; the running batch's state is saved."""

    def __init__(self, signum: int, message: str) -> None:
        super().__init__(message)
        self.signum = signum
        self.message = message


class StopSignals:
    """Context manager: while active (main thread only), SIGTERM and SIGINT
    set :attr:`requested` (the signal number) instead of stopping the
    process; a second SIGINT raises ``KeyboardInterrupt`` at once. The
    previous handlers are restored on exit."""

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self) -> None:
        self.requested: Optional[int] = None
        self._previous: Dict[int, Any] = {}

    def _handle(self, signum: int, frame) -> None:
        if self.requested == signal.SIGINT and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self.requested = signum
        print_log(f'{signal.Signals(signum).name} received: stopping at the '
                  'next step boundary and saving the running jobs '
                  '(Ctrl-C again stops at once, without saving).',
                  logger='current', level=logging.WARNING)

    def __enter__(self) -> 'StopSignals':
        if threading.current_thread() is threading.main_thread():
            for signum in self.SIGNALS:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for signum, handler in self._previous.items():
            signal.signal(signum, handler)
        self._previous.clear()


_ROW = '__job_row__'  # marks a job's slice of a tensor with the job axis


def _rows(value: Any, n: int, j: int) -> Any:
    """``{_ROW: rows j:j+1}`` of a tensor with ``n`` rows (the job axis
    first), the value itself (shared by the batch) otherwise."""
    if isinstance(value, torch.Tensor) and value.dim() and value.shape[0] == n:
        return {_ROW: value[j:j + 1].detach().cpu().clone()}
    return value


def _join(values: Sequence[Any]) -> Any:
    """The batch's value from the jobs' :func:`_rows`."""
    first = values[0]
    if isinstance(first, dict) and _ROW in first:
        return torch.cat([value[_ROW] for value in values])
    return first


def save_partial(folders: Sequence[str], job_ids: Sequence[str], step: int,
                 iters: int, inverter_state: dict, optim_state: dict,
                 scheduler_state: dict, history: Sequence[list],
                 failed: Dict[int, dict], seconds: float) -> None:
    """Write ``<folder>/partial.pt`` for every job of the running batch:
    the job's rows of ``inverter_state['parameterization']`` and of the
    optimiser's per-parameter state, its generator state and history, and
    the shared optimiser settings, scheduler state, step and iterations."""
    n = len(folders)
    shared_optim = {k: v for k, v in optim_state.items() if k != 'state'}
    for j, folder in enumerate(folders):
        write_torch(osp.join(folder, PARTIAL_FILE), dict(
            batch=list(job_ids), job=j, step=step, iters=iters,
            parameterization={
                k: _rows(v, n, j) for k, v in
                inverter_state['parameterization'].items()},
            generators=[inverter_state['generators'][j]],
            optimizer_state={
                key: {name: _rows(v, n, j) for name, v in entry.items()}
                for key, entry in optim_state.get('state', {}).items()},
            optimizer_shared=shared_optim, scheduler=scheduler_state,
            history=history[j], failed=failed.get(j), seconds=seconds))


def load_partial(folders: Sequence[str], job_ids: Sequence[str],
                 iters: int) -> Optional[dict]:
    """The saved state of the batch ``job_ids``, or None when any job of it
    lacks a matching ``partial.pt`` (then the batch starts over)."""
    paths = [osp.join(folder, PARTIAL_FILE) for folder in folders]
    if not any(osp.isfile(p) for p in paths):
        return None
    try:
        parts = [torch.load(p, map_location='cpu', weights_only=True)
                 for p in paths]
    except Exception as error:  # a missing or unreadable part
        print_log(f'Partial state of {", ".join(job_ids)} not usable '
                  f'({type(error).__name__}: {error}); these jobs start '
                  'over.', logger='current', level=logging.WARNING)
        return None
    if any(p['batch'] != list(job_ids) or p['job'] != j or
           p['step'] != parts[0]['step'] or p['iters'] != iters
           for j, p in enumerate(parts)):
        print_log(f'Partial state of {", ".join(job_ids)} is from another '
                  'batch or number of iterations (keep the job list and '
                  '--batch-size to continue it); these jobs start over.',
                  logger='current', level=logging.WARNING)
        return None
    first = parts[0]
    optim = dict(first['optimizer_shared'])
    optim['state'] = {
        key: {name: _join([p['optimizer_state'][key][name] for p in parts])
              for name in entry}
        for key, entry in first['optimizer_state'].items()}
    return dict(
        step=first['step'],
        inverter=dict(
            parameterization={k: _join([p['parameterization'][k]
                                        for p in parts])
                              for k in first['parameterization']},
            generators=[p['generators'][0] for p in parts]),
        optimizer=optim, scheduler=first['scheduler'],
        history=[p['history'] for p in parts],
        failed={j: p['failed'] for j, p in enumerate(parts) if p['failed']},
        seconds=first['seconds'])


def remove_partial(folder: str) -> None:
    """Delete a job's ``partial.pt`` (its job has finished or failed)."""
    path = osp.join(folder, PARTIAL_FILE)
    if osp.isfile(path):
        os.remove(path)
