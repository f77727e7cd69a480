"""The cost model: itemized, summing up, within the goal for the default, and moving the right
way with the settings."""

from __future__ import annotations

from dataclasses import replace

import pytest

from openclaw_deploy.config import AgentSpec
from openclaw_deploy.services.cost import PRICES, PRICES_AS_OF, Usage, estimate, state_versions


def test_default_costs_under_a_dollar_with_spot_and_public_ipv4() -> None:
    cost = estimate(AgentSpec())
    items = {item.item: item for item in cost.items}
    assert cost.total_usd <= 1.00
    assert items["Public IPv4 address"].monthly_usd == pytest.approx(60 * 0.005)
    on_demand = 60 * (0.5 * PRICES.fargate_arm_vcpu_hour + 2 * PRICES.fargate_arm_gb_hour)
    assert items["Fargate compute"].monthly_usd == pytest.approx(on_demand * 0.35, abs=1e-4)
    assert sum(i.monthly_usd for i in cost.items) == pytest.approx(cost.total_usd, abs=1e-3)
    low, high = cost.total_range_usd
    assert low < cost.total_usd < high
    assert cost.prices_as_of == PRICES_AS_OF
    assert all(item.basis for item in cost.items)


def test_on_demand_bigger_and_busier_cost_more() -> None:
    base = estimate(AgentSpec()).total_usd
    on_demand = estimate(AgentSpec(spot=False))
    assert on_demand.total_usd > base
    assert on_demand.total_range_usd == (on_demand.total_usd, on_demand.total_usd)
    assert estimate(AgentSpec(cpu=1024, memory=4096)).total_usd > base
    assert estimate(AgentSpec(), Usage(agent_hours_per_day=8)).total_usd > 3 * base - 1
    # The default lives in the price table: a pessimistic Spot discount shows in the total.
    assert estimate(AgentSpec(), prices=replace(PRICES, spot_discount=0.5)).total_usd > base


def test_image_builds_are_one_time_and_inside_the_free_minutes() -> None:
    cost = estimate(AgentSpec())
    (build,) = cost.one_time
    assert build.monthly_usd == 0.0
    assert "free minutes" in build.basis


def test_state_storage_counts_the_versions_the_lifecycle_rule_keeps() -> None:
    # A rarely used agent still keeps the 10 newest old versions; a busy one keeps a week.
    assert state_versions(backups_per_day=0.5) == 1 + 10
    assert state_versions(backups_per_day=13) == 1 + 91
    use = Usage(backup_gb=0.02)
    items = {item.item: item for item in estimate(AgentSpec(), use).items}
    backups_per_day = (use.agent_hours * 60 / use.backup_minutes + use.days) / use.days
    stored_gb = state_versions(backups_per_day) * use.backup_gb
    s3 = items["S3 state backups (versioned)"]
    assert s3.monthly_usd >= round(stored_gb * PRICES.s3_gb_month, 4)
    assert f"{state_versions(backups_per_day)} versions" in s3.basis
    # Twice the backup size stores twice as much.
    double = {i.item: i for i in estimate(AgentSpec(), Usage(backup_gb=0.04)).items}
    assert double["S3 state backups (versioned)"].monthly_usd > s3.monthly_usd
