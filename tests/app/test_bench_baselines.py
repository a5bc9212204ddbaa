"""App: the benchmarks' baselines answer what the app answers, so a bench compares like with like."""

import json

from bench.load import bench_user, refreshed_card_answer


def test_the_teams_baseline_answers_a_claim_with_the_card_claimed_by_the_clicker():
    answer = json.loads(refreshed_card_answer(user=3))
    assert (answer["statusCode"], answer["type"]) == (200, "application/vnd.microsoft.card.adaptive")
    shown = json.dumps(answer["value"], ensure_ascii=False)
    assert "Claimed" in shown and bench_user(3)["name"] in shown
