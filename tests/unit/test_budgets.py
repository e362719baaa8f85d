"""Budget file parsing: what finance may write, and that every mistake names file, line, field."""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from socialwh.finance.budgets import BudgetLine, parse_budget_csv, read_budget_file
from socialwh.finance.errors import InputError, Problem
from socialwh.paths import REPO_ROOT

FILE = "budgets_2026.csv"
HEADER = "month,platform,account_id,campaign_id,amount,currency,plan_version\n"
GOOD = "2026-09,meta,1000000001,,12000.00,EUR,v1\n"
PLATFORMS = {"meta", "google_ads"}


def parse(text: str, platforms: set[str] | None = PLATFORMS) -> list[BudgetLine]:
    return parse_budget_csv(text, FILE, platforms)


def error_of(text: str) -> InputError:
    with pytest.raises(InputError) as exc:
        parse(text)
    return exc.value


def test_parses_typed_rows() -> None:
    rows = parse(HEADER + GOOD + "2026-10,Meta,1000000001,120210000000000101,800.5,EUR,v2\n")
    assert rows == [
        BudgetLine(
            FILE, 2, date(2026, 9, 1), "meta", "1000000001", None, Decimal("12000.00"), "EUR", "v1"
        ),
        BudgetLine(FILE, 3, date(2026, 10, 1), "meta", "1000000001", "120210000000000101",
                   Decimal("800.50"), "EUR", "v2"),
    ]


def test_header_order_case_and_whitespace_are_free() -> None:
    text = (
        " Plan_Version , AMOUNT,currency,month,account_id,platform,campaign_id\r\n"
        " v1 , 0 ,USD, 2026-09 ,42,google_ads,\r\n"
    )
    (row,) = parse(text)
    assert (row.plan_version, row.amount, row.currency, row.account_id, row.platform) == (
        "v1", Decimal("0.00"), "USD", "42", "google_ads"
    )


def test_campaign_id_column_may_be_left_out() -> None:
    text = "month,platform,account_id,amount,currency,plan_version\n2026-09,meta,1,10,EUR,v1\n"
    assert parse(text)[0].campaign_id is None


def test_blank_and_comma_only_lines_are_skipped_and_line_numbers_stay_physical() -> None:
    rows = parse(HEADER + "\n,,,,,,\n" + GOOD)
    assert [r.line_number for r in rows] == [4]


def test_platforms_default_to_config_plus_known_list() -> None:
    text = HEADER + GOOD + "2026-09,tiktok,7000,,1,EUR,v1\n"
    assert [r.platform for r in parse_budget_csv(text, FILE)] == ["meta", "tiktok"]
    with pytest.raises(InputError, match=r"budgets_2026.csv:2: platform: 'myspace' is not a known"):
        parse_budget_csv(HEADER + "2026-09,myspace,1,,1,EUR,v1\n", FILE)


@pytest.mark.parametrize(
    ("line", "field", "message"),
    [
        ("2026-13,meta,1,,1,EUR,v1", "month", "'2026-13' is not a month; write YYYY-MM"),
        ("2026-09-01,meta,1,,1,EUR,v1", "month", "'2026-09-01' is not a month"),
        (",meta,1,,1,EUR,v1", "month", "is required"),
        ("2026-09,facebok,1,,1,EUR,v1", "platform",
         "'facebok' is not a known platform; expected one of google_ads, meta"),
        ("2026-09,,1,,1,EUR,v1", "platform", "is required"),
        ("2026-09,meta,,,1,EUR,v1", "account_id", "is required"),
        ("2026-09,meta,1E+09,,1,EUR,v1", "account_id", "spreadsheet turned into a number"),
        ("2026-09,meta,1000 0001,,1,EUR,v1", "account_id", "contains spaces"),
        ("2026-09,meta,1,1.2021E+17,1,EUR,v1", "campaign_id", "spreadsheet turned into a number"),
        ("2026-09,meta,1,,abc,EUR,v1", "amount", "'abc' is not a number"),
        ("2026-09,meta,1,,1e3,EUR,v1", "amount", "'1e3' is not a number"),
        ("2026-09,meta,1,,€100,EUR,v1", "amount", "'€100' is not a number"),
        ('2026-09,meta,1,,"12,500.00",EUR,v1', "amount",
         "'12,500.00' has a thousands or decimal-comma separator"),
        ('2026-09,meta,1,,"12500,50",EUR,v1', "amount", "write digits with a dot for decimals"),
        ("2026-09,meta,1,,12 500,EUR,v1", "amount", "thousands or decimal-comma separator"),
        ("2026-09,meta,1,,-5,EUR,v1", "amount", "'-5' is negative; budgets are >= 0"),
        ("2026-09,meta,1,,10.005,EUR,v1", "amount", "'10.005' has more than 2 decimals"),
        ("2026-09,meta,1,,,EUR,v1", "amount", "is required"),
        ("2026-09,meta,1,,1,eur,v1", "currency", "'eur' is not an ISO 4217 code"),
        ("2026-09,meta,1,,1,EURO,v1", "currency", "'EURO' is not an ISO 4217 code"),
        ("2026-09,meta,1,,1,,v1", "currency", "'' is not an ISO 4217 code"),
        ("2026-09,meta,1,,1,EUR,", "plan_version", "is required"),
    ],
)
def test_bad_values_name_file_line_and_field(line: str, field: str, message: str) -> None:
    err = error_of(HEADER + GOOD + line + "\n")
    (reported,) = str(err).splitlines()[1:]
    assert reported.startswith(f"{FILE}:3: {field}: ")
    assert message in reported
    assert [(p.file, p.line, p.field) for p in err.problems] == [(FILE, 3, field)]


def test_trailing_zero_decimals_are_accepted() -> None:
    assert parse(HEADER + "2026-09,meta,1,,10.500,EUR,v1\n")[0].amount == Decimal("10.50")


def test_every_problem_is_reported_not_just_the_first() -> None:
    err = error_of(HEADER + "2026-13,meta,1,,abc,EUR,v1\n" + GOOD + "2026-09,meta,2,,1,usd,\n")
    assert [(p.line, p.field) for p in err.problems] == [
        (2, "month"), (2, "amount"), (4, "currency"), (4, "plan_version"),
    ]
    text = str(err)
    assert text.splitlines()[0] == f"4 problems in {FILE}; nothing was loaded:"
    assert f"{FILE}:2: amount: 'abc' is not a number" in text


def test_long_problem_lists_are_capped_with_a_count() -> None:
    err = error_of(HEADER + "".join(f"2026-09,meta,{i},,x,EUR,v1\n" for i in range(60)))
    lines = str(err).splitlines()
    assert len(err.problems) == 60
    assert len(lines) == 1 + InputError.MAX_LISTED + 1
    assert lines[-1] == "... and 10 more problems"


def test_duplicate_scope_names_both_lines() -> None:
    err = error_of(HEADER + GOOD + "2026-09,meta,1000000001,,900,EUR,v2\n" + GOOD)
    assert str(err).splitlines()[1] == (
        f"{FILE}:4: duplicates line 2 (same month, platform, account_id, campaign_id and "
        "plan_version); keep one, or give the revision a new plan_version"
    )


def test_same_account_with_and_without_campaign_is_not_a_duplicate() -> None:
    assert len(parse(HEADER + GOOD + "2026-09,meta,1000000001,55,900,EUR,v1\n")) == 2


@pytest.mark.parametrize("text", ["", "   \n\n", "\ufeff"])
def test_empty_file(text: str) -> None:
    assert str(error_of(text).problems[0]) == (
        f"{FILE}: file is empty; expected a header line "
        "(month,platform,account_id,campaign_id,amount,currency,plan_version,status) and budget lines"
    )


def test_header_without_lines() -> None:
    assert str(error_of(HEADER + "\n").problems[0]) == (
        f"{FILE}: no budget lines below the header; to withdraw a plan, delete the file"
    )


def test_missing_columns() -> None:
    err = error_of("month,platform,account_id,currency\n2026-09,meta,1,EUR\n")
    assert [str(p) for p in err.problems] == [
        f"{FILE}:1: amount: required column is missing from the header",
        f"{FILE}:1: plan_version: required column is missing from the header",
    ]


def test_unknown_duplicate_and_unnamed_columns() -> None:
    err = error_of("month,platform,account_id,amount,currency,plan_version,Notes,Month,\n")
    assert [str(p) for p in err.problems] == [
        f"{FILE}:1: Notes: unknown column; expected only month, platform, account_id, "
        "campaign_id, amount, currency, plan_version, status (in any order)",
        f"{FILE}:1: month: column appears twice (columns 1 and 8)",
        f"{FILE}:1: column 9 has no name; remove it (expected columns: month, platform, "
        "account_id, campaign_id, amount, currency, plan_version, status)",
    ]


def test_semicolon_separated_file() -> None:
    err = error_of(HEADER.replace(",", ";") + GOOD.replace(",", ";"))
    assert str(err.problems[0]).startswith(f"{FILE}:1: the header is separated by ';'")


def test_wrong_number_of_fields() -> None:
    err = error_of(HEADER + "2026-09,meta,1,,12,500.00,EUR,v1\n")
    assert str(err.problems[0]) == (
        f"{FILE}:2: has 8 fields but the header has 7; quote values that contain commas"
    )


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ('2026-09,meta,1,,"12,EUR,v1\n',
         "not valid CSV (unexpected end of data); check the quotes"),
        ('2026-09,meta,1,,"12,EUR,v1\n2026-10,meta,1,,"1",EUR,v1\n',
         "not valid CSV (',' expected after '\"'); check the quotes"),
        ('2026-09,meta,1,,"12,EUR,v1\n2026-10",meta,1,,1,EUR,v1\n',
         "a value runs on to line 4; check for an unclosed quote"),
    ],
)
def test_broken_quoting_names_the_line_where_the_record_starts(body: str, expected: str) -> None:
    err = error_of(HEADER + GOOD + body)
    assert [str(p) for p in err.problems] == [f"{FILE}:3: {expected}"]


def test_read_file_hashes_bytes_and_accepts_bom(tmp_path: Path) -> None:
    data = ("\ufeff" + HEADER + GOOD).encode()
    path = tmp_path / "budgets_bom.csv"
    path.write_bytes(data)
    budget = read_budget_file(path, PLATFORMS)
    assert budget.name == "budgets_bom.csv"
    assert budget.sha256 == hashlib.sha256(data).hexdigest()
    assert budget.lines[0].source_file == "budgets_bom.csv"


def test_non_utf8_file_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "budgets_cp1252.csv"
    path.write_bytes((HEADER + GOOD + "2026-09,meta,1,,1,EUR,v1 Zürich\n").encode("cp1252"))
    with pytest.raises(InputError) as exc:
        read_budget_file(path, PLATFORMS)
    assert str(exc.value.problems[0]) == (
        "budgets_cp1252.csv:3: not UTF-8 (byte 0xfc); save the file as 'CSV UTF-8' "
        "(Excel: File > Save As > CSV UTF-8)"
    )


def test_shipped_sample_file_is_valid() -> None:
    budget = read_budget_file(REPO_ROOT / "data/finance/budgets/budgets_2026_meta.csv")
    lines = budget.lines
    assert {line.account_id: line.currency for line in lines} == {
        "1000000001": "EUR", "1000000002": "USD", "1000000003": "GBP",
    }
    assert {line.budget_month for line in lines} == {
        date(2026, 9, 1), date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1),
    }
    assert {line.plan_version for line in lines} == {"v1", "v2"}
    assert 0 < sum(line.campaign_id is not None for line in lines) < len(lines) / 2


def test_problem_and_error_rendering() -> None:
    assert str(Problem("f.csv", None, None, "m")) == "f.csv: m"
    assert str(Problem("f.csv", 3, None, "m")) == "f.csv:3: m"
    assert str(Problem("f.csv", 3, "amount", "m")) == "f.csv:3: amount: m"
    with pytest.raises(ValueError):
        InputError([])


def test_plan_status_is_optional_and_only_draft_or_approved():
    header = "month,platform,account_id,campaign_id,amount,currency,plan_version"
    lines = parse_budget_csv(f"{header}\n2026-11,meta,1,,10.00,EUR,v1\n", "plan.csv", {"meta"})
    assert lines[0].plan_status == "approved"  # files without the column: every line approved
    lines = parse_budget_csv(f"{header},status\n2026-11,meta,1,,10.00,EUR,v2,Draft\n", "plan.csv", {"meta"})
    assert lines[0].plan_status == "draft"
    with pytest.raises(InputError) as bad:
        parse_budget_csv(f"{header},status\n2026-11,meta,1,,10.00,EUR,v2,final\n", "plan.csv", {"meta"})
    assert "plan.csv:2: status:" in str(bad.value) and "draft or approved" in str(bad.value)
    with pytest.raises(InputError) as bad:
        parse_budget_csv(f"{header}\n2026-11,meta,1,,10.00,XYZ,v1\n", "plan.csv", {"meta"})
    assert "plan.csv:2: currency:" in str(bad.value) and "ISO 4217" in str(bad.value)
