-- Leases: an email is claimed by setting `leased_until`, committed before it is sent, and its
-- outcome is recorded in a transaction of its own right after the server's answer. Other senders
-- skip a leased row; a dead sender's rows are taken up again once their lease has run out.
ALTER TABLE sends ADD COLUMN leased_until timestamptz;
