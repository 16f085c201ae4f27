/**
 * `GET /api/hosts`: the hosts sharing this installation's database
 * (`{hosts: [{id, address, version, plugins, lastSeen, state}]}`, host/src/hosts).
 */
import type { FastifyInstance } from "fastify";
import type { HostDirectory } from "../hosts/directory.js";
import { sendError } from "./http-errors.js";

/** Registers the route. */
export function registerHostsRoutes(app: FastifyInstance, directory: () => Promise<HostDirectory>): void {
  app.get("/api/hosts", async (_request, reply) => {
    try {
      return { hosts: await (await directory()).list() };
    } catch (err) {
      return sendError(reply, err);
    }
  });
}
