from tests.browser.conftest import sign_in


def test_owner_signs_in_and_reaches_admin(live_server, tablet_browser, screenshot, owner):
    sign_in(tablet_browser, live_server, owner.username)
    assert "/admin/" in tablet_browser.current_url
    assert "Run the practice" in tablet_browser.page_source
    screenshot(tablet_browser, "admin-index")


def test_login_page_loads_nothing_from_another_host(live_server, tablet_browser):
    tablet_browser.get(f"{live_server.url}/accounts/login/")
    sources = tablet_browser.execute_script(
        "return [...document.querySelectorAll('script[src],link[href],img[src]')].map(e => e.src || e.href)"
    )
    assert sources, "the page should load its own stylesheet and scripts"
    assert all(src.startswith(live_server.url) for src in sources), sources
    # Bootstrap really loaded: the navbar is styled.
    colour = tablet_browser.execute_script("return getComputedStyle(document.querySelector('.navbar')).backgroundColor")
    assert colour not in ("rgba(0, 0, 0, 0)", "transparent")
