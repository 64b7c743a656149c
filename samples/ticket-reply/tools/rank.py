"""Ranks FAQ entries for a support ticket by the words they share: a small, deterministic
stand-in for a retriever, kept in Python as a team's own helper code would be."""

import re


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 3}


def nearest(ticket: str, entries: list[dict], min_score: int = 1) -> dict:
    """The FAQ entry that shares the most words with the ticket.

    Args:
        ticket: The customer's message.
        entries: FAQ entries, each with `id`, `question` and `answer`.
        min_score: Fewer shared words than this means no entry fits.
    """
    words = _words(ticket)
    scored = [(len(words & _words(e["question"] + " " + e["answer"])), e) for e in entries]
    score, best = max(scored, key=lambda pair: pair[0])
    if score < min_score:
        return {"id": None, "question": None, "answer": None, "score": score}
    return {**best, "score": score}
