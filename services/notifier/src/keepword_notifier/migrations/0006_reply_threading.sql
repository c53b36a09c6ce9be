-- Replies thread back: the Message-ID of the customer's latest email (so our answer to them is
-- In-Reply-To it) and, with each email, the message it answers, so a resend is the same bytes.
ALTER TABLE threads ADD COLUMN last_customer_email_id text;
ALTER TABLE sends ADD COLUMN in_reply_to text;
