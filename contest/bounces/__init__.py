"""What comes back after a message was sent: bounces and complaints (no HTTP).

- :mod:`contest.bounces.reports`: the pure parser, bytes in and a report out (a delivery status
  notification, RFC 3464; a complaint, RFC 5965; or nothing to act on), the standard library
  only.
- :mod:`contest.bounces.handling`: what a report changes in the database: an address refused
  for good is marked undeliverable (as an SMTP 5xx at sending time is), a complaint withdraws
  the person's marketing consents in the consent ledger.
- :mod:`contest.bounces.maildir`: the worker's duty reading the bounce mailbox
  (``CONTEST_BOUNCE_MAILDIR``). The relay's webhook (``POST /hooks/bounces``) is the other door,
  in ``contest.web.hooks``.
"""
