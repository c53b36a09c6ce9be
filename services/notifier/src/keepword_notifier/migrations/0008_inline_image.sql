-- An image the email's HTML shows inline (the weekly report's chart): a PNG carried in a
-- multipart/related part under its Content-ID, kept with the email so a resend is the same bytes.
ALTER TABLE sends ADD COLUMN inline_cid text;
ALTER TABLE sends ADD COLUMN inline_png bytea;
