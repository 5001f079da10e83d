"""The people a contest brings and what they agreed to: the consent ledger (:mod:`.consents`),
erasure and retention (:mod:`.privacy`), access and portability (:mod:`.access`), the lead
export (:mod:`.export`), the CRM push (:mod:`.crm`), contact pressure (:mod:`.pressure`) and
the shop's clients (:mod:`.clients`)."""
