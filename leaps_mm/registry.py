"""leaps_mm's registries: children of MMAction2's, so that a config with
``default_scope = 'leaps_mm'`` builds leaps_mm components and, through the
parents, any MMAction2 or mmengine component. Registries leaps_mm adds
nothing to exist too, so that the Runner finds every kind in this scope."""
from mmaction.registry import DATA_SAMPLERS as MMACTION_DATA_SAMPLERS
from mmaction.registry import DATASETS as MMACTION_DATASETS
from mmaction.registry import EVALUATOR as MMACTION_EVALUATOR
from mmaction.registry import FUNCTION as MMACTION_FUNCTION
from mmaction.registry import LOG_PROCESSORS as MMACTION_LOG_PROCESSORS
from mmaction.registry import HOOKS as MMACTION_HOOKS
from mmaction.registry import LOOPS as MMACTION_LOOPS
from mmaction.registry import METRICS as MMACTION_METRICS
from mmaction.registry import MODEL_WRAPPERS as MMACTION_MODEL_WRAPPERS
from mmaction.registry import MODELS as MMACTION_MODELS
from mmaction.registry import \
    OPTIM_WRAPPER_CONSTRUCTORS as MMACTION_OPTIM_WRAPPER_CONSTRUCTORS
from mmaction.registry import OPTIM_WRAPPERS as MMACTION_OPTIM_WRAPPERS
from mmaction.registry import OPTIMIZERS as MMACTION_OPTIMIZERS
from mmaction.registry import PARAM_SCHEDULERS as MMACTION_PARAM_SCHEDULERS
from mmaction.registry import RUNNERS as MMACTION_RUNNERS
from mmaction.registry import TRANSFORMS as MMACTION_TRANSFORMS
from mmaction.registry import VISBACKENDS as MMACTION_VISBACKENDS
from mmaction.registry import VISUALIZERS as MMACTION_VISUALIZERS
from mmaction.registry import \
    WEIGHT_INITIALIZERS as MMACTION_WEIGHT_INITIALIZERS
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
                 locations=['leaps_mm.engine'])
VISBACKENDS = Registry('vis_backend', parent=MMACTION_VISBACKENDS,
                       scope='leaps_mm', locations=['leaps_mm.engine'])
VISUALIZERS = Registry('visualizer', parent=MMACTION_VISUALIZERS,
                       scope='leaps_mm', locations=['leaps_mm.engine'])

# Empty children, so that mmengine resolves these kinds in the leaps_mm scope.
DATA_SAMPLERS = Registry('data sampler', parent=MMACTION_DATA_SAMPLERS,
                         scope='leaps_mm')
FUNCTION = Registry('function', parent=MMACTION_FUNCTION, scope='leaps_mm')
EVALUATOR = Registry('evaluator', parent=MMACTION_EVALUATOR, scope='leaps_mm')
LOG_PROCESSORS = Registry('log_processor', parent=MMACTION_LOG_PROCESSORS,
                          scope='leaps_mm')
OPTIMIZERS = Registry('optimizer', parent=MMACTION_OPTIMIZERS,
                      scope='leaps_mm')
OPTIM_WRAPPERS = Registry('optim_wrapper', parent=MMACTION_OPTIM_WRAPPERS,
                          scope='leaps_mm', locations=['leaps_mm.loops'])
OPTIM_WRAPPER_CONSTRUCTORS = Registry(
    'optimizer wrapper constructor',
    parent=MMACTION_OPTIM_WRAPPER_CONSTRUCTORS, scope='leaps_mm')
PARAM_SCHEDULERS = Registry('parameter scheduler',
                            parent=MMACTION_PARAM_SCHEDULERS, scope='leaps_mm')
WEIGHT_INITIALIZERS = Registry('weight initializer',
                               parent=MMACTION_WEIGHT_INITIALIZERS,
                               scope='leaps_mm')
