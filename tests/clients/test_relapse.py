"""classify_relapse: the table of docs/relapse.md, without a database."""

import pytest

from clients.relapse import CLIENT_MESSAGES, Answer, SinceLastRelapse, Triage, classify_relapse, client_message

Y, N, U, BLANK = Answer.YES, Answer.NO, Answer.UNSURE, ""
OVER_30, UNDER_30, DONT_KNOW = (
    SinceLastRelapse.THIRTY_OR_MORE,
    SinceLastRelapse.UNDER_THIRTY,
    SinceLastRelapse.DONT_KNOW,
)
RELAPSE, PSEUDO, UNCLEAR = Triage.POSSIBLE_RELAPSE, Triage.LIKELY_PSEUDO_RELAPSE, Triage.UNCLEAR

# (new or worse, lasted over 24 hours, last relapse began, fever or infection, explained by heat) -> triage
TABLE = [
    # Nothing new or worse: nothing to classify, whatever else is filled in.
    ((False, BLANK, BLANK, BLANK, BLANK), ""),
    ((None, BLANK, BLANK, BLANK, BLANK), ""),
    ((False, Y, OVER_30, N, N), ""),
    # Every criterion of a relapse met.
    ((True, Y, OVER_30, N, N), RELAPSE),
    # Another cause explains it: a pseudo-relapse is likelier, however long it lasted.
    ((True, Y, OVER_30, Y, N), PSEUDO),
    ((True, Y, OVER_30, N, Y), PSEUDO),
    ((True, Y, OVER_30, Y, Y), PSEUDO),
    ((True, U, DONT_KNOW, Y, U), PSEUDO),
    ((True, U, DONT_KNOW, U, Y), PSEUDO),
    # Passed within a day: not a relapse by definition.
    ((True, N, OVER_30, N, N), PSEUDO),
    ((True, N, UNDER_30, U, U), PSEUDO),
    # Within 30 days of the last relapse: may belong to it; not called a new relapse.
    ((True, Y, UNDER_30, N, N), UNCLEAR),
    # Any "not sure" on the way to a relapse.
    ((True, U, OVER_30, N, N), UNCLEAR),
    ((True, Y, DONT_KNOW, N, N), UNCLEAR),
    ((True, Y, OVER_30, U, N), UNCLEAR),
    ((True, Y, OVER_30, N, U), UNCLEAR),
    # Unanswered counts as not sure.
    ((True, BLANK, BLANK, BLANK, BLANK), UNCLEAR),
    ((True, Y, OVER_30, N, BLANK), UNCLEAR),
]


@pytest.mark.parametrize(("answers", "expected"), TABLE)
def test_classify_relapse_follows_the_table(answers, expected):
    new, lasted, since, fever, heat = answers
    result = classify_relapse(
        new_or_worse_symptom=new,
        lasted_over_24_hours=lasted,
        days_since_last_relapse_began=since,
        fever_or_infection=fever,
        explained_by_heat=heat,
    )
    assert result == expected


def test_only_every_criterion_met_reads_as_possible_relapse():
    """Exhaustively: "possible relapse" for exactly one combination of the follow-up answers."""
    answers = [Y, N, U, BLANK]
    since = [OVER_30, UNDER_30, DONT_KNOW, BLANK]
    relapses = [
        (lasted, when, fever, heat)
        for lasted in answers
        for when in since
        for fever in answers
        for heat in answers
        if classify_relapse(
            new_or_worse_symptom=True,
            lasted_over_24_hours=lasted,
            days_since_last_relapse_began=when,
            fever_or_infection=fever,
            explained_by_heat=heat,
        )
        == RELAPSE
    ]
    assert relapses == [(Y, OVER_30, N, N)]


def test_every_message_disclaims_a_diagnosis_and_names_the_ms_team():
    for triage in Triage:
        message = client_message(triage)
        assert message == CLIENT_MESSAGES[triage]
        assert "This is not a diagnosis" in message
        assert "MS team" in message
    assert "today" in client_message(RELAPSE)
    assert client_message("") == ""
    assert client_message("nonsense") == ""
