"""One dynamic partition set per domain; a partition is a partner's feed of that domain.
The registry sensor keeps them in step with the partner registry."""

import dagster as dg

DOMAINS = ("jobs", "courses", "housing")

PARTNER_PARTITIONS: dict[str, dg.DynamicPartitionsDefinition] = {
    domain: dg.DynamicPartitionsDefinition(name=f"{domain}_feeds") for domain in DOMAINS
}
