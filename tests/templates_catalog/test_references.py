"""Parsing template references, tag addresses and upstream's legacy template names."""
from datetime import UTC, datetime

import pytest

from podspec.references import (
    TagAddress,
    legacy_template_id,
    parse_tag_address,
    parse_template_reference,
)

STAMP = datetime(2025, 5, 15, 0, 28, 39, tzinfo=UTC)


@pytest.mark.parametrize("text,template_id,tag,timestamp", [
    ("neo4j", "neo4j", "latest", None),
    ("neo4j:v5", "neo4j", "v5", None),
    ("neo4j:v5.1-rc", "neo4j", "v5.1-rc", None),
    ("neo4j:latest@2025-05-15-00:28:39", "neo4j", "latest", STAMP),
])
def test_template_references(text, template_id, tag, timestamp):
    reference = parse_template_reference(text)
    assert (reference.template_id, reference.address.tag, reference.address.timestamp) == (template_id, tag, timestamp)
    assert reference.pinned is (timestamp is not None)


@pytest.mark.parametrize("text,words", [
    ("neo4j@2025-05-15-00:28:39", "needs a tag"),
    ("Neo4j", "not a template id"),
    ("ab", "not a template id"),
    ("tags", "reserved"),
    ("neo4j:", "not a tag"),
    ("neo4j:v 5", "not a tag"),
    ("neo4j:latest@2025-13-01-00:00:00", "timestamp"),
    ("neo4j:latest@yesterday", "timestamp"),
])
def test_bad_template_references_say_why(text, words):
    with pytest.raises(ValueError, match=words):
        parse_template_reference(text)


def test_tag_address_round_trips():
    address = parse_tag_address("latest@2025-05-15-00:28:39")
    assert address == TagAddress("latest", STAMP)
    assert str(address) == "latest@2025-05-15-00:28:39"
    assert parse_tag_address("v2") == TagAddress("v2", None)


@pytest.mark.parametrize("text,expected", [("neo4j", "neo4j"), ("template/neo4j", "neo4j"),
                                           ("template/postgres", "postgres")])
def test_legacy_pod_template_names(text, expected):
    assert legacy_template_id(text) == expected


def test_legacy_name_must_still_be_a_template_id():
    with pytest.raises(ValueError):
        legacy_template_id("template/Neo-4j")
