"""Both locales define the same messages, with the same parameters, in every template module."""

from __future__ import annotations

import pytest

from bot.runtime.render import DEFAULT_LOCALE, LOCALES, Renderer

RENDERER = Renderer()
MODULES = sorted(RENDERER.modules(DEFAULT_LOCALE))


def test_every_locale_has_the_same_modules() -> None:
    assert MODULES, "no templates found"
    for locale in LOCALES:
        assert RENDERER.modules(locale) == set(MODULES), locale


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("locale", [loc for loc in LOCALES if loc != DEFAULT_LOCALE])
def test_same_messages(locale: str, module: str) -> None:
    reference = RENDERER.messages(DEFAULT_LOCALE, module)
    other = RENDERER.messages(locale, module)
    assert sorted(reference - other) == [], f"missing in {locale}/{module}.j2"
    assert sorted(other - reference) == [], f"only in {locale}/{module}.j2"


@pytest.mark.parametrize("module", MODULES)
@pytest.mark.parametrize("locale", [loc for loc in LOCALES if loc != DEFAULT_LOCALE])
def test_same_parameters(locale: str, module: str) -> None:
    """A message takes the same keyword arguments in every locale, so a caller that renders
    one locale renders the other."""

    def signatures(loc: str) -> dict[str, tuple[str, ...]]:
        mod = RENDERER._module(loc, module)
        names = RENDERER.messages(DEFAULT_LOCALE, module) & RENDERER.messages(loc, module)
        return {
            name: tuple(getattr(mod, name).arguments)
            for name in names
            if hasattr(getattr(mod, name), "arguments")
        }

    reference, other = signatures(DEFAULT_LOCALE), signatures(locale)
    differing = {n: (reference[n], other.get(n)) for n in reference if reference[n] != other.get(n)}
    assert differing == {}
