/**
 * The host directory of an embedded (SQLite) installation: one host owns the file, so the
 * directory is this host, always up while it answers.
 */
import type { HostAnnouncement, HostDirectory, HostView } from "./directory.js";

/** {@link HostDirectory} of a host alone on its SQLite file. */
export class LocalHostDirectory implements HostDirectory {
  constructor(private readonly announce: () => HostAnnouncement) {}

  async list(): Promise<HostView[]> {
    const self = this.announce();
    return [{ id: self.id, address: self.address, version: self.version, plugins: [...self.plugins], lastSeen: new Date().toISOString(), state: "up" }];
  }

  async close(): Promise<void> {}
}
