async def test_start_shows_menu(harness):
    calls = await harness.text(42, "/start")
    assert "先锋镇" in calls[-1].params["text"]
