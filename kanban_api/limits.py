"""Size limits of the API: the request schemas answer 422 past them, and the ones on
stored text are repeated as the database's CHECK constraints."""

TITLE_MAX = 200
DESCRIPTION_MAX = 20_000
LABEL_NAME_MAX = 200
COLUMN_NAME_MAX = 50
WIP_LIMIT_MAX = 1000
COMMENT_BODY_MAX = 10_000
CHECKLIST_TEXT_MAX = 500
CHECKLIST_ITEMS_MAX = 100
EMAIL_MAX = 254
PASSWORD_MIN = 8
PASSWORD_MAX = 256
# Login accepts any password an account might have from before today's rules, up to this.
LOGIN_PASSWORD_MAX = 1024
SEARCH_TEXT_MAX = 200
# Long enough for any real endpoint with its query string; browsers' practical limit.
WEBHOOK_URL_MAX = 2000
WEBHOOK_DESCRIPTION_MAX = 500
# Webhooks per board: more answer 409 (each costs a sender's attention every event).
WEBHOOKS_PER_BOARD_MAX = 20

# TCP ports a connection can be made to: 16 bits, and 0 is none (RFC 9293 §3.1).
TCP_PORTS = range(1, 2**16)
