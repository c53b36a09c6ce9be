"""A few hundred threads through the four services, once cleanly and once while things break.

`stack` runs one world (a private broker and database, an SMTP catcher, the four services as
processes that can be killed and restarted); `workload` drives threads through intake's public
API as a client that retries; `outcome` reduces what came out (emails, escalations) to a form
two runs can be compared in.
"""
