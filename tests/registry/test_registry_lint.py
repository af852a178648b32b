"""The rule linter: good rules pass, each bad rule is refused with a one-line reason at the right place."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from observatoire.registry.cli import rules_app
from observatoire.registry.lint import LintContext, lint_document, lint_file, lint_text
from observatoire.registry.versions import packaged_rules_dir
from observatoire.registry.vocabulary import personal_word, protected_word, tokens

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = dt.date(2025, 6, 1)
BAD = sorted((FIXTURES / "bad").glob("*.yaml"))


@pytest.fixture(scope="module")
def ctx() -> LintContext:
    base = LintContext.build(TODAY)
    return LintContext(TODAY, base.fields, frozenset({"cctv-weapon-or-fire", "fire-clash", "night-violence-ewma"}))


def test_the_packaged_rules_and_the_good_fixtures_pass(ctx: LintContext) -> None:
    files = sorted(packaged_rules_dir().glob("*.yaml"))
    assert [f.stem for f in files] == ["cctv-density-surge", "cctv-weapon-or-fire", "operator-reports-surge",
                                       "planned-event-clash", "violence-logbook-surge"]
    known = LintContext(TODAY, ctx.fields, frozenset(f.stem for f in files))
    for path in files:
        assert lint_file(path, known) == [], path.name
    for path in sorted((FIXTURES / "good").glob("*.yaml")):
        assert lint_file(path, ctx) == [], path.name


@pytest.mark.parametrize("path", BAD, ids=[p.stem for p in BAD])
def test_a_bad_rule_is_refused_with_a_one_line_reason_at_the_right_place(path: Path, ctx: LintContext) -> None:
    where, reason = path.read_text(encoding="utf-8").splitlines()[0].removeprefix("# expect: ").split(" | ")
    findings = lint_file(path, ctx)
    assert findings, path.name
    hits = [f for f in findings if f.where == where]
    assert hits and reason in hits[0].reason, [str(f) for f in findings]
    assert all("\n" not in str(f) for f in findings)


def test_every_protected_attribute_family_is_refused_in_french_and_english() -> None:
    cases = {"origine ethnique": "racial or ethnic origin", "ethnicity": "racial or ethnic origin",
             "confession religieuse": "religion or belief", "religion": "religion or belief",
             "opinion politique": "political opinion", "political_party": "political opinion",
             "appartenance syndicale": "trade-union membership", "tradeUnion": "trade-union membership",
             "état de santé": "health", "health_status": "health",
             "orientation sexuelle": "sex life or sexual orientation", "sexualOrientation": "sex life or sexual orientation",
             "vie sexuelle": "sex life or sexual orientation",
             "données biométriques": "biometric data", "faceEmbedding": "biometric data", "empreinte digitale": "biometric data"}
    for text, family in cases.items():
        assert protected_word(text) is not None and protected_word(text)[0] == family, text
    for text in ("personne_id", "pseudonyme", "plaque", "individu", "person_score", "count_per_person"):
        assert personal_word(text) is not None, text
    # Ordinary words are not caught by substrings: "usage" is not "age", "camera_id" is no person.
    for text in ("usage", "camera_id", "event_id", "categorie", "densité excessive"):
        assert protected_word(text) is None and personal_word(text) is None, text
    assert tokens("faceEmbedding_vecteur") == ["face", "embedding", "vecteur"]


def test_in_free_text_the_decree_wording_is_allowed_but_targeting_is_not(ctx: LintContext) -> None:
    doc = yaml.safe_load((FIXTURES / "good" / "night-violence-ewma.yaml").read_text(encoding="utf-8"))
    doc["title"] = "Densité excessive de personnes (décret 2023-828)"
    assert lint_document(doc, ctx) == []
    doc["title"] = "Suivi des personnes par pseudonyme"
    assert [f.where for f in lint_document(doc, ctx)] == ["title"]


def test_the_review_date_is_checked_against_the_given_day(ctx: LintContext) -> None:
    doc = yaml.safe_load((FIXTURES / "good" / "night-violence-ewma.yaml").read_text(encoding="utf-8"))
    doc["review_date"] = TODAY
    assert lint_document(doc, ctx) == []
    doc["review_date"] = TODAY - dt.timedelta(days=1)
    assert [str(f) for f in lint_document(doc, ctx)] == [
        "review_date: review date 2025-05-31 has passed: review the rule and set a new one"]


def test_a_clash_rule_must_watch_known_rules_other_than_itself(ctx: LintContext) -> None:
    doc = yaml.safe_load((FIXTURES / "good" / "fire-clash.yaml").read_text(encoding="utf-8"))
    doc["condition"]["watches"] = ["no-such-rule"]
    assert "unknown rule id(s): no-such-rule" in str(lint_document(doc, ctx)[0])
    doc["condition"]["watches"] = ["fire-clash"]
    assert "cannot watch itself" in str(lint_document(doc, ctx)[0])


def test_not_a_mapping_and_not_yaml_are_one_finding_each(ctx: LintContext) -> None:
    assert [str(f) for f in lint_text("- a\n- b\n", ctx)] == ["(document): a rule is a mapping of keys (YAML)"]
    assert len(lint_text("id: [\n", ctx)) == 1


def test_the_cli_lints_files_and_fails_on_a_bad_one(tmp_path: Path) -> None:
    runner = CliRunner()
    good = sorted((FIXTURES / "good").glob("*.yaml"))
    result = runner.invoke(rules_app, ["lint", *map(str, good), "--registry", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert result.output.count(": ok") == len(good)
    bad = FIXTURES / "bad" / "plate-field.yaml"
    result = runner.invoke(rules_app, ["lint", str(good[0]), str(bad), "--registry", str(tmp_path)])
    assert result.exit_code == 1
    assert f"{bad}: data_used[0].fields[0]: targets or scores persons ('immatriculation')" in result.output


def test_a_field_the_policy_pseudonymises_is_refused_whatever_its_name(ctx: LintContext) -> None:
    doc = yaml.safe_load((FIXTURES / "good" / "night-violence-ewma.yaml").read_text(encoding="utf-8"))
    doc["data_used"][0]["fields"] = ["ref_dossier"]
    city = LintContext(TODAY, {**ctx.fields, "mains_courantes": {"ref_dossier": "pseudonymise"}})
    assert [str(f) for f in lint_document(doc, city)] == [
        "data_used[0].fields[0]: 'ref_dossier' is a pseudonymised identifier: a rule may not use one"]
