"""Which state (and city) rules apply to a debtor: the keys of policy.yaml `states`.

A debtor is in the state of their address and, to be safe, also in the state whose law the
account names (AccountSnapshot.state): a rule of either applies. New York City (DCWP rules)
is detected from the ZIP: a ZIP in one of the five boroughs' counties. A New York debtor
without a usable ZIP might live in the city, so the city's rules apply to them too.
"""

from __future__ import annotations

from functools import lru_cache

import us

from outreach.compliance.timezones import zip_record

NYC_COUNTIES: frozenset[str] = frozenset(
    {"New York County", "Kings County", "Queens County", "Bronx County", "Richmond County"}
)


@lru_cache(maxsize=4096)
def places(
    state: str | None, zip_code: str | None, account_state: str | None = None
) -> frozenset[str]:
    """State codes (and "NYC") whose rules apply; frozenset() when nothing is known."""
    found: set[str] = set()
    for name in (state, account_state):
        code = state_code(name) if name else None
        if code:
            found.add(code)
    record = zip_record(zip_code) if zip_code else None
    zip_state, county = (record[1], record[2]) if record is not None else (None, None)
    if zip_state:
        found.add(zip_state)
    if county in NYC_COUNTIES and zip_state == "NY":
        found.add("NYC")
    elif county is None and state_code(state or "") == "NY":
        found.add("NYC")  # no usable ZIP: the debtor may be in the city
    return frozenset(found)


@lru_cache(maxsize=256)
def state_code(name: str) -> str | None:
    """ "ny", "New York", "NY" -> "NY"; None for anything else."""
    found = us.states.lookup(name.strip()) if name.strip() else None
    return found.abbr if found is not None else None
