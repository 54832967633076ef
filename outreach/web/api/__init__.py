"""The JSON API under /api: the console's data and actions for scripts and other tools.

Authentication is a bearer token per user (`outreach users token NAME`), never a cookie, so
no CSRF token is needed; roles are checked exactly as in the console. Lists mask phones,
emails and account numbers; a debtor's own record (GET /api/debtors/{id}) shows them in full.
Routes only parse, call `outreach.queries` or `outreach.services`, and serialize; the one
router of all of them is `outreach.web.api.router.router`.
"""
