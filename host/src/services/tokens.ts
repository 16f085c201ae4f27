/**
 * Per-plugin auth tokens for the host's services (QNTX shares one token between all plugins;
 * we give each plugin its own, so a request tells the host which plugin made it and a plugin
 * cannot act with another's identity). Tokens are looked up by their SHA-256 digest, so the
 * time a lookup takes does not depend on how much of a guessed token matches.
 */
import { createHash, randomBytes } from "node:crypto";

/** Issues, revokes and resolves plugin tokens. */
export class PluginTokens {
  private readonly byDigest = new Map<string, string>();
  private readonly digestOf = new Map<string, string>();

  /** A fresh token for `plugin`, replacing (and revoking) its previous one. */
  issue(plugin: string): string {
    this.revoke(plugin);
    const token = randomBytes(24).toString("base64url");
    const digest = hash(token);
    this.byDigest.set(digest, plugin);
    this.digestOf.set(plugin, digest);
    return token;
  }

  /** Makes `plugin`'s token invalid. */
  revoke(plugin: string): void {
    const digest = this.digestOf.get(plugin);
    if (digest) this.byDigest.delete(digest);
    this.digestOf.delete(plugin);
  }

  /** The plugin a token belongs to, or undefined for an unknown, revoked or empty token. */
  pluginFor(token: string): string | undefined {
    return token ? this.byDigest.get(hash(token)) : undefined;
  }
}

function hash(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}
