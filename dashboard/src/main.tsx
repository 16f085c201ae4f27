/**
 * The dashboard's shell: the session banner, the navigation (one hash route per page, so a
 * reload or a shared link shows the same page) and the page itself.
 */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { describeError, loadSession, type SessionInfo } from "./api.js";
import { AttestationsPage } from "./pages/attestations.js";
import { HostsPage } from "./pages/hosts.js";
import { JobsPage } from "./pages/jobs.js";
import { LogsPage } from "./pages/logs.js";
import { PluginsPage } from "./pages/plugins.js";
import "./style.css";

const PAGES = {
  plugins: { title: "Plugins", Page: PluginsPage },
  jobs: { title: "Jobs", Page: JobsPage },
  logs: { title: "Logs", Page: LogsPage },
  attestations: { title: "Attestations", Page: AttestationsPage },
  hosts: { title: "Hosts", Page: HostsPage },
} as const;
type PageName = keyof typeof PAGES;

/** `#/jobs?plugin=x` → `{page: "jobs", params}`; anything unknown is the plugins page. */
function route(): { page: PageName; params: URLSearchParams } {
  const [path = "", query = ""] = location.hash.replace(/^#\/?/, "").split("?");
  const page = (path in PAGES ? path : "plugins") as PageName;
  return { page, params: new URLSearchParams(query) };
}

function App() {
  const [where, setWhere] = useState(route());
  const [session, setSession] = useState<SessionInfo | undefined>();
  const [error, setError] = useState("");
  useEffect(() => {
    const onHash = () => setWhere(route());
    addEventListener("hashchange", onHash);
    loadSession().then(setSession, (e) => setError(describeError(e)));
    return () => removeEventListener("hashchange", onHash);
  }, []);
  const { Page } = PAGES[where.page];
  return (
    <>
      <header>
        <strong class="brand">qntx</strong>
        <nav>
          {(Object.keys(PAGES) as PageName[]).map((name) => (
            <a href={`#/${name}`} class={name === where.page ? "active" : ""} data-page={name}>{PAGES[name].title}</a>
          ))}
        </nav>
        <SessionBadge session={session} />
      </header>
      {error && <p class="error">{error}</p>}
      <SessionBanner session={session} />
      <main>{session?.readsOpen ? <Page session={session} params={where.params} /> : null}</main>
    </>
  );
}

function SessionBadge({ session }: { session?: SessionInfo }) {
  if (!session) return null;
  return <span class={`badge ${session.admin ? "ok" : "muted"}`} data-testid="session">{session.admin ? "signed in" : "read only"}</span>;
}

/** How to sign in, for a browser without a session (reads may still be open on this machine). */
function SessionBanner({ session }: { session?: SessionInfo }) {
  if (!session || session.admin) return null;
  return (
    <div class="banner" data-testid="sign-in">
      <p>
        {session.readsOpen ? "You can look around; actions (start, stop, enqueue, retry…) need a session." : "This host's API needs a session to be read from here."}
        {" "}To sign in, run <code>qntx dashboard</code> on the host's machine and open the one-time link it prints
        (it uses the admin token in <code>{session.tokenFile}</code>).
      </p>
    </div>
  );
}

render(<App />, document.getElementById("app")!);
