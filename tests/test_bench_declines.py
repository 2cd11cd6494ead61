"""How `python -m bench.declines` reads a score: what its AUC and floor costs count."""

from __future__ import annotations

from bench.declines import auc, cost_of_floor


def test_a_score_that_parts_the_questions_reads_one_and_a_coin_reads_a_half() -> None:
    """Questions to decline all scoring below those to answer give 1.0; the same scores on both
    sides give 0.5; the other way round, 0.0."""
    assert auc([0.1, 0.2], [0.5, 0.6, 0.7]) == 1.0
    assert auc([0.3, 0.5], [0.3, 0.5]) == 0.5
    assert auc([0.8, 0.9], [0.1, 0.2]) == 0.0


def test_a_floor_declining_half_of_the_wrong_answers_counts_the_right_answers_it_would_take() -> None:
    """Wrongly answered at 0.2, 0.4, 0.6, 0.8: the floor for half is 0.4, and the right answers at
    or below it are the ones it would decline too; the floor for all is 0.8."""
    wrong = [0.8, 0.2, 0.6, 0.4]
    right = [0.3, 0.4, 0.5, 0.9]
    assert cost_of_floor(wrong, right, 0.5) == (0.4, 2)
    assert cost_of_floor(wrong, right, 1.0) == (0.8, 3)
