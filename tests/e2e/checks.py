"""What the journeys check on a page besides its words: that it fits the screen or the sheet
of paper, and the colours that tell a state (green 达标, amber 接近 or 待办, red 未达标).

Colours are compared with the palette of static/css/app.css as the page itself reads it
(`--green`, `--red`...), so that a state drawn in the wrong colour, or in none because its
class was lost, fails the journey while a change of the palette does not.
"""

import datetime
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")

# The office screens the pages must fit without a horizontal scroll bar.
OFFICE_SCREENS = ({"width": 1366, "height": 768}, {"width": 1920, "height": 1080})

# The printable width of an A4 sheet in CSS pixels (96 per inch): 210 mm portrait,
# 297 mm landscape, less 15 mm on each side (more than the pages' own @page margins).
A4_PORTRAIT_WIDTH = round((210 - 2 * 15) / 25.4 * 96)
A4_LANDSCAPE_WIDTH = round((297 - 2 * 15) / 25.4 * 96)

# Elements that scroll or clip sideways, and elements sticking out to the right of the
# window; text cut short with an ellipsis on purpose (names in the matrix) and what is hidden
# from people (visually hidden labels, the rating form's robot trap) are no overflow.
_OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  const found = [];
  const name = (e) => e.tagName.toLowerCase() + (e.className && typeof e.className === "string"
    ? "." + e.className.trim().split(/\\s+/).join(".") : "");
  if (document.documentElement.scrollWidth > width) {
    found.push(`page ${document.documentElement.scrollWidth}px > ${width}px`);
  }
  for (const element of document.body.querySelectorAll("*")) {
    const box = element.getBoundingClientRect();
    if (box.width === 0 || box.height === 0) continue;
    const sticksOut = box.right > width + 1;
    const clips = element.scrollWidth > element.clientWidth + 1;
    if (!sticksOut && !clips) continue;
    const style = getComputedStyle(element);
    if (style.visibility === "hidden") continue;
    if (element.closest(".visually-hidden, .skip-link, [aria-hidden=true]")) continue;
    if (sticksOut) {
      found.push(`${name(element)} ends at ${Math.round(box.right)}px > ${width}px`);
    } else if (["auto", "scroll", "hidden"].includes(style.overflowX)
        && style.textOverflow !== "ellipsis") {
      found.push(`${name(element)} scrolls ${element.scrollWidth}px in ${element.clientWidth}px`);
    }
    if (found.length >= 5) break;
  }
  return found;
}"""


def today():
    """Today where the application judges dates."""
    return datetime.datetime.now(SHANGHAI).date()


def overflow(page):
    """What does not fit the width of the window (empty when everything does)."""
    return page.evaluate(_OVERFLOW)


def assert_fits(page, where=""):
    """The page needs no horizontal scroll bar and cuts nothing off at its right edge."""
    found = overflow(page)
    assert not found, f"{where or page.url} does not fit {page.viewport_size}: {found}"


def assert_fits_office_screens(page, where=""):
    """`assert_fits` at 1366×768 and at 1920×1080, the page laid out again for each."""
    original = page.viewport_size
    try:
        for screen in OFFICE_SCREENS:
            page.set_viewport_size(screen)
            assert_fits(page, where)
    finally:
        page.set_viewport_size(original)


def palette(page, name):
    """A colour of the stylesheet's palette (`--red`) as getComputedStyle writes colours."""
    value = page.evaluate(
        "name => getComputedStyle(document.documentElement).getPropertyValue(name).trim()",
        f"--{name}",
    )
    assert value.startswith("#") and len(value) == 7, f"--{name} is {value!r}"
    red, green, blue = (int(value[index : index + 2], 16) for index in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


def style_of(locator, prop):
    """A computed style of the first element the locator finds (`color`, `background-color`)."""
    return locator.first.evaluate("(element, prop) => getComputedStyle(element)[prop]", prop)


def single_line(locator):
    """Whether every element of the locator shows its text on one line."""
    return locator.evaluate_all(
        """elements => elements.every(element => {
          const range = document.createRange();
          range.selectNodeContents(element);
          const tops = new Set(Array.from(range.getClientRects(), r => Math.round(r.top)));
          return tops.size <= 1;
        })"""
    )
