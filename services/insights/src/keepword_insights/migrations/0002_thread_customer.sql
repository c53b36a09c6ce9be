-- Who the customer of a thread is (their name, else their address, as first known), so the
-- dashboard's thread lists say whose conversation each one is. Threads read before this stay
-- unnamed until the customer writes again (or the facts are rebuilt).
ALTER TABLE threads ADD COLUMN customer text;
