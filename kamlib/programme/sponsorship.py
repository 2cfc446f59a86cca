"""Executive sponsorship of key accounts: who sponsors each one, and is contact kept up.

A key account is **covered** when its sponsor (``accounts.executive_sponsor``) is a
member of the executive team; **board-level** when that executive sits on the board.
Contact is **kept up** when the sponsor's last contact is no older than the agreed
rhythm allows (``contact_every_days``, default a quarter) and **lapsed** otherwise.
Contacts per year count every executive's contacts with the account in the 12 months
to the report date.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

CONTACT_EVERY_DAYS = 91


def sponsorship(key_accounts: pd.Series, accounts: pd.DataFrame,
                executives: pd.DataFrame | None, contacts: pd.DataFrame | None,
                as_of: date, contact_every_days: int = CONTACT_EVERY_DAYS) -> pd.DataFrame:
    """One row per key account: sponsor, board level, last contact, contacts in the
    last 12 months against the number the rhythm agrees (frequency met), and the state (no sponsor, unknown sponsor, lapsed, kept up,
    no contact data)."""
    day = pd.Timestamp(as_of)
    sponsor = (accounts.set_index("account_id")["executive_sponsor"]
               if "executive_sponsor" in accounts else pd.Series(dtype="str"))
    frame = pd.DataFrame({"account_id": key_accounts.index, "name": key_accounts.to_numpy()})
    frame["sponsor_id"] = frame["account_id"].map(sponsor)
    team = executives.set_index("executive_id") if executives is not None else None
    if team is not None:
        frame["sponsor"] = frame["sponsor_id"].map(team["executive_name"])
        frame["board_level"] = frame["sponsor_id"].map(team["board_member"]).fillna(False)
    else:
        frame["sponsor"], frame["board_level"] = frame["sponsor_id"], np.nan
    frame = frame.join(_contact_facts(frame, contacts, day), on="account_id")
    frame["agreed_per_year"] = 365 // contact_every_days
    frame["frequency_met"] = (frame["contacts_last_12_months"] >= frame["agreed_per_year"]
                              if contacts is not None else np.nan)
    frame["state"] = _state(frame, team is not None, contacts is not None, day,
                            contact_every_days)
    return frame


def _contact_facts(frame: pd.DataFrame, contacts: pd.DataFrame | None,
                   day: pd.Timestamp) -> pd.DataFrame:
    if contacts is None:
        return pd.DataFrame(columns=["last_sponsor_contact", "contacts_last_12_months"])
    seen = contacts[contacts["contact_date"] <= day]
    own = seen.merge(frame[["account_id", "sponsor_id"]], on="account_id")
    own = own[own["executive_id"] == own["sponsor_id"]]
    recent = seen[seen["contact_date"] > day - pd.DateOffset(years=1)]
    return pd.DataFrame({
        "last_sponsor_contact": own.groupby("account_id")["contact_date"].max(),
        "contacts_last_12_months": recent.groupby("account_id").size(),
    }).reindex(frame["account_id"]).fillna({"contacts_last_12_months": 0})


def _state(frame: pd.DataFrame, know_team: bool, know_contacts: bool, day: pd.Timestamp,
           every: int) -> pd.Series:
    no_sponsor = frame["sponsor_id"].isna()
    unknown = frame["sponsor"].isna() & ~no_sponsor if know_team else pd.Series(False, frame.index)
    since = (day - pd.to_datetime(frame["last_sponsor_contact"])).dt.days
    state = np.select(
        [no_sponsor, unknown, pd.Series(not know_contacts, frame.index), ~(since <= every)],
        ["no sponsor", "sponsor not on the executive team", "no contact data", "lapsed"],
        default="kept up")
    return pd.Series(state, index=frame.index)
