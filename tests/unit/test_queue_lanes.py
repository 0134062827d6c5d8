"""Queue lanes (issue 15 item 2): VIP and SLA-at-risk customers go first, decided from the CRM and the playbook."""

from __future__ import annotations

from pathlib import Path

import yaml

from api.queue import lane_of, timers_cron
from tools.playbook import Playbook

REPO = Path(__file__).resolve().parents[2]


def _playbook(**overrides: object) -> Playbook:
    raw = yaml.safe_load((REPO / "data" / "playbook.yaml").read_text())
    return Playbook({**raw, **overrides})


def test_vip_and_sla_at_risk_customers_take_the_priority_lane() -> None:
    playbook = _playbook()  # enterprise: 4 h at normal priority, sla_risk_hours 4
    assert lane_of({"plan": "pro", "vip": True}, playbook) == "priority"
    assert lane_of({"plan": "enterprise"}, playbook) == "priority"
    assert lane_of({"plan": "pro"}, playbook) == "standard"
    assert lane_of({"plan": "free"}, playbook) == "standard"
    assert lane_of(None, playbook) == "standard"  # an unknown sender waits in the standard lane


def test_the_playbook_not_the_plan_name_decides_what_is_at_risk() -> None:
    looser = _playbook(sla_risk_hours=12)  # this team watches every target of 12 h or less
    assert lane_of({"plan": "pro"}, looser) == "priority"
    assert lane_of({"plan": "free"}, looser) == "standard"
    renamed = _playbook(sla_hours={"gold": {"low": 4, "normal": 2, "high": 1, "urgent": 1},
                                   "basic": {"low": 72, "normal": 48, "high": 24, "urgent": 12}}, default_plan="basic")
    assert lane_of({"plan": "gold"}, renamed) == "priority"
    assert lane_of({"plan": "enterprise"}, renamed) == "standard"  # not a plan of this team: its default plan's SLA


def test_timer_ticks_become_a_cron() -> None:
    assert timers_cron(60) == "*/1 * * * *"
    assert timers_cron(300) == "*/5 * * * *"
    assert timers_cron(15) == "* * * * * */15"  # croniter's sixth field: seconds
