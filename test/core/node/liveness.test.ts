// Whether a running run's owner is alive: on this machine by its process and heartbeat; for a
// team's store (workers on other machines, whose process ids mean nothing here) by the heartbeat.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ownerAlive, shownStatus, STALE_HEARTBEAT_MS } from "@keel/core/node/liveness";
import { run } from "../store/conformance";

const now = Date.parse("2026-11-23T10:00:10.000Z");
const fresh = "2026-11-23T10:00:05.000Z";
const stale = new Date(now - STALE_HEARTBEAT_MS - 1).toISOString();
// A pid no process here has: the kernel's maximum is below 2^22.
const elsewhere = 4_194_304 + 17;

test("a run whose owner is on another machine is alive while its heartbeat is recent", () => {
  const r = run("01A", { ownerPid: elsewhere, heartbeatAt: fresh });
  assert.equal(ownerAlive(r, now, "remote"), true);
  assert.equal(shownStatus(r, now, "remote"), "running");
  // Judged as a local run, its process is not here: interrupted.
  assert.equal(shownStatus(r, now), "interrupted");
  assert.equal(shownStatus({ ...r, heartbeatAt: stale }, now, "remote"), "interrupted");
});

test("a local run is alive while its process exists and its heartbeat is recent", () => {
  const r = run("01A", { ownerPid: process.pid, heartbeatAt: fresh });
  assert.equal(shownStatus(r, now), "running");
  assert.equal(shownStatus({ ...r, heartbeatAt: stale }, now), "interrupted");
  assert.equal(shownStatus({ ...r, status: "succeeded", ownerPid: null }, now), "succeeded");
});

test("a running run without an owner process in a team's store is executed by the workers: alive there", () => {
  const r = run("01A", { ownerPid: null, heartbeatAt: null });
  assert.equal(ownerAlive(r, now, "remote"), true);
  assert.equal(shownStatus(r, now, "remote"), "running");
  // In a local store no run is left without an owner while it runs: interrupted.
  assert.equal(shownStatus(r, now), "interrupted");
});
