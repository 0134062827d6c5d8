"""Retraining triage on reviewer corrections (issue 14 item 3), on a copy of the sample company.

Sensible corrections (feature requests phrased as questions, the sample's weak spot) produce a model that
is not worse on the eval set and is switched in, versioned, and named on every new packet; deliberately
wrong corrections make the candidate worse on the eval set and the retrain is refused, the model unchanged.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO

pytestmark = pytest.mark.integration
CORRECTIONS = REPO / "tests" / "data" / "corrections.jsonl"


@pytest.fixture(params=["sample"])
def desk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """The sample company in a temporary folder, with an eval set of its own (``eval.jsonl``)."""
    from api.service import SupportDesk
    from tools.settings import Settings

    data = tmp_path / "company"
    shutil.copytree(REPO / "data", data)
    eval_set = {"sample": REPO / "evals" / "datasets" / "sample_eval.jsonl", "features": REPO / "tests" / "data" / "feature_eval.jsonl"}
    shutil.copy(eval_set[request.param], data / "eval.jsonl")
    service = SupportDesk(Settings(state_dir=tmp_path / "state", data_dir=data))
    yield service
    service.close()


@pytest.mark.parametrize("desk", ["features"], indirect=True)
def test_good_corrections_are_switched_in_and_versioned(desk: Any, new_id: Any) -> None:
    """A team's eval set of feature requests phrased as questions; the corrections teach that phrasing."""
    from api.retraining import read_labelled, retrain_workspace

    before = desk.submit({"id": new_id("B"), "customer_id": "cus_002", "subject": "Dark mode", "body": "Could you add dark mode?"})
    assert before["packet"]["model_version"] == "base"
    result = retrain_workspace(desk, "default", read_labelled(CORRECTIONS))
    assert result.corrections == 12 and result.before.eval_n == 10
    assert result.after.eval_accuracy is not None and result.before.eval_accuracy is not None
    assert result.switched, result.reason
    assert result.after.eval_accuracy >= result.before.eval_accuracy
    after = desk.submit({"id": new_id("A"), "customer_id": "cus_002", "subject": "Dark mode", "body": "Could you add dark mode?"})
    assert after["packet"]["model_version"] == result.candidate_version
    active = json.loads(next((Path(desk.settings.index_dir)).glob("*/active_model.json")).read_text())
    assert active["version"] == result.candidate_version and active["history"][-1]["corrections"] == 12


def test_sample_corrections_never_lower_the_eval_accuracy_of_the_model_in_use(desk: Any) -> None:
    """On the sample's 216-ticket eval set: switched only when not worse, else refused and the base stays."""
    from api.retraining import read_labelled, retrain_workspace

    result = retrain_workspace(desk, "default", read_labelled(CORRECTIONS))
    assert result.before.eval_n == 216 and result.after.eval_accuracy is not None and result.before.eval_accuracy is not None
    in_use = result.after.eval_accuracy if result.switched else result.before.eval_accuracy
    assert in_use >= result.before.eval_accuracy
    assert result.switched == (result.after.eval_accuracy >= result.before.eval_accuracy), result.reason
    active = list(Path(desk.settings.index_dir).glob("*/active_model.json"))
    assert bool(active) == result.switched


def test_wrong_corrections_are_refused_and_change_nothing(desk: Any, tmp_path: Path) -> None:
    from api.retraining import retrain_workspace

    tickets = [json.loads(line) for line in (REPO / "data" / "tickets.jsonl").read_text().splitlines() if line.strip()][:150]
    categories = sorted({t["category"] for t in tickets})
    wrong = [(f"{t['subject']}\n{t['body']}", categories[(categories.index(t["category"]) + 3) % len(categories)]) for t in tickets]
    result = retrain_workspace(desk, "default", wrong)
    assert not result.switched and result.reason.startswith("refused")
    assert result.after.eval_accuracy is not None and result.before.eval_accuracy is not None
    assert result.after.eval_accuracy < result.before.eval_accuracy
    assert not list(Path(desk.settings.index_dir).glob("*/active_model.json"))


def test_a_reviewers_category_override_is_a_correction(desk: Any, new_id: Any) -> None:
    from api.retraining import stored_corrections

    view = desk.submit({"id": new_id("O"), "customer_id": "cus_002", "subject": "Witness signatures",
                        "body": "Could you add a witness signature option? Some documents need a witness."})
    pending = view["interrupts"][0]
    desk.decide(view["thread_id"], {"type": "edit", "args": {"overrides": {"category": "feature_request"}}},
                interrupt_id=pending["id"])
    assert ("Witness signatures\nCould you add a witness signature option? Some documents need a witness.", "feature_request") in [
        (text.replace("\r", ""), label) for text, label in stored_corrections(desk, "default")]


def test_unknown_categories_are_refused(desk: Any) -> None:
    from api.retraining import retrain_workspace

    with pytest.raises(ValueError, match="not in the playbook"):
        retrain_workspace(desk, "default", [("some ticket", "astrology")])
