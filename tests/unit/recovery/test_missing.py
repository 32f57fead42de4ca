"""MissingJobs: the rule the trigger and the poke-mode sensor share for jobs DRS leaves out."""

from __future__ import annotations

from drs_provider.recovery.missing import NOT_FOUND_ANSWERS, MissingJobs


def test_a_job_is_given_up_on_only_after_answers_in_a_row_left_it_out():
    jobs = MissingJobs()

    assert NOT_FOUND_ANSWERS == 2
    assert jobs.record(["a", "b"], {"a"}) == (["b"], [])
    assert jobs.record(["a", "b"], {"a"}) == (["b"], ["b"])


def test_a_listing_in_between_starts_the_count_again():
    jobs = MissingJobs()

    assert jobs.record(["a"], set()) == (["a"], [])
    assert jobs.record(["a"], {"a"}) == ([], [])
    assert jobs.record(["a"], set()) == (["a"], [])
