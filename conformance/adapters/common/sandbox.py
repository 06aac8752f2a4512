"""The sandbox: the case's root directory S, paths mapped in and out of it,
values encoded for JSON, and the listing the protocol observes."""
from __future__ import annotations

import math
import os
from collections import deque
from typing import Any

from .errors import AdapterError

class Sandbox:
    """The case's root directory S; maps paths and values in and out."""

    def __init__(self, root: str):
        self.root = os.path.abspath(root)

    def path(self, rel: str) -> str:
        """`os.path.join(S, rel)`, unnormalised (protocol-notes)."""
        return os.path.join(self.root, rel)

    def hook_kwargs(self, hook: dict) -> dict:
        """The hook's keyword arguments: a str `out_dir` joined onto S, any
        other value passed as is for the reference to judge."""
        kwargs = dict(hook)
        if isinstance(kwargs.get('out_dir'), str):
            kwargs['out_dir'] = self.path(kwargs['out_dir'])
        return kwargs

    def strip(self, text: str) -> str:
        if text == self.root:
            return ''
        if text.startswith(self.root + '/'):
            return text[len(self.root) + 1:]
        return text

    def strip_all(self, text: str) -> str:
        """Every occurrence of `S/` removed, so messages that quote a path
        read the same in every sandbox (messages are never compared)."""
        return text.replace(self.root + '/', '')

    def encode(self, value: Any) -> Any:
        """A JSON-ready deep copy: S stripped, non-finite floats as strings."""
        if isinstance(value, str):
            return self.strip(value)
        if value is None or isinstance(value, (bool, int)):
            return value
        if isinstance(value, float):
            if math.isnan(value):
                return 'NaN'
            if math.isinf(value):
                return 'Infinity' if value > 0 else '-Infinity'
            return value
        if isinstance(value, dict):
            return {str(k): self.encode(v) for k, v in value.items()}
        if isinstance(value, (list, tuple, deque)):
            return [self.encode(v) for v in value]
        return self.strip(str(value))

    def populate(self, files: list, work_dir: str) -> None:
        """Creates the case's pre-existing `files`, then `work_dir`."""
        try:
            for entry in files:
                target = self.path(entry)
                if entry.endswith('/'):
                    os.makedirs(target, exist_ok=True)
                else:
                    os.makedirs(os.path.dirname(target), exist_ok=True)
                    with open(target, 'w'):
                        pass
            os.makedirs(self.path(work_dir), exist_ok=True)
        except OSError as e:
            raise AdapterError(f'cannot create the case files: {e}') from e

    def listing(self) -> tuple:
        """(`files`, `links`) of the whole sandbox; links are not followed."""
        files, links = [], {}

        def walk(directory: str, prefix: str) -> None:
            with os.scandir(directory) as it:
                for entry in it:
                    rel = prefix + entry.name
                    if entry.is_symlink():
                        links[rel] = self.strip(os.readlink(entry.path))
                    elif entry.is_dir(follow_symlinks=False):
                        files.append(rel + '/')
                        walk(entry.path, rel + '/')
                    else:
                        files.append(rel)

        walk(self.root, '')
        return sorted(files), dict(sorted(links.items()))
