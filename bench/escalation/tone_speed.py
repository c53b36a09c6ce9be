"""How long escalation takes to read a customer's message: the tone of 2,000 characters.

    .venv/bin/python bench/escalation/tone_speed.py [--runs 50]

Reads a 2,000-character message (a patient one and a furious one, as the tone tests write
them) `--runs` times after a warm-up call (the first loads VADER's lexicon), and the longest
body the contract allows (200,000 characters) a few times. Prints a markdown table of the
median and 95th percentile in milliseconds. No servers needed. The readings have a budget of
`TONE_BUDGET_SECONDS` in the service; a 2,000-character message is meant to read in about 2 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time

from keepword_escalation.tone import read_customer_message
from keepword_testkit.measuring import percentile

PARAGRAPHS = {
    "patient": (
        "Hello, I am writing again about the website project we started in March. Your sales "
        "person promised us first page rankings within 30 days and we paid a deposit of "
        "$1,500. It is now June and nothing has changed, the site still does not show up at "
        "all. "
    ),
    "furious": (
        "This is the WORST experience I have ever had with any company. You lied to me, you "
        "took my money and you ignored every single email!!! I am furious and disgusted. I "
        "want my money back and I will be contacting my lawyer if I do not hear from you "
        "today. "
    ),
}
LONGEST_BODY = 200_000  # the event contract's MessageReceived.body


def timings_ms(bodies: list[str]) -> list[float]:
    timings = []
    for body in bodies:
        started = time.perf_counter()
        read_customer_message("Re: project", body)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50)
    runs = parser.parse_args().runs
    read_customer_message(None, "warm-up")
    rows: list[tuple[str, list[float]]] = []
    for name, paragraph in PARAGRAPHS.items():
        bodies = [(f"Message {n}. " + paragraph * 10)[:2000] for n in range(runs)]
        rows.append((f"2,000 characters, {name}", timings_ms(bodies)))
    for name, paragraph in PARAGRAPHS.items():
        longest = (paragraph * (LONGEST_BODY // len(paragraph) + 1))[:LONGEST_BODY]
        rows.append((f"200,000 characters, {name}", timings_ms([longest] * 5)))
    print("| customer message | median ms | 95th percentile ms |")
    print("| --- | ---: | ---: |")
    for name, timings in rows:
        print(f"| {name} | {statistics.median(timings):.2f} | {percentile(timings, 0.95):.2f} |")


if __name__ == "__main__":
    main()
