// Unit tests of the screens' shared formatting, run with `node --test tests/ui/` (Node 18+,
// no packages): the parts of the page that are pure functions of their input.

import { test } from "node:test";
import assert from "node:assert/strict";

import { dateTime, localTimes } from "../../ui/format.js";

test("a UTC time inside a sentence reads as the local date and time", () => {
  const ms = Date.UTC(2026, 11, 2, 15, 4, 5);
  assert.equal(
    localTimes("locked until 2026-12-02T15:04:05Z"),
    `locked until ${dateTime(ms)}`,
  );
});

test("the time is the clerk's, not UTC (run with TZ=America/New_York)", () => {
  const ms = Date.UTC(2026, 11, 2, 15, 4, 5);
  const inUtc = new Intl.DateTimeFormat(undefined, {
    dateStyle: "medium",
    timeStyle: "short",
    timeZone: "UTC",
  }).format(new Date(ms));
  if (new Date(ms).getTimezoneOffset() !== 0) {
    assert.notEqual(localTimes("2026-12-02T15:04:05Z"), inUtc);
  }
  assert.equal(localTimes("2026-12-02T15:04:05Z"), dateTime(ms));
});

test("every time in the sentence is changed, and nothing else", () => {
  const text = "from 2026-01-31T23:59:59Z to 2026-02-01T00:00:00Z (3 tries)";
  const out = localTimes(text);
  assert.equal(
    out,
    `from ${dateTime(Date.UTC(2026, 0, 31, 23, 59, 59))} to ${dateTime(Date.UTC(2026, 1, 1))} (3 tries)`,
  );
  assert.ok(out.endsWith(" (3 tries)"));
});

test("text without a time, or with something only like one, is left as it is", () => {
  for (const text of [
    "",
    "sent to jo…@example.com",
    "2026-12-02",
    "2026-12-02T15:04:05",
    "2026-12-02T15:04:05+01:00",
    "12026-12-02T15:04:05Z",
    "<b>2026-13-45T99:99:99Z</b>",
    "\u202e2026-12-02T15:04:05Zx",
  ]) {
    assert.equal(localTimes(text), text, text);
  }
});

test("what is not text passes through", () => {
  assert.equal(localTimes(null), null);
  assert.equal(localTimes(undefined), undefined);
  assert.equal(localTimes(42), 42);
});

test("a huge detail is handled in one pass", () => {
  const text = "x ".repeat(500_000) + "2026-12-02T15:04:05Z";
  assert.ok(localTimes(text).startsWith("x x "));
  assert.ok(!localTimes(text).includes("T15:04:05Z"));
});
