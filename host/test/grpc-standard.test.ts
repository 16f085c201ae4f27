/**
 * The standard gRPC surfaces, asked by a real gRPC client as grpcurl or a go-plugin host would:
 * `grpc.health.v1.Health` (Check for "" and "plugin", Watch) and server reflection, on the
 * host's services port and on a real SDK plugin process the host spawned. QNTX's own
 * DomainPluginService Health still answers as before.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { HealthClient, PluginClient } from "@qntx/protocol";
import { HELLO_PLUGIN, adminHeaders, startTestHost, type TestHost } from "./harness.js";

let t: TestHost;
let pluginAddress: string;

/** @grpc/reflection's copy of reflection.proto (a dependency of @qntx/protocol). */
function reflectionProto(): string {
  const protocolRequire = createRequire(createRequire(import.meta.url).resolve("@qntx/protocol"));
  return join(dirname(protocolRequire.resolve("@grpc/reflection/package.json")), "build/proto/grpc/reflection/v1/reflection.proto");
}

type Health = grpc.Client & {
  check(request: { service: string }, callback: (error: grpc.ServiceError | null, response: { status: string }) => void): void;
  watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
};

function healthClient(address: string): Health {
  return new HealthClient(address, grpc.credentials.createInsecure()) as unknown as Health;
}

function check(client: Health, service: string): Promise<{ status?: string; code?: number }> {
  return new Promise((resolve) => client.check({ service }, (error, response) => resolve(error ? { code: error.code } : { status: response.status })));
}

/** The services reflection lists at `address` (grpcurl's `list`). */
async function listServices(address: string): Promise<string[]> {
  const definition = protoLoader.loadSync(reflectionProto(), { keepCase: false, oneofs: true });
  const Reflection = (grpc.loadPackageDefinition(definition) as any).grpc.reflection.v1.ServerReflection;
  const client = new Reflection(address, grpc.credentials.createInsecure());
  try {
    return await new Promise<string[]>((resolve, reject) => {
      const call = client.ServerReflectionInfo();
      call.on("data", (answer: any) => {
        if (answer.errorResponse) reject(new Error(answer.errorResponse.errorMessage));
        else resolve(answer.listServicesResponse.service.map((s: { name: string }) => s.name).sort());
        call.end();
      });
      call.on("error", reject);
      call.write({ listServices: "" });
    });
  } finally {
    client.close();
  }
}

/** The file descriptor reflection returns for a symbol (grpcurl's `describe`), as its file names. */
async function fileNamesFor(address: string, symbol: string): Promise<number> {
  const definition = protoLoader.loadSync(reflectionProto(), { oneofs: true });
  const Reflection = (grpc.loadPackageDefinition(definition) as any).grpc.reflection.v1.ServerReflection;
  const client = new Reflection(address, grpc.credentials.createInsecure());
  try {
    return await new Promise<number>((resolve, reject) => {
      const call = client.ServerReflectionInfo();
      call.on("data", (answer: any) => {
        if (answer.errorResponse) reject(new Error(answer.errorResponse.errorMessage));
        else resolve(answer.fileDescriptorResponse.fileDescriptorProto.length);
        call.end();
      });
      call.on("error", reject);
      call.write({ fileContainingSymbol: symbol });
    });
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  t = await startTestHost(`[plugins.hello]\nbinary = ${JSON.stringify(HELLO_PLUGIN)}\n`);
  await t.host.ready;
  pluginAddress = t.host.registry.get("hello")!.address!;
});

afterAll(async () => {
  await t?.close();
});

describe("grpc.health.v1 on the host's services port", () => {
  it("answers SERVING for the server and for `plugin`, NOT_FOUND for an unknown service", async () => {
    const client = healthClient(t.host.servicesAddress);
    try {
      expect(await check(client, "")).toEqual({ status: "SERVING" });
      expect(await check(client, "plugin")).toEqual({ status: "SERVING" });
      expect(await check(client, "nope")).toEqual({ code: grpc.status.NOT_FOUND });
    } finally {
      client.close();
    }
  });

  it("lists the host's services through reflection and describes one", async () => {
    const services = await listServices(t.host.servicesAddress);
    expect(services).toEqual(expect.arrayContaining(["protocol.ATSStoreService", "protocol.QueueService", "protocol.ScheduleService", "grpc.health.v1.Health"]));
    expect(services).not.toContain("protocol.DomainPluginService");
    expect(await fileNamesFor(t.host.servicesAddress, "protocol.QueueService")).toBeGreaterThan(0);
  });
});

describe("grpc.health.v1 on an SDK plugin", () => {
  it("answers Check and Watch with SERVING, as go-plugin hosts ask", async () => {
    const client = healthClient(pluginAddress);
    try {
      expect(await check(client, "plugin")).toEqual({ status: "SERVING" });
      expect(await check(client, "")).toEqual({ status: "SERVING" });
      const watch = client.watch({ service: "plugin" });
      // Cancelling below ends the call with CANCELLED, emitted as an error.
      watch.on("error", () => undefined);
      const first = await new Promise<{ status: string }>((resolve) => watch.once("data", resolve));
      expect(first.status).toBe("SERVING");
      watch.cancel();
    } finally {
      client.close();
    }
  });

  it("lists DomainPluginService and health through reflection, and QNTX's own Health still answers", async () => {
    expect(await listServices(pluginAddress)).toEqual(["grpc.health.v1.Health", "protocol.DomainPluginService"]);
    const plugin = new PluginClient(pluginAddress);
    try {
      expect((await plugin.health({ deadline: Date.now() + 5000 })).healthy).toBe(true);
    } finally {
      plugin.close();
    }
  });

  it("a Watch hears NOT_SERVING, then ends, when the plugin stops", async () => {
    const client = healthClient(pluginAddress);
    try {
      const watch = client.watch({ service: "plugin" });
      const statuses: string[] = [];
      const ended = new Promise<void>((resolve) => {
        watch.on("data", (answer: { status: string }) => statuses.push(answer.status));
        watch.on("error", () => resolve());
        watch.on("end", () => resolve());
      });
      await new Promise((resolve) => watch.once("data", resolve));
      const stopped = await fetch(`${t.url}/api/plugins/hello/stop`, { method: "POST", headers: adminHeaders(t) });
      expect(stopped.status).toBe(200);
      await ended;
      expect(statuses).toEqual(["SERVING", "NOT_SERVING"]);
    } finally {
      client.close();
    }
  });
});
