"""The API's cache of rendered bodies: served while the version holds, rendered again when it changes, bounded."""

from __future__ import annotations

from api.response_cache import ResponseCache


def test_a_body_is_rendered_once_per_version_and_evicted_least_recently_used() -> None:
    cache = ResponseCache(max_entries=2)
    renders: list[str] = []

    def render(text: str) -> bytes:
        renders.append(text)
        return text.encode()

    first = cache.get_or_render("a", 1, lambda: render("a1"))
    assert cache.get_or_render("a", 1, lambda: render("never")) == first and renders == ["a1"]
    newer = cache.get_or_render("a", 2, lambda: render("a2"))  # a retrain stored a new forecast
    assert newer.body == b"a2" and newer.etag != first.etag and renders == ["a1", "a2"]
    cache.get_or_render("b", 1, lambda: render("b1"))
    cache.get_or_render("a", 2, lambda: render("never"))  # a is now the most recently used
    cache.get_or_render("c", 1, lambda: render("c1"))  # evicts b, not a
    assert len(cache) == 2
    cache.get_or_render("a", 2, lambda: render("never"))
    cache.get_or_render("b", 1, lambda: render("b1 again"))
    assert renders == ["a1", "a2", "b1", "c1", "b1 again"]
    assert (cache.hits, cache.misses) == (3, 5)
    assert first.etag.startswith('"') and first.etag.endswith('"')  # a strong ETag, quoted as HTTP wants
