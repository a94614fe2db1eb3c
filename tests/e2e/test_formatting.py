"""Money as the pages show it (no browser needed; kept with the page tests)."""

import pytest

from greenmatch.web.formatting import money, money_full

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize(("amount", "zh", "en"), [
    (150_000_000, "¥1.5亿", "¥150M"),  # Babel's compact numbers (CLDR)
    (32_000_000, "¥3200万", "¥32M"),
    (1_234_600_000, "¥12.35亿", "¥1.23B"),
    (15_000, "¥1.5万", "¥15K"),
    (8_000, "¥8,000", "¥8,000"),
    (0, "¥0", "¥0"),
    (None, "—", "—"),
])
def test_money_for_each_language(amount, zh, en):
    assert money(amount, english=False) == zh
    assert money(amount, english=True) == en


def test_exact_amounts_keep_their_separators():
    assert money_full(150_000_000) == "¥150,000,000"
    assert money_full(1234.5) == "¥1,234.50"
