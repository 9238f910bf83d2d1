"""Access declarations fail closed (issue #14): every way front matter or a JSON record can
declare, imply or garble `access_groups` either yields exactly the declared groups or quarantines
the file as `access_unparseable`; nothing is silently dropped (which would make it public)."""

from __future__ import annotations

import json

import pytest

from python_udfs.parsing import REASONS, parse_document
from python_udfs.parsing.metadata import looks_like_access_key, read_access_groups
from python_udfs.parsing.results import ACCESS_UNPARSEABLE, ParseResult, Rejected

BODY = "# Bonus review\n\nCANARY_7f3a the quarterly figures stay with the personnel team.\n"


def markdown(front: str) -> ParseResult:
    """Parse a markdown file made of `front` (fences included, as written) and a body."""
    return parse_document("inbox/review.md", (front + BODY).encode("utf-8"))


def record(extra: dict[str, object]) -> ParseResult:
    """Parse a JSON file holding one record with a text and the `extra` fields."""
    return parse_document("inbox/pay.json", json.dumps([{"id": "r1", "text": BODY, **extra}]).encode("utf-8"))


def quarantined(result: ParseResult) -> str:
    """The detail of a result quarantined as access_unparseable (no records, never public)."""
    assert result.records == [], result
    assert result.reason == ACCESS_UNPARSEABLE, result
    assert result.detail
    return result.detail


def groups_of(result: ParseResult) -> list[str] | None:
    """The access groups of the only record of a successful result."""
    assert result.reason is None, result.detail
    (only,) = result.records
    value = only.metadata.get("access_groups")
    assert value is None or isinstance(value, list)
    return value


def _alias_bomb() -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


def test_the_reason_is_a_known_code() -> None:
    assert ACCESS_UNPARSEABLE == "access_unparseable" and ACCESS_UNPARSEABLE in REASONS


@pytest.mark.parametrize(
    ("front", "expected"),
    [
        ("---\naccess_groups: [hr]\n---\n", ["hr"]),
        ("---\naccess_groups: [' hr ', staff, hr]\n---\n", ["hr", "staff", "hr"]),
        ("---\naccess_groups:\n  - hr\n  - 42\n---\n", ["hr", "42"]),
        ("---\ntitle: Review\n---\n", None),
        ("", None),
        # Leading blank lines, spaces or a zero-width character do not hide front matter.
        ("\n\n---\naccess_groups: [hr]\n---\n", ["hr"]),
        (" ---\naccess_groups: [hr]\n---\n", ["hr"]),
        ("\u200b---\naccess_groups: [hr]\n---\n", ["hr"]),
        ("---\r\naccess_groups: [hr]\r\n...\r\n", ["hr"]),
    ],
)
def test_a_well_formed_declaration_gives_exactly_its_groups(front: str, expected: list[str] | None) -> None:
    assert groups_of(markdown(front)) == expected


def test_leading_blank_front_matter_is_not_part_of_the_body() -> None:
    (only,) = markdown("\n---\naccess_groups: [hr]\ntitle: Review\n---\n").records
    assert only.text == BODY and only.title == "Review"


@pytest.mark.parametrize(
    "front",
    [
        "---\naccess_groups: [hr\n---\n",  # no closing bracket
        "---\ntitle: Review\naccess_groups:\n\t- hr\n---\n",  # a tab indent
        '---\ntitle: "Salary review\naccess_groups: [hr]\n---\n',  # an unclosed quote
        "---\naccess_groups: [hr]\ntitle: Grievance\n\n",  # no closing fence
        "\n---\naccess_groups: [hr]\n",  # no closing fence after a leading blank line
        "---\n- hr\n---\n",  # not a mapping
        "---\naccess_groups: [hr]\ndeep: " + "{a: " * 60 + "1" + "}" * 60 + "\n---\n",  # nested over 50 levels
        "---\naccess_groups: [hr]\n" + _alias_bomb() + "---\n",  # a YAML alias bomb
    ],
    ids=["no_bracket", "tab_indent", "unclosed_quote", "no_fence", "blank_then_no_fence", "not_a_mapping",
         "deep_nesting", "alias_bomb"],
)  # fmt: skip
def test_front_matter_that_cannot_be_read_for_sure_is_quarantined(front: str) -> None:
    quarantined(markdown(front))


@pytest.mark.parametrize(
    "value",
    ["[]", "null", "", '[" ", ""]', "hr", "'hr'", "{team: hr}", "[hr, null]", "[hr, '']", "[yes]", "[1.5]",
     "[[hr]]", "[{a: hr}]", "true", "42"],
)  # fmt: skip
def test_an_access_groups_value_that_is_not_a_list_of_names_is_quarantined(value: str) -> None:
    detail = quarantined(markdown(f"---\naccess_groups: {value}\n---\n"))
    assert "access_groups" in detail


@pytest.mark.parametrize(
    "key",
    ["Access_Groups", "ACCESS_GROUPS", "access_group", "Access-Groups", "accessgroups", "accessGroups",
     "access groups", "acess_groups", "access_groupss"],
)  # fmt: skip
def test_a_misspelt_access_key_is_quarantined_whatever_its_value(key: str) -> None:
    for value in ("[hr]", "[]", "hr", "null"):
        detail = quarantined(markdown(f"---\n{key}: {value}\n---\n"))
        assert repr(key) in detail


def test_a_nested_access_key_is_quarantined() -> None:
    assert "top-level" in quarantined(markdown("---\nmeta:\n  access_groups: [hr]\n---\n"))
    quarantined(markdown("---\nitems:\n  - Access_Groups: [hr]\n---\n"))


def test_keys_that_only_resemble_access_groups_are_ordinary_metadata() -> None:
    result = markdown("---\naccess_group_id: 7\nprocess_groups: [a]\naccess: open\ngroups: [x]\n---\n")
    assert groups_of(result) is None


def test_the_detail_never_repeats_the_front_matter_text() -> None:
    secret = "hunter2canary"
    for front in (
        f"---\npassword: {secret}\naccess_groups: [hr\n---\n",
        f'---\npassword: "{secret}\n---\n',
        f"---\naccess_groups: {secret}\n---\n",
        f"---\naccess_groups: [{{a: {secret}}}]\n---\n",
    ):
        assert secret not in quarantined(markdown(front))


@pytest.mark.parametrize(
    "extra",
    [
        {"access_groups": []},
        {"access_groups": None},
        {"access_groups": [" ", ""]},
        {"access_groups": "hr"},
        {"access_groups": {"a": "hr"}},
        {"access_groups": [True]},
        {"Access_Groups": ["hr"]},
        {"access-groups": ["hr"]},
        {"meta": {"access_groups": ["hr"]}},
        {"authors": [{"accessGroups": ["hr"]}]},
    ],
    ids=["empty", "null", "blank", "string", "object", "boolean", "capitalised", "hyphen", "nested", "in_list"],
)
def test_a_json_record_with_a_bad_access_field_quarantines_the_file(extra: dict[str, object]) -> None:
    assert quarantined(record(extra)).startswith("record 1")


def test_a_jsonl_line_with_a_bad_access_field_quarantines_the_file() -> None:
    lines = [{"id": 1, "text": "fine", "access_groups": ["public"]}, {"id": 2, "text": BODY, "Access_Groups": ["hr"]}]
    result = parse_document("inbox/log.jsonl", "\n".join(json.dumps(line) for line in lines).encode("utf-8"))
    assert quarantined(result).startswith("line 2")


def test_a_json_record_declaring_groups_keeps_them() -> None:
    assert groups_of(record({"access_groups": ["hr", " legal "]})) == ["hr", "legal"]
    assert groups_of(record({"category": "pay"})) is None


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("access_groups", True),
        ("Access_Groups", True),
        ("access-group", True),
        ("ACCESSGROUP", True),
        ("acessgroups", True),
        ("accessgrups", True),
        ("access_group_id", False),
        ("accessgrp", False),
        ("groups", False),
        ("access", False),
        ("process_groups", False),
        ("", False),
    ],
)
def test_looks_like_access_key(key: str, expected: bool) -> None:
    assert looks_like_access_key(key) is expected


def test_read_access_groups_names_the_place_and_never_the_value() -> None:
    with pytest.raises(Rejected) as raised:
        read_access_groups({"access_groups": "s3cr3t-group"}, "line 9")
    assert raised.value.reason == ACCESS_UNPARSEABLE
    assert raised.value.detail.startswith("line 9:") and "s3cr3t" not in raised.value.detail
    assert read_access_groups({"title": "x"}, "front matter") is None
    assert read_access_groups({"access_groups": ["a", 7]}, "front matter") == ["a", "7"]
