"""Dagster assets and asset checks (thin glue over the plain modules)."""

from hub.assets.feeds import ALL_ASSETS, build_domain_assets
from hub.assets.partitions import DOMAINS, PARTNER_PARTITIONS

__all__ = ["ALL_ASSETS", "DOMAINS", "PARTNER_PARTITIONS", "build_domain_assets"]
