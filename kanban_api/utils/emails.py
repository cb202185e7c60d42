"""The one rule that decides whether two emails name the same account.

Every comparison of emails goes through `email_key`: sign-up, login, the
failed-login limits, user search, email changes and the unique constraint on
`user.email_key`. The database never folds case itself: SQLite's `lower()` folds
ASCII only and PostgreSQL's depends on the database's locale, so two spellings
would be one account on one database and two on another.
"""

import unicodedata


def email_key(email: str) -> str:
    """The normalized form accounts are found and kept unique by.

    Surrounding whitespace is dropped (autofill and mobile keyboards add it), then
    the text is put in NFKC form, case-folded (`str.casefold`, Unicode's full case
    folding: `É` → `é`, `ß` → `ss`, the Kelvin sign → `k`) and put in NFKC form
    again, since folding can leave text that is not normalized. This is Unicode's
    "compatibility caseless match" (The Unicode Standard, section 3.13, D146), so
    full-width letters and ligatures match their plain spelling too. The result can
    be longer than the email (`ß` → `ss`); `user.email_key` holds up to 254 characters.
    """
    normalized = unicodedata.normalize("NFKC", email.strip())
    return unicodedata.normalize("NFKC", normalized.casefold())
