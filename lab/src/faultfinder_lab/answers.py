"""The lab app's answers to ``/ws/ask``: deterministic, and kept in the answer cache (Redis).

The cache is what the ask step needs and login does not: when it fails, only asking fails.
"""

from __future__ import annotations

import re

import redis.asyncio as aioredis

ANSWER_TTL = 60  # seconds an answer stays in the cache
_ARITHMETIC = re.compile(r"^\s*(-?\d{1,9})\s*([x×*+-])\s*(-?\d{1,9})\s*\??\s*$")


def answer_to(question: str) -> str:
    """Arithmetic on two numbers ("6 x 7" → "42"); anything else is echoed back."""
    match = _ARITHMETIC.match(question)
    if match is None:
        return f"you asked: {question}"
    left, operator, right = int(match.group(1)), match.group(2), int(match.group(3))
    result = left + right if operator == "+" else left - right if operator == "-" else left * right
    return str(result)


async def cached_answer(cache: aioredis.Redis, question: str) -> str:
    """The answer from the cache, computed and stored on a miss; every question is counted."""
    key = f"lab:answer:{question}"
    await cache.incr("lab:questions")
    found = await cache.get(key)
    if found is not None:
        return found.decode() if isinstance(found, bytes) else str(found)
    answer = answer_to(question)
    await cache.set(key, answer, ex=ANSWER_TTL)
    return answer
