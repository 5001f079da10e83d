"""The draw, from a closed contest to its proof: the protocol in the standard library alone
(:mod:`.protocol`), the database side that freezes the pool and stores the signed record
(:mod:`.drawing`), the pool file published beside a large draw (:mod:`.poolfile`), and the
public value announced at publication and checked at the draw (:mod:`.beacon`)."""
