"""Shared test support: paths, the `kam` command, a tiny valid company written by hand
(independent of the generator), and a small generated one whose account names are HTML."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATASETS = REPO.parent / "shared" / "datasets"
ONLINE_RETAIL = SHARED_DATASETS / "online_retail_II_subset.xlsx"
WHOLESALE = SHARED_DATASETS / "wholesale_customers.csv"
TODAY = "2026-09-30"
SAMPLE = REPO / "data" / "sample"
KAM = Path(sys.executable).parent / "kam"

HOSTILE_NAMES = ("<script>window.__pwned=1</script>", "<b>Bold & Co</b>",
                 '<img src=x onerror="window.__pwned=2">')
"""Account names a report must show as text and never run: a script, markup, an event
handler (which would also fetch a file named x)."""

TINY = {
    "accounts.csv": """account_id,account_name,parent_id,country,industry,currency,key_account_manager,executive_sponsor,estimated_wallet
00100,Rossi Holding S.p.A.,,IT,Machinery,EUR,M1,E1,900000
00101,Rossi Meccanica S.r.l.,00100,IT,Machinery,EUR,M1,E1,
00200,شركة الخليج للتجارة,,AE,Trading,AED,M2,,250000
00300,Müller & Söhne GmbH,,DE,Automotive,EUR,,,
""",
    "invoice_lines.csv": """invoice_id,account_id,invoice_date,product_line,quantity,gross_amount,discount_amount,cost_of_goods
INV-1,00101,2026-01-15,Hydraulics,10,1000.00,100.00,600.00
INV-1,00101,2026-01-15,Bearings,5,250.50,0,150.25
INV-2,00200,2026-02-03,Hydraulics,20,2000.00,300.00,1300.00
CN-1,00200,2026-02-20,Hydraulics,-2,-200.00,-30.00,-130.00
INV-3,00300,2026-03-10,Seals,100,500.00,25.00,310.00
""",
    "activities.csv": """account_id,activity_date,activity,count
00101,2026-01-01,order,1
00200,2026-02-01,rush_delivery,2
""",
    "activity_costs.csv": """activity,cost_pool,unit_cost
order,order handling,35
rush_delivery,logistics,180
""",
    "managers.csv": """manager_id,manager_name,skill_financial,skill_consulting,skill_planning,skill_communication,skill_influence,kam_training_completed_on
M1,Giulia Bianchi,4,3,4,5,3,2025-05-20
M2,Omar Khalil,3,4,3,4,4,
""",
    "executives.csv": """executive_id,executive_name,title,board_member,programme_lead
E1,Layla Haddad,Chief Operating Officer,true,true
""",
}


def write_company(folder: Path, files: dict[str, str] | None = None,
                  drop: tuple[str, ...] = ()) -> Path:
    """Write the tiny company, with some files replaced or dropped."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in {**TINY, **(files or {})}.items():
        if name not in drop:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


def needs_shared(path: Path):
    return pytest.mark.skipif(not path.exists(),
                              reason=f"real dataset {path.name} not found in ../shared/datasets")


def kam(*args: str, timeout: int = 900, **kwargs) -> subprocess.CompletedProcess:
    """Run the installed `kam` command as a user would; output captured as text."""
    return subprocess.run([str(KAM), *args], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, "COLUMNS": "200", **kwargs.pop("env", {})},
                          **kwargs)


def write_hostile_company(folder: Path, accounts: int = 120) -> Path:
    """A small generated company (every optional table given) whose account names cycle
    through HOSTILE_NAMES, each followed by the account id."""
    from kamlib.sample import write_sample

    write_sample(folder, accounts=accounts)
    path = folder / "accounts.csv"
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    table["account_name"] = [f"{HOSTILE_NAMES[i % len(HOSTILE_NAMES)]} {account}"
                             for i, account in enumerate(table["account_id"])]
    table.to_csv(path, index=False)
    return folder
