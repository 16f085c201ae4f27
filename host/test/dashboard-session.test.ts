/**
 * Dashboard sign-in against a real host: a one-time login link made with the admin token
 * (`qntx dashboard`), the HttpOnly SameSite=Strict cookie it sets, and the checks on
 * state-changing requests made with that cookie (CSRF token, same origin). A session grants
 * what the admin token grants, never more, and nothing without it.
 */
import { afterAll, beforeAll, describe, expect, it } from "@jest/globals";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { CLI, adminHeaders, fakePluginTable, http, startTestHost, type TestHost } from "./harness.js";
import { DashboardSessions } from "../src/gateway/sessions.js";

const run = promisify(execFile);
let t: TestHost;

/** A fresh login link, made with the admin token. */
async function loginLink(): Promise<string> {
  const res = await http(`${t.url}/api/dashboard/login-link`, { method: "POST", headers: adminHeaders(t) });
  expect(res.status).toBe(200);
  return res.json().url as string;
}

/** Signs in through a new link; returns the cookie header to send and the session's CSRF token. */
async function signIn(): Promise<{ cookie: string; csrf: string }> {
  const res = await fetch(await loginLink(), { redirect: "manual" });
  expect(res.status).toBe(303);
  const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
  const session = await http(`${t.url}/api/dashboard/session`, { headers: { cookie } });
  return { cookie, csrf: session.json().csrf };
}

beforeAll(async () => {
  t = await startTestHost(fakePluginTable("echo", "ok"));
});

afterAll(async () => {
  await t?.close();
});

describe("login links", () => {
  it("are made only with the admin token", async () => {
    const res = await http(`${t.url}/api/dashboard/login-link`, { method: "POST" });
    expect(res.status).toBe(401);
    expect(res.json()).toMatchObject({ code: "UNAUTHORIZED", hint: expect.stringContaining("admin.token") });
  });

  it("set an HttpOnly, SameSite=Strict session cookie and send the browser to /", async () => {
    const res = await fetch(await loginLink(), { redirect: "manual" });
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe("/");
    const cookie = res.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^qntx_session=[\w-]{40,};/);
    expect(cookie).toMatch(/HttpOnly/i);
    expect(cookie).toMatch(/SameSite=Strict/i);
    expect(cookie).toMatch(/Path=\//);
  });

  it("work once: the same link a second time is refused", async () => {
    const link = await loginLink();
    expect((await fetch(link, { redirect: "manual" })).status).toBe(303);
    const again = await http(link, { redirect: "manual" });
    expect(again.status).toBe(401);
    expect(again.json()).toMatchObject({ code: "LOGIN_LINK_INVALID", hint: expect.stringContaining("qntx dashboard") });
    expect(again.headers.get("set-cookie")).toBeNull();
  });

  it("refuse a made-up token", async () => {
    const res = await http(`${t.url}/dashboard/login?token=not-a-token`, { redirect: "manual" });
    expect(res.status).toBe(401);
    expect(res.json().code).toBe("LOGIN_LINK_INVALID");
  });

  it("expire: a link past its lifetime makes no session, and a session ends after its own", () => {
    let now = 1_000_000;
    const sessions = new DashboardSessions({ now: () => now, loginTtlMs: 1_000, sessionTtlMs: 5_000 });
    const late = sessions.issueLoginToken();
    now += 1_000;
    expect(sessions.redeem(late.token)).toBeUndefined();
    const session = sessions.redeem(sessions.issueLoginToken().token)!;
    expect(sessions.get(session.id)).toEqual(session);
    now += 5_000;
    expect(sessions.get(session.id)).toBeUndefined();
  });

  it("come from `qntx dashboard`, which prints one that signs in", async () => {
    const { stdout, stderr } = await run(process.execPath, [CLI, "--data-dir", `${t.dir}/data`, "dashboard", "--no-open"]);
    const link = stdout.trim();
    expect(link).toMatch(new RegExp(`^${t.url}/dashboard/login\\?token=[\\w-]+$`));
    expect(stderr).toContain("one-time link");
    expect((await fetch(link, { redirect: "manual" })).status).toBe(303);
  });
});

describe("a session", () => {
  it("is known to the page, with its CSRF token; no cookie: no session and how to get one", async () => {
    const { cookie, csrf } = await signIn();
    const mine = (await http(`${t.url}/api/dashboard/session`, { headers: { cookie } })).json();
    expect(mine).toMatchObject({ session: true, admin: true, readsOpen: true });
    expect(csrf).toMatch(/^[\w-]{40,}$/);
    const none = (await http(`${t.url}/api/dashboard/session`)).json();
    expect(none).toMatchObject({ session: false, csrf: null, admin: false, tokenFile: expect.stringContaining("admin.token") });
  });

  it("acts with its CSRF token from this host's own origin", async () => {
    const { cookie, csrf } = await signIn();
    const res = await http(`${t.url}/api/plugins/echo/pause`, { method: "POST", headers: { cookie, "x-csrf-token": csrf, origin: t.url } });
    expect(res.status).toBe(200);
    expect(res.json().plugin.state).toBe("paused");
    expect((await http(`${t.url}/api/plugins/echo/resume`, { method: "POST", headers: { cookie, "x-csrf-token": csrf, "sec-fetch-site": "same-origin" } })).status).toBe(200);
  });

  it("is refused (403, nothing done) without the CSRF token or with another session's", async () => {
    const { cookie } = await signIn();
    const other = await signIn();
    for (const headers of [{ cookie }, { cookie, "x-csrf-token": other.csrf }] as Array<Record<string, string>>) {
      const res = await http(`${t.url}/api/plugins/echo/pause`, { method: "POST", headers });
      expect(res.status).toBe(403);
      expect(res.json()).toMatchObject({ code: "CSRF_TOKEN_MISSING", hint: expect.stringContaining("X-CSRF-Token") });
    }
    expect(t.host.registry.get("echo")!.state).toBe("running");
  });

  it("is refused (403) from another site, even with the CSRF token", async () => {
    const { cookie, csrf } = await signIn();
    for (const cross of [{ origin: "http://evil.example" }, { "sec-fetch-site": "cross-site" }] as Array<Record<string, string>>) {
      const res = await http(`${t.url}/api/plugins/echo/stop`, { method: "POST", headers: { cookie, "x-csrf-token": csrf, ...cross } });
      expect(res.status).toBe(403);
      expect(res.json()).toMatchObject({ code: "CROSS_SITE_REQUEST", hint: expect.any(String) });
    }
    expect(t.host.registry.get("echo")!.state).toBe("running");
  });

  it("ends at logout: the cookie then grants nothing", async () => {
    const { cookie, csrf } = await signIn();
    expect((await http(`${t.url}/api/dashboard/logout`, { method: "POST", headers: { cookie, "x-csrf-token": csrf } })).status).toBe(200);
    const res = await http(`${t.url}/api/plugins/echo/pause`, { method: "POST", headers: { cookie, "x-csrf-token": csrf } });
    expect(res.status).toBe(401);
    expect((await http(`${t.url}/api/dashboard/session`, { headers: { cookie } })).json().session).toBe(false);
  });
});

describe("without a session", () => {
  it("a bad admin token or a made-up cookie is refused with 401", async () => {
    for (const headers of [{ authorization: "Bearer wrong" }, { cookie: "qntx_session=made-up", "x-csrf-token": "x" }] as Array<Record<string, string>>) {
      const res = await http(`${t.url}/api/plugins/echo/stop`, { method: "POST", headers });
      expect(res.status).toBe(401);
      expect(res.json()).toMatchObject({ code: "UNAUTHORIZED", hint: expect.stringContaining("admin.token") });
    }
    expect(t.host.registry.get("echo")!.state).toBe("running");
  });
});

describe("the page", () => {
  it("is served at / with its script and stylesheet, compressed, from this host only", async () => {
    const page = await fetch(`${t.url}/`, { headers: { "accept-encoding": "gzip" } });
    expect(page.status).toBe(200);
    expect(page.headers.get("content-type")).toMatch(/text\/html/);
    expect(page.headers.get("content-security-policy")).toContain("default-src 'self'");
    const html = await page.text();
    expect(html).toContain('src="/app.js"');
    expect(html).not.toMatch(/https?:\/\//);
    const script = await fetch(`${t.url}/app.js`, { headers: { "accept-encoding": "br, gzip" } });
    expect(script.status).toBe(200);
    expect(script.headers.get("content-encoding")).toBe("br");
    expect((await fetch(`${t.url}/app.css`)).status).toBe(200);
  });
});
