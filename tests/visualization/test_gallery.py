"""The sweep gallery (tiles, labels, colours, files) and the viewable-size
job videos, on job folders written by the real writer (no model)."""
import importlib.util
import json
import os
import os.path as osp
import sys
from dataclasses import replace

import cv2
import numpy as np
import pytest

from conftest import REPO, STIMULI, run_tool
from leaps_mm.fileio import (read_video, upscale_nearest, write_job_outputs,
                             write_json)
from leaps_mm.visualization import GALLERY_FILES, write_sweep_gallery
from leaps_mm.visualization.gallery import (RIGHT_COLOUR, WRONG_COLOUR,
                                            GalleryLayout, load_gallery_jobs)

CLASSES = ['move left', 'move right', 'move up', 'move down',
           'rotate clockwise']
NETS = ('model', 'verifier', 'judge')


def gallery_tool():
    """tools/gallery.py's main(argv)."""
    if osp.join(REPO, 'tools') not in sys.path:  # its _omp helper
        sys.path.insert(0, osp.join(REPO, 'tools'))
    spec = importlib.util.spec_from_file_location(
        'gallery_tool', osp.join(REPO, 'tools', 'gallery.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def make_sweep(work_dir, num_jobs: int = 5, size: int = 32,
               frames: int = 6) -> list:
    """``num_jobs`` finished job folders (x* a flat colour per job); job j's
    model is right, its verifier wrong, its judge (``judge_mvit``, also under
    ``judge`` as the loop writes it) right for even j; a motion probe's
    prediction (``model_reversed``) too, which tiles do not show."""
    stimulus = osp.join(STIMULI, 'move_left', '0.mp4')
    records = []
    for j in range(num_jobs):
        synth = np.full((frames, size, size, 3), 40 * j % 256, np.uint8)
        target = j % len(CLASSES)
        preds = dict(model=target, verifier=(target + 1) % len(CLASSES),
                     judge=target if j % 2 == 0 else (target + 2) % 5)
        record = dict(job_id=f'{j:05d}_{CLASSES[target].replace(" ", "_")}',
                      target_index=target, target_name=CLASSES[target],
                      stimulus=stimulus)
        preds.update(judge_mvit=preds['judge'], model_reversed=0)
        for net, pred in preds.items():
            probs = [0.1] * len(CLASSES)
            probs[pred] = 0.6
            record.update({f'{net}_pred': pred, f'{net}_probs': probs,
                           f'{net}_pred_name': CLASSES[pred],
                           f'{net}_prob_target': probs[target]})
        folder = osp.join(work_dir, record['job_id'])
        write_job_outputs(folder, synth, read_video(stimulus), record)
        records.append(record)
    return records


def colour_mask(image: np.ndarray, colour) -> np.ndarray:
    return np.all(image == np.array(colour, np.uint8), axis=-1)


def fitted(layout: GalleryLayout, num_tiles: int, shape) -> GalleryLayout:
    """``layout`` with the header height (the wrapped text lines) that
    gives a gallery of ``shape``; fails when none does."""
    for lines in range(1, 60):
        candidate = replace(layout, header_lines=lines)
        if candidate.grid_size(num_tiles) == tuple(shape[:2]):
            return candidate
    raise AssertionError(f'no header height gives {shape[:2]} for '
                         f'{num_tiles} tiles of {layout}')


def test_upscale_nearest_reaches_256_by_whole_blocks():
    video = np.arange(2 * 64 * 48 * 3, dtype=np.uint8).reshape(2, 64, 48, 3)
    big = upscale_nearest(video)
    assert big.shape == (2, 64 * 6, 48 * 6, 3)  # 48 * 6 = 288 >= 256
    assert np.array_equal(big[:, ::6, ::6], video)
    assert np.array_equal(big[:, 5::6, 5::6], video)  # k x k blocks
    large = np.zeros((1, 300, 400, 3), np.uint8)
    assert upscale_nearest(large) is large


def test_job_videos_are_viewable_size(tmp_path):
    make_sweep(tmp_path, num_jobs=1, size=64)
    folder = tmp_path / '00000_move_left'
    assert np.load(folder / 'synth.npy').shape == (6, 64, 64, 3)
    for name in ('synth.mp4', 'synth.gif'):
        assert read_video(folder / name).shape == (6, 256, 256, 3), name


def test_gallery_tiles_labels_and_colours(tmp_path):
    records = make_sweep(tmp_path)
    paths = write_sweep_gallery(str(tmp_path), frame_side=64, sheet_side=48,
                                sheet_frames=3, columns=2)
    assert paths == {k: str(tmp_path / v) for k, v in GALLERY_FILES.items()}
    sheet = cv2.imread(paths['png'])[..., ::-1]
    layout = fitted(GalleryLayout((48, 48), frames_per_panel=3, columns=2,
                                  bars=3), 5, sheet.shape)  # 3 rows of 2
    th, tw = layout.tile_size
    assert tw == 3 * 48 + 2 and th > 2 * 48 + 3 * layout.line
    for j, record in enumerate(records):
        y0, x0 = layout.tile_origin(j)
        # the synthesized panel holds x*'s flat colour, all 3 frames
        y, x = layout.synth_origin()
        panel = sheet[y0 + y:y0 + y + 48, x0 + x:x0 + x + tw]
        for c in range(3):
            frame = panel[:, c * 49:c * 49 + 48]
            assert np.all(frame == 40 * j), (j, c)
        # the stimulus panel holds the (moving) stimulus, not background
        y, x = layout.stimulus_origin()
        stim = sheet[y0 + y:y0 + y + 48, x0 + x:x0 + x + 48]
        assert stim.std() > 5
        # one bar per net, green when it predicted the target class
        for row, net in enumerate(NETS):
            y, x = layout.bar_origin(row)
            bar = sheet[y0 + y:y0 + y + layout.line, x0:x0 + tw]
            right = record[f'{net}_pred'] == record['target_index']
            ok, bad = colour_mask(bar, RIGHT_COLOUR), colour_mask(
                bar, WRONG_COLOUR)
            assert (ok.mean() if right else bad.mean()) > 0.5, (j, net)
            assert (bad if right else ok).sum() == 0, (j, net)
            text = np.all(bar == 255, axis=-1)  # white label text
            assert 0.01 < text.mean() < 0.5, (j, net)
    # the empty sixth slot stays white
    y0, x0 = layout.tile_origin(5)
    assert np.all(sheet[y0:y0 + th, x0:x0 + tw] == 255)

    animation = read_video(paths['mp4'])
    assert animation.shape[0] == 6  # x*'s frames
    grid = fitted(GalleryLayout((64, 64), frames_per_panel=1, columns=2,
                                bars=3), 5, animation.shape[1:])
    gif = read_video(paths['gif'])
    assert gif.shape == animation.shape
    y0, x0 = grid.tile_origin(4)
    y, x = grid.synth_origin()
    tile = gif[:, y0 + y:y0 + y + 64, x0 + x:x0 + x + 64].astype(int)
    assert np.abs(tile - 160).max() <= 8  # x* of job 4 (the gif's palette)


def test_gallery_caps_jobs_and_marks_a_missing_stimulus(tmp_path):
    make_sweep(tmp_path, num_jobs=4)
    os.rename(tmp_path / '00002_move_up' / 'result.json',
              tmp_path / 'moved.json')  # an unfinished job: no tile
    jobs = load_gallery_jobs(str(tmp_path), max_jobs=2)
    assert [job.job_id for job in jobs] == ['00000_move_left',
                                            '00001_move_right']
    assert [p[0] for p in jobs[0].predictions] == ['model', 'verifier',
                                                   'judge mvit']
    assert jobs[1].predictions[1] == ('verifier', 'move up', 0.6, False)
    path = tmp_path / '00001_move_right' / 'result.json'
    record = json.loads(path.read_text())
    record['stimulus'] = str(tmp_path / 'gone.mp4')
    path.write_text(json.dumps(record))
    paths = write_sweep_gallery(str(tmp_path), max_jobs=2, columns=2,
                                sheet_side=32, sheet_frames=2)
    sheet = cv2.imread(paths['png'])[..., ::-1]
    layout = fitted(GalleryLayout((32, 32), frames_per_panel=2, columns=2,
                                  bars=3), 2, sheet.shape)
    y0, x0 = layout.tile_origin(1)
    y, x = layout.stimulus_origin()
    grey = colour_mask(sheet[y0 + y:y0 + y + 32, x0 + x:x0 + x + 65],
                       (200, 200, 200))
    assert grey.mean() > 0.5  # a grey "stimulus missing" panel


def test_default_grid_is_landscape(tmp_path):
    """16 jobs at the default sizes: a wide grid (8 x 2 tiles animated),
    the header in two lines, the contact sheet 4 x 4."""
    make_sweep(tmp_path, num_jobs=16, size=64, frames=4)
    paths = write_sweep_gallery(str(tmp_path))
    animation = read_video(paths['mp4'])
    grid = fitted(GalleryLayout((160, 160), columns=8, bars=3), 16,
                  animation.shape[1:])
    assert grid.header_lines == 2
    h, w = animation.shape[1:3]
    assert 1.2 < w / h < 1.9
    sheet = cv2.imread(paths['png'])[..., ::-1]
    fitted(GalleryLayout((96, 96), frames_per_panel=4, columns=4, bars=3),
           16, sheet.shape)


def test_no_finished_job_no_gallery(tmp_path):
    assert write_sweep_gallery(str(tmp_path)) == {}
    assert not any(p.name.startswith('gallery') for p in tmp_path.iterdir())


def test_gallery_files_appear_atomically(tmp_path, monkeypatch):
    """An encoder failure leaves no partial gallery file behind."""
    from leaps_mm.visualization import gallery
    make_sweep(tmp_path, num_jobs=2)

    def broken(path, frames, fps=8):
        raise RuntimeError('encoder died')
    monkeypatch.setattr(gallery, 'write_mp4', broken)
    with pytest.raises(RuntimeError):
        write_sweep_gallery(str(tmp_path))
    names = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    assert names == ['gallery.gif', 'gallery.png']  # complete, no .tmp


def test_gallery_tool_writes_and_logs_to_the_parent_run(tmp_path):
    """tools/gallery.py on a finished work dir: the files, then artifacts of
    the parent run that mlflow_parent.json names (a real sqlite store)."""
    from mlflow import MlflowClient
    main = gallery_tool()
    make_sweep(tmp_path, num_jobs=3)
    uri = f'sqlite:///{tmp_path}/mlflow.db'
    client = MlflowClient(uri)
    experiment = client.create_experiment(
        'leaps', artifact_location=str(tmp_path / 'mlartifacts'))
    run = client.create_run(experiment).info.run_id
    write_json(tmp_path / 'mlflow_parent.json',
               dict(tracking_uri=uri, experiment_id=experiment, run_id=run))
    result = run_tool(main, [str(tmp_path), '--columns', '3'])
    assert result.exit_code == 0, result.output
    assert f'logged gallery/gallery.png, gallery/gallery.gif, ' \
           f'gallery/gallery.mp4 to run {run}' in result.output
    assert f'#/experiments/{experiment}/runs/{run}?workflowType=' \
           'machine_learning' in result.output
    logged = {a.path: a.file_size for a in client.list_artifacts(run,
                                                                 'gallery')}
    for kind, name in GALLERY_FILES.items():
        assert logged[f'gallery/{name}'] == os.path.getsize(tmp_path / name)
    sheet = cv2.imread(str(tmp_path / 'gallery.png'))
    layout = fitted(GalleryLayout((96, 96), frames_per_panel=4, columns=3,
                                  bars=3), 3, sheet.shape)
    assert layout.header_lines >= 2


def test_gallery_tool_without_jobs_is_a_clear_error(tmp_path):
    main = gallery_tool()
    result = run_tool(main, [str(tmp_path)])
    assert result.exit_code == 1
    assert 'no finished jobs' in result.output
    assert 'Traceback' not in result.output


def test_a_relative_stimulus_is_found_beside_the_config(tmp_path,
                                                        monkeypatch):
    """A sweep run from the project root records ``data/...`` paths; the
    gallery made from elsewhere still finds them (from the config's
    folders) and reads only the frames it shows."""
    from leaps_mm.visualization.gallery import read_frames, stimulus_path
    monkeypatch.chdir(tmp_path)
    record = dict(stimulus='data/stimuli/move_left/0.mp4',
                  config=osp.join(REPO, 'registry_configs', 'demo',
                                  'leaps_random_x3d.py'))
    path = stimulus_path(record)
    assert path == osp.join(REPO, 'data/stimuli/move_left/0.mp4')
    assert stimulus_path(dict(record, stimulus='data/none.mp4')) is None
    full = read_video(path)
    frames = read_frames(path, 4)
    assert frames.shape == (4, *full.shape[1:])
    picks = np.round(np.linspace(0, len(full) - 1, 4)).astype(int)
    assert np.array_equal(frames, full[picks])
    small = read_frames(path, 2, max_side=32)
    assert small.shape == (2, 32, 32, 3)
