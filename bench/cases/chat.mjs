/**
 * A routed LLMService.Chat through the host (caller → host's services port → provider plugin)
 * against the same provider called directly (caller → provider's port), and against the floor
 * of one extra hop: a bare grpc-js process that relays each Chat to the provider and does
 * nothing else (fixtures/llm-relay.mjs). The provider is an SDK plugin answering at once
 * (fixtures/llm-provider.mjs); the load is load/llm-calls.mjs in its own process, 16 calls in
 * flight, then 1 for latency. The host and the relay take turns; the direct calls run after
 * them in every round.
 */
import { join } from "node:path";
import { BENCH_DIR, FIXTURES, runJson, spawnWithPort, stopChild, withCpu } from "../lib/procs.mjs";
import { startHostWith } from "../lib/hosts.mjs";
import { alternate, pick } from "../lib/rounds.mjs";

const LOAD = join(BENCH_DIR, "load", "llm-calls.mjs");

/** @type {import("../run.mjs").Case} */
export const chat = {
  name: "chat",
  title: "LLMService.Chat routed by the host to a provider plugin, 16 in flight, then 1",
  baseline: "a bare grpc-js relay to the same provider (one extra hop and nothing else); direct calls to the provider in the (info) rows",
  async run({ rounds = 6, seconds = 3, log }) {
    const ours = await startHostWith("chat", [{ name: "llm", binary: join(FIXTURES, "llm-provider.mjs") }]);
    let relay;
    try {
      const provider = ours.ready.plugins.find((p) => p.name === "llm");
      relay = await spawnWithPort(join(FIXTURES, "llm-relay.mjs"), [], { env: { PROVIDER_ADDRESS: provider.address } });
      const token = await ours.host.request({ type: "token", plugin: "bench-caller" });
      const sides = {
        ours: { address: ours.host.servicesAddress, token, pids: [ours.host.pid, provider.pid] },
        baseline: { address: `127.0.0.1:${relay.port}`, token: "", pids: [relay.child.pid, provider.pid] },
        direct: { address: provider.address, token: "", pids: [provider.pid] },
      };
      const load = async (side, concurrency, forSeconds) => {
        const [x, cpuMs, each] = await withCpu(side.pids, () => runJson(LOAD, [side.address, forSeconds, concurrency, side.token]));
        if (x.errors > 0) throw new Error(`${x.errors} calls failed`);
        const perCall = (ms) => (ms * 1000) / x.calls;
        return { perSec: x.perSec, p50: x.p50, cpuUs: perCall(cpuMs), frontUs: side.pids.length > 1 ? perCall(each[0]) : 0, providerUs: perCall(each.at(-1)) };
      };
      const both = (side) => async () => {
        const many = await load(side, 16, seconds);
        const one = await load(side, 1, 1);
        return { ...many, p50one: one.p50 };
      };
      log("  warm-up 1 s each");
      for (const side of Object.values(sides)) await load(side, 16, 1);
      const directs = [];
      const r = await alternate(rounds, {
        baseline: both(sides.baseline),
        ours: async () => {
          const result = await both(sides.ours)();
          const direct = await both(sides.direct)();
          directs.push(direct);
          log(`  round ${directs.length}/${rounds} direct   ${JSON.stringify(direct, (k, v) => (typeof v === "number" ? Math.round(v * 1000) / 1000 : v))}`);
          return result;
        },
      }, log);
      return [
        { metric: "calls/s, 16 in flight", unit: "1/s", ours: pick(r.ours, "perSec"), baseline: pick(r.baseline, "perSec"), better: "higher", target: "(info)" },
        { metric: "host/relay CPU per call", unit: "µs", ours: pick(r.ours, "frontUs"), baseline: pick(r.baseline, "frontUs"), better: "lower", target: "≤ 1.3× the bare relay (at most one extra hop)", pass: (o, b) => o <= 1.3 * b, note: "the host's whole share of a routed call (token, grants, budget, provider lookup, forwarding, usage record) against a process that only relays it" },
        { metric: "server CPU per call, routed vs direct", unit: "µs", ours: pick(r.ours, "cpuUs"), baseline: pick(directs, "cpuUs"), better: "lower", target: "(info)", note: "host + provider against the provider alone: what a Chat through the host costs over calling the provider directly" },
        { metric: "calls/s, routed vs direct", unit: "1/s", ours: pick(r.ours, "perSec"), baseline: pick(directs, "perSec"), better: "higher", target: "(info)" },
        { metric: "provider CPU per call, routed vs direct", unit: "µs", ours: pick(r.ours, "providerUs"), baseline: pick(directs, "providerUs"), better: "lower", target: "(info)", note: "the same process either way" },
        { metric: "p50 latency, 1 in flight, routed vs direct", unit: "ms", ours: pick(r.ours, "p50one"), baseline: pick(directs, "p50one"), better: "lower", target: "(info)" },
        { metric: "p50 latency, 1 in flight, host vs relay", unit: "ms", ours: pick(r.ours, "p50one"), baseline: pick(r.baseline, "p50one"), better: "lower", target: "(info)" },
      ];
    } finally {
      if (relay) await stopChild(relay.child);
      await ours.cleanup();
    }
  },
};
