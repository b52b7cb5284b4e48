"""Write the best values of a search as a config that inherits the original
and sets only the tuned keys.

Keys inside lists (``leaps.inverter.losses.2.weight``) cannot be merged
through ``_base_`` (mmengine replaces a list whole), so the written config
takes the list from ``_base_`` and sets the items in place::

    _base_ = ['../../registry_configs/demo/leaps_r3d.py']
    __list0 = _base_.leaps.inverter.losses
    __list0[2]['weight'] = 0.02
    leaps = dict(inverter=dict(losses=__list0), loop=dict(...))

(mmengine drops names starting with ``__`` from the config.) ``from_config``
paths of the verifier/judge, relative to the original config's folder, are
rewritten relative to the new file's folder.
"""
import os.path as osp
from typing import Any, Dict, List, Sequence

from leaps_mm.fileio.atomic import atomic_path
from .space import lookup


class _Name(str):
    """A variable name, rendered without quotes."""


def _render(node: Any, indent: int) -> str:
    if isinstance(node, _Name):
        return str(node)
    if not isinstance(node, dict):
        return repr(node)
    pad = ' ' * (indent + 4)
    if all(k.isidentifier() for k in node):
        items = [f'{pad}{k}={_render(v, indent + 4)}' for k, v in node.items()]
        return 'dict(\n' + ',\n'.join(items) + ')'
    items = [f'{pad}{k!r}: {_render(v, indent + 4)}' for k, v in node.items()]
    return '{\n' + ',\n'.join(items) + '}'


def _subscripts(cfg: Any, parts: Sequence[str]) -> str:
    """``[2]['weight']`` for the path ``parts`` below a list in ``cfg``."""
    out, node = '', cfg
    for part in parts:
        if isinstance(node, (list, tuple)):
            out += f'[{int(part)}]'
            node = node[int(part)]
        else:
            out += f'[{part!r}]'
            node = node[part]
    return out


def best_config_text(cfg: Any, config: str, out_path: str,
                     assignments: Dict[str, Any],
                     header: Sequence[str] = ()) -> str:
    """The text of a config at ``out_path`` inheriting ``config`` (whose
    loaded form is ``cfg``) with ``{dotted key: value}`` set."""
    folder = osp.dirname(osp.abspath(out_path))
    source = osp.abspath(config)
    # relative inside a shared tree (the repo moves with it), else absolute
    base = (osp.relpath(source, folder)
            if osp.commonpath([source, folder]) != osp.sep else source)
    tree: Dict[str, Any] = {}
    lists: Dict[tuple, str] = {}
    statements: List[str] = []

    def put(parts: Sequence[str], value: Any) -> None:
        node = tree
        for part in parts[:-1]:
            node = node.setdefault(part, {})
        node[parts[-1]] = value

    for key, value in assignments.items():
        parts = key.split('.')
        node = cfg
        for depth, part in enumerate(parts):
            if isinstance(node, (list, tuple)):
                prefix = tuple(parts[:depth])
                if prefix not in lists:
                    lists[prefix] = f'__list{len(lists)}'
                    statements.append(f'{lists[prefix]} = _base_.'
                                      + '.'.join(prefix))
                    put(prefix, _Name(lists[prefix]))
                statements.append(
                    f'{lists[prefix]}{_subscripts(node, parts[depth:])} = '
                    f'{value!r}')
                break
            node = node[part]
        else:
            put(parts, value)
    for net in ('verifier', 'judge'):
        spec = cfg.get(net)
        path = spec.get('from_config') if isinstance(spec, dict) else None
        if path and not path.startswith('mmaction::') and not osp.isabs(path):
            path = osp.join(osp.dirname(source), path)
            put((net, 'from_config'), osp.relpath(path, folder)
                if osp.commonpath([path, folder]) != osp.sep else path)
    lines = [f'# {line}' for line in header]
    lines += [f'_base_ = [{base!r}]', '']
    lines += statements + ([''] if statements else [])
    lines += [f'{key} = {_render(value, 0)}' for key, value in tree.items()]
    return '\n'.join(lines) + '\n'


def write_best_config(cfg: Any, config: str, out_path: str,
                      assignments: Dict[str, Any],
                      header: Sequence[str] = ()) -> None:
    """Write :func:`best_config_text` to ``out_path`` atomically."""
    for key in assignments:
        lookup(cfg, key)  # fail before writing on a key the config lacks
    text = best_config_text(cfg, config, out_path, assignments, header)
    with atomic_path(out_path) as tmp, open(tmp, 'w') as file:
        file.write(text)
