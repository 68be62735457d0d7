"""reflow(): hard-wrapped text joins into paragraphs, list items and table rows keep their breaks."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from cmqprep.domain.items import reflow


def test_wrapped_lines_join_and_paragraphs_stay():
    assert reflow("The Deming cycle\nhas four steps.\n\nPlan comes first.") == (
        "The Deming cycle has four steps.\n\nPlan comes first.")


def test_list_items_and_table_rows_keep_their_breaks():
    assert reflow("Steps:\n- plan\n- do") == "Steps:\n- plan\n- do"
    assert reflow("Cost  Value\n10  20") == "Cost  Value\n10  20"


def test_a_leading_tab_alone_does_not_keep_a_break():
    # Found by fuzzing: the tab used to keep the break and then be stripped, so a second
    # reflow joined the lines that the first had kept apart.
    assert reflow("1\n\t1") == "1 1"


@given(st.text(alphabet=st.sampled_from(list("ab1 -:.)\t\n*|>")), max_size=60))
def test_reflow_is_idempotent(text):
    once = reflow(text)
    assert reflow(once) == once
