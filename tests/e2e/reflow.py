"""What the reflow test measures in a page, kept apart from its data so that a script can run the
same checks against the demo: the web routes to visit, and the script that finds what sticks out.
"""

from django.urls import URLPattern, URLResolver, get_resolver

WIDTH = 320  # CSS px: WCAG 2.1 SC 1.4.10, a 1280 px screen zoomed to 400 %

# The URL prefixes that hold no web page: the admin, the API (JSON) and the language switch.
NOT_PAGE_PREFIXES = ("admin/", "api/", "i18n/")
# Named routes that answer with something else than a page, or only to a POST. Any other
# named route is visited: a new page is checked without editing this list.
NOT_PAGES = {
    "logout": "POST only",
    "inventory:device_transition": "POST only",
    "inventory:bench_locks": "POST only",
    "inventory:bench_medium": "POST only",
    "inventory:bench_erasure": "POST only",
    "inventory:bench_reset": "POST only",
    "inventory:bench_tests": "POST only",
    "inventory:bench_assessment": "POST only",
    "inventory:bench_repair": "POST only",
    "inventory:erasure_report": "the erasure tool's own file",
    "inventory:donation_certificate_pdf": "PDF",
    "inventory:donation_summary_pdf": "PDF",
    "logistics:disposal_register_csv": "CSV",
    "logistics:need_export_csv": "CSV",
    "logistics:need_export_xlsx": "XLSX",
    "inventory:structure_set_active": "POST only",
    "inventory:member_set_active": "POST only",
    "inventory:member_reinvite": "POST only",
    "logistics:hand_over_receipt_pdf": "PDF",
    "logistics:loan_extend": "POST only",
    "logistics:loan_return": "POST only",
    "logistics:report_create": "POST only",
    "logistics:report_close": "POST only",
    "logistics:fund_export_pdf": "PDF",
    "logistics:fund_export_csv": "CSV",
    "logistics:fund_export_xlsx": "XLSX",
    "logistics:fund_report_issue": "POST only",
    "logistics:fund_report_pdf": "PDF",
    "logistics:fund_report_csv": "CSV",
    "logistics:fund_report_xlsx": "XLSX",
}

# WCAG's text-spacing bookmarklet (SC 1.4.12): no content or function may be lost with it.
TEXT_SPACING_CSS = """
*, *::before, *::after {
  line-height: 1.5 !important;
  letter-spacing: 0.12em !important;
  word-spacing: 0.16em !important;
}
p { margin-bottom: 2em !important; }
"""

# What breaks reflow, as a list of readable lines (empty: the page reflows). An element may
# stick out of the viewport only inside a region made to scroll: focusable and labelled.
# A box that hides or scrolls its overflow must not have any (text cut by a fixed size), form
# fields excepted (a long value scrolls inside its field).
PROBLEMS_JS = """
(width) => {
  const problems = [];
  const page = document.documentElement;
  if (page.scrollWidth > width) {
    problems.push(`the page is ${page.scrollWidth}px wide`);
  }
  const scrollRegion = ['aria-label', 'aria-labelledby']
    .map((name) => `[role="region"][tabindex="0"][${name}]`).join(', ');
  const describe = (el) => {
    let name = el.tagName.toLowerCase();
    if (el.id) name += '#' + el.id;
    if (typeof el.className === 'string' && el.className.trim()) {
      name += '.' + el.className.trim().split(/\\s+/).join('.');
    }
    const text = (el.innerText || el.value || '').trim().replace(/\\s+/g, ' ').slice(0, 40);
    return text ? `${name} "${text}"` : name;
  };
  const reported = new Set();
  for (const el of document.body.querySelectorAll('*')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 && box.height === 0) continue;
    if (reported.has(el.parentElement)) { reported.add(el); continue; }
    const inRegion = el.parentElement && el.parentElement.closest(scrollRegion);
    if (!inRegion && (box.left < -1 || box.right > width + 1)) {
      problems.push(`${describe(el)} spans ${Math.round(box.left)}..${Math.round(box.right)}px`);
      reported.add(el);
      continue;
    }
    if (el.matches('input, select, textarea, ' + scrollRegion)) continue;
    if (box.width <= 2 || box.height <= 2) continue;  // visually hidden text, 1 px by design
    const style = getComputedStyle(el);
    const hides = (value) => value !== 'visible';
    if ((hides(style.overflowX) && el.scrollWidth > el.clientWidth + 1)
        || (hides(style.overflowY) && el.scrollHeight > el.clientHeight + 1)) {
      const content = `${el.scrollWidth}x${el.scrollHeight}`;
      const box = `${el.clientWidth}x${el.clientHeight}`;
      problems.push(`${describe(el)} cuts its content (${content} in ${box})`);
      reported.add(el);
    }
  }
  return problems;
}
"""


def web_routes() -> list[tuple[str, str, dict]]:
    """(name, route, converters) of every named route that may be a web page."""
    routes = []

    def walk(patterns, prefix: str, namespace: str | None) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if route.startswith(NOT_PAGE_PREFIXES):
                continue
            if isinstance(entry, URLResolver):
                inner = ":".join(filter(None, (namespace, entry.namespace))) or None
                walk(entry.url_patterns, route, inner)
            elif isinstance(entry, URLPattern) and entry.name:  # unnamed: aliases of a named one
                name = f"{namespace}:{entry.name}" if namespace else entry.name
                if name not in NOT_PAGES:
                    routes.append((name, route, entry.pattern.converters))

    walk(get_resolver().url_patterns, "", None)
    return routes
