"""Overrides: management sets an account's status against the criteria, and says why.

An override is one of add (make key an account not on the roster), keep (keep key an
account on the roster) or remove (take an account off the roster, or keep it from
entering), each with a reason and an approver, at most one per account. Overrides are
applied last, after the criteria, hysteresis and the agreed maximum; each is flagged
``override=True`` and logged, and one that changes nothing is logged as not applied,
with a warning. Overrides do not carry over by themselves: management renews them each
period, on purpose (:func:`standing_overrides` lists the ones to renew).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from kamlib.data.yaml_files import YamlSyntaxError, read_yaml, yaml_line
from kamlib.selection.errors import OverrideError
from kamlib.selection.roster_history import ON_ROSTER, RosterHistory, read_history
from kamlib.words.catalogue import _
from kamlib.words.columns import replaced


class Override(BaseModel):
    """Management sets an account's status against the criteria, and says why."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    account_id: str = Field(min_length=1)
    action: Literal["add", "keep", "remove"]
    """add: make key an account not on the roster; keep: keep key an account on the
    roster; remove: take an account off the roster, or keep it from entering."""
    reason: str = ""
    approved_by: str = ""

    @model_validator(mode="after")
    def _justified(self) -> Override:
        if not self.reason:
            raise ValueError("reason must say why management sets this status against the "
                             "criteria. Got nothing.")
        if not self.approved_by:
            raise ValueError("approved_by must name who approved the override. Got nothing.")
        return self


OVERRIDE_FIX = ("write each override as a mapping with account_id, action (add, keep or "
                "remove), reason and approved_by, one override per account")


def read_overrides(records: Iterable[Override | Mapping],
                   where: Callable[[int, tuple], str] = lambda index, loc: ""
                   ) -> tuple[Override, ...]:
    """Overrides from records (dicts as read from YAML, or :class:`Override`), checked.

    Raises :class:`OverrideError` naming the record, for a record that is not a mapping,
    a missing reason or approver, an unknown action, or two overrides for the same
    account; ``where`` (the record's position and the pydantic location in it) puts the
    file and line in front (see :func:`read_overrides_file`).
    """
    overrides: list[Override] = []
    for index, record in enumerate(records):
        if isinstance(record, Override):
            overrides.append(record)
            continue
        if not isinstance(record, Mapping):
            raise OverrideError(f"{where(index, ())}Override {index + 1} (not a mapping): an "
                                "override must be a mapping with account_id, action, reason "
                                f"and approved_by. Got {_kind(record)}. Fix: {OVERRIDE_FIX}.")
        try:
            overrides.append(Override.model_validate(dict(record)))
        except ValidationError as exc:
            loc = exc.errors()[0]["loc"]
            raise OverrideError(f"{where(index, loc)}Override {index + 1} "
                                f"({record.get('account_id', 'no account id')}): "
                                f"{_messages(exc)}. Fix: {OVERRIDE_FIX}.") from None
    first: dict[str, int] = {}
    for index, override in enumerate(overrides):
        if override.account_id in first:
            raise OverrideError(
                f"{where(index, ('account_id',))}Each account must have at most one override. "
                f"Got two or more for account {override.account_id} (overrides "
                f"{first[override.account_id] + 1} and {index + 1}). Fix: keep one override "
                "for that account, with the action management decided.")
        first[override.account_id] = index
    return tuple(overrides)


def read_overrides_file(path: Path) -> tuple[Override, ...]:
    """The overrides file (a YAML list of overrides, read safely, see kamlib.data.yaml_files),
    checked by :func:`read_overrides`; errors name the file and the line."""
    try:
        records, document = read_yaml(path)
    except (OSError, YamlSyntaxError) as exc:
        what = (str(exc).rstrip(".") if isinstance(exc, YamlSyntaxError)
                else f"cannot be read ({exc.strerror or exc})")
        raise OverrideError(f"overrides_file {path}, {what}.") from None
    if records is None:
        return ()
    if not isinstance(records, list):
        raise OverrideError(f"overrides_file {path}, line {yaml_line(document, ())}: the file "
                            f"must be a YAML list of overrides ('- account_id: ...'). Got "
                            f"{_kind(records)}. Fix: {OVERRIDE_FIX}.")
    return read_overrides(records, lambda index, loc: (
        f"overrides_file {path}, line {yaml_line(document, (index, *loc))}: "))


def _kind(content: object) -> str:
    kind = {dict: "a mapping", list: "a list", str: "a text", bool: "true or false"}.get(
        type(content))
    return kind or f"the value {content!r}"


def _messages(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors():
        where = ".".join(map(str, error["loc"]))
        message = error["msg"].removeprefix("Value error, ").rstrip(".")
        parts.append(f"{where}: {message}" if where else message)
    return "; ".join(parts)


def standing_overrides(roster: pd.DataFrame, approved_by: str | None = None
                       ) -> tuple[Override, ...]:
    """The overrides of the current roster period, as ``keep`` overrides to renew.

    Overrides do not carry over by themselves: management renews them each period,
    on purpose. Their reason is the roster's reason; the approver is the roster's
    approver unless ``approved_by`` is given.
    """
    history = read_history(roster)
    if history.period is None:
        return ()
    current = history.current
    rows = current[current["override"] & current["status"].isin(ON_ROSTER)]
    return tuple(Override(account_id=str(account), action="keep",
                          reason=_OVERRIDE_PREFIX.sub("", str(row["reason"])),
                          approved_by=approved_by or str(row["approved_by"]))
                 for account, row in rows.iterrows())


_OVERRIDE_PREFIX = re.compile(r"^\s*management override( \(\w+\))?[^:]*:\s*", re.IGNORECASE)


def apply_overrides(frame: pd.DataFrame, records: tuple[Override, ...], history: RosterHistory
                    ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """The proposal with management's overrides applied last, flagged and logged: (the
    accounts, the override log, warnings for overrides that change nothing). What the
    criteria alone gave stays in criteria_change, criteria_status, criteria_reason."""
    frame = frame.assign(criteria_change=frame["change"], criteria_status=frame["status"],
                         criteria_reason=frame["reason"], override=False, override_by="")
    log, warnings = [], []
    for record in sorted(records, key=lambda r: r.account_id):
        current, target, change = _override_target(frame, record, history)
        before = frame.at[record.account_id, "status"]
        applied = before != target
        if applied:
            frame.loc[record.account_id, ["change", "status", "override", "override_by"]] = [
                change, target, True, record.approved_by]
            frame.loc[record.account_id, "reason"] = _(
                "Management override ({action}), approved by {approver}: {reason}. By the "
                "criteria: {criteria_reason}").format(
                    action=record.action, approver=record.approved_by, reason=record.reason,
                    criteria_reason=frame.at[record.account_id, "reason"])
            effect = f"{before} -> {target}"
        else:
            effect = _("none: the criteria already give {status}").format(status=target)
            warnings.append(_("The override to {action} account {account} changes nothing: "
                              "the criteria already give {status}.").format(
                                  action=record.action, account=record.account_id,
                                  status=target))
        log.append({"candidate": record.account_id, "action": record.action,
                    "reason": record.reason, "approved_by": record.approved_by,
                    "current_status": current, "criteria_status": before, "status": target,
                    "applied": applied, "effect": effect})
    columns = ["candidate", "action", "reason", "approved_by", "current_status",
               "criteria_status", "status", "applied", "effect"]
    return frame, pd.DataFrame(log, columns=columns).astype({"applied": bool}), warnings


def _override_target(frame: pd.DataFrame, record: Override, history: RosterHistory
                     ) -> tuple[str, str, str]:
    """(current status, target status, change) of an override, or an OverrideError."""
    account = record.account_id
    if account not in frame.index:
        raise OverrideError(f"Override for account '{account}': the account must be a "
                            "candidate or on the current roster. Got an id found in neither; "
                            "check it (leading zeros count).")
    current = frame.at[account, "current_status"]
    on_roster = current in ON_ROSTER
    where = f"the {history.period} roster" if history.period else "a roster (there is none)"
    if record.action == "keep" and not on_roster:
        raise OverrideError(f"Override for account {account}: keep applies to accounts on "
                            f"{where}. Got an account that is not on it; use add.")
    if record.action == "add" and on_roster:
        raise OverrideError(f"Override for account {account}: add applies to accounts not on "
                            f"the roster. Got an account on the {history.period} roster "
                            f"({current}); use keep.")
    if record.action == "remove":
        return current, ("removed" if on_roster else "none"), ("leave" if on_roster else "none")
    return current, "key", ("stay" if on_roster else "enter")


def note_lapsed_overrides(frame: pd.DataFrame, history: RosterHistory) -> pd.DataFrame:
    """Say so when an account was on the roster by override and the override lapsed."""
    earlier = frame.index.isin(history.current.index[history.current["override"]])
    lapsed = (earlier & ~frame["override"] & (frame["status"] != "key")).to_numpy(dtype=bool)
    if not lapsed.any():
        return frame
    # only the few lapsed rows are reworded: adding text to a million reasons took seconds
    noted = frame["reason"][lapsed] + ". " + _(
        "It was on the {period} roster by management override; the override was not "
        "renewed").format(period=history.period)
    return frame.assign(reason=replaced(frame["reason"], lapsed, noted))
