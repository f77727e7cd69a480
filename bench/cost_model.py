"""The modelled monthly cost, itemized, for the default deployment beside its alternatives.

Columns: the default (0.5 vCPU / 2 GB ARM64 on Fargate Spot, 2 h a day), the same on-demand,
Spot at the pessimistic end of its discount band, and a busier 4 h a day. Prices: the dated
table in openclaw_deploy.services.cost.

    python bench/cost_model.py
"""

from __future__ import annotations

from dataclasses import replace

from openclaw_deploy.config import AgentSpec
from openclaw_deploy.services.cost import PRICES, PRICES_AS_OF, PRICES_REGION, Usage, estimate

GOAL_USD = 1.00


def main() -> None:
    columns = {
        "default (Spot)": estimate(AgentSpec()),
        "on-demand": estimate(AgentSpec(spot=False)),
        "Spot at -50%": estimate(AgentSpec(), prices=replace(PRICES, spot_discount=0.50)),
        "Spot, 4 h/day": estimate(AgentSpec(), Usage(agent_hours_per_day=4, web_hours_per_day=4)),
    }
    first = next(iter(columns.values()))
    print(
        f"Monthly cost in USD ({PRICES_REGION} list prices of {PRICES_AS_OF}, "
        "always-free tiers applied)"
    )
    header = f"{'item':<42}" + "".join(f"{name:>16}" for name in columns)
    print(header)
    print("-" * len(header))
    for index, item in enumerate(first.items):
        values = "".join(f"{c.items[index].monthly_usd:>16.3f}" for c in columns.values())
        print(f"{item.item:<42}{values}")
    print("-" * len(header))
    print(f"{'total':<42}" + "".join(f"{c.total_usd:>16.2f}" for c in columns.values()))
    low, high = first.total_range_usd
    print(
        f"\ndefault: ${first.total_usd:.2f} (Spot band ${low:.2f}-${high:.2f}); "
        f"goal <= ${GOAL_USD:.2f}"
        f" -> {'met' if first.total_usd <= GOAL_USD else 'MISSED'}"
    )
    for item in first.items:
        print(f"  {item.item}: {item.basis}")


if __name__ == "__main__":
    main()
