"""The job list of an inversion sweep: (stimulus video, target class) pairs."""
import difflib
import os.path as osp
from typing import List, Optional, Sequence, Union

from mmaction.datasets import VideoDataset
from mmengine.registry import DefaultScope

from leaps_mm.registry import DATASETS
from leaps_mm.fileio.video_io import VideoReadError

# Every decoder becomes leaps_mm's PyAV decoding (clear errors, frame counts
# of mkv/webm, grayscale to RGB; see video_transforms.py).
_DECODERS = {f'{lib}{step}': f'StimulusVideo{step}'
             for lib in ('Decord', 'OpenCV', 'PyAV')
             for step in ('Init', 'Decode')}
_MULTI_CROPS = ('ThreeCrop', 'TenCrop')
_META_KEYS = ('filename', 'sample_idx', 'img_shape')

KINETICS400_CLASSES = osp.join(osp.dirname(osp.dirname(__file__)), 'data',
                               'kinetics400_classes.txt')


def stimulus_pipeline(test_pipeline: Sequence[dict]) -> List[dict]:
    """A recognizer's test pipeline made to give one clip per stimulus:
    PyAV decoding (:class:`StimulusVideoInit`/``Decode``), ``num_clips=1``,
    a centre crop instead of multi-crops, and the file name kept in the
    metainfo."""
    pipeline = []
    for step in test_pipeline:
        step = dict(step)
        kind = step['type'].split('.')[-1]
        if kind in _DECODERS:
            step = {'type': _DECODERS[kind]}
        elif kind in ('SampleFrames', 'UniformSample', 'DenseSampleFrames'):
            step['num_clips'] = 1
            step.pop('twice_sample', None)
        elif kind in _MULTI_CROPS:
            step = {'type': 'CenterCrop', 'crop_size': step['crop_size']}
        elif kind == 'PackActionInputs':
            step['meta_keys'] = _META_KEYS
        pipeline.append(step)
    return pipeline


def read_class_names(classes: Union[str, Sequence[str], None]) -> List[str]:
    """Class names from a list, or from a label file (one name per line)."""
    if classes is None:
        return []
    if isinstance(classes, str):
        if not osp.isfile(classes):
            raise FileNotFoundError(
                f'Label file {classes!r} does not exist; give a file with one '
                'class name per line.')
        with open(classes) as file:
            return [line.strip() for line in file if line.strip()]
    return list(classes)


def resolve_class(label: Union[int, str], classes: Sequence[str]) -> int:
    """A class index from an index or a name (exact, or one in the list
    after normalising case/underscores); unknown names suggest close ones."""
    if isinstance(label, int) or (isinstance(label, str) and
                                  label.lstrip('-').isdigit()):
        index = int(label)
        if index < 0 and not classes:
            raise ValueError(f'Target index {index} is negative: class '
                             'indices start at 0.')
        if classes and not 0 <= index < len(classes):
            raise ValueError(f'Target index {index} is out of range: the model '
                             f'has {len(classes)} classes (0..{len(classes) - 1}).')
        return index
    if not classes:
        raise ValueError(f'Target {label!r} is a name, but no class names are '
                         'known: give `classes` (a label file) or an index.')
    normal = {c.lower().replace('_', ' '): i for i, c in enumerate(classes)}
    key = label.lower().replace('_', ' ')
    if key in normal:
        return normal[key]
    close = difflib.get_close_matches(key, list(normal), n=5, cutoff=0.5)
    hint = f' Closest: {", ".join(repr(c) for c in close)}.' if close else ''
    raise ValueError(f'Unknown target class {label!r}.{hint}')


@DATASETS.register_module()
class StimulusDataset(VideoDataset):
    """Stimulus videos with their target classes, one job each.

    Jobs come from an annotation file in MMAction2's video-list format
    (``path label`` per line, label an index or a class name without
    spaces) and/or from ``stimuli``, a list of ``dict(filename, label)``.
    Videos are decoded with PyAV through ``pipeline`` (normally the target
    model's test pipeline, converted by :func:`stimulus_pipeline`).

    Args:
        classes: class names (a list or a label file); also the dataset's
            ``metainfo['classes']``.
        stimuli: extra jobs given directly (e.g. from the command line).
        convert_pipeline: apply :func:`stimulus_pipeline` to ``pipeline``.
    """

    def __init__(self,
                 ann_file: str = '',
                 pipeline: Sequence[dict] = (),
                 classes: Union[str, Sequence[str], None] = None,
                 stimuli: Optional[Sequence[dict]] = None,
                 convert_pipeline: bool = True,
                 data_prefix: Optional[dict] = None,
                 **kwargs) -> None:
        self.class_names = read_class_names(classes)
        self.stimuli = list(stimuli or [])
        if not ann_file and not self.stimuli:
            raise ValueError('No stimuli: give --stimulus VIDEO --target CLASS '
                             'or --ann-file LIST.')
        if convert_pipeline:
            pipeline = stimulus_pipeline(pipeline)
        kwargs.pop('test_mode', None)
        # pipeline steps resolve in leaps_mm's registries (and MMAction2's)
        with DefaultScope.overwrite_default_scope('leaps_mm'):
            super().__init__(
                ann_file=ann_file, pipeline=pipeline,
                data_prefix=data_prefix or dict(video=''), test_mode=True,
                metainfo=dict(classes=tuple(self.class_names)), **kwargs)

    def load_data_list(self) -> List[dict]:
        jobs = []
        if self.ann_file:
            if not osp.isfile(self.ann_file):
                raise FileNotFoundError(
                    f'Annotation file {self.ann_file!r} does not exist.')
            prefix = self.data_prefix.get('video') or ''
            with open(self.ann_file) as file:
                for line_no, line in enumerate(file, 1):
                    parts = line.split()
                    if not parts:
                        continue
                    if len(parts) != 2:
                        raise ValueError(
                            f'{self.ann_file}:{line_no}: expected '
                            f'"path label", got {line.strip()!r}.')
                    jobs.append(dict(filename=osp.join(prefix, parts[0]),
                                     label=parts[1]))
        jobs.extend(dict(s) for s in self.stimuli)
        for job in jobs:
            if osp.isdir(job['filename']):
                raise FileNotFoundError(
                    f'Stimulus {job["filename"]!r} is a folder, not a video '
                    'file: give one of its videos, or list them in an '
                    '--ann-file ("path label" per line).')
            if not osp.isfile(job['filename']):
                raise FileNotFoundError(
                    f'Stimulus video {job["filename"]!r} does not exist.')
            job['label'] = resolve_class(job['label'], self.class_names)
        return jobs

    def prepare_data(self, idx: int):
        """The pipeline's output for job ``idx``; any failure while reading
        or transforming its stimulus is a :class:`VideoReadError` naming
        the file."""
        try:
            return super().prepare_data(idx)
        except VideoReadError:
            raise
        except Exception as error:
            name = self.get_data_info(idx).get('filename')
            raise VideoReadError(
                f'Stimulus {name!r} could not be prepared for the model '
                f'({type(error).__name__}: {str(error).strip()[:300]}); check '
                'that it is a readable video and that the test pipeline '
                'fits it.') from error

    def class_name(self, index: int) -> str:
        return (self.class_names[index]
                if index < len(self.class_names) else str(index))
