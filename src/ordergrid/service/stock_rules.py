"""Configuration of what is held back from sale and of what channels are told."""

from __future__ import annotations

from ordergrid.domain.channels import ChannelSettings
from ordergrid.domain.errors import NotFound
from ordergrid.domain.stock_rules import StockRule
from ordergrid.service.context import Context


def put_rule(ctx: Context, rule: StockRule) -> bool:
    """Create or replace a rule; True when created. Applies to the next decision."""
    with ctx.uow() as uow:
        created = uow.stock_rules.put(rule)
        uow.commit()
    return created


def rule(ctx: Context, rule_id: str) -> StockRule:
    with ctx.uow(readonly=True) as uow:
        found = uow.stock_rules.get(rule_id)
    if found is None:
        raise NotFound("stock_rule", rule_id)
    return found


def rules(ctx: Context) -> list[StockRule]:
    with ctx.uow(readonly=True) as uow:
        return uow.stock_rules.all()


def remove_rule(ctx: Context, rule_id: str) -> None:
    with ctx.uow() as uow:
        if not uow.stock_rules.remove(rule_id):
            raise NotFound("stock_rule", rule_id)
        uow.commit()


def put_channel(ctx: Context, settings: ChannelSettings) -> bool:
    with ctx.uow() as uow:
        created = uow.channels.put(settings)
        uow.commit()
    return created


def channel(ctx: Context, name: str) -> ChannelSettings:
    with ctx.uow(readonly=True) as uow:
        found = uow.channels.get(name)
    if found is None:
        raise NotFound("channel", name)
    return found


def channels(ctx: Context) -> list[ChannelSettings]:
    with ctx.uow(readonly=True) as uow:
        return uow.channels.all()
