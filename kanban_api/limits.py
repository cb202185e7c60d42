"""Size limits shared by the request schemas (422) and the database's CHECK constraints."""

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
LABEL_NAME_MAX = 200
EMAIL_MAX = 254
PASSWORD_MIN = 8
PASSWORD_MAX = 256
