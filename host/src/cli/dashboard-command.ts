/**
 * `qntx dashboard`: asks the running host for a one-time login link (with the admin token
 * from the data dir), prints it, and opens it in a browser when this machine has one
 * (`xdg-open`, `open` on macOS); `--no-open` only prints. The link works once, for 5 minutes,
 * and signs that browser in (docs/dashboard.md).
 */
import { spawn } from "node:child_process";
import type { Command } from "commander";
import { QntxError } from "@qntx/protocol";
import { ControlClient } from "./client.js";
import { clientLocation, runAction } from "./common.js";

/** Adds `dashboard` to `program`. */
export function addDashboardCommand(program: Command): void {
  program
    .command("dashboard")
    .description("print (and open) a one-time login link to the running host's web dashboard")
    .option("--no-open", "only print the link")
    .action(runAction(async (options: { open: boolean }, command: Command) => {
      const client = ControlClient.locate(clientLocation(command));
      const { url, expiresAt } = await client.post<{ url: string; expiresAt: string }>("/api/dashboard/login-link");
      if (!url) throw new QntxError("UNAUTHORIZED", "the host gave no login link", { hint: "is the host older than this CLI? restart it" });
      console.log(url);
      process.stderr.write(`one-time link, valid until ${expiresAt}; reading without signing in: ${client.url}/\n`);
      if (options.open) openInBrowser(url);
    }));
}

/** Starts the desktop's opener on `url`, detached; a machine without one simply has the printed link. */
function openInBrowser(url: string): void {
  // Only where a desktop can show it: a server over ssh has no display.
  if (process.platform === "linux" && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return;
  const opener = process.platform === "darwin" ? "open" : "xdg-open";
  const child = spawn(opener, [url], { detached: true, stdio: "ignore" });
  child.on("error", () => undefined);
  child.unref();
}
