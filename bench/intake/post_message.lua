-- wrk script: POST one inbound customer message per request (a new thread each time).
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. os.getenv("KEEPWORD_BENCH_API_KEY")
wrk.body = [[{"direction": "inbound", "channel": "web",
  "customer": {"email": "dana@example.com", "name": "Dana Whitfield"},
  "author": {"email": "dana@example.com", "name": "Dana Whitfield", "role": "customer"},
  "subject": "Where is my ranking report?",
  "body": "I paid a deposit two weeks ago and have not heard back. Please call me.",
  "deposit": {"amount": "1500.00", "currency": "USD"}}]]
