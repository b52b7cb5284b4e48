"""InversionLoop: for each batch of jobs, optimise x* from noise and save it."""
import json
import os.path as osp
import re
import time
from typing import Dict, List, Optional, Union

import torch
from mmengine.dist import is_main_process
from mmengine.evaluator import Evaluator
from mmengine.model import is_model_wrapper
from mmengine.runner import BaseLoop
from torch.utils.data import DataLoader
from tqdm import tqdm

from leaps_mm.fileio import write_job_outputs, write_json
from leaps_mm.registry import LOOPS
from leaps_mm.structures import JobRecord
from leaps_mm.visualization import write_sweep_gallery
from .interruption import (StopSignals, SweepInterrupted, load_partial,
                           remove_partial, save_partial)
from .job_optimisation import build_job_optimisation, run_steps
from .loss_history import StepLosses, first_non_finite

def job_id(sample_idx: int, class_name: str) -> str:
    """Folder name of a job: its index in the job list and its class."""
    slug = re.sub(r'[^A-Za-z0-9]+', '_', class_name).strip('_') or 'class'
    return f'{sample_idx:05d}_{slug}'


@LOOPS.register_module()
class InversionLoop(BaseLoop):
    """Runs an inversion sweep; mmengine's Runner builds it as ``test_cfg``.

    For every batch of jobs from the dataloader (stimulus, target class) it
    resets x* (noise from a generator seeded by ``seed + job index``, so a
    job's result does not depend on its batch or process), builds a fresh
    optimiser and schedule, runs ``iters`` steps, writes the job folder
    ``<work_dir>/<job_id>/`` and hands the predictions to the evaluator.

    Args:
        iters: optimisation steps per job (the paper: 2000).
        optim_wrapper: mmengine optim-wrapper config without the optimizer's
            params. Autocast is the inverter's ``autocast``; with fp16 a
            plain ``OptimWrapper`` scales the loss
            (:func:`build_optim_wrapper`).
        param_scheduler: scheduler config, stepped every iteration; ``T_max``
            / ``end`` default to ``iters``.
        log_interval: steps between loss read-outs (the only host syncs:
            the losses of every step are kept on the device until then);
            each job's curve, every step's losses and ``lr``, goes to
            ``result.json['history']`` (with ``loss_scale`` at read-out
            steps when the optim wrapper scales the loss).
        fps: frame rate of the written videos.
        seed: base seed of x*'s initial noise.
        resume: skip jobs whose folder already holds ``result.json`` (their
            records still count in the metrics) and continue an interrupted
            batch from its jobs' ``partial.pt``.
        gallery: at the end of the sweep (rank 0, after every job) write the
            sweep's gallery (``gallery.png`` / ``.gif`` / ``.mp4``, see
            :func:`~leaps_mm.visualization.gallery.write_sweep_gallery`) into
            the work dir (the MLflow hook finds and logs it there).
        identity: what the sweep ran (config path, checkpoints, settings
            id; ``build_runner_config`` and tools/invert.py fill it), added
            to every job's ``result.json``.

    A job whose loss turns NaN or Inf (checked at log steps, over every step
    since the last) is reported as failed: ``failed.json`` names the first
    such iteration and the term, no other file is written, and the sweep
    goes on.

    SIGTERM or Ctrl-C stops the sweep at the next step boundary: the running
    batch is saved (``<job>/partial.pt``, see :mod:`.interruption`), hooks
    with an ``on_interrupt(runner)`` method are told (the MLflow parent run
    becomes KILLED) and :class:`SweepInterrupted` is raised.
    """

    def __init__(self,
                 runner,
                 dataloader: Union[DataLoader, Dict],
                 evaluator: Union[Evaluator, Dict, List],
                 iters: int = 2000,
                 optim_wrapper: Optional[dict] = None,
                 param_scheduler: Optional[dict] = None,
                 log_interval: int = 50,
                 fps: float = 8,
                 seed: int = 0,
                 resume: bool = False,
                 gallery: bool = True,
                 identity: Optional[dict] = None) -> None:
        if isinstance(iters, bool) or not isinstance(iters, int) or \
                iters < 1:  # 0 would leave the job without losses
            raise ValueError(f'leaps.loop.iters must be a whole number '
                             f'>= 1 (steps per job), got {iters!r}.')
        super().__init__(runner, dataloader)
        self.evaluator = (runner.build_evaluator(evaluator)
                          if isinstance(evaluator, (dict, list)) else evaluator)
        self.evaluator.dataset_meta = getattr(self.dataloader.dataset,
                                              'metainfo', None)
        self.iters = int(iters)
        self.optim_wrapper_cfg = optim_wrapper
        self.param_scheduler_cfg = param_scheduler
        self.log_interval = max(int(log_interval), 1)
        self.fps = fps
        self.seed = seed
        self.resume = resume
        self.gallery = gallery
        self.identity = dict(identity or {})
        self._stop = StopSignals()  # entered (handlers installed) in run()
        self._sweep_bar: Optional[tqdm] = None

    @property
    def inverter(self):
        model = self.runner.model
        return model.module if is_model_wrapper(model) else model

    def run(self) -> dict:
        with StopSignals() as self._stop:
            try:
                return self._run()
            except SweepInterrupted:
                for hook in self.runner.hooks:
                    if hasattr(hook, 'on_interrupt'):
                        hook.on_interrupt(self.runner)
                raise
            finally:
                if self._sweep_bar is not None:
                    self._sweep_bar.close()

    def _check_stop(self, message: str = 'before the next batch') -> None:
        if self._stop.requested is not None:
            raise SweepInterrupted(self._stop.requested,
                                   f'Interrupted {message}.')

    def _run(self) -> dict:
        self.runner.call_hook('before_test')
        self.runner.call_hook('before_test_epoch')
        self._sweep_bar = self._make_sweep_bar()
        for batch_idx, data_batch in enumerate(self.dataloader):
            self._check_stop()
            self.runner.call_hook('before_test_iter', batch_idx=batch_idx,
                                  data_batch=data_batch)
            finished, data_batch = self._split_finished(data_batch)
            self._skip_in_bar(len(finished))
            outputs = self.run_jobs(data_batch) if data_batch else []
            if data_batch:  # finished or failed: done
                self._sweep_bar.update(len(data_batch['data_samples']))
            self.evaluator.process(data_samples=finished + outputs,
                                   data_batch=data_batch)
            # hooks get the result.json form, as they read finished jobs
            self.runner.call_hook('after_test_iter', batch_idx=batch_idx,
                                  data_batch=data_batch,
                                  outputs=[r.to_json() for r in outputs])
        self._sweep_bar.close()
        # collects every rank's records: all job folders are written
        metrics = self.evaluator.evaluate(len(self.dataloader.dataset))
        self._write_gallery()
        self.runner.call_hook('after_test_epoch', metrics=metrics)
        self.runner.call_hook('after_test')
        return metrics

    def _make_sweep_bar(self) -> tqdm:
        """The bar over the whole sweep (this process's jobs; in a
        distributed run rank 0's, whose ETA is the sweep's): jobs done /
        total, total ETA. Shown on rank 0, above the per-batch step bar."""
        sampler = getattr(self.dataloader, 'sampler', None)
        try:
            total = len(sampler)
        except TypeError:
            total = len(self.dataloader.dataset)
        return tqdm(total=total, desc='sweep', unit='job', position=0,
                    dynamic_ncols=True, disable=not is_main_process(),
                    smoothing=0)

    @staticmethod
    def _note_failures(steps: List[int], window: Dict[str, torch.Tensor],
                       failed: Dict[int, dict], ids: List[str]) -> None:
        """Add the jobs whose loss turned NaN / Inf within ``window`` (of
        :meth:`StepLosses.flush`) to ``failed``, with the first such step."""
        for j, failure in first_non_finite(steps, window, failed).items():
            failed[j] = dict(job_id=ids[j], **failure)

    def _skip_in_bar(self, skipped: int) -> None:
        """Jobs that ``--resume`` skips leave the sweep bar's total, so its
        ETA is over the jobs that run."""
        if skipped and self._sweep_bar is not None:
            self._sweep_bar.total -= skipped
            self._sweep_bar.refresh()

    def _write_gallery(self) -> None:
        """Rank 0: the sweep's gallery in the work dir (a failure only
        warns: the jobs' own files are complete)."""
        if not (self.gallery and is_main_process()):
            return
        try:
            files = write_sweep_gallery(self.runner.work_dir, fps=self.fps)
        except Exception as error:  # any decoding/encoding/drawing error
            self.runner.logger.warning(
                f'No sweep gallery ({type(error).__name__}: {error}); the '
                'job folders are complete.')
            return
        if files:  # to the console: the log level hides INFO
            tqdm.write('Sweep gallery: ' + ', '.join(
                osp.abspath(p) for p in files.values()))

    def _job_ids(self, samples: list) -> List[str]:
        dataset = self.dataloader.dataset
        return [job_id(int(s.metainfo['sample_idx']),
                       dataset.class_name(int(s.gt_label))) for s in samples]

    def _split_finished(self, data_batch: dict):
        """With ``resume``: the records of finished jobs, and the batch of
        the others (None when every job is finished)."""
        if not self.resume:
            return [], data_batch
        finished, todo = [], []
        for j, folder in enumerate(self._job_ids(data_batch['data_samples'])):
            result = osp.join(self.runner.work_dir, folder, 'result.json')
            if osp.isfile(result):
                with open(result) as file:
                    finished.append(JobRecord.from_json(json.load(file)))
            else:
                todo.append(j)
        if not todo:
            return finished, None
        return finished, {key: [values[j] for j in todo]
                          for key, values in data_batch.items()}

    def run_jobs(self, data_batch: dict) -> List[JobRecord]:
        """Optimise one batch of jobs; write their folders; return the
        record of each job that did not fail."""
        inverter = self.inverter
        dataset = self.dataloader.dataset
        samples = data_batch['data_samples']
        indices = [int(s.metainfo['sample_idx']) for s in samples]
        targets = torch.cat([s.gt_label.reshape(1) for s in samples]).long()
        stimulus_pixels = torch.stack([clip[0] for clip in
                                       data_batch['inputs']])  # N,C,T,H,W
        stimulus = inverter.normalize(
            stimulus_pixels.to(inverter.pixel_mean.device))
        noise = [torch.Generator().manual_seed(self.seed + i) for i in indices]
        start = time.perf_counter()
        inverter.reset(targets, stimulus, generator=noise)
        inverter.train()
        optim_wrapper, scheduler = build_job_optimisation(
            inverter, self.iters, self.optim_wrapper_cfg,
            self.param_scheduler_cfg)

        names = [dataset.class_name(int(t)) for t in targets]
        ids = self._job_ids(samples)
        failed: Dict[int, dict] = {}
        history: List[List[dict]] = [[] for _ in indices]
        folders = [osp.join(self.runner.work_dir, i) for i in ids]
        first_step = 0
        saved = load_partial(folders, ids, self.iters) if self.resume else None
        if saved is not None:  # an interrupted batch continues
            inverter.load_job_state(saved['inverter'])
            optim_wrapper.load_state_dict(saved['optimizer'])
            scheduler.load_state_dict(saved['scheduler'])
            first_step, history = saved['step'], saved['history']
            failed = saved['failed']
            start -= saved['seconds']
            self.runner.logger.warning(
                f'Continuing {", ".join(ids)} from step {first_step}.')
        bar = tqdm(range(first_step, self.iters), initial=first_step,
                   total=self.iters, desc=', '.join(ids)[:40], unit='it',
                   dynamic_ncols=True, leave=False, position=1,
                   disable=not is_main_process())
        curves = StepLosses(history)

        def before_step(step: int) -> None:
            if self._stop.requested is not None:
                self._note_failures(*curves.flush(), failed, ids)
                save_partial(folders, ids, step, self.iters,
                             inverter.job_state(), optim_wrapper.state_dict(),
                             scheduler.state_dict(), history, failed,
                             time.perf_counter() - start)
                bar.close()
                self._check_stop(
                    f'at step {step}/{self.iters} of {", ".join(ids)}; '
                    f'their state is in <job>/partial.pt')

        def on_log(steps: List[int], window: Dict[str, torch.Tensor]) -> bool:
            self._note_failures(steps, window, failed, ids)
            bar.set_postfix({k.replace('loss_', ''):
                             f'{float(v[-1].mean()):.3g}'
                             for k, v in window.items()})
            return len(failed) < len(indices)  # stop when every job failed

        per_job = run_steps(inverter, optim_wrapper, scheduler, bar,
                            self.iters, curves, self.log_interval,
                            before_step, on_log)
        bar.close()
        scores = inverter.predict_scores()
        seconds = (time.perf_counter() - start) / len(indices)
        synth = inverter.to_uint8().numpy()
        stimulus_frames = stimulus_pixels.permute(0, 2, 3, 4, 1).numpy()

        records = []
        for j, (index, target) in enumerate(zip(indices, targets.tolist())):
            if j in failed:
                self.runner.logger.warning(
                    f'Job {ids[j]} failed at iteration {failed[j]["iteration"]}'
                    f': {failed[j]["term"]} is {failed[j]["value"]}.')
                write_json(osp.join(self.runner.work_dir, ids[j],
                                    'failed.json'), failed[j])
                remove_partial(folders[j])
                continue
            record = JobRecord(
                job_id=ids[j], sample_idx=index, target=target,
                target_name=names[j],
                stimulus=samples[j].metainfo.get('filename'),
                iterations=self.iters, seconds=round(seconds, 3),
                seed=self.seed + index,
                final_losses={k: float(v[j]) for k, v in per_job.items()},
                history=history[j],
                extra=dict(self.identity))
            record.add_scores({k: v[j] for k, v in scores.items()},
                              dataset.metainfo['classes'])
            write_job_outputs(osp.join(self.runner.work_dir, ids[j]),
                              synth[j], stimulus_frames[j], record.to_json(),
                              fps=self.fps)
            remove_partial(folders[j])
            records.append(record)
        return records
