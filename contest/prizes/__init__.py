"""After the draw: winners claim (:mod:`.claims`), voucher codes are made (:mod:`.vouchers`)
and created in the organizer's shop (:mod:`.shops`, one module per kind of shop) by the outbox
(:mod:`.fulfilment`)."""
