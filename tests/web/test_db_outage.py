"""A database that drops away for a moment (restart, failover): a page that reads is tried once more,
a request that writes answers 503 with Retry-After and a translated page — never a 500."""
from contextlib import contextmanager

import pytest
from sqlalchemy import event


@contextmanager
def failing_statements(app, matches, times: int):
    """The first `times` statements containing `matches` fail as a lost database connection does."""
    engine = app.extensions["linli"].engine
    engine = getattr(engine, "connection", engine)  # inside the test's transaction: its connection
    dbapi = engine.dialect.loaded_dbapi
    seen: list[str] = []

    def before_cursor_execute(conn, cursor, statement, parameters, context, executemany):
        if matches in statement:
            seen.append(statement)
            if len(seen) <= times:
                raise dbapi.OperationalError("simulated: the database server restarted")

    event.listen(engine, "before_cursor_execute", before_cursor_execute)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", before_cursor_execute)


@pytest.fixture()
def volunteer_signed_in(app, browser, world):
    app.config["LINLI_DB_RETRY_DELAY"] = 0
    browser.login(world.volunteer_a.person.phone)
    return browser


def test_a_read_that_loses_the_database_is_retried_once(app, volunteer_signed_in):
    with failing_statements(app, "pairing", times=1) as seen:
        response = volunteer_signed_in.get("/volunteer/")
    assert response.status_code == 200
    assert len(seen) == 2  # failed once, then answered on the retry


def test_a_read_that_fails_twice_answers_503_with_retry_after(app, volunteer_signed_in):
    with failing_statements(app, "pairing", times=2):
        response = volunteer_signed_in.get("/volunteer/")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert "请稍后再试" in response.get_data(as_text=True)


def test_a_write_that_cannot_be_known_to_have_committed_answers_503_never_retried(app, volunteer_signed_in):
    from tests.conftest import csrf_from

    page = volunteer_signed_in.get("/volunteer/").get_data(as_text=True)
    with failing_statements(app, "UPDATE people", times=1) as seen:
        response = volunteer_signed_in.client.post("/settings/language", data={
            "csrf_token": csrf_from(page), "locale": "en", "back": "/volunteer/"})
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) > 0
    assert len(seen) == 1  # a write is never run twice on our side
    # the page is translated (the person's chosen language was not saved: Chinese by default)
    assert "请稍后再试" in response.get_data(as_text=True)


def test_an_ordinary_error_is_not_mistaken_for_an_outage(app, volunteer_signed_in, monkeypatch):
    from portal.web import volunteer

    def broken(*_args, **_kwargs):
        raise ValueError("a bug, not an outage")

    monkeypatch.setattr(volunteer, "render_template", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    app.testing = False
    try:
        response = volunteer_signed_in.get("/volunteer/")
    finally:
        app.testing = True
    assert response.status_code == 500


def test_a_connection_lost_while_closing_the_session_does_not_spoil_the_answer(app, volunteer_signed_in):
    """The page was made; the database went away before the request's session was closed (its
    rollback fails): the person still gets the page, not a 500."""
    from sqlalchemy.exc import OperationalError

    state = app.extensions["linli"]
    factory = state.session_factory
    dbapi = state.engine.dialect.loaded_dbapi

    def session_whose_close_fails():
        session = factory()
        close = session.close

        def failing_close():
            close()
            raise OperationalError("ROLLBACK", {}, dbapi.OperationalError("terminating connection"))

        session.close = failing_close
        return session

    # set and put back here, not with monkeypatch: its undo would run after the app fixture has
    # restored the shared app's state, and leave this test's connection in it for later tests
    state.session_factory = session_whose_close_fails
    try:
        response = volunteer_signed_in.get("/volunteer/")
    finally:
        state.session_factory = factory
    assert response.status_code == 200
