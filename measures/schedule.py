"""When a course of treatment asks for a questionnaire, and when two questionnaires pair up around a course.

The one home of these numbers: measures.selectors (who is due) and the owner's outcomes report (runs of visits,
the pre/post pairing of questionnaires) both read them, so "the start of a course" means the same in both. They
live here, in the lowest app that needs them, because measures may not import outcomes (tests/test_layout.py).
"""

# A visit at most this many days after the one before continues a run (a course); a longer gap ends it.
RUN_GAP_DAYS = 14
# A questionnaire counts for a visit (a course's start or its follow-up) when submitted at most this many days
# before it, or on its day.
PAIRING_DAYS = 14
# A course asks again when nothing was submitted in this many days (the "every 4 weeks").
DUE_EVERY_DAYS = 28
