"""leaps_mm's registries: children of MMAction2's, so that a config with
``default_scope = 'leaps_mm'`` builds leaps_mm components and, through the
parents, any MMAction2 or mmengine component."""
from mmaction.registry import DATASETS as MMACTION_DATASETS
from mmaction.registry import HOOKS as MMACTION_HOOKS
from mmaction.registry import LOOPS as MMACTION_LOOPS
from mmaction.registry import METRICS as MMACTION_METRICS
from mmaction.registry import MODEL_WRAPPERS as MMACTION_MODEL_WRAPPERS
from mmaction.registry import MODELS as MMACTION_MODELS
from mmaction.registry import RUNNERS as MMACTION_RUNNERS
from mmaction.registry import TRANSFORMS as MMACTION_TRANSFORMS
from mmaction.registry import VISBACKENDS as MMACTION_VISBACKENDS
from mmaction.registry import VISUALIZERS as MMACTION_VISUALIZERS
from mmengine.registry import Registry

MODELS = Registry('model', parent=MMACTION_MODELS, scope='leaps_mm',
                  locations=['leaps_mm.models', 'leaps_mm.losses'])
MODEL_WRAPPERS = Registry('model_wrapper', parent=MMACTION_MODEL_WRAPPERS,
                          scope='leaps_mm', locations=['leaps_mm.models'])
LOOPS = Registry('loop', parent=MMACTION_LOOPS, scope='leaps_mm',
                 locations=['leaps_mm.loops'])
RUNNERS = Registry('runner', parent=MMACTION_RUNNERS, scope='leaps_mm',
                   locations=['leaps_mm.loops'])
DATASETS = Registry('dataset', parent=MMACTION_DATASETS, scope='leaps_mm',
                    locations=['leaps_mm.datasets'])
TRANSFORMS = Registry('transform', parent=MMACTION_TRANSFORMS, scope='leaps_mm',
                      locations=['leaps_mm.datasets'])
METRICS = Registry('metric', parent=MMACTION_METRICS, scope='leaps_mm',
                   locations=['leaps_mm.evaluation'])
HOOKS = Registry('hook', parent=MMACTION_HOOKS, scope='leaps_mm',
                 locations=['leaps_mm.visualization'])
VISBACKENDS = Registry('vis_backend', parent=MMACTION_VISBACKENDS,
                       scope='leaps_mm', locations=['leaps_mm.visualization'])
VISUALIZERS = Registry('visualizer', parent=MMACTION_VISUALIZERS,
                       scope='leaps_mm', locations=['leaps_mm.visualization'])
