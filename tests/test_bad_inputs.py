"""The bad-input corpus: every kind of broken or hostile input a user has sent us, run
through the real `kam` command as a user would.

Each refused input must exit with its documented code, name where the problem is (file,
column, row, as far as the input allows) and what to do, and print no traceback. Each
accepted variant of a clean export (other delimiters, decimal commas, Excel, Parquet, ...)
must give the same figures as the clean input.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from support import TINY, TODAY, kam, write_company
from kamlib.data.load import load_data

Change = Callable[[Path], list[str]]
"""Changes the tiny company in a folder; returns the extra command-line arguments."""


def replace(name: str, old: str, new: str, count: int = 1) -> Change:
    def change(folder: Path) -> list[str]:
        text = (folder / name).read_text(encoding="utf-8")
        assert old in text, f"{old!r} is not in {name}"
        (folder / name).write_text(text.replace(old, new, count), encoding="utf-8")
        return []
    return change


def write(name: str, content: str | bytes) -> Change:
    def change(folder: Path) -> list[str]:
        path = folder / name
        path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
        return []
    return change


def remove(name: str) -> Change:
    def change(folder: Path) -> list[str]:
        (folder / name).unlink()
        return []
    return change


def both(*changes: Change) -> Change:
    def change(folder: Path) -> list[str]:
        return [arg for c in changes for arg in c(folder)]
    return change


def args(*extra: str) -> Change:
    return lambda folder: [a.replace("{folder}", str(folder)) for a in extra]


def mapping(text: str) -> Change:
    """A mapping file beside the data folder, given with --mapping."""
    def change(folder: Path) -> list[str]:
        path = folder.parent / "mapping.yml"
        path.write_text(text, encoding="utf-8")
        return ["--mapping", str(path)]
    return change


@dataclass(frozen=True)
class Bad:
    kind: str
    change: Change
    code: int
    names: tuple[str, ...]
    """What the message must name: the file, the column, the rows, the value found."""
    not_said: tuple[str, ...] = ()
    """What the message must not say (a false follow-on error)."""


def us_dates(folder: Path) -> list[str]:
    """Every date written month-first, and every day 12 or less (billed early each month)."""
    path = folder / LINES
    text = path.read_text(encoding="utf-8")
    for iso, us in (("2026-01-15", "01/05/2026"), ("2026-02-03", "02/03/2026"),
                    ("2026-02-20", "02/10/2026"), ("2026-03-10", "03/09/2026")):
        text = text.replace(iso, us)
    path.write_text(text, encoding="utf-8")
    return []


def link_outside(name: str) -> Change:
    """``name`` moved beside the data folder and linked back into it."""
    def change(folder: Path) -> list[str]:
        outside = folder.parent / "outside"
        outside.mkdir(exist_ok=True)
        (folder / name).rename(outside / name)
        (folder / name).symlink_to(outside / name)
        return []
    return change


def lines_parquet(rows: list[dict] | None = None, **columns: list) -> Change:
    """Invoice lines as Parquet, written by Arrow (an empty cell is null, NaN stays NaN),
    with ``rows`` appended and ``columns`` added."""
    def change(folder: Path) -> list[str]:
        path = folder / LINES
        lines = pd.read_csv(path, dtype={"account_id": str})
        lines = pd.concat([lines, pd.DataFrame(rows or [])], ignore_index=True)
        table = pa.Table.from_pandas(lines.assign(**columns), preserve_index=False)
        pq.write_table(table, folder / "invoice_lines.parquet")
        path.unlink()
        return []
    return change


def nan_rebate(folder: Path) -> list[str]:
    """A rebate column whose third line is NaN (not null, as pandas would write it)."""
    lines_parquet()(folder)
    path = folder / "invoice_lines.parquet"
    table = pq.read_table(path)
    rebates = pa.array([0.0, 0.0, float("nan"), None, 0.0], pa.float64(), from_pandas=False)
    pq.write_table(table.append_column("rebate_amount", rebates), path)
    return []


PWNED = "pwned"
"""The file a hostile input tries to create beside the data folder; it must never appear."""

LINES = "invoice_lines.csv"
ACCOUNTS = "accounts.csv"
SAME = "{" + ", ".join(f"{c}: {c}" for c in TINY[LINES].split("\n", 1)[0].split(",")) + "}"
"""A mapping's columns of the tiny company's invoice lines, each to itself."""

CORPUS = [
    Bad("a required table is missing", remove(LINES), 1, (LINES, "required table is missing")),
    Bad("a required column is missing",
        replace(LINES, "invoice_date,", "date_of_invoice,"), 1,
        (LINES, "invoice_date", "required column")),
    Bad("text in a number column", replace(LINES, "1000.00,100.00", "1k,100.00"), 1,
        (LINES, "gross_amount", "row 2", "'1k'")),
    Bad("a date that does not exist", replace(LINES, "2026-03-10", "2026-02-30"), 1,
        (LINES, "invoice_date", "row 6", "'2026-02-30'")),
    Bad("a date in the future", replace(LINES, "2026-03-10", "2027-03-10"), 1,
        (LINES, "invoice_date", "row 6", "in the future")),
    Bad("an infinite amount", replace(LINES, "1000.00,100.00", "inf,100.00"), 1,
        (LINES, "gross_amount", "row 2", "not finite")),
    Bad("-Infinity as a cost of goods", replace(LINES, "600.00", "-Infinity"), 1,
        (LINES, "cost_of_goods", "row 2", "not finite")),
    Bad("an amount too large to be real", replace(LINES, "2000.00,300.00", "1e308,300.00"), 1,
        (LINES, "gross_amount", "row 4", "out of range", "1e+12")),
    Bad("an infinite activity count", replace("activities.csv", "order,1", "order,inf"), 1,
        ("activities.csv", "count", "row 2", "not finite")),
    Bad("a year no date can have", replace(LINES, "2026-03-10", "2999-03-10"), 1,
        (LINES, "invoice_date", "row 6", "plausible range", "'2999-03-10'")),
    Bad("a date before any export", replace(LINES, "2026-03-10", "1901-03-10"), 1,
        (LINES, "invoice_date", "row 6", "before 1980-01-01")),
    Bad("invoice lines exported twice",
        write(LINES, TINY[LINES] + "".join(TINY[LINES].splitlines(True)[1:])), 1,
        (LINES, "rows 7, 8, 9, 10, 11", "repeated whole", "adding 3,550.50 to gross_amount")),
    Bad("activities exported twice",
        write("activities.csv", TINY["activities.csv"] + "00101,2026-01-01,order,1\n"), 1,
        ("activities.csv", "row 4", "repeated whole")),
    Bad("a 90-day target due before it starts",
        both(write("plans.csv", "plan_id,account_id,year,customer_goals,signed_by,signed_on,"
                   "last_updated_on\nP-1,00100,2026,Grow,M. Conti,2026-01-20,2026-06-30\n"),
             write("stage_goals.csv", "goal_id,plan_id,goal_type,description,start_date,"
                   "due_date,baseline_value,target_value\nG-1,P-1,90_day_target,Second source,"
                   "2026-07-01,2026-03-29,0,100\n")), 1,
        ("stage_goals.csv", "row 2", "due_date before start_date", "2026-07-01 to 2026-03-29")),
    Bad("a goal due decades ahead",
        both(write("plans.csv", "plan_id,account_id,year,customer_goals,signed_by,signed_on,"
                   "last_updated_on\nP-1,00100,2026,Grow,M. Conti,2026-01-20,2026-06-30\n"),
             write("stage_goals.csv", "goal_id,plan_id,goal_type,description,start_date,"
                   "due_date,baseline_value,target_value\nG-1,P-1,stage_goal,Framework,"
                   "2026-01-01,2062-04-30,0,1\n")), 1,
        ("stage_goals.csv", "due_date", "row 2", "more than 5 years ahead", "2062-04-30")),
    Bad("selection criteria that all weigh zero",
        write("selection_criteria.yml", "agreed_by: Board\nagreed_on: 2026-01-15\ncriteria:\n"
              "  - {feature: net_revenue, threshold: 1000, weight: 0}\n"), 1,
        ("selection_criteria.yml", "weight above 0")),
    Bad("a negative count", replace("activities.csv", "order,1", "order,-1"), 1,
        ("activities.csv", "count", "row 2", "negative")),
    Bad("a fraction where a whole number is expected",
        write("payment_terms.csv", "account_id,terms_days\n00100,60\n00200,30.5\n"), 1,
        ("payment_terms.csv", "terms_days", "row 3", "'30.5'")),
    Bad("a duplicated account id",
        write(ACCOUNTS, TINY[ACCOUNTS] + "00300,Müller Kopie,,DE,Automotive,EUR,,,\n"), 1,
        (ACCOUNTS, "account_id", "rows 5, 6", "'00300'")),
    Bad("invoice lines of an unknown account", replace(LINES, "INV-3,00300", "INV-3,00999"), 1,
        (LINES, "account_id", "row 6", "'00999'")),
    Bad("an unknown key account manager", replace(ACCOUNTS, ",M2,,250000", ",M9,,250000"), 1,
        (ACCOUNTS, "key_account_manager", "row 4", "'M9'")),
    Bad("an unknown executive sponsor", replace(ACCOUNTS, ",M1,E1,900000", ",M1,E7,900000"), 1,
        (ACCOUNTS, "executive_sponsor", "row 2", "'E7'")),
    Bad("a cycle in the group hierarchy",
        replace(ACCOUNTS, "00100,Rossi Holding S.p.A.,,", "00100,Rossi Holding S.p.A.,00101,"),
        1, (ACCOUNTS, "parent_id", "00100 -> 00101")),
    Bad("an empty table", write("activities.csv", "account_id,activity_date,activity,count\n"),
        1, ("activities.csv", "empty")),
    Bad("an activity without a unit cost",
        replace("activities.csv", "rush_delivery", "helicopter_delivery"), 1,
        ("activities.csv", "activity", "row 3", "activity_costs")),
    Bad("a country name instead of its code",
        replace(ACCOUNTS, "00300,Müller & Söhne GmbH,,DE", "00300,Müller & Söhne GmbH,,Germany"),
        1, (ACCOUNTS, "country", "row 5", "'Germany'")),
    Bad("a currency code in lower case", replace(ACCOUNTS, ",IT,Machinery,EUR,M1,E1,900000",
                                                 ",IT,Machinery,eur,M1,E1,900000"), 1,
        (ACCOUNTS, "currency", "row 2", "'eur'")),
    Bad("a skill score out of range", replace("managers.csv", "M1,Giulia Bianchi,4",
                                              "M1,Giulia Bianchi,9"), 1,
        ("managers.csv", "skill_financial", "row 2", "between 1 and 5")),
    Bad("a yes/no column with another word",
        replace("executives.csv", "Officer,true,true", "Officer,maybe,true"), 1,
        ("executives.csv", "board_member", "row 2", "'maybe'")),
    Bad("a file that is not UTF-8",
        write(ACCOUNTS, TINY[ACCOUNTS].encode("cp1252", errors="replace")), 1,
        (ACCOUNTS, "UTF-8", "encoding")),
    Bad("a table given twice", write("accounts.xlsx", b"not really excel"), 1,
        ("accounts.csv", "accounts.xlsx", "more than once")),
    Bad("a damaged Excel file",
        both(remove(LINES), write("invoice_lines.xlsx", b"PK\x03\x04 damaged")), 1,
        ("invoice_lines.xlsx", "cannot be read")),
    Bad("the data folder does not exist", args("--data", "{folder}/nowhere"), 2,
        ("nowhere", "does not exist")),
    Bad("a mapping file that does not exist", args("--mapping", "{folder}/none.yml"), 2,
        ("none.yml", "does not exist")),
    Bad("a mapping for a table the contract does not have", mapping("tables: {clients: {}}\n"),
        2, ("mapping.yml", "clients", "table must be one of")),
    Bad("a mapping to a column the contract does not have",
        mapping("tables: {accounts: {columns: {client_name: Name}}}\n"), 2,
        ("mapping.yml", "client_name", "not a column")),
    Bad("a mapping naming an export header that is not there",
        mapping("tables: {accounts: {columns: {account_name: Company}}}\n"), 2,
        ("accounts", "'Company'", "header names")),
    Bad("a mapping with an invalid regular expression",
        mapping("tables: {invoice_lines: {classify: {product_line: "
                "{source: product_line, rules: [{pattern: '(unclosed', value: X}]}}}}\n"), 2,
        ("mapping.yml", "(unclosed", "regular expression")),
    Bad("a criteria file of the wrong shape", write("selection_criteria.yml", "- just\n- a list\n"),
        1, ("selection_criteria.yml", "line 1", "not a YAML mapping")),
    Bad("a mapping expression that runs a shell command",
        mapping("tables:\n  invoice_lines:\n    compute:\n      gross_amount: \"gross_amount + "
                "@pd.io.common.os.system('touch ../pwned')\"\n"), 2,
        ("mapping.yml", "line 4", "'@'", "Allowed:")),
    Bad("a mapping expression that imports a module",
        mapping("tables:\n  invoice_lines:\n    compute:\n      gross_amount: \"__import__('os')"
                ".system('touch ../pwned')\"\n"), 2,
        ("mapping.yml", "line 4", "__import__", "Allowed:")),
    Bad("a mapping default that reads an attribute",
        mapping("tables:\n  accounts:\n    defaults:\n      account_name: "
                "\"{account_id.__class__.__mro__}\"\n"), 2,
        ("mapping.yml", "line 4", "not a plain column field")),
    Bad("a mapping file pattern that leaves the data folder",
        mapping("tables:\n  accounts:\n    file: ../../../etc/passwd\n"), 2,
        ("mapping.yml", "line 3", "inside the data folder")),
    Bad("a mapping pattern that backtracks for ever",
        mapping("tables:\n  invoice_lines:\n    drop:\n      - {column: product_line, "
                "pattern: '(a+)+\\1$', reason: x}\n"), 2,
        ("mapping.yml", "line 4", "(a+)+\\1$", "no backreferences")),
    Bad("a computed value divided by zero",
        mapping(f"tables:\n  invoice_lines:\n    columns: {SAME}\n    compute:\n"
                "      rebate_amount: 'discount_amount / (gross_amount - 500)'\n"), 1,
        (LINES, "rebate_amount", "row 6", "mapping.yml, line 5", "division by zero")),
    Bad("text read by a compute expression",
        both(replace(LINES, "600.00", "n/a"),
             mapping(f"tables:\n  invoice_lines:\n    columns: {SAME}\n    compute:\n"
                     "      rebate_amount: 'cost_of_goods * 0.1'\n")), 1,
        (LINES, "cost_of_goods", "row 2", "'n/a'", "mapping.yml, line 5", "not a number")),
    Bad("a compute constant divided by zero",
        mapping(f"tables:\n  invoice_lines:\n    columns: {SAME}\n    compute:\n"
                "      rebate_amount: 'gross_amount * (1/0)'\n"), 2,
        ("mapping.yml", "line 5", "'1/0'", "not a finite number")),
    Bad("a 400-digit number in a compute expression",
        mapping(f"tables:\n  invoice_lines:\n    columns: {SAME}\n    compute:\n"
                f"      rebate_amount: 'gross_amount * {'9' * 400}'\n"), 2,
        ("mapping.yml", "line 5", "not a finite number")),
    Bad("a call of a call in a compute expression",
        mapping(f"tables:\n  invoice_lines:\n    columns: {SAME}\n    compute:\n"
                "      rebate_amount: 'abs(gross_amount)(1)'\n"), 2,
        ("mapping.yml", "line 5", "a call of the result of an expression")),
    Bad("a mapping nested 3,000 levels deep", mapping("tables: " + "[" * 3000 + "\n"), 2,
        ("mapping.yml", "line 1, column 58", "nested more than 50 levels")),
    Bad("selection criteria nested 3,000 levels deep",
        write("selection_criteria.yml", "criteria: " + "[" * 3000 + "\n"), 1,
        ("selection_criteria.yml", "line 1, column 60", "nested more than 50 levels")),
    Bad("a mapping pattern with a lookahead",
        mapping("tables:\n  invoice_lines:\n    drop:\n      - {column: product_line, "
                "pattern: '(?!Seals).*', reason: x}\n"), 2,
        ("mapping.yml", "line 4", "(?!Seals).*", "no lookarounds")),
    Bad("a syntax error in the criteria file",
        write("selection_criteria.yml", "agreed_by: Board\ncriteria: [\n  {feature: x\n"), 1,
        ("selection_criteria.yml", "line", "column", "not valid YAML")),
    Bad("a key given twice in the criteria file",
        write("selection_criteria.yml", "agreed_by: Board\nagreed_by: Sales\n"), 1,
        ("selection_criteria.yml", "line 2", "given twice")),
    Bad("an alias bomb in the criteria file",
        write("selection_criteria.yml", "a: &a [x, x, x, x, x, x, x, x, x]\n"
              "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
              "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
              "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
              "e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"), 1,
        ("selection_criteria.yml", "line 2", "alias")),
    Bad("US dates that read two ways", us_dates, 1,
        (LINES, "invoice_date", "read two ways", "1 May 2026 or 5 January 2026",
         "date_format")),
    Bad("a line split by the wrong delimiter",
        replace(LINES, "INV-3,00300,2026-03-10,Seals", "INV-3,00300,2026-03-10,Seals,extra"), 1,
        (LINES, "line 6", "wrong delimiter")),
    Bad("a damaged accounts file", write(ACCOUNTS, b"\x00\x01PK\x03\x04" * 50), 1,
        (ACCOUNTS,), not_said=("activity_costs",)),
    Bad("an account id that is a spreadsheet formula",
        both(replace(ACCOUNTS, "00300,Müller", '"=HYPERLINK(""http://x"",""y"")",Müller'),
             replace(LINES, "INV-3,00300", 'INV-3,"=HYPERLINK(""http://x"",""y"")"')), 1,
        (ACCOUNTS, "account_id", "row 5", LINES, "row 6", "start like a spreadsheet formula",
         "=HYPERLINK")),
    Bad("a manager id that starts with @", both(replace(ACCOUNTS, ",M2,,", ",@M2,,"),
                                               replace("managers.csv", "M2,Omar", "@M2,Omar")),
        1, (ACCOUNTS, "key_account_manager", "row 4", "managers.csv", "manager_id", "row 3",
            "'@M2'", "formula")),
    Bad("an invoice id written as a negative number", replace(LINES, "CN-1,", "-5,"), 1,
        (LINES, "invoice_id", "row 5", "'-5'", "formula")),
    Bad("a table linked in from outside the data folder", link_outside("executives.csv"), 1,
        ("executives.csv", "links outside the data folder", "copy the file into the data folder"),
        not_said=("references to unknown",)),
    Bad("a NaN in an optional amount of a Parquet file", nan_rebate, 1,
        ("invoice_lines.parquet", "rebate_amount", "row 3", "'NaN'", "not an empty cell")),
    Bad("a Parquet list column and a line exported twice",
        lines_parquet([{"invoice_id": "INV-1", "account_id": "00101",
                        "invoice_date": "2026-01-15", "product_line": "Bearings",
                        "quantity": 5, "gross_amount": 250.50, "discount_amount": 0,
                        "cost_of_goods": 150.25}], tags=[[1], [2, 3], [], [4], [5], [2, 3]]),
        1, ("invoice_lines.parquet", "all columns", "row 6", "repeated whole",
            "adding 250.50 to gross_amount")),
    Bad("a validation date that is not a date", args("--today", "30/09/2026"), 2,
        ("--today", "2026-09-30")),
]


@pytest.mark.parametrize("bad", CORPUS, ids=[b.kind for b in CORPUS])
def test_bad_input_is_refused_with_where_and_what_to_do(tmp_path, bad):
    folder = write_company(tmp_path / "data")
    extra = bad.change(folder)
    given = dict(zip(extra[::2], extra[1::2]))
    given.setdefault("--data", str(folder))
    given.setdefault("--today", TODAY)
    # Run from the data folder: a hostile "touch ../pwned" would write beside it.
    result = kam("validate", *[part for pair in given.items() for part in pair], cwd=folder)
    said = result.stdout + result.stderr
    assert result.returncode == bad.code, said
    assert "Traceback" not in said
    for name in bad.names:
        assert name in said, f"the message does not name {name!r}:\n{said}"
    for name in bad.not_said:
        assert name not in said, f"the message says {name!r}:\n{said}"
    assert not (tmp_path / PWNED).exists()
    if bad.code == 1:
        assert "Fix:" in said or "fix" in said.lower()


def test_the_corpus_is_wide():
    assert len({bad.kind for bad in CORPUS}) == len(CORPUS) >= 40


# --- Accepted variants give the clean input's figures ------------------------------------


def _figures(folder: Path, **kwargs) -> dict[str, pd.DataFrame]:
    data = load_data(folder, **kwargs)
    assert not [p for p in data.problems if p.severity == "error"], data.problems
    return {name: frame.reset_index(drop=True) for name, frame in data.tables.items()}


def _semicolons_and_decimal_commas(folder: Path) -> None:
    for path in folder.glob("*.csv"):
        text = path.read_text(encoding="utf-8").replace(",", ";")
        # 1000.00 -> 1.000,00: decimal commas and dotted thousands, as Italian exports write.
        text = text.replace("1000.00", "1.000,00").replace(".", ",")
        text = text.replace("S,p,A,", "S.p.A.").replace("S,r,l,", "S.r.l.")
        text = text.replace("1,000,00", "1.000,00")
        path.write_text("\ufeff" + text.replace("\n", "\r\n"), encoding="utf-8")


def _excel(folder: Path) -> None:
    for path in folder.glob("*.csv"):
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frame.to_excel(path.with_suffix(".xlsx"), index=False)
        path.unlink()


def _parquet(folder: Path) -> None:
    data = load_data(folder)
    for name, frame in data.tables.items():
        frame.to_parquet(folder / f"{name}.parquet", index=False)
        (folder / f"{name}.csv").unlink()


def _parquet_as_text(folder: Path) -> None:
    """Parquet written by a tool that stores every column, dates included, as text."""
    for path in folder.glob("*.csv"):
        pd.read_csv(path, dtype=str, keep_default_na=False).replace("", None).to_parquet(
            path.with_suffix(".parquet"), index=False)
        path.unlink()


def _friendly_headers_and_extra_columns(folder: Path) -> None:
    path = folder / LINES
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    frame.columns = [c.replace("_", " ").title() + " " for c in frame.columns]
    frame.assign(Notes="internal").to_csv(path, index=False)


VARIANTS = {
    "semicolons, decimal commas, byte-order mark and CRLF": _semicolons_and_decimal_commas,
    "Excel workbooks": _excel,
    "Parquet files": _parquet,
    "Parquet files with every column as text": _parquet_as_text,
    "friendly headers and an extra column": _friendly_headers_and_extra_columns,
}


@pytest.mark.parametrize("variant", VARIANTS)
def test_accepted_variants_give_the_clean_figures(tmp_path, variant):
    clean = _figures(write_company(tmp_path / "clean"))
    folder = write_company(tmp_path / "variant")
    VARIANTS[variant](folder)
    result = kam("validate", "--data", str(folder), "--today", TODAY)
    assert result.returncode == 0, result.stdout + result.stderr
    got = _figures(folder)
    assert got.keys() == clean.keys()
    for name in clean:
        pd.testing.assert_frame_equal(got[name], clean[name], check_dtype=False, obj=name)
