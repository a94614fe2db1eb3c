"""End-to-end tests (Playwright, system Chromium)."""
