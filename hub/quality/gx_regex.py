"""Regex expectations that match each distinct value once.

GX's own ``expect_column_values_to(_not)_match_regex`` evaluate, on pandas,
``column.astype(str).str.contains(regex)``: the hub hands GX its string columns as
categoricals (a frame of a million rows holds a few thousand distinct URLs, e-mails and phone
numbers), and ``astype(str)`` turns each of them back into a million strings before the
match (about 0.12 s per column at 1M rows, the largest single cost of the suite).

The two expectations here are GX's, with another pandas metric: on a categorical column the
pattern is matched against the categories and the answer is spread to the rows by their
codes; any other column is matched as GX matches it. Their configuration, results, null
handling and ``mostly`` are GX's (they subclass GX's expectations; only ``map_metric``
differs), and the SQL and Spark implementations are inherited unchanged.

Imported by ``hub.quality.suites.GXEngine`` after GX itself (importing it registers the
metrics and expectations with GX)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.core.expect_column_values_to_match_regex import (
    ExpectColumnValuesToMatchRegex,
)
from great_expectations.expectations.core.expect_column_values_to_not_match_regex import (
    ExpectColumnValuesToNotMatchRegex,
)
from great_expectations.expectations.metrics.column_map_metrics.column_values_match_regex import (
    ColumnValuesMatchRegex,
)
from great_expectations.expectations.metrics.column_map_metrics.column_values_not_match_regex import (
    ColumnValuesNotMatchRegex,
)
from great_expectations.expectations.metrics.map_metric_provider import column_condition_partial


def contains(column: pd.Series, regex: str) -> pd.Series:
    """``column.astype(str).str.contains(regex)``, once per distinct value of a categorical."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        categories = pd.Series(column.cat.categories, dtype="str")
        hits = categories.str.contains(regex).to_numpy(dtype=bool, na_value=False)
        codes = column.cat.codes.to_numpy()
        # code -1 is a missing value: GX filters those rows out before asking; as astype(str)
        # would, it is matched as the text "nan"
        missing = bool(pd.Series(["nan"], dtype="str").str.contains(regex).iloc[0])
        rows = np.where(codes >= 0, hits[np.maximum(codes, 0)], missing)
        return pd.Series(rows, index=column.index)
    return column.astype(str).str.contains(regex)


class ColumnValuesMatchRegexPerValue(ColumnValuesMatchRegex):
    condition_metric_name = "column_values.match_regex_per_value"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, regex, **kwargs):
        return contains(column, regex)


class ColumnValuesNotMatchRegexPerValue(ColumnValuesNotMatchRegex):
    condition_metric_name = "column_values.not_match_regex_per_value"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column, regex, **kwargs):
        return ~contains(column, regex)


class ExpectColumnValuesToMatchRegexPerValue(ExpectColumnValuesToMatchRegex):
    """GX's ``expect_column_values_to_match_regex``, matching each distinct value once."""

    map_metric = "column_values.match_regex_per_value"


class ExpectColumnValuesToNotMatchRegexPerValue(ExpectColumnValuesToNotMatchRegex):
    """GX's ``expect_column_values_to_not_match_regex``, matching each distinct value once."""

    map_metric = "column_values.not_match_regex_per_value"
