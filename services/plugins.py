"""Plug-in registries: each extension point (recommenders, collectors, alert channels, forecasters) is one
Registry, filled with the built-ins and with the Python entry points of its group, so a package can ship one.

A third-party package declares, in its pyproject.toml:

    [project.entry-points."headroom.recommenders"]
    my_kind = "my_package.module:plugin"

and the object the entry point names is registered under that name the first time the registry is read.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class PluginError(LookupError):
    """An unknown plug-in name, or an entry point that does not load; the message says which and what to do."""

    def __str__(self) -> str:
        return str(self.args[0])


class Registry(Generic[T]):
    """Plug-ins of one kind by name: built-ins registered in code, then the entry points of `group`."""

    def __init__(self, group: str, what: str, check: Callable[[object], T]) -> None:
        self.group = group
        self.what = what  # e.g. "recommender", for messages
        self._check = check  # turns a loaded object into a T, or raises TypeError saying what is wrong
        self._builtins: dict[str, T] = {}
        self._loaded: dict[str, T] | None = None

    def register(self, name: str, plugin: T) -> T:
        """Register a built-in under `name` (one line per built-in, in the module that defines it)."""
        if name in self._builtins:
            raise PluginError(f"{self.what} {name!r} is registered twice")
        self._builtins[name] = plugin
        self._loaded = None
        return plugin

    def _all(self) -> dict[str, T]:
        if self._loaded is None:
            loaded = dict(self._builtins)
            for point in entry_points(group=self.group):
                if point.name in loaded:
                    log.warning("%s %r from %s ignored: a %s of that name exists", self.what, point.name,
                                point.value, self.what)
                    continue
                try:
                    loaded[point.name] = self._check(point.load())
                except Exception as exc:  # a broken third-party package must not take the platform down
                    log.error("%s %r (entry point %s in group %s) not loaded: %s", self.what, point.name,
                              point.value, self.group, exc)
            self._loaded = loaded
        return self._loaded

    def reload(self) -> None:
        """Read the entry points again (after installing a plug-in package into a running process)."""
        self._loaded = None

    def names(self) -> list[str]:
        return list(self._all())

    def __contains__(self, name: object) -> bool:
        return name in self._all()

    def __iter__(self) -> Iterator[tuple[str, T]]:
        return iter(list(self._all().items()))

    def get(self, name: str) -> T:
        try:
            return self._all()[name]
        except KeyError:
            known = ", ".join(self.names()) or "none"
            raise PluginError(f"unknown {self.what} {name!r}: known ones are {known}") from None


def entry_point_names(group: str) -> list[str]:
    """Names the installed packages declare in `group`, read from their metadata without importing them."""
    return [point.name for point in entry_points(group=group)]
