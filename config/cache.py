"""The cache, which a Redis outage must not turn into failed requests.

Django's Redis cache raises when Redis does not answer. Pacte uses the cache for what can
degrade: sign-in rate limits (django-allauth), sessions' last activity, daily mail de-duplication.
During an outage a read is a miss and a write is dropped, with a warning in the log: sign-in,
pages and the API go on (password guessing stays paused by django-axes, in the database)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)
T = TypeVar("T")


def _soft(fallback: Any) -> Callable[[Callable[..., T]], Callable[..., T]]:
    def wrap(method: Callable[..., T]) -> Callable[..., T]:
        @wraps(method)
        def call(self: RedisCache, *args: Any, **kwargs: Any) -> T:
            try:
                return method(self, *args, **kwargs)
            except RedisError as error:
                logger.warning("cache unavailable (%s): %s skipped", error, method.__name__)
                if fallback == "default":
                    return kwargs.get("default", args[1] if len(args) > 1 else None)  # type: ignore[return-value]  # get's own default
                return fallback  # type: ignore[no-any-return]  # the method's "nothing done"

        return call

    return wrap


class ResilientRedisCache(RedisCache):
    get = _soft("default")(RedisCache.get)
    get_many = _soft({})(RedisCache.get_many)
    has_key = _soft(False)(RedisCache.has_key)
    set = _soft(None)(RedisCache.set)
    set_many = _soft([])(RedisCache.set_many)
    add = _soft(True)(RedisCache.add)  # a lock (allauth's rate limit) taken: no wait
    touch = _soft(False)(RedisCache.touch)
    delete = _soft(False)(RedisCache.delete)
    delete_many = _soft(None)(RedisCache.delete_many)
    incr = _soft(0)(RedisCache.incr)
    clear = _soft(None)(RedisCache.clear)
