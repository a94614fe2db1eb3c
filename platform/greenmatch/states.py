"""State machines of the models with a status (projects, products, engagements).

Each action leads from some statuses to one status. An action from any other status is an illegal
transition: 409 with the code ``illegal_transition`` whatever the request body says, so the check runs
before the body is validated (contract §5: authentication, role, visibility, body, state — a transition
that cannot happen at all is refused before its optional fields are looked at).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping

from .errors import Conflict
from .text import N_, Label, Msg

NOUNS = {"project": N_("project"), "product": N_("product"), "engagement": N_("engagement")}

ILLEGAL_TRANSITION = "illegal_transition"


class StateMachine(Mapping[str, tuple[frozenset[str], str]]):
    """``{action: (statuses it may start from, status it leads to)}`` for one model (``noun``)."""

    def __init__(self, noun: str, transitions: Mapping[str, tuple[frozenset[str], str]]) -> None:
        self.noun = noun
        self.article = "an" if noun[:1] in "aeiou" else "a"
        self._transitions = dict(transitions)

    def __getitem__(self, action: str) -> tuple[frozenset[str], str]:
        return self._transitions[action]

    def __iter__(self) -> Iterator[str]:
        return iter(self._transitions)

    def __len__(self) -> int:
        return len(self._transitions)

    def possible(self, status: str, action: str) -> bool:
        return action in self._transitions and status in self._transitions[action][0]

    def check(self, status: str, actions: str | Iterable[str]) -> None:
        """409 unless one of ``actions`` may start from ``status``. Several actions: the request's action is
        not known yet (its body is not validated), and none of those the operation offers is possible."""
        wanted = [actions] if isinstance(actions, str) else list(actions)
        if any(self.possible(status, action) for action in wanted):
            return
        raise Conflict(Msg("This action is not possible in the %(thing)s's current status (%(status)s).",
                           thing=Msg(NOUNS.get(self.noun, self.noun)), status=Label(f"{self.noun}_status", status)),
                       code=ILLEGAL_TRANSITION)

    def target(self, status: str, action: str) -> str:
        """The status ``action`` leads to from ``status`` (409 when it cannot start there)."""
        self.check(status, action)
        return self._transitions[action][1]

    def requested(self, raw: object, offered: Iterable[str]) -> list[str]:
        """The actions a request may mean: the one its (unvalidated) body names when that is one of the
        operation's, else all the operation offers (then the body's validation names the bad field)."""
        offered = list(offered)
        return [raw] if isinstance(raw, str) and raw in offered else offered
